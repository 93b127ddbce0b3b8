package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// openAPI serves the OpenAPI 3.1 document of the API. It needs no token.
func (h *Handler) openAPI(c echo.Context) error {
	return c.JSON(http.StatusOK, h.Document())
}

// tags describes the resources, in the order the document lists them.
var tags = []map[string]any{
	{"name": tagTenants, "description": "Tenants (issuers) and their settings. Operators see every tenant; a tenant admin sees theirs."},
	{"name": tagApplications, "description": "OAuth 2.0 clients of a tenant."},
	{"name": tagAPIs, "description": "Resource servers of a tenant and the scopes they define."},
	{"name": tagUsers, "description": "End users of a tenant, their sessions and consents."},
	{"name": tagRoles, "description": "Roles of a tenant: named bundles of API scopes (permissions), held by users directly and through groups. On an API with rbac on, a user's tokens carry only the scopes their roles hold."},
	{"name": tagClaimRules, "description": "Claim rules of a tenant: CEL expressions, run in order whenever a user's tokens are minted, that add claims to ID and access tokens or deny the sign-in with a message. Checked when saved; run with a cost limit and a deadline; a rule that fails refuses the sign-in."},
	{"name": tagGroups, "description": "Groups of a tenant's users: their members hold the group's roles; the groups claim and scope carry their names."},
	{"name": tagKeys, "description": "A tenant's token signing keys."},
	{"name": tagConnections, "description": "Upstream identity providers of a tenant: Google, GitHub, Microsoft, OpenID Connect and SAML 2.0."},
	{"name": tagRegistration, "description": "Dynamic client registration (RFC 7591/7592) at a tenant's /oauth/register: who may register is the tenant's client_registration; with token, registrations need an initial access token made here."},
	{"name": tagWebhooks, "description": "A tenant's webhook endpoints (Standard Webhooks): audited actions delivered as signed JSON events, at least once, with retries and a delivery log."},
	{"name": tagEmail, "description": "A tenant's own email per kind and language, in a small template language of named variables, in the tenant's branded layout."},
	{"name": tagStrings, "description": "A tenant's own wording of the messages of its pages and email, per language, over the catalogs'."},
	{"name": tagDomains, "description": "Hosts of the tenant's own (login.acme.com) it is served on besides <slug>.<apex>, each with its own issuer, once a DNS TXT record proves it."},
	{"name": tagSAMLApps, "description": "SAML 2.0 service providers that sign a tenant's users in through Gatehouse as their identity provider."},
	{"name": tagAudit, "description": "A tenant's append-only audit log (scope audit:read)."},
	{"name": tagAdmins, "description": "Gatehouse's administrators (people who sign in to the console): operators, who administer every tenant, and tenant admins, who administer some."},
	{"name": tagAdminClients, "description": "Machine-to-machine clients of this API: operators or tenant admins, as administrators are."},
}

// schemaDocs describes the component schemas.
var schemaDocs = map[string]string{
	"Tenant":          "A tenant and its settings; lifetimes are in seconds.",
	"Client":          "An application, with RFC 7591 field names. client_secret is only in the answers to create and rotate; a secret's hash is never shown.",
	"API":             "A resource server: its audience (RFC 8707) and scopes.",
	"User":            "An end user; id is the OpenID Connect subject.",
	"Session":         "A login session; id is a reference to it, not its key.",
	"Consent":         "What a user allowed an application: scopes per audience.",
	"Key":             "A signing key (public facts only).",
	"AuditEvent":      "An audit log entry. before and after are the resource as it was and became, where that applies; they never hold a secret.",
	"Overview":        "Counts and recent sign-ins of a tenant.",
	"Admin":           "An administrator: their user at the system tenant, role (operator or tenant_admin), tenants (slugs, a tenant admin's) and management scopes.",
	"AdminClient":     "A management client: role (operator or tenant_admin), tenants (slugs, a tenant admin's) and scopes; client_secret is only in the answer that creates it.",
	"Webhook":         "A webhook endpoint of a tenant; secret (whsec_...) is only in the answers that create it and rotate its secret.",
	"TenantString":    "A tenant's own wording of one message in one language, with the catalog's words it replaces.",
	"EmailTemplate":   "A tenant's template of one kind of email in one language, or the built-in email written as one.",
	"EmailVariable":   "A variable an email's templates may name.",
	"EmailPreview":    "An email as a user would receive it, with sample values.",
	"WebhookDelivery": "A delivery of an event to a webhook endpoint: its state and its log of attempts (never an answer's body).",
	"WebhookAttempt":  "One attempt at a delivery: the answer's status code, or why there was none.",
	"SAMLApp":         "A SAML application (service provider) of a tenant, with the IdP values to give it (metadata_url, idp_entity_id, sso_url).",
	"SAMLEndpoint":    "An assertion consumer service of a service provider.",
	"SAMLAttribute":   "An attribute of the assertions and the user property it carries.",
	"Connection":      "An upstream identity provider of a tenant; never its secrets (has_client_secret says a client secret is set). callback_url (google, github, microsoft, oidc) is the redirect URI to register at the provider; entity_id, acs_url and metadata_url (saml) are the tenant's service provider, for the IdP's admin; idp_metadata_url is where the IdP's metadata came from.",
}

const apiDescription = `Manage Gatehouse's tenants and what they own: applications, APIs, users, keys, connections (upstream identity providers) and webhooks, and read the audit log; and Gatehouse's administrators and management clients.

Authenticate with a bearer access token of the system tenant for this API's audience (the API's URL): machine-to-machine clients get one with the client credentials grant at the system tenant's token endpoint; the console uses its administrators' tokens. Scopes: tenants:read for reads, tenants:write for changes (it implies tenants:read), audit:read for the audit log. An operator administers every tenant, a tenant admin only theirs.

Another tenant's slug, or an id of another tenant's object, answers 404 exactly as an unknown one does. Deletes answer 204, then 404 when repeated (idempotent in effect, RFC 9110 §9.2.2). Errors are RFC 9457 problem documents (application/problem+json); invalid input answers 400 naming the field in errors[].field. Collections answer {items, next}: pass next back as after (before for the audit log) for the following page; limit is 1 to 200, 50 by default. Every change writes an audit event. Answers are not cacheable (Cache-Control: no-store).`

// Document returns the OpenAPI 3.1 document of the API, built from Routes
// (so every route is in it) and the Go types of the bodies.
func (h *Handler) Document() map[string]any {
	g := &schemas{defs: map[string]any{}, names: map[reflect.Type]string{}}
	paths := map[string]map[string]any{}
	for _, r := range h.Routes() {
		p := openAPIPath(r.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.Method)] = g.operation(r)
	}
	paths["/openapi.json"] = map[string]any{"get": map[string]any{
		"summary": "This document", "operationId": "getOpenAPI", "tags": []string{"Meta"}, "security": []any{},
		"responses": map[string]any{"200": map[string]any{"description": "The OpenAPI document", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}},
	}}
	g.defs["Problem"] = map[string]any{
		"type":        "object",
		"description": "RFC 9457 problem details. code is a short machine-readable reason; errors names the invalid fields.",
		"required":    []string{"type", "title", "status"},
		"properties": map[string]any{
			"type": map[string]any{"type": "string", "format": "uri-reference"}, "title": str(),
			"status": map[string]any{"type": "integer"}, "detail": str(), "code": str(),
			"errors": map[string]any{"type": "array", "items": map[string]any{
				"type": "object", "required": []string{"field", "message"},
				"properties": map[string]any{"field": str(), "message": str()}}},
		},
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Gatehouse management API",
			"version":     "1",
			"description": apiDescription,
		},
		"servers":  []map[string]any{{"url": admin.APIPath}},
		"tags":     append(slices.Clone(tags), map[string]any{"name": "Meta", "description": "About the API itself."}),
		"security": []map[string][]string{{"bearer": {}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
					"description": "An access token of the system tenant (RFC 9068 JWT) for this API's audience, with the scopes the operation lists."},
			},
			"schemas": g.defs,
		},
	}
}

func (g *schemas) operation(r Route) map[string]any {
	desc := r.Description
	if desc != "" {
		desc += "\n\n"
	}
	desc += "Requires the " + r.Scope + " scope."
	op := map[string]any{
		"summary":     r.Summary,
		"description": desc,
		"operationId": operationID(r),
		"tags":        []string{r.Tag},
		"security":    []map[string][]string{{"bearer": {r.Scope}}},
		"responses":   g.responses(r),
	}
	params := pathParams(r)
	for _, q := range r.Query {
		params = append(params, map[string]any{"name": q.Name, "in": "query", "required": false, "description": q.Description, "schema": q.Schema})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if r.Body != nil {
		bodyType := r.BodyType
		if bodyType == "" {
			bodyType = "application/json"
		}
		op["requestBody"] = map[string]any{
			"required": !r.OptionalBody,
			"content":  map[string]any{bodyType: map[string]any{"schema": g.of(reflect.TypeOf(r.Body), true)}},
		}
	}
	return op
}

func (g *schemas) responses(r Route) map[string]any {
	problem := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	}
	out := map[string]any{
		"401": problem("No token, or a token that is not valid for this API (WWW-Authenticate: Bearer)"),
		"403": problem("The token lacks the scope, or its holder the role (operators only)"),
	}
	if strings.Contains(r.Path, ":") {
		out["404"] = problem("Not found: unknown, or another tenant's (the same answer)")
	}
	if r.Body != nil || len(r.Query) > 0 {
		out["400"] = problem("Invalid input: errors[].field names the field")
	}
	status := strconv.Itoa(r.success())
	switch {
	case r.Reply == nil:
		out[status] = map[string]any{"description": http.StatusText(r.success())}
	default:
		mediaType := r.ReplyType
		if mediaType == "" {
			mediaType = "application/json"
		}
		resp := map[string]any{"description": http.StatusText(r.success()),
			"content": map[string]any{mediaType: map[string]any{"schema": g.of(reflect.TypeOf(r.Reply), false)}}}
		if r.success() == http.StatusCreated {
			resp["headers"] = map[string]any{"Location": map[string]any{"description": "URL of the new resource", "schema": str()}}
		}
		out[status] = resp
	}
	if r.Method == http.MethodPost && r.success() == http.StatusCreated {
		out["409"] = problem("Already exists (slug, audience or email taken)")
	}
	return out
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

// paramDocs describes path parameters, by name and by the resource (the
// path segment) they follow.
var paramDocs = map[string]string{
	"slug":                         "the tenant's slug",
	"applications/client_id":       "the application's client_id",
	"consents/client_id":           "the client_id of the application the user consented to",
	"apis/id":                      "the API's id",
	"users/id":                     "the user's id (the OpenID Connect subject)",
	"sessions/session_id":          "the session's id, as the user's session list gives it",
	"connections/id":               "the connection's id",
	"webhooks/id":                  "the webhook endpoint's id",
	"saml-apps/id":                 "the SAML application's id",
	"initial-access-tokens/id":     "the initial access token's id",
	"deliveries/delivery":          "the delivery's id, as the endpoint's delivery list gives it",
	"roles/role":                   "the role's id or name",
	"groups/id":                    "the group's id or name",
	"members/user":                 "the member's user id",
	"administrators/id":            "the administrator's user id at the system tenant",
	"management-clients/client_id": "the management client's client_id",
	"import-jobs/id":               "the import job's id",
	"strings/locale":               "the language (BCP 47), one of discovery's ui_locales_supported: en, de, es, fr, ja, pt-BR",
	":locale/message":              "the message's id in the catalogs (views/i18n/locales/en.toml), such as consent.heading",
	"email-templates/kind":         "the kind of email: " + emailKindsNote,
	":kind/locale":                 "the language (BCP 47), one of discovery's ui_locales_supported: en, de, es, fr, ja, pt-BR",
	"claim-rules/id":               "the claim rule's id",
	"factors/factor":               "the factor's id, as the user's factor list gives it",
	"domains/domain":               "the custom domain's host, such as login.acme.com",
	"identities/identity":          "the identity's id, as the user's identity list gives it",
}

func pathParams(r Route) []map[string]any {
	var out []map[string]any
	parts := strings.Split(r.Path, "/")
	for i, part := range parts {
		name, ok := strings.CutPrefix(part, ":")
		if !ok {
			continue
		}
		desc := paramDocs[name]
		if d, ok := paramDocs[parts[i-1]+"/"+name]; ok {
			desc = d
		}
		out = append(out, map[string]any{"name": name, "in": "path", "required": true, "description": desc, "schema": str()})
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

// schemas builds JSON Schemas (OpenAPI 3.1 dialect) from Go types by their
// json tags: named structs become components, referenced by $ref. Request
// bodies may carry doc (a description), required, enum (comma-separated),
// enumFrom (a list of enumLists) and writeOnly tags; in answers, a field
// without omitempty is always present.
type schemas struct {
	defs  map[string]any
	names map[reflect.Type]string
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

func (g *schemas) of(t reflect.Type, request bool) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{"description": "any JSON value"}
	}
	switch t.Kind() {
	case reflect.String:
		return str()
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.of(t.Elem(), request)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem(), request)}
	case reflect.Struct:
		// Generic envelopes (list[T]) are described where they are used.
		if t.Name() == "" || strings.Contains(t.Name(), "[") {
			return g.object(t, request)
		}
		name, ok := g.names[t]
		if !ok {
			name = componentName(t)
			for _, taken := g.defs[name]; taken; _, taken = g.defs[name] {
				name += "_"
			}
			g.names[t] = name
			g.defs[name] = map[string]any{} // placeholder for recursive types
			s := g.object(t, request)
			if d, ok := schemaDocs[name]; ok {
				s["description"] = d
			}
			g.defs[name] = s
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (g *schemas) object(t reflect.Type, request bool) map[string]any {
	props := map[string]any{}
	required := []string{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.of(f.Type, request)
		if d := f.Tag.Get("doc"); d != "" {
			s = withDescription(s, d)
		}
		if e, from := f.Tag.Get("enum"), f.Tag.Get("enumFrom"); e != "" || from != "" {
			target := s
			if s["type"] == "array" {
				target = s["items"].(map[string]any)
			}
			if e != "" {
				target["enum"] = strings.Split(e, ",")
			} else {
				list, ok := enumLists[from]
				if !ok {
					panic("api: " + t.Name() + "." + f.Name + ": no enum list " + from)
				}
				target["enum"], target["x-enum-descriptions"] = list()
			}
		}
		if f.Tag.Get("writeOnly") == "true" {
			s["writeOnly"] = true
		}
		props[name] = s
		if request && f.Tag.Get("required") == "true" || !request && !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	if request {
		out["additionalProperties"] = false
	}
	return out
}

// enumLists are the enums a field takes from the list's one home (tag
// enumFrom) rather than spelling out: each returns the values and a
// description of each, for x-enum-descriptions.
var enumLists = map[string]func() (values, descriptions []string){
	"grant_types":        grantTypeEnum,
	"signing_algorithms": signingAlgEnum,
	"webhook_events":     webhookEventEnum,
	"token_claims":       tokenClaimEnum,
}

// tokenClaimEnum is the claims an API may ask its access tokens to carry
// (tenants.TokenClaimNames).
func tokenClaimEnum() (values, descriptions []string) {
	words := map[string]string{
		tenants.ClaimRoles:  "the names of the roles the user holds, directly or through groups",
		tenants.ClaimGroups: "the names of the groups the user is a member of",
	}
	for _, c := range tenants.TokenClaimNames() {
		values, descriptions = append(values, c), append(descriptions, words[c])
	}
	return values, descriptions
}

// signingAlgEnum is the supported signing algorithms
// (tenants.SigningAlgorithms), the default first.
func signingAlgEnum() (values, descriptions []string) {
	for _, a := range tenants.SigningAlgorithms() {
		values, descriptions = append(values, a), append(descriptions, tenants.SigningAlgorithmLabel(a))
	}
	return values, descriptions
}

// grantTypeEnum is the grant registry (tenants.GrantTypes), in its order.
func grantTypeEnum() (values, descriptions []string) {
	for _, g := range tenants.GrantTypes() {
		d := g.Label + ": " + g.Help
		if len(g.Needs) > 0 {
			d += "; needs " + g.NeedsWords()
		}
		values, descriptions = append(values, g.Name), append(descriptions, d)
	}
	return values, descriptions
}

// withDescription adds a description; next to a $ref, in an allOf, which
// every OpenAPI tool reads.
func withDescription(s map[string]any, d string) map[string]any {
	if _, ok := s["$ref"]; ok {
		return map[string]any{"allOf": []any{s}, "description": d}
	}
	s["description"] = d
	return s
}

// componentName names a struct's schema: exported types by their name,
// this package's request bodies (createClientBody) as CreateClientRequest.
func componentName(t reflect.Type) string {
	n := t.Name()
	if base, ok := strings.CutSuffix(n, "Body"); ok && unicode.IsLower(rune(n[0])) {
		n = base + "Request"
	}
	return strings.ToUpper(n[:1]) + n[1:]
}
