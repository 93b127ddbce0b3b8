// Package register serves a tenant's dynamic client registration
// endpoint (RFC 7591) and its clients' configuration endpoints (RFC 7592):
// the HTTP side of admin.Service's registration, on the tenant's host.
package register

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/ratelimit"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// OpenRate is how many open registrations (without an initial access
// token) one address may make: 10 an hour.
var OpenRate = ratelimit.Config{Burst: 10, Per: time.Hour}

// Handler answers registration requests.
type Handler struct {
	svc  *admin.Service
	open *ratelimit.Limiter
}

// New returns a Handler registering through svc, throttling open
// registrations per address at rate.
func New(svc *admin.Service, rate ratelimit.Config) *Handler {
	return &Handler{svc: svc, open: ratelimit.New(rate)}
}

// Register mounts the endpoints with the middleware mw (the tenant-host
// restriction).
func (h *Handler) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	e.POST(tenants.PathRegister, h.register, mw...)
	e.GET(tenants.PathRegister+"/:client_id", h.read, mw...)
	e.PUT(tenants.PathRegister+"/:client_id", h.update, mw...)
	e.DELETE(tenants.PathRegister+"/:client_id", h.delete, mw...)
}

// bearer returns the Bearer token of the request ("" for none).
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// metadata decodes the JSON body of a registration or update.
func metadata(c echo.Context) (admin.ClientMetadata, error) {
	var md admin.ClientMetadata
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	if mt != "application/json" {
		return md, &admin.RegistrationError{Code: admin.RegInvalidClientMetdata, Description: "the body must be application/json"}
	}
	dec := json.NewDecoder(c.Request().Body)
	if err := dec.Decode(&md); err != nil || dec.More() {
		return md, &admin.RegistrationError{Code: admin.RegInvalidClientMetdata, Description: "the body is not a JSON object of client metadata"}
	}
	return md, nil
}

// answer writes v with status, never cached (RFC 7591 §3.2.1), or the
// error err as RFC 7591 §3.2.2 and RFC 6750 §3 say.
func answer(c echo.Context, status int, v any, err error) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	var re *admin.RegistrationError
	switch {
	case err == nil:
		if v == nil {
			return c.NoContent(status)
		}
		return c.JSON(status, v)
	case errors.As(err, &re):
		status := http.StatusBadRequest
		if re.Code == admin.RegInvalidToken {
			status = http.StatusUnauthorized
			h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		return c.JSON(status, map[string]string{"error": re.Code, "error_description": re.Description})
	case errors.Is(err, tenants.ErrNotFound):
		// The tenant takes no registrations.
		return httperr.NotFound()
	}
	return httperr.Internal(err)
}

// register is RFC 7591 §3.1: 201 with the client's metadata, its secret
// (if confidential) and its registration access token.
func (h *Handler) register(c echo.Context) error {
	ctx := c.Request().Context()
	t, ok := tenants.FromContext(ctx)
	if !ok || t.Registration() == tenants.RegistrationOff {
		return httperr.NotFound()
	}
	tok := bearer(c.Request())
	if tok == "" && t.Registration() == tenants.RegistrationOpen {
		o, _ := tenants.OriginFrom(ctx)
		if ok, wait := h.open.Allow(o.IP); !ok {
			return httperr.TooManyRequests(max(wait, time.Second))
		}
	}
	md, err := metadata(c)
	if err != nil {
		return answer(c, 0, nil, err)
	}
	r, err := h.svc.RegisterClient(ctx, tok, md)
	if err == nil {
		c.Response().Header().Set("Location", r.RegistrationClientURI)
	}
	return answer(c, http.StatusCreated, r, err)
}

func (h *Handler) read(c echo.Context) error {
	r, err := h.svc.ReadRegistration(c.Request().Context(), c.Param("client_id"), bearer(c.Request()))
	return answer(c, http.StatusOK, r, err)
}

func (h *Handler) update(c echo.Context) error {
	ctx, id, tok := c.Request().Context(), c.Param("client_id"), bearer(c.Request())
	md, err := metadata(c)
	if err != nil {
		return answer(c, 0, nil, err)
	}
	r, err := h.svc.UpdateRegistration(ctx, id, tok, md)
	return answer(c, http.StatusOK, r, err)
}

func (h *Handler) delete(c echo.Context) error {
	err := h.svc.DeleteRegistration(c.Request().Context(), c.Param("client_id"), bearer(c.Request()))
	return answer(c, http.StatusNoContent, nil, err)
}
