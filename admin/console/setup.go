package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	vc "github.com/gatehouse-id/gatehouse/views/console"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// The setup link creates the first operator. Its form's anti-CSRF token is
// bound to the link itself (there is no session yet).
func (h *Handler) setupCSRF(token string) string {
	return secret.MAC(h.cfg.CSRFKey, "console-setup", token)
}

func setupGone() error {
	return httperr.Page(http.StatusGone, "This setup link no longer works",
		"It was used, it expired, or an operator exists already. Create operators with: gatehouse admin create --email ... --password-stdin")
}

func (h *Handler) showSetup(c echo.Context) error {
	token := c.QueryParam("token")
	ok, err := h.svc.SetupLinkValid(c.Request().Context(), token)
	if err != nil {
		return err
	}
	if !ok {
		return setupGone()
	}
	return render(c, http.StatusOK, vc.Setup(vc.SetupView{Token: token, CSRF: h.setupCSRF(token)}))
}

func (h *Handler) submitSetup(c echo.Context) error {
	token := c.FormValue("token")
	// Under Referrer-Policy: no-referrer, browsers send "Origin: null" even
	// for a same-origin form: the token below decides then.
	if origin := c.Request().Header.Get("Origin"); origin != "" && origin != "null" && origin != h.cfg.BaseURL.Scheme+"://"+h.cfg.BaseURL.Host {
		return csrfPage()
	}
	if got := c.FormValue(csrfField); got == "" || !secret.Equal(got, h.setupCSRF(token)) {
		return csrfPage()
	}
	in := admin.CreateAdminInput{Email: c.FormValue("email"), Name: c.FormValue("name"), Password: c.FormValue("password")}
	_, err := h.svc.CompleteSetup(c.Request().Context(), token, in)
	if errs := formErrors(err, "email", "name", "password"); errs != nil {
		return render(c, http.StatusUnprocessableEntity, vc.Setup(vc.SetupView{Token: token, CSRF: h.setupCSRF(token), Email: in.Email, Name: in.Name, Errors: errs}))
	}
	if err != nil {
		return setupGone()
	}
	return c.Redirect(http.StatusSeeOther, admin.ConsolePath+"/login")
}
