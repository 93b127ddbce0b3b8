package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// CSRFField is the form field that carries the anti-CSRF token.
const CSRFField = "csrf_token"

// CSRF returns the anti-CSRF token of the forms of the page being
// answered: an HMAC over the tenant, the browser cookie (set if missing)
// and the session, so that it is bound to this browser's session and no
// other site can make it up.
func (s *Site) CSRF(c echo.Context, t *tenants.Tenant) string {
	sess, _ := s.Session(c)
	return s.csrfToken(t, EnsureBrowser(c, t), SessionID(sess))
}

func (s *Site) csrfToken(t *tenants.Tenant, browser, sessionID string) string {
	return secret.MAC(s.csrfKey, "csrf", t.ID, browser, sessionID)
}

// checkForm refuses a form POST whose Origin is another site's, or whose
// token does not match this browser and session: 403, nothing recorded.
func (s *Site) checkForm(c echo.Context) error {
	t, _, err := Tenant(c)
	if err != nil {
		return err
	}
	if !sameOrigin(c, t) {
		return Forbidden()
	}
	sess, err := s.Session(c)
	if err != nil {
		return httperr.Internal(err)
	}
	browser := BrowserID(c, t)
	got := c.FormValue(CSRFField)
	if browser == "" || got == "" || !secret.Equal(got, s.csrfToken(t, browser, SessionID(sess))) {
		return Forbidden()
	}
	return nil
}

// sameOrigin reports whether the request's Origin (when it has one, and
// Sec-Fetch-Site when the browser sends it) is the tenant's own.
func sameOrigin(c echo.Context, t *tenants.Tenant) bool {
	r := c.Request()
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return true
	}
	u, err := url.Parse(t.Issuer)
	return err == nil && origin == u.Scheme+"://"+u.Host
}

// Forbidden is the answer to a form that fails the checks.
func Forbidden() error {
	return httperr.Page(http.StatusForbidden, "This form has expired",
		"For your security the form could not be sent. Go back, reload the page and try again.")
}
