package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// engineEndpoint mounts one of the engine's endpoints. Around the engine it
// refuses tokens in the URL (RFC 6750 §2.3, RFC 9700 §4.3.2), refuses a
// client endpoint call that identifies no client, and answers client
// authentication failures with 401 and WWW-Authenticate (RFC 6749 §5.2,
// RFC 6750 §3), which the engine answers with 400 and no header.
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
	switch r.URL.Path {
	case oidc.PathUserinfo:
		challenge = `Bearer realm="` + t.Issuer + `"`
		if r.Header.Get("Authorization") != "" || r.Method == http.MethodPost && r.PostFormValue("access_token") != "" {
			challenge += `, error="invalid_token"`
		}
	case oidc.PathToken, oidc.PathIntrospect, oidc.PathRevoke:
		if _, _, ok := r.BasicAuth(); !ok && (r.Header.Get("Authorization") != "" || r.PostFormValue("client_id") == "" && r.PostFormValue("client_assertion") == "") {
			if r.PostFormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
				c.Response().Header().Set("WWW-Authenticate", challenge)
				return &httperr.Error{Status: http.StatusUnauthorized, Code: httperr.InvalidClient, Description: "client authentication is required"}
			}
		}
	}
	w := &clientErrorWriter{ResponseWriter: c.Response().Writer, challenge: challenge}
	s.provider.Handler().ServeHTTP(w, r)
	w.flush()
	return nil
}

// clientErrorWriter holds back a 400 or 401 answer of the engine until it
// has seen its body: an invalid_client error becomes 401, and every 401
// carries WWW-Authenticate.
type clientErrorWriter struct {
	http.ResponseWriter
	challenge string
	held      int
	body      bytes.Buffer
}

func (w *clientErrorWriter) WriteHeader(status int) {
	if status == http.StatusBadRequest || status == http.StatusUnauthorized {
		w.held = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *clientErrorWriter) Write(b []byte) (int, error) {
	if w.held != 0 {
		return w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *clientErrorWriter) flush() {
	if w.held == 0 {
		return
	}
	status := w.held
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(w.body.Bytes(), &e) == nil && e.Error == httperr.InvalidClient {
		status = http.StatusUnauthorized
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", w.challenge)
	}
	w.ResponseWriter.WriteHeader(status)
	_, _ = w.ResponseWriter.Write(w.body.Bytes())
}

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
