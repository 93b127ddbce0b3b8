package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Tenants as code: a file (tenant.yaml, see tenant_file.go) says what a
// tenant should be; PlanTenant says what would change, ApplyTenant makes it
// so. A field the file leaves out is not managed; an object the file does
// not name is left alone unless prune is asked for.

// TenantFile is the desired state of a tenant. Objects are named by what
// is unique about them: APIs by audience, applications, roles and groups
// by name.
type TenantFile struct {
	Tenant       string            `json:"tenant"`
	Settings     *FileSettings     `json:"settings,omitempty"`
	APIs         []FileAPI         `json:"apis,omitempty"`
	Applications []FileApplication `json:"applications,omitempty"`
	Roles        []FileRole        `json:"roles,omitempty"`
	Groups       []FileGroup       `json:"groups,omitempty"`
	ClaimRules   []FileClaimRule   `json:"claim_rules,omitempty"`
	Strings      []FileString      `json:"strings,omitempty"`
	SAMLApps     []FileSAMLApp     `json:"saml_apps,omitempty"`
}

// FileSettings are a tenant's settings; lifetimes in seconds.
type FileSettings struct {
	Name                               *string  `json:"name,omitempty"`
	LogoURL                            *string  `json:"logo_url,omitempty"`
	AccentColor                        *string  `json:"accent_color,omitempty"`
	GrantTypes                         []string `json:"grant_types,omitempty"`
	AccessTokenLifetime                *int64   `json:"access_token_lifetime,omitempty"`
	IDTokenLifetime                    *int64   `json:"id_token_lifetime,omitempty"`
	RefreshTokenLifetime               *int64   `json:"refresh_token_lifetime,omitempty"`
	SessionLifetime                    *int64   `json:"session_lifetime,omitempty"`
	SignupMode                         *string  `json:"signup_mode,omitempty"`
	SignupDomains                      []string `json:"signup_domains,omitempty"`
	PasswordMinLength                  *int     `json:"password_min_length,omitempty"`
	MFAPolicy                          *string  `json:"mfa_policy,omitempty"`
	EmailFromName                      *string  `json:"email_from_name,omitempty"`
	RequirePushedAuthorizationRequests *bool    `json:"require_pushed_authorization_requests,omitempty"`
	EmailReplyTo                       *string  `json:"email_reply_to,omitempty"`
	DefaultLocale                      *string  `json:"default_locale,omitempty"`
	TokenExchangeImpersonation         *bool    `json:"token_exchange_impersonation,omitempty"`
	ClientRegistration                 *string  `json:"client_registration,omitempty"`
	// UserMetadataFields, when given, are all the user_metadata fields
	// users may edit on the account page.
	UserMetadataFields []tenants.MetadataField `json:"user_metadata_fields,omitempty"`
}

// FileAPI is an API; Scopes, when given, are all of its scopes.
type FileAPI struct {
	Audience    string   `json:"audience"`
	Name        *string  `json:"name,omitempty"`
	Scopes      []Scope  `json:"scopes,omitempty"`
	SigningAlg  *string  `json:"signing_alg,omitempty"`
	RBAC        *bool    `json:"rbac,omitempty"`
	TokenClaims []string `json:"token_claims,omitempty"`
	// RegistrationScopes, when given, are all the scopes self-registered
	// clients may be granted.
	RegistrationScopes []string `json:"registration_scopes,omitempty"`
	// ResourceServer names the application of the file (or of the
	// tenant) that may introspect the API's tokens; "" for none.
	ResourceServer *string `json:"resource_server,omitempty"`
}

// FileApplication is an application; its kind cannot change, nor its
// token endpoint authentication method except between the two ways of
// sending a secret.
type FileApplication struct {
	Name                               string          `json:"name"`
	Kind                               string          `json:"kind"`
	RedirectURIs                       []string        `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs             []string        `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes                         []string        `json:"grant_types,omitempty"`
	APIGrants                          []ClientGrant   `json:"api_grants,omitempty"`
	TokenEndpointAuthMethod            *string         `json:"token_endpoint_auth_method,omitempty"`
	JWKS                               json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                            *string         `json:"jwks_uri,omitempty"`
	IDTokenSignedResponseAlg           *string         `json:"id_token_signed_response_alg,omitempty"`
	Consent                            *string         `json:"consent,omitempty"`
	RequirePushedAuthorizationRequests *bool           `json:"require_pushed_authorization_requests,omitempty"`
	RefreshTokenGracePeriod            *int64          `json:"refresh_token_grace_period,omitempty"`
	DPoPBoundAccessTokens              *bool           `json:"dpop_bound_access_tokens,omitempty"`
	BackchannelLogoutURI               *string         `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired   *bool           `json:"backchannel_logout_session_required,omitempty"`
	ClaimFormat                        *string         `json:"claim_format,omitempty"`
	LogoURI                            *string         `json:"logo_uri,omitempty"`
}

// FileClaimRule is a claim rule, named by its name; IDToken and
// AccessToken, when given, are all of the claims it sets.
type FileClaimRule struct {
	Name        string            `json:"name"`
	Position    *int              `json:"position,omitempty"`
	Enabled     *bool             `json:"enabled,omitempty"`
	Condition   *string           `json:"condition,omitempty"`
	IDToken     map[string]string `json:"id_token,omitempty"`
	AccessToken map[string]string `json:"access_token,omitempty"`
	Deny        *string           `json:"deny,omitempty"`
}

// FileSAMLApp is a SAML application, named by its entity ID; its access
// names roles and groups by name. A list given is all of its kind.
type FileSAMLApp struct {
	EntityID              string                  `json:"entity_id"`
	Name                  *string                 `json:"name,omitempty"`
	ACS                   []SAMLEndpoint          `json:"acs,omitempty"`
	SLOURL                *string                 `json:"slo_url,omitempty"`
	SLOBinding            *string                 `json:"slo_binding,omitempty"`
	NameIDSource          *string                 `json:"name_id_source,omitempty"`
	NameIDFormat          *string                 `json:"name_id_format,omitempty"`
	Attributes            []tenants.SAMLAttribute `json:"attributes,omitempty"`
	SignResponse          *bool                   `json:"sign_response,omitempty"`
	SignAssertion         *bool                   `json:"sign_assertion,omitempty"`
	RequireSignedRequests *bool                   `json:"require_signed_requests,omitempty"`
	SigningCerts          []string                `json:"signing_certificates,omitempty"`
	EncryptionCert        *string                 `json:"encryption_certificate,omitempty"`
	EncryptAssertions     *bool                   `json:"encrypt_assertions,omitempty"`
	Access                *string                 `json:"access,omitempty"`
	AccessRoles           []string                `json:"access_roles,omitempty"`
	AccessGroups          []string                `json:"access_groups,omitempty"`
	Enabled               *bool                   `json:"enabled,omitempty"`
}

// FileString is the tenant's wording of one message in one language.
type FileString struct {
	Locale    string `json:"locale"`
	MessageID string `json:"message_id"`
	Text      string `json:"text"`
}

// FileRole is a role; Permissions, when given, are all of them.
type FileRole struct {
	Name        string       `json:"name"`
	Description *string      `json:"description,omitempty"`
	Permissions []Permission `json:"permissions,omitempty"`
}

// FileGroup is a group; Roles, when given, are all the roles its members
// hold through it.
type FileGroup struct {
	Name        string   `json:"name"`
	Description *string  `json:"description,omitempty"`
	Roles       []string `json:"roles,omitempty"`
}

// Change is one object a plan would create, update or delete, with the
// fields that differ (from what the server has, to what the file says).
type Change struct {
	Action string                 `json:"action" enum:"create,update,delete"`
	Kind   string                 `json:"kind" enum:"tenant,api,application,role,group,claim_rule,string,saml_app"`
	Key    string                 `json:"key"`
	Fields map[string]FieldChange `json:"fields,omitempty"`
}

// FieldChange is a field's value on the server and in the file.
type FieldChange struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// Plan is what applying a file would change, in the order it would.
type Plan struct {
	Tenant  string   `json:"tenant"`
	Changes []Change `json:"changes"`
	// Secrets are the client secrets of applications an apply created
	// (shown this once); empty in a plan.
	Secrets []NewSecret `json:"secrets,omitempty"`
}

// Actions of a change.
const (
	ChangeCreate = "create"
	ChangeUpdate = "update"
	ChangeDelete = "delete"
)

// fields collects the differences of one object.
type fields map[string]FieldChange

func (f fields) str(name string, want *string, have string) {
	if want != nil && strings.TrimSpace(*want) != have {
		f[name] = FieldChange{From: have, To: strings.TrimSpace(*want)}
	}
}

func (f fields) num(name string, want *int64, have int64) {
	if want != nil && *want != have {
		f[name] = FieldChange{From: have, To: *want}
	}
}

func (f fields) flag(name string, want *bool, have bool) {
	if want != nil && *want != have {
		f[name] = FieldChange{From: have, To: *want}
	}
}

// set compares as sets (order and repeats do not count).
func (f fields) set(name string, want, have []string) {
	if want != nil && !sameSet(want, have) {
		f[name] = FieldChange{From: nonNil(have), To: want}
	}
}

// list compares in order.
func (f fields) list(name string, want, have []string) {
	if want == nil {
		return
	}
	w := []string{}
	for _, s := range want {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(w, s) {
			w = append(w, s)
		}
	}
	if !slices.Equal(w, nonNil(have)) {
		f[name] = FieldChange{From: nonNil(have), To: w}
	}
}

func sameSet(a, b []string) bool {
	norm := func(xs []string) []string {
		out := []string{}
		for _, x := range xs {
			out = append(out, strings.TrimSpace(x))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

// grantKeys are grants as comparable strings: audience, then its scopes.
func grantKeys(gs []ClientGrant) []string {
	out := []string{}
	for _, g := range gs {
		sc := slices.Clone(g.Scopes)
		slices.Sort(sc)
		out = append(out, strings.TrimSpace(g.Audience)+" "+strings.Join(slices.Compact(sc), " "))
	}
	return out
}

func permissionKeys(ps []Permission) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Audience+" "+p.Scope)
	}
	return out
}

func scopeKeys(ss []Scope, withDescriptions bool) []string {
	out := []string{}
	for _, s := range ss {
		k := strings.TrimSpace(s.Value)
		if withDescriptions && s.Description != "" {
			k += "=" + s.Description
		}
		out = append(out, k)
	}
	return out
}

// settingsFields are the differences of a tenant's settings.
func settingsFields(want *FileSettings, have *Tenant) fields {
	f := fields{}
	if want == nil {
		return f
	}
	f.str("name", want.Name, have.Name)
	f.str("logo_url", want.LogoURL, have.LogoURL)
	if want.AccentColor != nil {
		lc := strings.ToLower(*want.AccentColor)
		f.str("accent_color", &lc, have.AccentColor)
	}
	f.set("grant_types", want.GrantTypes, have.GrantTypes)
	f.num("access_token_lifetime", want.AccessTokenLifetime, have.AccessTokenLifetimeSeconds)
	f.num("id_token_lifetime", want.IDTokenLifetime, have.IDTokenLifetimeSeconds)
	f.num("refresh_token_lifetime", want.RefreshTokenLifetime, have.RefreshTokenLifetimeSeconds)
	f.num("session_lifetime", want.SessionLifetime, have.SessionLifetimeSeconds)
	f.str("signup_mode", want.SignupMode, have.SignupMode)
	f.set("signup_domains", want.SignupDomains, have.SignupDomains)
	if want.PasswordMinLength != nil {
		n := int64(*want.PasswordMinLength)
		f.num("password_min_length", &n, int64(have.PasswordMinLength))
	}
	f.str("mfa_policy", want.MFAPolicy, have.MFAPolicy)
	f.str("email_from_name", want.EmailFromName, have.EmailFromName)
	f.flag("require_pushed_authorization_requests", want.RequirePushedAuthorizationRequests, have.RequirePushedAuthorizationRequests)
	f.str("email_reply_to", want.EmailReplyTo, have.EmailReplyTo)
	f.str("default_locale", want.DefaultLocale, have.DefaultLocale)
	f.flag("token_exchange_impersonation", want.TokenExchangeImpersonation, have.TokenExchangeImpersonation)
	f.str("client_registration", want.ClientRegistration, have.ClientRegistration)
	if want.UserMetadataFields != nil {
		// Compared as the server keeps them (defaults filled in); fields
		// the server would refuse differ, and the apply says why.
		norm, err := tenants.CheckMetadataFields(want.UserMetadataFields)
		if err != nil || !reflect.DeepEqual(nonNilFields(norm), nonNilFields(have.UserMetadataFields)) {
			f["user_metadata_fields"] = FieldChange{From: nonNilFields(have.UserMetadataFields), To: want.UserMetadataFields}
		}
	}
	return f
}

func nonNilFields(fs []tenants.MetadataField) []tenants.MetadataField {
	if fs == nil {
		return []tenants.MetadataField{}
	}
	return fs
}

func apiFields(want *FileAPI, have *API) fields {
	f := fields{}
	f.str("name", want.Name, have.Name)
	if want.Scopes != nil {
		// A scope without a description in the file takes the server's.
		withDesc := slices.ContainsFunc(want.Scopes, func(s Scope) bool { return s.Description != "" })
		haveScopes := slices.Clone(have.Scopes)
		if withDesc {
			for i := range haveScopes {
				if !slices.ContainsFunc(want.Scopes, func(s Scope) bool { return s.Value == haveScopes[i].Value && s.Description != "" }) {
					haveScopes[i].Description = ""
				}
			}
		}
		f.set("scopes", scopeKeys(want.Scopes, withDesc), scopeKeys(haveScopes, withDesc))
	}
	f.str("signing_alg", want.SigningAlg, have.SigningAlg)
	f.flag("rbac", want.RBAC, have.RBAC)
	f.set("token_claims", want.TokenClaims, have.TokenClaims)
	f.set("registration_scopes", want.RegistrationScopes, have.RegistrationScopes)
	return f
}

// resourceServerField is the difference of an API's resource server: the
// application the file names, by name, against the one the API has.
func (c *current) resourceServerField(f fields, want *FileAPI, have *API) {
	if want.ResourceServer == nil {
		return
	}
	from := ""
	if have != nil && have.ResourceServerClientID != "" {
		from = have.ResourceServerClientID
		for name, apps := range c.apps {
			if slices.ContainsFunc(apps, func(a *Client) bool { return a.ClientID == have.ResourceServerClientID }) {
				from = name
			}
		}
	}
	if to := strings.TrimSpace(*want.ResourceServer); to != from {
		f["resource_server"] = FieldChange{From: from, To: to}
	}
}

func applicationFields(want *FileApplication, have *Client) fields {
	f := fields{}
	f.list("redirect_uris", want.RedirectURIs, have.RedirectURIs)
	f.list("post_logout_redirect_uris", want.PostLogoutRedirectURIs, have.PostLogoutRedirectURIs)
	f.set("grant_types", want.GrantTypes, have.GrantTypes)
	if want.APIGrants != nil {
		f.set("api_grants", grantKeys(want.APIGrants), grantKeys(have.APIGrants))
	}
	f.str("token_endpoint_auth_method", want.TokenEndpointAuthMethod, have.TokenEndpointAuthMethod)
	if want.JWKS != nil && !sameJSON(want.JWKS, have.JWKS) {
		f["jwks"] = FieldChange{From: rawOrNil(have.JWKS), To: want.JWKS}
	}
	f.str("jwks_uri", want.JWKSURI, have.JWKSURI)
	f.str("id_token_signed_response_alg", want.IDTokenSignedResponseAlg, have.IDTokenSignedResponseAlg)
	f.str("consent", want.Consent, have.Consent)
	f.flag("require_pushed_authorization_requests", want.RequirePushedAuthorizationRequests, have.RequirePushedAuthorizationRequests)
	f.num("refresh_token_grace_period", want.RefreshTokenGracePeriod, have.RefreshTokenGraceSeconds)
	f.flag("dpop_bound_access_tokens", want.DPoPBoundAccessTokens, have.DPoPBoundAccessTokens)
	f.str("backchannel_logout_uri", want.BackchannelLogoutURI, have.BackchannelLogoutURI)
	f.flag("backchannel_logout_session_required", want.BackchannelLogoutSessionRequired, have.BackchannelLogoutSessionRequired)
	if want.ClaimFormat != nil {
		cf := tenants.ClaimFormatOf(strings.TrimSpace(*want.ClaimFormat))
		f.str("claim_format", &cf, tenants.ClaimFormatOf(have.ClaimFormat))
	}
	f.str("logo_uri", want.LogoURI, have.LogoURI)
	return f
}

// sameJSON compares two JSON texts by value.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

func rawOrNil(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// claimKeys are a rule's claims as comparable strings.
func claimKeys(m map[string]string) []string {
	out := []string{}
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func claimRuleFields(want *FileClaimRule, have *ClaimRule) fields {
	f := fields{}
	if want.Position != nil {
		n := int64(*want.Position)
		f.num("position", &n, int64(have.Position))
	}
	f.flag("enabled", want.Enabled, have.Enabled)
	f.str("condition", want.Condition, have.Condition)
	if want.IDToken != nil {
		f.set("id_token", claimKeys(want.IDToken), claimKeys(have.IDToken))
	}
	if want.AccessToken != nil {
		f.set("access_token", claimKeys(want.AccessToken), claimKeys(have.AccessToken))
	}
	f.str("deny", want.Deny, have.Deny)
	return f
}

func roleFields(want *FileRole, have *Role) fields {
	f := fields{}
	f.str("description", want.Description, have.Description)
	if want.Permissions != nil {
		f.set("permissions", permissionKeys(want.Permissions), permissionKeys(have.Permissions))
	}
	return f
}

// current is what the server has of a tenant, by the file's keys.
type current struct {
	tenant     *Tenant
	apis       map[string]*API
	apps       map[string][]*Client
	roles      map[string]*Role
	groups     map[string]*Group
	groupRoles map[string][]string
	rules      map[string]*ClaimRule
	words      map[string]*TenantString
	samlApps   map[string]*SAMLApp
	// roleNames and groupNames name roles and groups by id.
	roleNames, groupNames map[string]string
}

func newCurrent() *current {
	return &current{tenant: &Tenant{}, apis: map[string]*API{}, apps: map[string][]*Client{}, roles: map[string]*Role{}, groups: map[string]*Group{},
		groupRoles: map[string][]string{}, rules: map[string]*ClaimRule{}, words: map[string]*TenantString{}, samlApps: map[string]*SAMLApp{},
		roleNames: map[string]string{}, groupNames: map[string]string{}}
}

// stringKey names a message in a language.
func stringKey(locale, id string) string { return locale + "/" + id }

func (s *Service) current(ctx context.Context) (*current, error) {
	c := newCurrent()
	var err error
	if c.tenant, err = s.GetTenant(ctx); err != nil {
		return nil, err
	}
	apis, err := s.ListAPIs(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range apis {
		c.apis[a.Audience] = a
	}
	apps, err := s.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		c.apps[a.ClientName] = append(c.apps[a.ClientName], a)
	}
	roles, err := s.ListRoles(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		c.roles[r.Name] = r
		c.roleNames[r.ID] = r.Name
	}
	groups, err := s.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		c.groups[g.Name] = g
		c.groupNames[g.ID] = g.Name
		rs, err := s.GroupRoles(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			c.groupRoles[g.Name] = append(c.groupRoles[g.Name], r.Name)
		}
	}
	rules, err := s.ListClaimRules(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		c.rules[r.Name] = r
	}
	words, err := s.ListStrings(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range words {
		c.words[stringKey(w.Locale, w.MessageID)] = w
	}
	samlApps, err := s.ListSAMLApps(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range samlApps {
		c.samlApps[a.EntityID] = a
	}
	return c, nil
}

// checkFile refuses a file that names an object twice.
func checkFile(f *TenantFile) error {
	if err := ValidateSlug(f.Tenant); err != nil {
		return err
	}
	dup := func(kind string, keys []string) error {
		seen := map[string]bool{}
		for i, k := range keys {
			if seen[k] {
				return tenants.Invalid(fmt.Sprintf("%s[%d]", kind, i), "names %q a second time", tenants.Truncate(k, 100))
			}
			seen[k] = true
		}
		return nil
	}
	keys := func(n int, key func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = key(i)
		}
		return out
	}
	for _, err := range []error{
		dup("apis", keys(len(f.APIs), func(i int) string { return f.APIs[i].Audience })),
		dup("applications", keys(len(f.Applications), func(i int) string { return f.Applications[i].Name })),
		dup("roles", keys(len(f.Roles), func(i int) string { return f.Roles[i].Name })),
		dup("groups", keys(len(f.Groups), func(i int) string { return f.Groups[i].Name })),
		dup("claim_rules", keys(len(f.ClaimRules), func(i int) string { return f.ClaimRules[i].Name })),
		dup("strings", keys(len(f.Strings), func(i int) string { return stringKey(f.Strings[i].Locale, f.Strings[i].MessageID) })),
		dup("saml_apps", keys(len(f.SAMLApps), func(i int) string { return strings.TrimSpace(f.SAMLApps[i].EntityID) })),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// PlanTenant says what applying f would change, changing nothing. With
// prune, objects of the tenant the file does not name would be deleted.
func (s *Service) PlanTenant(ctx context.Context, f *TenantFile, prune bool) (*Plan, error) {
	return s.planOrApply(ctx, f, prune, false)
}

// ApplyTenant makes the tenant what f says, and returns what it changed:
// applying the same file again changes nothing. The apply is all or
// nothing: it runs in one transaction, so that a change the server refuses
// (the last object of the file, say) leaves the tenant as it was, audit
// events included.
func (s *Service) ApplyTenant(ctx context.Context, f *TenantFile, prune bool) (*Plan, error) {
	var p *Plan
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		p, err = s.planOrApply(ctx, f, prune, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	// The caches heard of the changes before they committed: tell them
	// again now.
	if t, err := s.store.TenantBySlug(ctx, f.Tenant); err == nil {
		s.changed(t)
	}
	return p, nil
}

func (s *Service) planOrApply(ctx context.Context, f *TenantFile, prune, apply bool) (*Plan, error) {
	if _, ok := PrincipalFrom(ctx); !ok {
		ctx = WithPrincipal(ctx, CLI())
	}
	if err := checkFile(f); err != nil {
		return nil, err
	}
	p := &Plan{Tenant: f.Tenant, Changes: []Change{}}
	add := func(action, kind, key string, fs fields) {
		if action == ChangeUpdate && len(fs) == 0 {
			return
		}
		if len(fs) == 0 {
			fs = nil
		}
		p.Changes = append(p.Changes, Change{Action: action, Kind: kind, Key: key, Fields: fs})
	}
	tctx, _, err := s.Tenant(ctx, f.Tenant)
	cur := newCurrent()
	switch {
	case errors.Is(err, tenants.ErrNotFound):
		add(ChangeCreate, "tenant", f.Tenant, settingsFields(f.Settings, &Tenant{}))
		if apply {
			name := f.Tenant
			if f.Settings != nil && f.Settings.Name != nil {
				name = *f.Settings.Name
			}
			if _, err := s.CreateTenant(ctx, CreateTenantInput{Slug: f.Tenant, Name: name}); err != nil {
				return nil, err
			}
			if tctx, _, err = s.Tenant(ctx, f.Tenant); err != nil {
				return nil, err
			}
			if cur, err = s.current(tctx); err != nil {
				return nil, err
			}
			if err := s.applySettingsFile(tctx, f.Settings, settingsFields(f.Settings, cur.tenant)); err != nil {
				return nil, err
			}
		}
	case err != nil:
		return nil, err
	default:
		if cur, err = s.current(tctx); err != nil {
			return nil, err
		}
		fs := settingsFields(f.Settings, cur.tenant)
		add(ChangeUpdate, "tenant", f.Tenant, fs)
		if apply && len(fs) > 0 {
			if err := s.applySettingsFile(tctx, f.Settings, fs); err != nil {
				return nil, err
			}
		}
	}

	// APIs first: applications and roles name them. Their resource
	// servers are set once the applications exist.
	type resourceServer struct {
		index     int
		aud, name string
	}
	var resourceServers []resourceServer
	for i := range f.APIs {
		want := &f.APIs[i]
		have := cur.apis[want.Audience]
		if want.ResourceServer != nil {
			fs := fields{}
			cur.resourceServerField(fs, want, have)
			if len(fs) > 0 {
				resourceServers = append(resourceServers, resourceServer{i, want.Audience, strings.TrimSpace(*want.ResourceServer)})
			}
		}
		if have == nil {
			fs := apiFields(want, &API{})
			cur.resourceServerField(fs, want, nil)
			add(ChangeCreate, "api", want.Audience, fs)
			if apply {
				in := CreateAPIInput{Audience: want.Audience, Scopes: scopeInputs(want.Scopes), RBAC: want.RBAC != nil && *want.RBAC, TokenClaims: want.TokenClaims,
					RegistrationScopes: want.RegistrationScopes}
				if want.Name != nil {
					in.Name = *want.Name
				}
				if want.SigningAlg != nil {
					in.SigningAlg = *want.SigningAlg
				}
				if _, err := s.CreateAPI(tctx, in); err != nil {
					return nil, prefix(fmt.Sprintf("apis[%d]", i), err)
				}
			}
			continue
		}
		fs := apiFields(want, have)
		cur.resourceServerField(fs, want, have)
		add(ChangeUpdate, "api", want.Audience, fs)
		if apply && len(fs) > 0 {
			in := UpdateAPIInput{Name: want.Name, Scopes: scopeInputs(want.Scopes), SigningAlg: want.SigningAlg, RBAC: want.RBAC}
			if want.TokenClaims != nil {
				in.TokenClaims = &want.TokenClaims
			}
			if want.RegistrationScopes != nil {
				in.RegistrationScopes = &want.RegistrationScopes
			}
			if _, err := s.UpdateAPI(tctx, have.ID, in); err != nil {
				return nil, prefix(fmt.Sprintf("apis[%d]", i), err)
			}
		}
	}

	// Roles, then groups that hold them.
	for i := range f.Roles {
		want := &f.Roles[i]
		have := cur.roles[want.Name]
		in := RoleInput{Name: &want.Name, Description: want.Description}
		if want.Permissions != nil {
			in.Permissions = &want.Permissions
		}
		if have == nil {
			add(ChangeCreate, "role", want.Name, roleFields(want, &Role{}))
			if apply {
				if _, err := s.CreateRole(tctx, in); err != nil {
					return nil, prefix(fmt.Sprintf("roles[%d]", i), err)
				}
			}
			continue
		}
		fs := roleFields(want, have)
		add(ChangeUpdate, "role", want.Name, fs)
		if apply && len(fs) > 0 {
			if _, err := s.UpdateRole(tctx, have.ID, in); err != nil {
				return nil, prefix(fmt.Sprintf("roles[%d]", i), err)
			}
		}
	}
	for i := range f.Groups {
		want := &f.Groups[i]
		have := cur.groups[want.Name]
		fs := fields{}
		haveDesc, haveRoles := "", []string(nil)
		if have != nil {
			haveDesc, haveRoles = have.Description, cur.groupRoles[want.Name]
		}
		fs.str("description", want.Description, haveDesc)
		fs.set("roles", want.Roles, haveRoles)
		action := ChangeUpdate
		if have == nil {
			action = ChangeCreate
		}
		add(action, "group", want.Name, fs)
		if !apply || (have != nil && len(fs) == 0) {
			continue
		}
		if have == nil {
			if _, err := s.CreateGroup(tctx, GroupInput{Name: &want.Name, Description: want.Description}); err != nil {
				return nil, prefix(fmt.Sprintf("groups[%d]", i), err)
			}
		} else if _, ok := fs["description"]; ok {
			if _, err := s.UpdateGroup(tctx, have.ID, GroupInput{Description: want.Description}); err != nil {
				return nil, prefix(fmt.Sprintf("groups[%d]", i), err)
			}
		}
		if want.Roles != nil {
			for _, r := range want.Roles {
				if !slices.Contains(haveRoles, r) {
					if _, err := s.AddGroupRole(tctx, want.Name, r); err != nil {
						return nil, prefix(fmt.Sprintf("groups[%d].roles", i), err)
					}
				}
			}
			for _, r := range haveRoles {
				if !slices.Contains(want.Roles, r) {
					if err := s.RemoveGroupRole(tctx, want.Name, r); err != nil {
						return nil, err
					}
				}
			}
		}
	}

	// Applications.
	for i := range f.Applications {
		want := &f.Applications[i]
		field := fmt.Sprintf("applications[%d]", i)
		haves := cur.apps[want.Name]
		if len(haves) > 1 {
			return nil, tenants.Invalid(field+".name", "%d applications of the tenant are named %q: rename all but one", len(haves), want.Name)
		}
		if len(haves) == 0 {
			add(ChangeCreate, "application", want.Name, applicationFields(want, &Client{ApplicationType: want.Kind}))
			if apply {
				c, err := s.CreateClient(tctx, createClientInput(want))
				if err != nil {
					return nil, prefix(field, err)
				}
				if c.ClientSecret != "" {
					p.Secrets = append(p.Secrets, NewSecret{Kind: "application", ID: c.ClientID, Secret: c.ClientSecret})
				}
				if want.APIGrants != nil {
					if _, err := s.SetClientGrants(tctx, c.ClientID, want.APIGrants); err != nil {
						return nil, prefix(field, err)
					}
				}
			}
			continue
		}
		have := haves[0]
		if have.ApplicationType != want.Kind {
			return nil, tenants.Invalid(field+".kind", "the application %q is a %s application: its kind cannot change (give the new one another name)", want.Name, have.ApplicationType)
		}
		fs := applicationFields(want, have)
		add(ChangeUpdate, "application", want.Name, fs)
		if apply && len(fs) > 0 {
			if _, err := s.UpdateClient(tctx, have.ClientID, updateClientInput(want, fs)); err != nil {
				return nil, prefix(field, err)
			}
			if _, ok := fs["api_grants"]; ok {
				if _, err := s.SetClientGrants(tctx, have.ClientID, want.APIGrants); err != nil {
					return nil, prefix(field, err)
				}
			}
		}
	}

	// Resource servers, now that the applications exist.
	if apply {
		for _, rs := range resourceServers {
			clientID := ""
			if rs.name != "" {
				apps, err := s.ListClients(tctx)
				if err != nil {
					return nil, err
				}
				i := slices.IndexFunc(apps, func(a *Client) bool { return a.ClientName == rs.name })
				if i < 0 {
					return nil, tenants.Invalid(fmt.Sprintf("apis[%d].resource_server", rs.index), "names no application of the tenant")
				}
				clientID = apps[i].ClientID
			}
			api, err := s.apiByAudience(tctx, rs.aud)
			if err != nil {
				return nil, err
			}
			if _, err := s.UpdateAPI(tctx, api.ID, UpdateAPIInput{ResourceServerClientID: &clientID}); err != nil {
				return nil, prefix(fmt.Sprintf("apis[%d]", rs.index), err)
			}
		}
	}

	// Claim rules, by name.
	for i := range f.ClaimRules {
		want := &f.ClaimRules[i]
		field := fmt.Sprintf("claim_rules[%d]", i)
		have := cur.rules[want.Name]
		in := ClaimRuleInput{Name: &want.Name, Position: want.Position, Enabled: want.Enabled, Condition: want.Condition, Deny: want.Deny}
		if want.IDToken != nil {
			in.IDToken = &want.IDToken
		}
		if want.AccessToken != nil {
			in.AccessToken = &want.AccessToken
		}
		if have == nil {
			add(ChangeCreate, "claim_rule", want.Name, claimRuleFields(want, &ClaimRule{Enabled: true}))
			if apply {
				if _, err := s.CreateClaimRule(tctx, in); err != nil {
					return nil, prefix(field, err)
				}
			}
			continue
		}
		fs := claimRuleFields(want, have)
		add(ChangeUpdate, "claim_rule", want.Name, fs)
		if apply && len(fs) > 0 {
			if _, err := s.UpdateClaimRule(tctx, have.ID, in); err != nil {
				return nil, prefix(field, err)
			}
		}
	}

	// The tenant's wording, by language and message.
	for i := range f.Strings {
		want := &f.Strings[i]
		key := stringKey(want.Locale, want.MessageID)
		fs := fields{}
		action, haveText := ChangeCreate, ""
		if have := cur.words[key]; have != nil {
			action, haveText = ChangeUpdate, have.Text
		}
		fs.str("text", &want.Text, haveText)
		add(action, "string", key, fs)
		if apply && len(fs) > 0 {
			if _, err := s.SetString(tctx, want.Locale, want.MessageID, want.Text); err != nil {
				return nil, prefix(fmt.Sprintf("strings[%d]", i), err)
			}
		}
	}

	// SAML applications, by entity ID, after the roles and groups their
	// access names.
	for i := range f.SAMLApps {
		want := &f.SAMLApps[i]
		field := fmt.Sprintf("saml_apps[%d]", i)
		key := strings.TrimSpace(want.EntityID)
		have := cur.samlApps[key]
		in := samlAppInput(want)
		if have == nil {
			add(ChangeCreate, "saml_app", key, cur.samlAppFields(want, &SAMLApp{}))
			if apply {
				if want.Name == nil {
					return nil, tenants.Invalid(field+".name", "is required for a new SAML application")
				}
				if _, err := s.CreateSAMLApp(tctx, in); err != nil {
					return nil, prefix(field, err)
				}
			}
			continue
		}
		fs := cur.samlAppFields(want, have)
		add(ChangeUpdate, "saml_app", key, fs)
		if apply && len(fs) > 0 {
			if _, err := s.UpdateSAMLApp(tctx, have.ID, in); err != nil {
				return nil, prefix(field, err)
			}
		}
	}

	if prune {
		if err := s.prune(tctx, f, cur, add, apply); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// samlAppInput is what a file says of a SAML application.
func samlAppInput(want *FileSAMLApp) SAMLAppInput {
	entityID := strings.TrimSpace(want.EntityID)
	return SAMLAppInput{Name: want.Name, EntityID: &entityID, ACS: want.ACS, SLOURL: want.SLOURL, SLOBinding: want.SLOBinding, NameIDSource: want.NameIDSource,
		NameIDFormat: want.NameIDFormat, Attributes: want.Attributes, SignResponse: want.SignResponse, SignAssertion: want.SignAssertion,
		RequireSignedRequests: want.RequireSignedRequests, SigningCerts: want.SigningCerts, EncryptionCert: want.EncryptionCert,
		EncryptAssertions: want.EncryptAssertions, Access: want.Access, AccessRoles: want.AccessRoles, AccessGroups: want.AccessGroups,
		Enabled: want.Enabled}
}

// samlAppFields are the differences of a SAML application: endpoints by
// index and URL, attributes by name and source, certificates as base64 DER,
// access by role and group names.
func (c *current) samlAppFields(want *FileSAMLApp, have *SAMLApp) fields {
	f := fields{}
	f.str("name", want.Name, have.Name)
	if want.ACS != nil {
		var w, h []string
		for i, e := range want.ACS {
			idx := e.Index
			if idx == 0 {
				idx = i + 1
			}
			w = append(w, fmt.Sprintf("%d %s", idx, strings.TrimSpace(e.URL)))
		}
		for _, e := range have.ACS {
			h = append(h, fmt.Sprintf("%d %s", e.Index, e.URL))
		}
		f.set("acs", w, h)
	}
	f.str("slo_url", want.SLOURL, have.SLOURL)
	if want.SLOBinding != nil && strings.TrimSpace(*want.SLOBinding) != "" {
		b := expandBinding(strings.TrimSpace(*want.SLOBinding))
		f.str("slo_binding", &b, have.SLOBinding)
	}
	f.str("name_id_source", want.NameIDSource, have.NameIDSource)
	if want.NameIDFormat != nil && *want.NameIDFormat != "" {
		f.str("name_id_format", want.NameIDFormat, have.NameIDFormat)
	}
	if want.Attributes != nil {
		attrKeys := func(as []tenants.SAMLAttribute) []string {
			out := []string{}
			for _, a := range as {
				out = append(out, strings.TrimSpace(a.Name)+"="+a.Source)
			}
			return out
		}
		f.set("attributes", attrKeys(want.Attributes), attrKeys(have.Attributes))
	}
	f.flag("sign_response", want.SignResponse, have.SignResponse)
	f.flag("sign_assertion", want.SignAssertion, have.SignAssertion)
	f.flag("require_signed_requests", want.RequireSignedRequests, have.RequireSignedRequests)
	der := func(c string) string {
		if d, err := parseCert(c); err == nil {
			return d
		}
		return strings.TrimSpace(c)
	}
	if want.SigningCerts != nil {
		w := []string{}
		for _, c := range want.SigningCerts {
			w = append(w, der(c))
		}
		f.set("signing_certificates", w, have.SigningCerts)
	}
	if want.EncryptionCert != nil {
		d := ""
		if strings.TrimSpace(*want.EncryptionCert) != "" {
			d = der(*want.EncryptionCert)
		}
		f.str("encryption_certificate", &d, have.EncryptionCert)
	}
	f.flag("encrypt_assertions", want.EncryptAssertions, have.EncryptAssertions)
	f.str("access", want.Access, have.Access)
	names := func(ids []string, of map[string]string) []string {
		out := []string{}
		for _, id := range ids {
			if n, ok := of[id]; ok {
				out = append(out, n)
			}
		}
		return out
	}
	f.set("access_roles", want.AccessRoles, names(have.AccessRoles, c.roleNames))
	f.set("access_groups", want.AccessGroups, names(have.AccessGroups, c.groupNames))
	f.flag("enabled", want.Enabled, have.Enabled)
	return f
}

// createClientInput is a file's new application.
func createClientInput(want *FileApplication) CreateClientInput {
	in := CreateClientInput{Name: want.Name, Kind: want.Kind, RedirectURIs: want.RedirectURIs, PostLogoutRedirectURIs: want.PostLogoutRedirectURIs,
		GrantTypes: want.GrantTypes, JWKS: string(want.JWKS)}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	in.TokenEndpointAuthMethod, in.JWKSURI, in.IDTokenSignedResponseAlg = str(want.TokenEndpointAuthMethod), str(want.JWKSURI), str(want.IDTokenSignedResponseAlg)
	in.Consent, in.BackchannelLogoutURI = str(want.Consent), str(want.BackchannelLogoutURI)
	in.ClaimFormat, in.LogoURI = str(want.ClaimFormat), str(want.LogoURI)
	in.RequirePushedAuthorizationRequests = want.RequirePushedAuthorizationRequests != nil && *want.RequirePushedAuthorizationRequests
	in.DPoPBoundAccessTokens = want.DPoPBoundAccessTokens != nil && *want.DPoPBoundAccessTokens
	in.BackchannelLogoutSessionRequired = want.BackchannelLogoutSessionRequired != nil && *want.BackchannelLogoutSessionRequired
	if want.RefreshTokenGracePeriod != nil {
		in.RefreshTokenGracePeriod = *want.RefreshTokenGracePeriod
	}
	return in
}

// updateClientInput changes what fs says differs of an application.
func updateClientInput(want *FileApplication, fs fields) UpdateClientInput {
	in := UpdateClientInput{RedirectURIs: want.RedirectURIs, PostLogoutRedirectURIs: want.PostLogoutRedirectURIs, GrantTypes: want.GrantTypes,
		IDTokenSignedResponseAlg: want.IDTokenSignedResponseAlg, Consent: want.Consent,
		RequirePushedAuthorizationRequests: want.RequirePushedAuthorizationRequests, RefreshTokenGracePeriod: want.RefreshTokenGracePeriod,
		DPoPBoundAccessTokens: want.DPoPBoundAccessTokens, BackchannelLogoutURI: want.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: want.BackchannelLogoutSessionRequired, ClaimFormat: want.ClaimFormat, LogoURI: want.LogoURI}
	if _, ok := fs["token_endpoint_auth_method"]; ok {
		in.TokenEndpointAuthMethod = want.TokenEndpointAuthMethod
	}
	// Giving one of the keys clears the other: only what differs is sent.
	if _, ok := fs["jwks"]; ok {
		jwks := string(want.JWKS)
		in.JWKS = &jwks
	}
	if _, ok := fs["jwks_uri"]; ok {
		in.JWKSURI = want.JWKSURI
	}
	return in
}

// prune deletes (or plans to delete) what the tenant has and the file does
// not name: SAML applications, applications, groups, roles, claim rules,
// wording, then APIs.
func (s *Service) prune(ctx context.Context, f *TenantFile, cur *current, add func(action, kind, key string, fs fields), apply bool) error {
	for _, key := range sortedKeys(cur.samlApps) {
		if !slices.ContainsFunc(f.SAMLApps, func(a FileSAMLApp) bool { return strings.TrimSpace(a.EntityID) == key }) {
			add(ChangeDelete, "saml_app", key, nil)
			if apply {
				if err := s.DeleteSAMLApp(ctx, cur.samlApps[key].ID); err != nil {
					return err
				}
			}
		}
	}
	for _, name := range sortedKeys(cur.apps) {
		if slices.ContainsFunc(f.Applications, func(a FileApplication) bool { return a.Name == name }) {
			continue
		}
		for _, c := range cur.apps[name] {
			add(ChangeDelete, "application", name, fields{"client_id": {From: c.ClientID, To: nil}})
			if apply {
				if err := s.DeleteClient(ctx, c.ClientID); err != nil {
					return err
				}
			}
		}
	}
	for _, name := range sortedKeys(cur.groups) {
		if !slices.ContainsFunc(f.Groups, func(g FileGroup) bool { return g.Name == name }) {
			add(ChangeDelete, "group", name, nil)
			if apply {
				if err := s.DeleteGroup(ctx, cur.groups[name].ID); err != nil {
					return err
				}
			}
		}
	}
	for _, name := range sortedKeys(cur.roles) {
		if !slices.ContainsFunc(f.Roles, func(r FileRole) bool { return r.Name == name }) {
			add(ChangeDelete, "role", name, nil)
			if apply {
				if err := s.DeleteRole(ctx, cur.roles[name].ID); err != nil {
					return err
				}
			}
		}
	}
	for _, name := range sortedKeys(cur.rules) {
		if !slices.ContainsFunc(f.ClaimRules, func(r FileClaimRule) bool { return r.Name == name }) {
			add(ChangeDelete, "claim_rule", name, nil)
			if apply {
				if err := s.DeleteClaimRule(ctx, cur.rules[name].ID); err != nil {
					return err
				}
			}
		}
	}
	for _, key := range sortedKeys(cur.words) {
		if !slices.ContainsFunc(f.Strings, func(w FileString) bool { return stringKey(w.Locale, w.MessageID) == key }) {
			add(ChangeDelete, "string", key, nil)
			if apply {
				if err := s.DeleteString(ctx, cur.words[key].Locale, cur.words[key].MessageID); err != nil {
					return err
				}
			}
		}
	}
	for _, aud := range sortedKeys(cur.apis) {
		if !slices.ContainsFunc(f.APIs, func(a FileAPI) bool { return a.Audience == aud }) {
			add(ChangeDelete, "api", aud, nil)
			if apply {
				if err := s.DeleteAPI(ctx, cur.apis[aud].ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func scopeInputs(ss []Scope) []ScopeInput {
	if ss == nil {
		return nil
	}
	out := make([]ScopeInput, len(ss))
	for i, sc := range ss {
		out[i] = ScopeInput{Name: sc.Value, Description: sc.Description}
	}
	return out
}

// applySettingsFile changes the settings fs names to what want says.
func (s *Service) applySettingsFile(ctx context.Context, want *FileSettings, fs fields) error {
	if want == nil || len(fs) == 0 {
		return nil
	}
	dur := func(n *int64) *time.Duration {
		if n == nil {
			return nil
		}
		d := time.Duration(min(max(*n, -1<<32), 1<<32)) * time.Second
		return &d
	}
	_, err := s.UpdateTenant(ctx, TenantSettings{Name: want.Name, LogoURL: want.LogoURL, AccentColor: want.AccentColor, GrantTypes: want.GrantTypes,
		EmailReplyTo: want.EmailReplyTo, DefaultLocale: want.DefaultLocale, TokenExchangeImpersonation: want.TokenExchangeImpersonation,
		ClientRegistration: want.ClientRegistration, UserMetadataFields: want.UserMetadataFields,
		AccessTokenLifetime: dur(want.AccessTokenLifetime), IDTokenLifetime: dur(want.IDTokenLifetime),
		RefreshTokenLifetime: dur(want.RefreshTokenLifetime), SessionLifetime: dur(want.SessionLifetime),
		SignupMode: want.SignupMode, SignupDomains: want.SignupDomains, PasswordMinLength: want.PasswordMinLength,
		MFAPolicy: want.MFAPolicy, EmailFromName: want.EmailFromName, RequirePushedAuthorizationRequests: want.RequirePushedAuthorizationRequests})
	return prefix("settings", err)
}
