package server

import (
	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy allows only our own scripts, styles and images
// (logos may be https), and no framing: every page refuses to be embedded
// (clickjacking).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every answer carries. Answers are not
// cached unless a handler says otherwise (discovery, JWKS, static files).
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	hsts := s.cfg.BaseURL.Scheme == "https"
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}
