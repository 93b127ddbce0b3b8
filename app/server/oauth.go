package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/httperr"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// engineEndpoint mounts one of the engine's endpoints. It refuses tokens in
// the URL (RFC 6750 §2.3, RFC 9700 §4.3.2), and adds the WWW-Authenticate
// header the engine leaves out of its 401 answers (RFC 6749 §5.2, RFC 6750
// §3).
func (s *Server) engineEndpoint(c echo.Context) error {
	r := c.Request()
	q := r.URL.Query()
	for _, k := range []string{"access_token", "refresh_token", "client_secret", "token", "code"} {
		if q.Has(k) {
			return httperr.OAuth(httperr.InvalidRequest, "%s must not be sent in the URL", k)
		}
	}
	t, _ := tenants.FromContext(r.Context())
	challenge := `Basic realm="` + t.Issuer + `"`
	if r.URL.Path == oidc.PathUserinfo {
		challenge = `Bearer realm="` + t.Issuer + `"`
		if r.Header.Get("Authorization") != "" || r.Method == http.MethodPost && r.PostFormValue("access_token") != "" {
			challenge += `, error="invalid_token"`
		}
	}
	w := &challengeWriter{ResponseWriter: c.Response().Writer, challenge: challenge}
	s.provider.Handler().ServeHTTP(w, r)
	return nil
}

// challengeWriter adds WWW-Authenticate to a 401.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (w *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", w.challenge)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *challengeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// corsOpen allows any origin to call an endpoint without credentials:
// browser apps (SPAs) read discovery and JWKS and call the token, userinfo
// and revocation endpoints. No cookie is ever honoured there.
func corsOpen(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Add("Vary", "Origin")
		if c.Request().Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
			h.Set("Access-Control-Max-Age", "600")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

// isJSONPath reports whether errors on path are answered as JSON rather
// than as a page.
func isJSONPath(path string) bool {
	return strings.HasPrefix(path, "/oauth/") || path == oidc.PathUserinfo ||
		strings.HasPrefix(path, "/.well-known/") || strings.HasPrefix(path, "/api/")
}
