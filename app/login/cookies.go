package login

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
	browserCookieName = "gh_browser"
	sessionCookieName = "gh_session"
)

func secure(t *tenants.Tenant) bool { return strings.HasPrefix(t.Issuer, "https://") }

func cookieName(t *tenants.Tenant, base string) string {
	if secure(t) {
		return "__Host-" + base
	}
	return base
}

func setCookie(c echo.Context, t *tenants.Tenant, base, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name:     cookieName(t, base),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   secure(t),
		SameSite: http.SameSiteLaxMode,
	})
}

// cookieValues returns every value of the named cookie: a browser may send
// several with one name (one set for a parent domain, say).
func cookieValues(c echo.Context, name string) []string {
	var out []string
	for _, ck := range c.Request().Cookies() {
		if ck.Name == name && ck.Value != "" && len(ck.Value) <= 128 {
			out = append(out, ck.Value)
		}
	}
	return out
}

// browserID returns the browser cookie's value, or "".
func browserID(c echo.Context, t *tenants.Tenant) string {
	vs := cookieValues(c, cookieName(t, browserCookieName))
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// ensureBrowser returns the browser cookie's value, setting a new one if
// the browser has none. It identifies the browser that started an auth
// request and anchors anti-CSRF tokens.
func ensureBrowser(c echo.Context, t *tenants.Tenant) string {
	if id := browserID(c, t); id != "" {
		return id
	}
	id := secret.Token(32)
	setCookie(c, t, browserCookieName, id, 0)
	// Make the new cookie visible to the rest of this request.
	c.Request().AddCookie(&http.Cookie{Name: cookieName(t, browserCookieName), Value: id})
	return id
}
