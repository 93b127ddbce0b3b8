package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// oauthEndpoint mounts a protocol endpoint of the provider: the handler
// reads the request and answers; failures are *httperr.Error, which
// handleError writes as OAuth's JSON error with its challenge.
func oauthEndpoint(h func(ctx context.Context, r *http.Request) (*oidc.Response, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp, err := h(c.Request().Context(), c.Request())
		if err != nil {
			return err
		}
		return writeResponse(c, resp)
	}
}

// publicEndpoint mounts a public document of the provider (discovery, JWKS).
func publicEndpoint(h func(ctx context.Context) (*oidc.Response, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp, err := h(c.Request().Context())
		if err != nil {
			return err
		}
		return writeResponse(c, resp)
	}
}

func writeResponse(c echo.Context, resp *oidc.Response) error {
	for k, vs := range resp.Header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	if resp.Body == nil {
		return c.NoContent(resp.Status)
	}
	if raw, ok := resp.Body.(oidc.RawBody); ok {
		return c.Blob(resp.Status, raw.ContentType, raw.Data)
	}
	b, err := json.Marshal(resp.Body)
	if err != nil {
		return httperr.Internal(err)
	}
	return c.Blob(resp.Status, echo.MIMEApplicationJSON, b)
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
		// A browser app reads the DPoP nonce and the challenge of a
		// refusal (RFC 9449 §8, §9).
		h.Set("Access-Control-Expose-Headers", "DPoP-Nonce, WWW-Authenticate")
		return next(c)
	}
}

// isJSONPath reports whether errors on path are answered as JSON rather
// than as a page.
func isJSONPath(path string) bool {
	return strings.HasPrefix(path, "/oauth/") || path == oidc.PathUserinfo ||
		strings.HasPrefix(path, "/.well-known/") || strings.HasPrefix(path, "/api/")
}
