package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Cookies are host-only (no Domain) so each tenant's stay on its host;
// HttpOnly; SameSite=Lax; and under HTTPS Secure with the __Host- prefix,
// which also stops a parent-domain cookie from shadowing them.
const (
	BrowserCookie = "gh_browser"
	SessionCookie = "gh_session"
	// DeviceCookie says this browser signed in to an account before
	// (throttling judges such a browser by its own failures).
	DeviceCookie = "gh_device"
	// TrustedDeviceCookie says this browser completed a two-factor
	// sign-in to an account before: its second-factor failures are its
	// own (a password alone earns DeviceCookie, not this one).
	TrustedDeviceCookie = "gh_device2f"
	// UnsolicitedCookie binds an unsolicited SAML answer's result to the
	// browser that posted it, from the ACS to the next request.
	UnsolicitedCookie = "gh_saml_unsolicited"
)

// maxCookieValue bounds the values of our cookies that are read.
const maxCookieValue = 256

// Secure reports whether t is served over HTTPS.
func Secure(t *tenants.Tenant) bool { return strings.HasPrefix(t.Issuer, "https://") }

// CookieName is the name of cookie base at t.
func CookieName(t *tenants.Tenant, base string) string {
	if Secure(t) {
		return "__Host-" + base
	}
	return base
}

// SetCookie sets cookie base at t; maxAge 0 is a browser-session cookie, a
// negative one deletes it.
func SetCookie(c echo.Context, t *tenants.Tenant, base, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name:     CookieName(t, base),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   Secure(t),
		SameSite: http.SameSiteLaxMode,
	})
}

// CookieValues returns every value of cookie base at t: a browser may send
// several with one name (one set for a parent domain, say).
func CookieValues(c echo.Context, t *tenants.Tenant, base string) []string {
	name := CookieName(t, base)
	var out []string
	for _, ck := range c.Request().Cookies() {
		if ck.Name == name && ck.Value != "" && len(ck.Value) <= maxCookieValue {
			out = append(out, ck.Value)
		}
	}
	return out
}

// BrowserID returns the browser cookie's value, or "".
func BrowserID(c echo.Context, t *tenants.Tenant) string {
	if vs := CookieValues(c, t, BrowserCookie); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// BrowserHash is the hash of the browser cookie's value, which requests
// and steps bound to this browser record; "" without a cookie.
func BrowserHash(c echo.Context, t *tenants.Tenant) string {
	if id := BrowserID(c, t); id != "" {
		return secret.Hash(id)
	}
	return ""
}

// EnsureBrowser returns the browser cookie's value, setting a new one if
// the browser has none. It identifies the browser that started an auth
// request and anchors anti-CSRF tokens.
func EnsureBrowser(c echo.Context, t *tenants.Tenant) string {
	if id := BrowserID(c, t); id != "" {
		return id
	}
	id := secret.Token(32)
	SetCookie(c, t, BrowserCookie, id, 0)
	// Make the new cookie visible to the rest of this request.
	c.Request().AddCookie(&http.Cookie{Name: CookieName(t, BrowserCookie), Value: id})
	return id
}
