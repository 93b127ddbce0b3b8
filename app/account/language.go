package account

import (
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/views/httperr"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// changeLanguage saves the language the signed-in user picked, for their
// pages and email, and remembers it in this browser too.
func (h *Handler) changeLanguage(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	lang := i18n.Builtin().Canonical(c.FormValue("lang"))
	if lang == "" {
		return h.badForm(c, a, "account.err_check")
	}
	if err := h.store.SetUserLocale(a.ctx, a.u.ID, lang); err != nil {
		return httperr.Internal(err)
	}
	web.RememberLanguage(c, a.t, lang, h.store.Now())
	h.site.Audit(a.ctx, a.u.ID, a.u.Email, "profile.updated", "success", "language "+lang)
	return web.Redirect(c, web.PathAccount+"?done=language")
}
