package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

// openAPI serves the OpenAPI 3 document of the API, built from Routes so
// that every route is in it.
func (h *Handler) openAPI(c echo.Context) error {
	return c.JSON(http.StatusOK, h.Document())
}

// Document returns the OpenAPI 3.1 document of the API.
func (h *Handler) Document() map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range h.Routes() {
		p := openAPIPath(r.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": operationID(r),
			"security":    []map[string][]string{{"bearer": {r.Scope}}},
			"responses":   responses(r),
		}
		if params := pathParams(r.Path); len(params) > 0 {
			op["parameters"] = params
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
		}
		paths[p][strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Gatehouse management API",
			"version":     "1",
			"description": "Manage tenants, applications, APIs, users and keys. Authenticate with a bearer access token from the system tenant (client credentials) for the audience of this API.",
		},
		"servers": []map[string]any{{"url": admin.APIPath}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
			},
			"schemas": map[string]any{
				"Problem": map[string]any{
					"type":        "object",
					"description": "RFC 9457 problem details",
					"properties": map[string]any{
						"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"},
						"status": map[string]any{"type": "integer"}, "detail": map[string]any{"type": "string"},
						"code": map[string]any{"type": "string"},
						"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
							"field": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}},
					},
				},
			},
		},
	}
}

// openAPIPath turns /tenants/:slug into /tenants/{slug}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, ":") {
			parts[i] = "{" + part[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func pathParams(p string) []map[string]any {
	var out []map[string]any
	for _, part := range strings.Split(p, "/") {
		if name, ok := strings.CutPrefix(part, ":"); ok {
			out = append(out, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
	}
	return out
}

func operationID(r Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.Method))
	for _, part := range strings.Split(r.Path, "/") {
		part = strings.TrimPrefix(part, ":")
		for _, w := range strings.FieldsFunc(part, func(c rune) bool { return c == '_' || c == '-' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

func responses(r Route) map[string]any {
	problem := map[string]any{"description": "Problem", "content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	ok := map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
	out := map[string]any{"400": problem, "401": problem, "403": problem, "404": problem}
	switch r.Method {
	case http.MethodPost:
		out["201"] = ok
		out["409"] = problem
	case http.MethodDelete:
		out["204"] = map[string]any{"description": "Deleted"}
	default:
		out["200"] = ok
	}
	return out
}
