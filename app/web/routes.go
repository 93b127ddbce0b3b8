package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Route is one page or endpoint of a page package. Every POST is a form of
// our own pages — same origin, with an anti-CSRF token bound to the browser
// and session — unless it is marked CrossSite; the check is applied by
// Mount, from the table, never by the handler.
type Route struct {
	Method  string
	Path    string
	Handler echo.HandlerFunc
	// CrossSite marks a POST that other sites send by design: a relying
	// party's authorization request or logout, an IdP's SAML answer. Its
	// handler must not act on the browser's session without a check of
	// its own.
	CrossSite bool
	// SameSiteOnly marks a GET that only scripts of our own pages send (it
	// begins a WebAuthn ceremony, storing a challenge): refused when the
	// browser says another site sent it.
	SameSiteOnly bool
	// Costly marks a route an anonymous client can make cost this node a
	// password hash (sign-in, sign-up, a new password), a stored row (an
	// authorization request, an upstream login or a passkey ceremony
	// begun, a SAML answer) or an email (sign-up, reset, resend): the
	// site's per-address rate limit guards it.
	Costly bool
}

// Mount adds routes to e behind mw (which must resolve the tenant), each
// with the checks its kind needs.
func (s *Site) Mount(e *echo.Echo, routes []Route, mw ...echo.MiddlewareFunc) {
	for _, r := range routes {
		chain := append([]echo.MiddlewareFunc{}, mw...)
		if r.Costly && s.limit != nil {
			chain = append(chain, s.limit)
		}
		switch {
		case r.Method == http.MethodPost && !r.CrossSite:
			chain = append(chain, s.formGuard)
		case r.SameSiteOnly:
			chain = append(chain, sameSiteGuard)
		}
		e.Add(r.Method, r.Path, r.Handler, chain...)
	}
}

func (s *Site) formGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.checkForm(c); err != nil {
			return err
		}
		return next(c)
	}
}

// sameSiteGuard refuses another site's request to a JSON endpoint of our
// pages' scripts, in JSON.
func sameSiteGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s := c.Request().Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
			return c.JSON(http.StatusForbidden, map[string]string{"error": "invalid_request", "error_description": "This request must come from this site's own pages."})
		}
		return next(c)
	}
}
