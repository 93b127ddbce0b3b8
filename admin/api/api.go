package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
	// streams are the "METHOD path" of the routes that stream their body.
	streams map[string]bool
}

// New returns the management API.
func New(svc *admin.Service, verify TokenVerifier) *Handler {
	h := &Handler{svc: svc, verify: verify, streams: map[string]bool{}}
	for _, r := range h.Routes() {
		if r.BodyType != "" {
			h.streams[r.Method+" "+admin.APIPath+r.Path] = true
		}
	}
	return h
}

// Route is one endpoint of the API: what Register mounts and what the
// OpenAPI document describes, from the same value.
type Route struct {
	Method string
	Path   string // echo syntax: /tenants/:slug
	// Tag groups the route by resource in the document.
	Tag         string
	Summary     string
	Description string
	// Scope is the scope the token must carry; Register checks it before the
	// handler runs (and the services check it again).
	Scope string
	// Status is the status of a successful answer; zero means 200.
	Status int
	// Query are the query parameters the route reads.
	Query []Param
	// Body is a value of the request body's type (nil: no body).
	// OptionalBody says the body may be left out.
	Body         any
	OptionalBody bool
	// BodyType is the body's media type when not application/json; a
	// route with one reads its body as a stream, past the server's cap
	// on request bodies (Streams).
	BodyType string
	// Reply is a value of the answer's type (nil: no content); ReplyType is
	// its media type when not application/json.
	Reply     any
	ReplyType string
	handler   echo.HandlerFunc
}

// Param is a query parameter of a route.
type Param struct {
	Name        string
	Description string
	Schema      map[string]any
}

// success returns the status of a successful answer to r.
func (r Route) success() int {
	if r.Status != 0 {
		return r.Status
	}
	return http.StatusOK
}

// Register adds the API's routes under /api/v1 behind mw (which must
// restrict them to the apex host).
func (h *Handler) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	authed := append(append([]echo.MiddlewareFunc{}, mw...), h.authenticate)
	e.GET(admin.APIPath+"/openapi.json", h.openAPI, mw...)
	for _, r := range h.Routes() {
		e.Add(r.Method, admin.APIPath+r.Path, r.handler, append(authed[:len(authed):len(authed)], requireScope(r.Scope))...)
	}
}

// Streams reports whether the route of c (as the router matched it) reads
// its body as a stream, of any length: the server's cap on bodies must
// not apply to it.
func (h *Handler) Streams(c echo.Context) bool {
	return h.streams[c.Request().Method+" "+c.Path()]
}

// authenticate turns the bearer token into the principal of the call: a
// client of the system tenant (client credentials) or an administrator
// (the console's token), with its roles and the token's scopes.
func (h *Handler) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		// Answers carry tenants' data and, once, client secrets: no cache
		// may keep them (RFC 9111 §5.2.2.5).
		c.Response().Header().Set("Cache-Control", "no-store")
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || raw == "" {
			return unauthenticated("send an access token of the system tenant: Authorization: Bearer <token>")
		}
		tok, err := h.verify(r.Context(), strings.TrimSpace(raw))
		if tenants.Unavailable(err) {
			// Unchecked is not invalid: a client told 401 would drop a
			// good token.
			return err
		}
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
		c.SetRequest(r.WithContext(admin.WithPrincipal(r.Context(), p)))
		return next(c)
	}
}

// requireScope refuses a call whose token lacks the route's scope, before
// anything is looked up: the answer is the same for every tenant.
func requireScope(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := admin.PrincipalFrom(c.Request().Context())
			if !ok {
				return admin.ErrUnauthenticated
			}
			if !p.HasScope(scope) {
				// RFC 6750 §3.1: name the scope the token lacks.
				c.Response().Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`"`)
				return &httperr.Error{Status: http.StatusForbidden, Code: "insufficient_scope", Title: "Not allowed",
					Description: "this call needs a token with the " + scope + " scope"}
			}
			return next(c)
		}
	}
}

func unauthenticated(desc string) error {
	return &httperr.Error{Status: http.StatusUnauthorized, Code: "invalid_token", Title: "Authentication required", Description: desc}
}

// tenant resolves the :slug of the path for the principal.
func (h *Handler) tenant(c echo.Context) (context.Context, *tenants.Tenant, error) {
	slug, err := pathParam(c, "slug")
	if err != nil {
		return nil, nil, err
	}
	return h.svc.Tenant(c.Request().Context(), slug)
}

// pathParam returns the path parameter name. A value that no id can have
// (empty, too long, not UTF-8, control characters) names nothing: 404, as
// an unknown id does, and it never reaches the database.
func pathParam(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if v == "" || len(v) > 256 || !printable(v) {
		return "", fmt.Errorf("%s: %w", name, tenants.ErrNotFound)
	}
	return v, nil
}

// printable reports whether s is UTF-8 without control characters.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// maxBody caps a JSON request body.
const maxBody = 64 << 10

// decode reads a JSON body into v (a pointer to a struct, or to a slice for
// the routes whose body is a list), refusing unknown fields, wrong types,
// trailing data and anything but one JSON value of that shape. Errors name
// the field.
func decode(c echo.Context, v any) error {
	r := c.Request()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return badRequest("", "send a JSON body with Content-Type: application/json")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badRequest("", "the body could not be read")
	}
	if len(raw) > maxBody {
		return &httperr.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Title: "Request too large", Description: "the body must be at most 64 KiB"}
	}
	want, shape := byte('{'), "a JSON object"
	if reflect.TypeOf(v).Elem().Kind() == reflect.Slice {
		want, shape = '[', "a JSON array"
	}
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != want {
		return badRequest("", "the body must be "+shape)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			field := ute.Field
			if field == "" {
				return badRequest("", "the body must be "+shape)
			}
			return badRequest(field, "has the wrong type: want "+jsonType(ute.Type))
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badRequest(strings.Trim(name, `"`), "is not a field of this resource")
		}
		return badRequest("", "the body is not valid JSON")
	}
	if dec.More() {
		return badRequest("", "the body must hold one JSON value")
	}
	if field, ok := nulField(reflect.ValueOf(v), ""); ok {
		return badRequest(field, "must not contain NUL characters")
	}
	return nil
}

// nulField returns the name of the first string in v that holds a NUL
// character: no text Gatehouse stores can (PostgreSQL's text cannot), so
// such input is refused here, naming its field, before any lookup.
func nulField(v reflect.Value, name string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulField(v.Elem(), name)
		}
	case reflect.String:
		return name, strings.IndexByte(v.String(), 0) >= 0
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if f, ok := nulField(v.Index(i), name); ok {
				return f, true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if !sf.IsExported() || tag == "-" {
				continue
			}
			if tag == "" {
				tag = sf.Name
			}
			if name != "" {
				tag = name + "." + tag
			}
			if f, ok := nulField(v.Field(i), tag); ok {
				return f, true
			}
		}
	}
	return "", false
}

// decodeOptional is decode for a body that may be left out (or empty).
func decodeOptional(c echo.Context, v any) error {
	r := c.Request()
	if r.ContentLength == 0 {
		return nil
	}
	return decode(c, v)
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

func badRequest(field, msg string) error {
	return &httperr.Error{Status: http.StatusBadRequest, Code: "validation_failed", Title: "Invalid input", Description: msg, Field: field}
}

// renamed returns err with the field of a validation error renamed from
// the services' name to this API's (the services name fields as the CLI
// does). Other errors are returned as they are.
func renamed(err error, names map[string]string) error {
	var ve *tenants.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	if to, ok := names[ve.Field]; ok {
		return &tenants.ValidationError{Field: to, Message: ve.Message}
	}
	return err
}

// Page sizes of collections.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// limit reads ?limit=, 1 to 200, 50 when absent.
func limit(c echo.Context) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badRequest("limit", fmt.Sprintf("must be an integer from 1 to %d", maxLimit))
	}
	return n, nil
}

// query reads a free-text query parameter of at most max bytes.
func query(c echo.Context, name string, max int) (string, error) {
	v := c.QueryParam(name)
	if len(v) > max {
		return "", badRequest(name, fmt.Sprintf("must be at most %d bytes", max))
	}
	if !printable(v) {
		return "", badRequest(name, "must be text without control characters")
	}
	return v, nil
}

// Cursors are opaque to callers: base64url of the position they stand for.
func encodeCursor(position string) string {
	if position == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(position))
}

// cursor reads the opaque cursor parameter name (a previous page's next).
func cursor(c echo.Context, name string) (string, error) {
	v := c.QueryParam(name)
	if v == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) == 0 || len(b) > 1024 || !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return "", badRequest(name, "is not a cursor from this API: pass the next value of the previous page")
	}
	return string(b), nil
}

// list is the envelope of a collection: a page of items and, when there
// are more, the cursor of the next page.
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

// paginate pages a whole collection the services return in full: items in
// the order of key (unique, compared bytewise), those after the cursor
// ?after=, at most ?limit= of them.
func paginate[T any](c echo.Context, xs []T, key func(T) string) (list[T], error) {
	n, err := limit(c)
	if err != nil {
		return list[T]{}, err
	}
	after, err := cursor(c, "after")
	if err != nil {
		return list[T]{}, err
	}
	sorted := make([]T, 0, len(xs))
	for _, x := range xs {
		if after == "" || key(x) > after {
			sorted = append(sorted, x)
		}
	}
	slices.SortStableFunc(sorted, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	out := items(sorted)
	if len(sorted) > n {
		out.Items = sorted[:n]
		out.Next = encodeCursor(key(sorted[n-1]))
	}
	return out, nil
}

// created answers 201 with the new resource's Location.
func created(c echo.Context, path string, v any) error {
	c.Response().Header().Set("Location", admin.APIPath+path)
	return c.JSON(http.StatusCreated, v)
}
