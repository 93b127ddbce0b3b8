package login

import (
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/web"
)

// branding serves the tenant's stylesheet: its accent colour. A
// stylesheet, not a style attribute, so that the pages' CSP can forbid
// inline styles.
func (h *Handler) branding(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	css := ""
	if accentColor.MatchString(t.AccentColor) {
		css = ":root { --accent: " + t.AccentColor + "; }\n"
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}

// accentColor is the only form an accent colour may take in a stylesheet.
var accentColor = regexp.MustCompile(`^#[0-9a-f]{6}$`)
