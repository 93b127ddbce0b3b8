package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
	"github.com/gatehouse-id/gatehouse/views/email"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// previewPolicy is the Content-Security-Policy of the preview frame's
// document: sandboxed (no script, no form, an origin of its own), inline
// styles and https images only (what email HTML uses), framed only by the
// console.
const previewPolicy = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-src 'self'; " +
	"frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// emailTemplates lists the kinds of email with the languages the tenant
// has its own template in.
func (h *Handler) emailTemplates(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	own, err := h.svc.ListEmailTemplates(ctx)
	if err != nil {
		return err
	}
	v := vc.EmailTemplatesView{}
	if v.Page, err = h.page(c, "Email", "emails", t); err != nil {
		return err
	}
	for _, k := range email.Kinds() {
		row := vc.EmailKindRow{Title: k.Title, Description: k.Description, Link: vc.TenantURL(t.Slug, "/emails/"+k.Name)}
		for _, et := range own {
			if et.Kind == k.Name {
				row.Custom = append(row.Custom, et.Locale)
			}
		}
		v.Kinds = append(v.Kinds, row)
	}
	return render(c, http.StatusOK, vc.EmailTemplates(v))
}

// emailLocale is the language a request names (?locale= or the form's),
// English when it names none.
func emailLocale(c echo.Context) string {
	if l := c.FormValue("locale"); l != "" {
		return l
	}
	return i18n.Source.String()
}

// emailTemplate edits the template of one kind in one language.
func (h *Handler) emailTemplate(c echo.Context) error {
	return h.renderEmailTemplate(c, http.StatusOK, nil, nil)
}

// renderEmailTemplate shows the editor: the saved template (or the
// built-in one), or draft with errs when a form came back.
func (h *Handler) renderEmailTemplate(c echo.Context, status int, draft *admin.EmailTemplateInput, errs map[string]string) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	kind, locale := c.Param("email"), emailLocale(c)
	et, err := h.svc.EmailTemplate(ctx, kind, locale)
	if err != nil {
		return err
	}
	k, _ := email.KindNamed(kind)
	own, err := h.svc.ListEmailTemplates(ctx)
	if err != nil {
		return err
	}
	base := vc.TenantURL(t.Slug, "/emails/"+kind)
	q := "?" + url.Values{"locale": {locale}}.Encode()
	v := vc.EmailTemplateView{Title: k.Title, Description: k.Description, Locale: locale, Custom: et.Custom,
		Subject: et.Subject, HTML: et.HTML, Text: et.Text, Errors: errs,
		SaveURL: base, PreviewURL: base + "/preview", TestURL: base + "/test", DeleteURL: base + "/delete", FrameURL: base + "/preview" + q}
	if draft != nil {
		v.Subject, v.HTML, v.Text = draft.Subject, draft.HTML, draft.Text
	}
	if v.Page, err = h.page(c, k.Title, "emails", t); err != nil {
		return err
	}
	cat := i18n.Builtin()
	for _, l := range cat.Supported() {
		tab := vc.EmailTab{Label: cat.For(l).T("language.name"), URL: base + "?" + url.Values{"locale": {l}}.Encode(), Current: l == locale}
		for _, o := range own {
			tab.Custom = tab.Custom || o.Kind == kind && o.Locale == l
		}
		v.Tabs = append(v.Tabs, tab)
	}
	for _, va := range et.Variables {
		v.Variables = append(v.Variables, vc.EmailVariableRow{Name: va.Name, Description: va.Description})
	}
	return render(c, status, vc.EmailTemplate(v))
}

func emailDraft(c echo.Context) *admin.EmailTemplateInput {
	return &admin.EmailTemplateInput{Subject: c.FormValue("subject"), HTML: c.FormValue("html"), Text: c.FormValue("text")}
}

// emailBack is the editor's URL for the kind and language of c.
func emailBack(c echo.Context, slug string) string {
	return vc.TenantURL(slug, "/emails/"+c.Param("email")) + "?" + url.Values{"locale": {emailLocale(c)}}.Encode()
}

func (h *Handler) setEmailTemplate(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	draft := emailDraft(c)
	_, err = h.svc.SetEmailTemplate(ctx, c.Param("email"), emailLocale(c), *draft)
	if errs := formErrors(err, "subject", "html", "text"); errs != nil {
		return h.renderEmailTemplate(c, http.StatusUnprocessableEntity, draft, errs)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, emailBack(c, t.Slug)+"&done=email-saved")
}

func (h *Handler) deleteEmailTemplate(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteEmailTemplate(ctx, c.Param("email"), emailLocale(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, emailBack(c, t.Slug)+"&done=email-deleted")
}

// sendTestEmail sends the form's template, as it stands, to the signed-in
// administrator.
func (h *Handler) sendTestEmail(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	draft := emailDraft(c)
	_, err = h.svc.SendTestEmail(ctx, c.Param("email"), emailLocale(c), draft)
	if errs := formErrors(err, "subject", "html", "text"); errs != nil {
		return h.renderEmailTemplate(c, http.StatusUnprocessableEntity, draft, errs)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, emailBack(c, t.Slug)+"&done=email-test-sent")
}

// previewEmail is the preview frame's document: the saved template (GET)
// or the form's (POST), composed with sample values, in a sandbox of its
// own.
func (h *Handler) previewEmail(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	var draft *admin.EmailTemplateInput
	if c.Request().Method == http.MethodPost {
		draft = emailDraft(c)
	}
	p, err := h.svc.PreviewEmail(ctx, c.Param("email"), emailLocale(c), draft)
	status, v := http.StatusOK, vc.EmailPreviewView{}
	var ve *tenants.ValidationError
	switch {
	case errors.As(err, &ve):
		status, v.Error = http.StatusBadRequest, ve.Field+" "+ve.Message
	case err != nil:
		return err
	default:
		v = vc.EmailPreviewView{Subject: p.Subject, Text: p.Text, HTML: p.HTML}
	}
	hdr := c.Response().Header()
	hdr.Set("Content-Security-Policy", previewPolicy)
	hdr.Set("X-Frame-Options", "SAMEORIGIN")
	return render(c, status, vc.EmailPreview(v))
}
