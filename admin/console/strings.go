package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	vc "github.com/gatehouse-id/gatehouse/views/console"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// wording shows the tenant's own wording of its pages and email.
func (h *Handler) wording(c echo.Context) error {
	return h.renderStrings(c, http.StatusOK, vc.StringsView{}, "", "")
}

func (h *Handler) renderStrings(c echo.Context, status int, v vc.StringsView, locale, id string) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	ss, err := h.svc.ListStrings(ctx)
	if err != nil {
		return err
	}
	if v.Page, err = h.page(c, "Wording", "strings", t); err != nil {
		return err
	}
	for _, s := range ss {
		v.Rows = append(v.Rows, vc.StringRow{Locale: s.Locale, MessageID: s.MessageID, Text: s.Text, Default: s.Default})
	}
	cat := i18n.Builtin()
	for _, l := range cat.Supported() {
		v.Locales = append(v.Locales, vc.Option{Value: l, Label: l + " — " + cat.For(l).T("language.name"), Selected: l == locale})
	}
	en := cat.For("en")
	for _, k := range cat.Keys() {
		v.Messages = append(v.Messages, vc.Option{Value: k, Label: k + " — " + en.Source(k), Selected: k == id})
	}
	return render(c, status, vc.Strings(v))
}

func (h *Handler) setString(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	locale, id, text := c.FormValue("locale"), c.FormValue("message_id"), c.FormValue("text")
	_, err = h.svc.SetString(ctx, locale, id, text)
	if errs := formErrors(err, "locale", "message_id", "text"); errs != nil {
		return h.renderStrings(c, http.StatusUnprocessableEntity, vc.StringsView{Text: text, Errors: errs}, locale, id)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/strings"), "string-saved")
}

func (h *Handler) deleteString(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteString(ctx, c.FormValue("locale"), c.FormValue("message_id")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/strings"), "string-deleted")
}
