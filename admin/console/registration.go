package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// registration shows a tenant's dynamic client registration: its mode and
// its initial access tokens (RFC 7591 §3), with the form that makes one.
func (h *Handler) registration(c echo.Context) error {
	return h.renderRegistration(c, http.StatusOK, vc.RegistrationView{FormUses: "1", FormDays: "7"})
}

func (h *Handler) renderRegistration(c echo.Context, status int, v vc.RegistrationView) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	ts, err := h.svc.ListInitialAccessTokens(ctx)
	if err != nil {
		return err
	}
	if v.Page, err = h.page(c, "Client registration", "registration", t); err != nil {
		return err
	}
	for _, m := range registrationModes {
		if m.value == t.Registration() {
			v.Mode = m.label
		}
	}
	if t.Registration() != tenants.RegistrationOff {
		v.Endpoint = t.Issuer + tenants.PathRegister
	}
	for _, x := range ts {
		v.Rows = append(v.Rows, vc.InitialTokenRow{ID: x.ID, Name: x.Name, UsesLeft: x.UsesLeft, Expires: when(x.ExpiresAt), Created: when(x.CreatedAt)})
	}
	return render(c, status, vc.Registration(v))
}

// createInitialToken makes an initial access token and shows it, once.
func (h *Handler) createInitialToken(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	name, uses, days := c.FormValue("name"), strings.TrimSpace(c.FormValue("uses")), strings.TrimSpace(c.FormValue("lifetime"))
	form := vc.RegistrationView{FormName: name, FormUses: uses, FormDays: days}
	in := admin.InitialAccessTokenInput{Name: name}
	if uses != "" {
		// 0 would be the service's default (1), not what was typed.
		n, err := strconv.Atoi(uses)
		if err != nil || n < 1 || n > 1000 {
			form.Errors = map[string]string{"uses": "A whole number, 1 to 1000."}
			return h.renderRegistration(c, http.StatusUnprocessableEntity, form)
		}
		in.Uses = n
	}
	if days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 90 {
			form.Errors = map[string]string{"lifetime": "A whole number of days, 1 to 90."}
			return h.renderRegistration(c, http.StatusUnprocessableEntity, form)
		}
		in.Lifetime = time.Duration(n) * 24 * time.Hour
	}
	tok, err := h.svc.CreateInitialAccessToken(ctx, in)
	if errs := formErrors(err, "name", "uses", "lifetime"); errs != nil {
		form.Errors = errs
		return h.renderRegistration(c, http.StatusUnprocessableEntity, form)
	}
	if err != nil {
		return err
	}
	return h.renderRegistration(c, http.StatusOK, vc.RegistrationView{FormUses: "1", FormDays: "7", NewToken: tok.Token, NewTokenName: tok.Name})
}

// deleteInitialToken deletes an initial access token of the tenant; one of
// another tenant is not found.
func (h *Handler) deleteInitialToken(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteInitialAccessToken(ctx, c.Param("iat")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/registration"), "initial-token-deleted")
}
