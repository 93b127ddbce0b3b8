package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Token is what a verified bearer token says.
type Token struct {
	Subject   string
	ClientID  string
	Audience  string
	Scopes    []string
	UserToken bool
}

// TokenVerifier verifies a bearer access token of the system tenant.
type TokenVerifier func(ctx context.Context, token string) (*Token, error)

// Handler serves the management API.
type Handler struct {
	svc    *admin.Service
	verify TokenVerifier
}

// New returns the management API.
func New(svc *admin.Service, verify TokenVerifier) *Handler {
	return &Handler{svc: svc, verify: verify}
}

// Route is one endpoint of the API, as the OpenAPI document describes it.
type Route struct {
	Method  string
	Path    string // echo syntax: /tenants/:slug
	Summary string
	Scope   string
	handler echo.HandlerFunc
}

// Register adds the API's routes under /api/v1 behind mw (which must
// restrict them to the apex host).
func (h *Handler) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	authed := append(append([]echo.MiddlewareFunc{}, mw...), h.authenticate)
	e.GET(admin.APIPath+"/openapi.json", h.openAPI, mw...)
	for _, r := range h.Routes() {
		e.Add(r.Method, admin.APIPath+r.Path, r.handler, authed...)
	}
}

// authenticate turns the bearer token into the principal of the call: a
// client of the system tenant (client credentials) or an administrator
// (the console's token), with its roles and the token's scopes.
func (h *Handler) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || raw == "" {
			return unauthenticated("send an access token of the system tenant: Authorization: Bearer <token>")
		}
		tok, err := h.verify(r.Context(), strings.TrimSpace(raw))
		if err != nil || tok.Audience != h.svc.APIAudience() {
			return unauthenticated("the access token is not valid for this API")
		}
		kind, id := admin.KindClient, tok.ClientID
		if tok.UserToken {
			kind, id = admin.KindUser, tok.Subject
		}
		p, err := h.svc.Authenticate(r.Context(), kind, id, tok.Scopes)
		if errors.Is(err, admin.ErrForbidden) {
			return &httperr.Error{Status: http.StatusForbidden, Code: "forbidden", Title: "Not an administrator", Description: "the token's holder has no administrator role"}
		}
		if err != nil {
			return err
		}
		p.IPAddress, p.UserAgent = c.RealIP(), r.UserAgent()
		p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		c.SetRequest(r.WithContext(admin.WithPrincipal(r.Context(), p)))
		return next(c)
	}
}

func unauthenticated(desc string) error {
	return &httperr.Error{Status: http.StatusUnauthorized, Code: "invalid_token", Title: "Authentication required", Description: desc}
}

// tenant resolves the :slug of the path for the principal.
func (h *Handler) tenant(c echo.Context) (context.Context, *tenants.Tenant, error) {
	return h.svc.Tenant(c.Request().Context(), c.Param("slug"))
}

// maxBody caps a JSON request body.
const maxBody = 64 << 10

// decode reads a JSON body into v, refusing unknown fields, trailing data
// and anything but one JSON object.
func decode(c echo.Context, v any) error {
	r := c.Request()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return badRequest("", "send a JSON body with Content-Type: application/json")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return badRequest(ute.Field, "has the wrong type: want "+ute.Type.String())
		}
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			return badRequest(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a field of this resource")
		}
		return badRequest("", "the body is not a valid JSON object")
	}
	if dec.More() {
		return badRequest("", "the body must hold one JSON object")
	}
	return nil
}

func badRequest(field, msg string) error {
	return &httperr.Error{Status: http.StatusBadRequest, Code: "validation_failed", Title: "Invalid input", Description: msg, Field: field}
}

// list is the envelope of a collection.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func items[T any](xs []T) list[T] {
	if xs == nil {
		xs = []T{}
	}
	return list[T]{Items: xs}
}
