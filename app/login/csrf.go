package login

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

const csrfField = "csrf_token"

// csrfToken is the anti-CSRF token of a form: an HMAC over the tenant, the
// browser cookie and the session (if any), so that it is bound to this
// browser's session and cannot be made up by another site.
func (h *Handler) csrfToken(t *tenants.Tenant, browser, sessionID string) string {
	return secret.MAC(h.csrfKey, "csrf", t.ID, browser, sessionID)
}

// checkCSRF refuses a form POST whose token does not match this browser and
// session, or whose Origin is another site's: 403, nothing recorded.
func (h *Handler) checkCSRF(c echo.Context, t *tenants.Tenant, sessionID string) error {
	if origin := c.Request().Header.Get("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(t.Issuer)
		if err != nil || origin != u.Scheme+"://"+u.Host {
			return forbidden()
		}
	}
	browser := browserID(c, t)
	got := c.FormValue(csrfField)
	if browser == "" || got == "" || !secret.Equal(got, h.csrfToken(t, browser, sessionID)) {
		return forbidden()
	}
	return nil
}

func forbidden() error {
	return httperr.Page(http.StatusForbidden, "This form has expired",
		"For your security the form could not be sent. Go back, reload the page and try again.")
}
