package login

import (
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// branding serves the tenant's stylesheet: its accent colour. A
// stylesheet, not a style attribute, so that the pages' CSP can forbid
// inline styles.
func (h *Handler) branding(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	css := brandingCSS(t.AccentColor)
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}

// brandingCSS is the stylesheet of accent colour hex: the readable shade
// of it (tenants.ReadableAccent), so that a colour too light for white
// button text or for links is darkened; nothing for a colour not in the
// one accepted form.
func brandingCSS(hex string) string {
	if !accentColor.MatchString(hex) {
		return ""
	}
	a := tenants.ReadableAccent(hex)
	return ":root { --accent: " + a.Color + "; --accent-ink: " + a.Ink + "; }\n"
}

// accentColor is the only form an accent colour may take in a stylesheet.
var accentColor = regexp.MustCompile(`^#[0-9a-f]{6}$`)
