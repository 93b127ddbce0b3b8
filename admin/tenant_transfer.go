package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/webhook"
)

// The tenant document: one JSON object that holds a tenant's settings and
// what it owns, the same for export and import. Ids in it are the source's;
// an import gives every object an id of its own (ids are unique across
// tenants) and says which changed, except that an application keeps its
// client_id and secret hash.

// Audit actions of tenant documents.
const (
	ActionTenantExported = "tenant.exported"
	ActionTenantImported = "tenant.imported"
)

// TenantDocumentFormat and TenantDocumentVersion name the document's
// format; an import refuses any other.
const (
	TenantDocumentFormat  = "gatehouse.tenant"
	TenantDocumentVersion = 1
)

// Bounds of a tenant document.
const (
	// MaxTenantDocument bounds the document's size (users included).
	MaxTenantDocument = 64 << 20
	maxDocObjects     = 1000
	maxDocUsers       = 100000
)

// TenantDocument is a tenant exported, or to import.
type TenantDocument struct {
	Format     string    `json:"format" enum:"gatehouse.tenant"`
	Version    int       `json:"version" doc:"1"`
	ExportedAt time.Time `json:"exported_at"`
	// Source names the tenant the document was exported from; its id is
	// what sealed secrets are bound to.
	Source       DocSource        `json:"source"`
	Settings     DocSettings      `json:"settings"`
	Applications []DocApplication `json:"applications"`
	APIs         []DocAPI         `json:"apis"`
	Roles        []DocRole        `json:"roles"`
	Groups       []DocGroup       `json:"groups"`
	Connections  []DocConnection  `json:"connections"`
	Webhooks     []DocWebhook     `json:"webhooks"`
	ClaimRules   []DocClaimRule   `json:"claim_rules"`
	// Strings are the tenant's own wording of the catalogs' messages.
	Strings  []DocString  `json:"strings"`
	SAMLApps []DocSAMLApp `json:"saml_apps"`
	// Users are in the user export's format (UserRecord), present only
	// when asked for.
	Users []json.RawMessage `json:"users,omitempty" doc:"users in the format of GET /tenants/{slug}/users/export"`
}

// DocSource names the exported tenant.
type DocSource struct {
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Issuer string `json:"issuer"`
}

// DocSettings are a tenant's settings and branding; lifetimes in seconds.
type DocSettings struct {
	Name                               string   `json:"name"`
	LogoURL                            string   `json:"logo_url,omitempty"`
	AccentColor                        string   `json:"accent_color,omitempty"`
	GrantTypes                         []string `json:"grant_types"`
	AccessTokenLifetime                int64    `json:"access_token_lifetime"`
	IDTokenLifetime                    int64    `json:"id_token_lifetime"`
	RefreshTokenLifetime               int64    `json:"refresh_token_lifetime"`
	SessionLifetime                    int64    `json:"session_lifetime"`
	KeyRotationPeriod                  int64    `json:"key_rotation_period,omitempty"`
	SignupMode                         string   `json:"signup_mode"`
	SignupDomains                      []string `json:"signup_domains,omitempty"`
	PasswordMinLength                  int      `json:"password_min_length"`
	MFAPolicy                          string   `json:"mfa_policy"`
	EmailFromName                      string   `json:"email_from_name,omitempty"`
	EmailReplyTo                       string   `json:"email_reply_to,omitempty"`
	DefaultLocale                      string   `json:"default_locale,omitempty"`
	RequirePushedAuthorizationRequests bool     `json:"require_pushed_authorization_requests,omitempty"`
	TokenExchangeImpersonation         bool     `json:"token_exchange_impersonation,omitempty"`
	ClientRegistration                 string   `json:"client_registration,omitempty" enum:"off,token,open"`
	// UserMetadataFields are the user_metadata fields users may edit.
	UserMetadataFields []tenants.MetadataField `json:"user_metadata_fields,omitempty"`
}

// DocApplication is an application with its secret's hash (SHA-256, hex),
// unless the export left secrets out.
type DocApplication struct {
	ClientID                           string   `json:"client_id"`
	Name                               string   `json:"name"`
	Kind                               string   `json:"kind" enum:"web,spa,native,machine"`
	TokenEndpointAuthMethod            string   `json:"token_endpoint_auth_method"`
	SecretHash                         string   `json:"secret_hash,omitempty"`
	RedirectURIs                       []string `json:"redirect_uris"`
	PostLogoutRedirectURIs             []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes                         []string `json:"grant_types"`
	IDTokenSignedResponseAlg           string   `json:"id_token_signed_response_alg,omitempty"`
	JWKS                               string   `json:"jwks,omitempty"`
	JWKSURI                            string   `json:"jwks_uri,omitempty"`
	RequirePushedAuthorizationRequests bool     `json:"require_pushed_authorization_requests,omitempty"`
	Consent                            string   `json:"consent,omitempty" enum:"required,skip"`
	RefreshTokenGracePeriod            int64    `json:"refresh_token_grace_period,omitempty" doc:"seconds, 0 to 60"`
	DPoPBoundAccessTokens              bool     `json:"dpop_bound_access_tokens,omitempty"`
	BackchannelLogoutURI               string   `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired   bool     `json:"backchannel_logout_session_required,omitempty"`
	// PreviousSecretHash is the secret a rotation replaced, valid until
	// PreviousSecretExpiresAt.
	PreviousSecretHash      string     `json:"previous_secret_hash,omitempty"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	// Registered marks an application that registered itself (RFC 7591);
	// RegistrationTokenHash is the SHA-256 of its registration access
	// token (RFC 7592).
	Registered            bool          `json:"registered,omitempty"`
	RegistrationTokenHash string        `json:"registration_token_hash,omitempty"`
	Grants                []ClientGrant `json:"grants,omitempty"`
	ClaimFormat           string        `json:"claim_format,omitempty" enum:"names,ids"`
	LogoURI               string        `json:"logo_uri,omitempty" doc:"the logo the consent page shows (https)"`
}

// DocAPI is an API with its scopes.
type DocAPI struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Audience    string   `json:"audience"`
	SigningAlg  string   `json:"signing_alg,omitempty"`
	RBAC        bool     `json:"rbac,omitempty"`
	TokenClaims []string `json:"token_claims,omitempty"`
	// ResourceServerClientID is the application (of the document) that
	// may introspect the API's tokens.
	ResourceServerClientID string   `json:"resource_server_client_id,omitempty"`
	RegistrationScopes     []string `json:"registration_scopes,omitempty"`
	Scopes                 []Scope  `json:"scopes"`
}

// DocRole is a role with its permissions.
type DocRole struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Permissions []Permission `json:"permissions,omitempty"`
}

// DocGroup is a group with the roles (by name) its members hold.
type DocGroup struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Roles       []string `json:"roles,omitempty"`
}

// DocConnection is a connection; its secrets are sealed under the master
// key for the source tenant and connection, so only a server with the same
// master key can import them (an export may leave them out).
type DocConnection struct {
	ID                 string   `json:"id"`
	Type               string   `json:"type" enum:"google,github,microsoft,oidc,saml"`
	Name               string   `json:"name"`
	Enabled            bool     `json:"enabled"`
	Domains            []string `json:"domains,omitempty"`
	ClientID           string   `json:"client_id,omitempty"`
	Issuer             string   `json:"issuer,omitempty"`
	TrustEmail         bool     `json:"trust_email,omitempty"`
	Provisioning       string   `json:"provisioning,omitempty"`
	Config             string   `json:"config,omitempty" doc:"the connection's configuration, JSON"`
	ClientSecretSealed []byte   `json:"client_secret_sealed,omitempty"`
	SPKeySealed        []byte   `json:"sp_key_sealed,omitempty"`
	PassGroups         bool     `json:"pass_groups,omitempty"`
	// GroupMappings map upstream groups to the document's groups (by id
	// or name).
	GroupMappings []GroupMappingInput `json:"group_mappings,omitempty"`
}

// DocWebhook is a webhook endpoint; its signing secret is sealed like a
// connection's.
type DocWebhook struct {
	ID           string   `json:"id"`
	URL          string   `json:"url"`
	Events       []string `json:"events"`
	Enabled      bool     `json:"enabled"`
	SecretSealed []byte   `json:"secret_sealed,omitempty"`
}

// DocClaimRule is a claim rule; claims map a claim's name to the CEL
// expression of its value.
type DocClaimRule struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Position    int               `json:"position"`
	Enabled     bool              `json:"enabled"`
	Condition   string            `json:"condition,omitempty"`
	IDToken     map[string]string `json:"id_token,omitempty"`
	AccessToken map[string]string `json:"access_token,omitempty"`
	Deny        string            `json:"deny,omitempty"`
}

// DocString is the tenant's wording of one message in one language.
type DocString struct {
	Locale    string `json:"locale"`
	MessageID string `json:"message_id"`
	Text      string `json:"text"`
}

// DocSAMLApp is a SAML application; who may use it is said by role and
// group names. NameIDSalt keys its persistent NameIDs: with it (and the
// users' ids) the service provider sees the same NameIDs after a move; an
// export without secrets leaves it out, and the import makes a new one.
type DocSAMLApp struct {
	ID                    string                  `json:"id"`
	Name                  string                  `json:"name"`
	EntityID              string                  `json:"entity_id"`
	ACS                   []SAMLEndpoint          `json:"acs"`
	SLOURL                string                  `json:"slo_url,omitempty"`
	SLOBinding            string                  `json:"slo_binding,omitempty"`
	NameIDFormat          string                  `json:"name_id_format"`
	NameIDSource          string                  `json:"name_id_source"`
	NameIDSalt            string                  `json:"name_id_salt,omitempty"`
	Attributes            []tenants.SAMLAttribute `json:"attributes"`
	SignResponse          bool                    `json:"sign_response"`
	SignAssertion         bool                    `json:"sign_assertion"`
	RequireSignedRequests bool                    `json:"require_signed_requests,omitempty"`
	SigningCerts          []string                `json:"signing_certificates,omitempty"`
	EncryptionCert        string                  `json:"encryption_certificate,omitempty"`
	EncryptAssertions     bool                    `json:"encrypt_assertions,omitempty"`
	Access                string                  `json:"access" enum:"everyone,roles,groups"`
	AccessRoles           []string                `json:"access_roles,omitempty" doc:"role names"`
	AccessGroups          []string                `json:"access_groups,omitempty" doc:"group names"`
	Enabled               bool                    `json:"enabled"`
}

// ExportOptions say what an export leaves out or adds.
type ExportOptions struct {
	// OmitSecrets leaves out secret hashes and sealed secrets: an import
	// then makes new ones and reports them.
	OmitSecrets bool
	// Users adds the users; PasswordHashes their password hashes (the
	// users:export_hashes scope).
	Users          bool
	PasswordHashes bool
}

// ExportTenant returns the document of the tenant in ctx. Secrets (hashes,
// and sealed secrets) need the tenants:write scope; leave them out with
// OmitSecrets to export with tenants:read.
func (s *Service) ExportTenant(ctx context.Context, opts ExportOptions) (*TenantDocument, error) {
	scope := ScopeTenantsRead
	if !opts.OmitSecrets {
		scope = ScopeTenantsWrite
	}
	t, err := s.require(ctx, scope)
	if err != nil {
		return nil, err
	}
	doc := &TenantDocument{
		Format: TenantDocumentFormat, Version: TenantDocumentVersion, ExportedAt: s.store.Now(),
		Source:       DocSource{ID: t.ID, Slug: t.Slug, Issuer: t.Issuer},
		Settings:     settingsDoc(t),
		Applications: []DocApplication{}, APIs: []DocAPI{}, Roles: []DocRole{}, Groups: []DocGroup{},
		Connections: []DocConnection{}, Webhooks: []DocWebhook{}, ClaimRules: []DocClaimRule{}, Strings: []DocString{}, SAMLApps: []DocSAMLApp{},
	}
	apis, err := s.store.ListAPIs(ctx)
	if err != nil {
		return nil, err
	}
	audOf := map[string]string{}
	for _, a := range apis {
		audOf[a.ID] = a.Audience
		d := DocAPI{ID: a.ID, Name: a.Name, Audience: a.Audience, SigningAlg: a.SigningAlg, RBAC: a.RBAC,
			TokenClaims: nonNil(a.TokenClaims), ResourceServerClientID: a.ResourceServerClientID, RegistrationScopes: nilIfNone(a.RegistrationScopes), Scopes: []Scope{}}
		for _, sc := range a.Scopes {
			d.Scopes = append(d.Scopes, Scope{Value: sc.Name, Description: sc.Description})
		}
		doc.APIs = append(doc.APIs, d)
	}
	clients, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		if c.Internal {
			continue
		}
		grants, err := s.store.ClientGrants(ctx, c.ClientID)
		if err != nil {
			return nil, err
		}
		d := DocApplication{ClientID: c.ClientID, Name: c.Name, Kind: c.ApplicationType, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
			RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), GrantTypes: nonNil(c.GrantTypes),
			IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg, JWKS: c.JWKS, JWKSURI: c.JWKSURI,
			RequirePushedAuthorizationRequests: c.RequirePushedAuthorizationRequests, Consent: tenants.ConsentPolicyOf(c.Consent),
			RefreshTokenGracePeriod: c.RefreshTokenGraceSeconds, DPoPBoundAccessTokens: c.DPoPBoundAccessTokens,
			BackchannelLogoutURI: c.BackchannelLogoutURI, BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired, Registered: c.Registered,
			ClaimFormat: tenants.ClaimFormatOf(c.ClaimFormat), LogoURI: c.LogoURI}
		if !opts.OmitSecrets {
			d.RegistrationTokenHash = c.RegistrationTokenHash
		}
		// A client_secret_jwt application's secret cannot travel as a
		// hash (its HMAC needs the secret): the import makes a new one.
		if !opts.OmitSecrets && c.TokenEndpointAuthMethod != tenants.AuthMethodSecretJWT {
			d.SecretHash = c.SecretHash
			if c.PreviousSecretHash != "" && c.PreviousSecretExpiresAt != nil && c.PreviousSecretExpiresAt.After(doc.ExportedAt) {
				d.PreviousSecretHash, d.PreviousSecretExpiresAt = c.PreviousSecretHash, c.PreviousSecretExpiresAt
			}
		}
		for _, g := range grants {
			if g.ExpiresAt != nil {
				continue
			}
			d.Grants = append(d.Grants, ClientGrant{Audience: audOf[g.APIID], Scopes: nonNil(g.Scopes)})
		}
		doc.Applications = append(doc.Applications, d)
	}
	roles, err := s.store.ListRoles(ctx)
	if err != nil {
		return nil, err
	}
	roleName, groupName := map[string]string{}, map[string]string{}
	for _, r := range roles {
		roleName[r.ID] = r.Name
		d := DocRole{ID: r.ID, Name: r.Name, Description: r.Description}
		for _, p := range r.Permissions {
			d.Permissions = append(d.Permissions, Permission{Audience: p.Audience, Scope: p.Scope})
		}
		doc.Roles = append(doc.Roles, d)
	}
	groups, err := s.store.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		groupName[g.ID] = g.Name
		d := DocGroup{ID: g.ID, Name: g.Name, Description: g.Description}
		rs, err := s.store.GroupRoles(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			d.Roles = append(d.Roles, r.Name)
		}
		doc.Groups = append(doc.Groups, d)
	}
	conns, err := s.store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		d := DocConnection{ID: c.ID, Type: c.Type, Name: c.Name, Enabled: c.Enabled, Domains: nonNil(c.Domains), ClientID: c.ClientID,
			Issuer: c.Issuer, TrustEmail: c.TrustEmail, Provisioning: c.Provision(), Config: c.Config}
		if !opts.OmitSecrets {
			d.ClientSecretSealed, d.SPKeySealed = nilIfEmpty(c.ClientSecretSealed), nilIfEmpty(c.SPKeySealed)
		}
		d.PassGroups = c.PassGroups
		ms, err := s.store.ConnectionGroupMaps(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			d.GroupMappings = append(d.GroupMappings, GroupMappingInput{Upstream: m.UpstreamGroup, Group: m.GroupID})
		}
		doc.Connections = append(doc.Connections, d)
	}
	hooks, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range hooks {
		d := DocWebhook{ID: w.ID, URL: w.URL, Events: nonNil(w.Events), Enabled: w.Enabled}
		if !opts.OmitSecrets {
			d.SecretSealed = nilIfEmpty(w.SecretSealed)
		}
		doc.Webhooks = append(doc.Webhooks, d)
	}
	rules, err := s.store.ListClaimRules(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		doc.ClaimRules = append(doc.ClaimRules, DocClaimRule{ID: r.ID, Name: r.Name, Position: r.Position, Enabled: r.Enabled, Condition: r.Condition,
			IDToken: nilIfNoClaims(r.IDTokenClaims), AccessToken: nilIfNoClaims(r.AccessTokenClaims), Deny: r.Deny})
	}
	words, err := s.store.ListTenantStrings(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range words {
		doc.Strings = append(doc.Strings, DocString{Locale: w.Locale, MessageID: w.MessageID, Text: w.Text})
	}
	samlApps, err := s.store.ListSAMLApps(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range samlApps {
		d := DocSAMLApp{ID: a.ID, Name: a.Name, EntityID: a.EntityID, ACS: []SAMLEndpoint{}, SLOURL: a.SLOURL, SLOBinding: a.SLOBinding, NameIDFormat: a.NameIDFormat,
			NameIDSource: a.NameIDSource, Attributes: append([]tenants.SAMLAttribute{}, a.Attributes...), SignResponse: a.SignResponse,
			SignAssertion: a.SignAssertion, RequireSignedRequests: a.RequireSignedRequests, SigningCerts: nilIfNone(a.SigningCerts),
			EncryptionCert: a.EncryptionCert, EncryptAssertions: a.EncryptAssertions, Access: a.Access, Enabled: a.Enabled}
		if !opts.OmitSecrets {
			d.NameIDSalt = a.NameIDSalt
		}
		for _, e := range a.ACS {
			d.ACS = append(d.ACS, SAMLEndpoint{URL: e.URL, Binding: e.Binding, Index: e.Index})
		}
		for _, id := range a.AccessRoles {
			if n, ok := roleName[id]; ok {
				d.AccessRoles = append(d.AccessRoles, n)
			}
		}
		for _, id := range a.AccessGroups {
			if n, ok := groupName[id]; ok {
				d.AccessGroups = append(d.AccessGroups, n)
			}
		}
		doc.SAMLApps = append(doc.SAMLApps, d)
	}
	after := map[string]any{"secrets": !opts.OmitSecrets, "users": opts.Users, "password_hashes": opts.Users && opts.PasswordHashes}
	if err := s.audit(ctx, t, ActionTenantExported, "tenant", t.ID, nil, after); err != nil {
		return nil, err
	}
	if opts.Users {
		err := s.ExportUsers(ctx, opts.PasswordHashes, func(r *UserRecord) error {
			b, err := json.Marshal(r)
			if err == nil {
				doc.Users = append(doc.Users, b)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return doc, nil
}

func nilIfNone(ss tenants.Strings) []string {
	if len(ss) == 0 {
		return nil
	}
	return []string(ss)
}

func nilIfNoClaims(m tenants.StringMap) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return map[string]string(m)
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func settingsDoc(t *tenants.Tenant) DocSettings {
	return DocSettings{
		Name: t.DisplayName, LogoURL: t.LogoURL, AccentColor: t.AccentColor, GrantTypes: nonNil(t.GrantTypes),
		AccessTokenLifetime: t.AccessTokenTTLSeconds, IDTokenLifetime: t.IDTokenTTLSeconds,
		RefreshTokenLifetime: t.RefreshTokenTTLSeconds, SessionLifetime: t.SessionTTLSeconds, KeyRotationPeriod: t.KeyRotationSeconds,
		SignupMode: t.Signup(), SignupDomains: nonNil(t.SignupDomains), PasswordMinLength: t.MinPasswordLength(), MFAPolicy: t.MFA(),
		EmailFromName: t.EmailFromName, EmailReplyTo: t.EmailReplyTo, DefaultLocale: t.DefaultLocale,
		RequirePushedAuthorizationRequests: t.RequirePushedAuthorizationRequests, TokenExchangeImpersonation: t.TokenExchangeImpersonation,
		ClientRegistration: t.ClientRegistration, UserMetadataFields: t.UserMetadataFields,
	}
}

// ImportTenantOptions say how a document is imported.
type ImportTenantOptions struct {
	// Slug names the new tenant; empty keeps the source's.
	Slug string
}

// TenantImportResult is what an import made: the tenant, the ids that
// changed (old → new, by kind of object), and the secrets it had to make
// because the document left them out (shown this once).
type TenantImportResult struct {
	Tenant *Tenant `json:"tenant"`
	// IDs maps, per kind (tenant, apis, roles, groups, connections,
	// webhooks, claim_rules, saml_apps, users), the document's ids to the
	// new ones; applications keep their client_id and are not listed, nor
	// is the wording (named by language and message).
	IDs map[string]map[string]string `json:"ids"`
	// Secrets are new secrets, made for what the document carried none of.
	Secrets []NewSecret `json:"secrets"`
	// Disabled lists what was imported disabled, and why (a connection
	// whose secret the document left out).
	Disabled []Disabled `json:"disabled"`
	// Users counts the users imported.
	Users int `json:"users"`
}

// Disabled is an object an import left disabled.
type Disabled struct {
	Kind   string `json:"kind" enum:"connection"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// NewSecret is a secret an import made: an application's client_secret
// or a webhook's signing secret.
type NewSecret struct {
	Kind   string `json:"kind" enum:"application,webhook"`
	ID     string `json:"id" doc:"the client_id, or the webhook's new id"`
	Secret string `json:"secret"`
}

var (
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,128}$`)
	secretHashRE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// DecodeTenantDocument reads a tenant document strictly: unknown fields,
// trailing data or a document larger than MaxTenantDocument are refused.
func DecodeTenantDocument(b []byte) (*TenantDocument, error) {
	if len(b) > MaxTenantDocument {
		return nil, tenants.Invalid("document", "is larger than %d MiB", MaxTenantDocument>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc TenantDocument
	if err := dec.Decode(&doc); err != nil {
		return nil, tenants.Invalid("document", "is not a tenant document: %s", tenants.Truncate(err.Error(), 200))
	}
	if dec.More() {
		return nil, tenants.Invalid("document", "has data after the document")
	}
	return &doc, nil
}

// ImportTenant creates a tenant from doc, all at once: every object is
// checked first, then everything is written in one transaction, so that a
// document refused for any reason leaves nothing behind. Only operators
// import tenants. Secrets sealed for another master key are refused.
func (s *Service) ImportTenant(ctx context.Context, doc *TenantDocument, opts ImportTenantOptions) (*TenantImportResult, error) {
	if _, ok := PrincipalFrom(ctx); !ok {
		ctx = WithPrincipal(ctx, CLI())
	}
	p, _ := PrincipalFrom(ctx)
	if !p.Operator || !p.HasScope(ScopeTenantsWrite) {
		return nil, ErrForbidden
	}
	if doc.Format != TenantDocumentFormat || doc.Version != TenantDocumentVersion {
		return nil, tenants.Invalid("format", "is not a %s document of version %d", TenantDocumentFormat, TenantDocumentVersion)
	}
	if len(doc.Applications)+len(doc.APIs)+len(doc.Roles)+len(doc.Groups)+len(doc.Connections)+len(doc.Webhooks)+
		len(doc.ClaimRules)+len(doc.SAMLApps) > maxDocObjects {
		return nil, tenants.Invalid("document", "holds more than %d objects", maxDocObjects)
	}
	if len(doc.Users) > maxDocUsers {
		return nil, tenants.Invalid("users", "at most %d users; import more with the user import", maxDocUsers)
	}
	slug := strings.TrimSpace(opts.Slug)
	if slug == "" {
		slug = doc.Source.Slug
	}
	if err := ValidateSlug(slug); err != nil {
		return nil, err
	}
	res := &TenantImportResult{IDs: map[string]map[string]string{}, Secrets: []NewSecret{}, Disabled: []Disabled{}}
	mapID := func(kind, old, new string) {
		if old == "" || old == new {
			return
		}
		if res.IDs[kind] == nil {
			res.IDs[kind] = map[string]string{}
		}
		res.IDs[kind][old] = new
	}

	t, err := s.importSettings(slug, doc.Settings)
	if err != nil {
		return nil, err
	}
	mapID("tenant", doc.Source.ID, t.ID)
	in := &tenants.TenantImport{Tenant: t}
	algs := []string{string(jose.RS256)}
	useAlg := func(field, alg string) (string, error) {
		alg, err := tenants.ValidateSigningAlgorithm(field, alg)
		if err == nil && !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
		return alg, err
	}

	// APIs.
	apiByAud := map[string]*tenants.API{}
	for i, d := range doc.APIs {
		field := fmt.Sprintf("apis[%d]", i)
		aud := strings.TrimSpace(d.Audience)
		if err := ValidateAudience(aud); err != nil {
			return nil, prefix(field, err)
		}
		if apiByAud[aud] != nil {
			return nil, tenants.Invalid(field+".audience", "another API has the audience %q", tenants.Truncate(aud, 100))
		}
		name := strings.TrimSpace(d.Name)
		if name == "" {
			name = aud
		}
		if err := validateName(field+".name", name, 200); err != nil {
			return nil, err
		}
		in2 := make([]ScopeInput, len(d.Scopes))
		for j, sc := range d.Scopes {
			in2[j] = ScopeInput{Name: sc.Value, Description: sc.Description}
		}
		scopes, err := scopeRows(in2)
		if err != nil {
			return nil, prefix(field, err)
		}
		alg, err := useAlg(field+".signing_alg", d.SigningAlg)
		if err != nil {
			return nil, err
		}
		claims, err := tokenClaims(d.TokenClaims)
		if err != nil {
			return nil, prefix(field, err)
		}
		regScopes, err := registrationScopes(d.RegistrationScopes, scopes)
		if err != nil {
			return nil, prefix(field, err)
		}
		in.APIs = append(in.APIs, tenants.API{ID: tenants.NewID(), Name: name, Audience: aud, SigningAlg: alg, RBAC: d.RBAC, TokenClaims: claims,
			RegistrationScopes: regScopes, Scopes: scopes})
		apiByAud[aud] = &in.APIs[len(in.APIs)-1]
		mapID("apis", d.ID, in.APIs[len(in.APIs)-1].ID)
	}

	// Applications.
	seenClient := map[string]bool{}
	confidential := map[string]bool{}
	for i, d := range doc.Applications {
		field := fmt.Sprintf("applications[%d]", i)
		if !clientIDPattern.MatchString(d.ClientID) {
			return nil, tenants.Invalid(field+".client_id", "must be 1 to 128 letters, digits or ._~-")
		}
		if seenClient[d.ClientID] {
			return nil, tenants.Invalid(field+".client_id", "another application has the client_id %q", d.ClientID)
		}
		seenClient[d.ClientID] = true
		confidential[d.ClientID] = d.TokenEndpointAuthMethod != tenants.AuthMethodNone
		switch d.Kind {
		case KindWeb, KindSPA, KindNative, KindMachine:
		default:
			return nil, tenants.Invalid(field+".kind", "must be web, spa, native or machine")
		}
		public := d.Kind == KindSPA || d.Kind == KindNative
		if public != (d.TokenEndpointAuthMethod == tenants.AuthMethodNone) {
			return nil, tenants.Invalid(field+".token_endpoint_auth_method", "a %s application is %s", d.Kind, map[bool]string{true: "public (none)", false: "confidential"}[public])
		}
		c := tenants.Client{ID: tenants.NewID(), ClientID: d.ClientID, RequirePushedAuthorizationRequests: d.RequirePushedAuthorizationRequests,
			DPoPBoundAccessTokens: d.DPoPBoundAccessTokens, BackchannelLogoutSessionRequired: d.BackchannelLogoutSessionRequired, Registered: d.Registered,
			ClaimFormat: tenants.ClaimFormatOf(d.ClaimFormat)}
		if c.RefreshTokenGraceSeconds, err = refreshGrace(d.RefreshTokenGracePeriod); err != nil {
			return nil, prefix(field, err)
		}
		if c.BackchannelLogoutURI, err = s.backchannelLogoutURI(ctx, d.BackchannelLogoutURI); err != nil {
			return nil, prefix(field, err)
		}
		c.Consent = strings.TrimSpace(d.Consent)
		if err := tenants.CheckConsentPolicy(c.Consent, c.Registered); err != nil {
			return nil, prefix(field, err)
		}
		c.Consent = tenants.ConsentPolicyOf(c.Consent)
		switch {
		case d.RegistrationTokenHash == "":
		case !d.Registered || !secretHashRE.MatchString(d.RegistrationTokenHash):
			return nil, tenants.Invalid(field+".registration_token_hash", "is the SHA-256 (64 lower-case hex digits) of a registered application's token")
		default:
			c.RegistrationTokenHash = d.RegistrationTokenHash
		}
		if err := tenants.CheckClaimFormat(c.ClaimFormat); err != nil {
			return nil, prefix(field, err)
		}
		if c.LogoURI, err = logoURI(d.LogoURI); err != nil {
			return nil, prefix(field, err)
		}
		if err := s.applyClient(t, &c, d.Kind, clientFields{Name: d.Name, RedirectURIs: d.RedirectURIs, PostLogoutRedirectURIs: d.PostLogoutRedirectURIs,
			GrantTypes: d.GrantTypes, AuthMethod: d.TokenEndpointAuthMethod, JWKS: d.JWKS, JWKSURI: d.JWKSURI}); err != nil {
			return nil, prefix(field, err)
		}
		if c.IDTokenSignedResponseAlg, err = useAlg(field+".id_token_signed_response_alg", d.IDTokenSignedResponseAlg); err != nil {
			return nil, err
		}
		switch {
		case !tenants.HasSecret(c.TokenEndpointAuthMethod):
			if d.SecretHash != "" {
				return nil, tenants.Invalid(field+".secret_hash", "an application that authenticates with %s has no secret", c.TokenEndpointAuthMethod)
			}
		case c.TokenEndpointAuthMethod == tenants.AuthMethodSecretJWT && d.SecretHash != "":
			return nil, tenants.Invalid(field+".secret_hash", "a client_secret_jwt application's secret cannot be restored from a hash: leave secret_hash out and a new secret is made")
		case d.SecretHash == "":
			plain := secret.Token(32)
			c.SecretHash = secret.Hash(plain)
			if c.SecretSealed, err = s.sealSecret(t, &c, plain); err != nil {
				return nil, prefix(field, err)
			}
			res.Secrets = append(res.Secrets, NewSecret{Kind: "application", ID: c.ClientID, Secret: plain})
		case !secretHashRE.MatchString(d.SecretHash):
			return nil, tenants.Invalid(field+".secret_hash", "must be the SHA-256 of the secret, 64 lower-case hex digits")
		default:
			c.SecretHash = d.SecretHash
		}
		if d.PreviousSecretHash != "" || d.PreviousSecretExpiresAt != nil {
			switch {
			case c.SecretHash == "" || d.SecretHash == "":
				return nil, tenants.Invalid(field+".previous_secret_hash", "only an application with its secret_hash has a previous one")
			case !secretHashRE.MatchString(d.PreviousSecretHash):
				return nil, tenants.Invalid(field+".previous_secret_hash", "must be the SHA-256 of the secret, 64 lower-case hex digits")
			case d.PreviousSecretExpiresAt == nil:
				return nil, tenants.Invalid(field+".previous_secret_expires_at", "is required with previous_secret_hash")
			}
			// A previous secret that expired is dropped; one that lasts
			// longer than a rotation's window is cut to it.
			if until := d.PreviousSecretExpiresAt.UTC(); until.After(s.store.Now()) {
				if limit := s.store.Now().Add(maxSecretOverlap); until.After(limit) {
					until = limit
				}
				c.PreviousSecretHash, c.PreviousSecretExpiresAt = d.PreviousSecretHash, &until
			}
		}
		seenAPI := map[string]bool{}
		for j, g := range d.Grants {
			gf := fmt.Sprintf("%s.grants[%d]", field, j)
			api := apiByAud[strings.TrimSpace(g.Audience)]
			if api == nil {
				return nil, tenants.Invalid(gf+".audience", "names no API of the document")
			}
			if seenAPI[api.ID] {
				return nil, tenants.Invalid(gf+".audience", "the API %q is granted twice", api.Audience)
			}
			seenAPI[api.ID] = true
			scopes := tenants.Strings{}
			for _, sc := range g.Scopes {
				if !slices.ContainsFunc(api.Scopes, func(x tenants.Scope) bool { return x.Name == sc }) {
					return nil, tenants.Invalid(gf+".scopes", "API %q has no scope %q", api.Audience, tenants.Truncate(sc, 100))
				}
				if !slices.Contains(scopes, sc) {
					scopes = append(scopes, sc)
				}
			}
			in.Grants = append(in.Grants, tenants.ClientGrant{ClientID: c.ClientID, APIID: api.ID, Scopes: scopes})
		}
		in.Clients = append(in.Clients, c)
	}

	// An API's resource server is one of the document's confidential
	// applications.
	for i, d := range doc.APIs {
		id := strings.TrimSpace(d.ResourceServerClientID)
		if id == "" {
			continue
		}
		if !confidential[id] {
			return nil, tenants.Invalid(fmt.Sprintf("apis[%d].resource_server_client_id", i), "names no confidential application of the document")
		}
		in.APIs[i].ResourceServerClientID = id
	}

	// Roles and groups.
	names := &importNames{connections: map[string]string{}, roles: map[string]string{}, groups: map[string]string{}}
	for i, d := range doc.Roles {
		field := fmt.Sprintf("roles[%d]", i)
		r := tenants.Role{ID: tenants.NewID()}
		perms := d.Permissions
		if perms == nil {
			perms = []Permission{}
		}
		if err := applyRole(&r, RoleInput{Name: &d.Name, Description: &d.Description, Permissions: &perms}); err != nil {
			return nil, prefix(field, err)
		}
		if _, dup := names.roles[r.Name]; dup {
			return nil, tenants.Invalid(field+".name", "another role is named %q", r.Name)
		}
		for _, p := range r.Permissions {
			api := apiByAud[p.Audience]
			if api == nil || !slices.ContainsFunc(api.Scopes, func(x tenants.Scope) bool { return x.Name == p.Scope }) {
				return nil, tenants.Invalid(field+".permissions", "the document has no API %q with a scope %q", tenants.Truncate(p.Audience, 100), tenants.Truncate(p.Scope, 100))
			}
		}
		in.Roles = append(in.Roles, r)
		names.roles[r.Name] = r.ID
		if d.ID != "" {
			names.roles[d.ID] = r.ID
		}
		mapID("roles", d.ID, r.ID)
	}
	for i, d := range doc.Groups {
		field := fmt.Sprintf("groups[%d]", i)
		g := tenants.Group{ID: tenants.NewID()}
		if err := applyGroup(&g, GroupInput{Name: &d.Name, Description: &d.Description}); err != nil {
			return nil, prefix(field, err)
		}
		if _, dup := names.groups[g.Name]; dup {
			return nil, tenants.Invalid(field+".name", "another group is named %q", g.Name)
		}
		seen := map[string]bool{}
		for _, rn := range d.Roles {
			rid, ok := names.roles[rn]
			if !ok {
				return nil, tenants.Invalid(field+".roles", "the document has no role %q", tenants.Truncate(rn, 100))
			}
			if !seen[rid] {
				seen[rid] = true
				in.GroupRoles = append(in.GroupRoles, tenants.GroupRole{GroupID: g.ID, RoleID: rid})
			}
		}
		in.Groups = append(in.Groups, g)
		names.groups[g.Name] = g.ID
		if d.ID != "" {
			names.groups[d.ID] = g.ID
		}
		mapID("groups", d.ID, g.ID)
	}

	// Connections.
	for i, d := range doc.Connections {
		field := fmt.Sprintf("connections[%d]", i)
		c, err := s.importConnection(ctx, t, doc.Source.ID, d)
		if err != nil {
			return nil, prefix(field, err)
		}
		if _, dup := names.connections[c.Name]; dup {
			return nil, tenants.Invalid(field+".name", "another connection is named %q", c.Name)
		}
		if c.Type != tenants.ConnectionSAML && len(c.ClientSecretSealed) == 0 {
			res.Disabled = append(res.Disabled, Disabled{Kind: "connection", ID: c.ID,
				Reason: "the document has no client secret: set it (PATCH the connection's client_secret) and enable the connection"})
		}
		if len(d.GroupMappings) > tenants.MaxGroupMaps {
			return nil, tenants.Invalid(field+".group_mappings", "at most %d mappings", tenants.MaxGroupMaps)
		}
		mapped := map[[2]string]bool{}
		for j, m := range d.GroupMappings {
			up := strings.TrimSpace(m.Upstream)
			if err := validateToken(fmt.Sprintf("%s.group_mappings[%d].upstream", field, j), up, federation.MaxGroup); err != nil {
				return nil, err
			}
			gid, ok := names.groups[m.Group]
			if !ok {
				return nil, tenants.Invalid(fmt.Sprintf("%s.group_mappings[%d].group", field, j), "the document has no group %q", tenants.Truncate(m.Group, 100))
			}
			if !mapped[[2]string{up, gid}] {
				mapped[[2]string{up, gid}] = true
				in.GroupMaps = append(in.GroupMaps, tenants.GroupMap{ConnectionID: c.ID, UpstreamGroup: up, GroupID: gid})
			}
		}
		in.Connections = append(in.Connections, *c)
		names.connections[c.Name] = c.ID
		if d.ID != "" {
			names.connections[d.ID] = c.ID
		}
		mapID("connections", d.ID, c.ID)
	}

	// Webhooks.
	if len(doc.Webhooks) > maxWebhooks {
		return nil, tenants.Invalid("webhooks", "a tenant has at most %d webhook endpoints", maxWebhooks)
	}
	for i, d := range doc.Webhooks {
		field := fmt.Sprintf("webhooks[%d]", i)
		w, whsec, err := s.importWebhook(ctx, t, doc.Source.ID, d)
		if err != nil {
			return nil, prefix(field, err)
		}
		if whsec != "" {
			res.Secrets = append(res.Secrets, NewSecret{Kind: "webhook", ID: w.ID, Secret: whsec})
		}
		in.Webhooks = append(in.Webhooks, *w)
		mapID("webhooks", d.ID, w.ID)
	}

	// Claim rules, checked as the console checks them.
	if len(doc.ClaimRules) > claimrules.MaxRules {
		return nil, tenants.Invalid("claim_rules", "a tenant has at most %d claim rules", claimrules.MaxRules)
	}
	ruleNames := map[string]bool{}
	for i, d := range doc.ClaimRules {
		field := fmt.Sprintf("claim_rules[%d]", i)
		r := tenants.ClaimRule{ID: tenants.NewID()}
		idt, at := d.IDToken, d.AccessToken
		if idt == nil {
			idt = map[string]string{}
		}
		if at == nil {
			at = map[string]string{}
		}
		pos := d.Position
		if pos == 0 {
			pos = i + 1
		}
		applyClaimRule(&r, ClaimRuleInput{Name: &d.Name, Position: &pos, Enabled: &d.Enabled, Condition: &d.Condition, IDToken: &idt, AccessToken: &at, Deny: &d.Deny})
		if err := s.checkRule(&r); err != nil {
			return nil, prefix(field, err)
		}
		if ruleNames[r.Name] {
			return nil, tenants.Invalid(field+".name", "another claim rule is named %q", tenants.Truncate(r.Name, 100))
		}
		ruleNames[r.Name] = true
		in.ClaimRules = append(in.ClaimRules, r)
		mapID("claim_rules", d.ID, r.ID)
	}

	// The tenant's wording.
	if len(doc.Strings) > tenants.MaxTenantStrings {
		return nil, tenants.Invalid("strings", "a tenant may reword at most %d messages", tenants.MaxTenantStrings)
	}
	seenString := map[string]bool{}
	for i, d := range doc.Strings {
		field := fmt.Sprintf("strings[%d]", i)
		if err := checkString(d.Locale, d.MessageID, d.Text); err != nil {
			return nil, prefix(field, err)
		}
		if k := d.Locale + "/" + d.MessageID; seenString[k] {
			return nil, tenants.Invalid(field+".message_id", "the document rewords %s twice", tenants.Truncate(k, 100))
		} else {
			seenString[k] = true
		}
		in.Strings = append(in.Strings, tenants.TenantString{Locale: d.Locale, MessageID: d.MessageID, Text: strings.TrimSpace(d.Text)})
	}

	// SAML applications, whose access names the document's roles and
	// groups.
	if len(doc.SAMLApps) > maxSAMLApps {
		return nil, tenants.Invalid("saml_apps", "a tenant has at most %d SAML applications", maxSAMLApps)
	}
	entityIDs := map[string]bool{}
	for i, d := range doc.SAMLApps {
		field := fmt.Sprintf("saml_apps[%d]", i)
		a, err := s.importSAMLApp(ctx, d, names)
		if err != nil {
			return nil, prefix(field, err)
		}
		if entityIDs[a.EntityID] {
			return nil, tenants.Invalid(field+".entity_id", "another SAML application of the document has this entity ID")
		}
		entityIDs[a.EntityID] = true
		in.SAMLApps = append(in.SAMLApps, *a)
		mapID("saml_apps", d.ID, a.ID)
	}

	// Users, in the user import's format.
	for i, raw := range doc.Users {
		if len(raw) > MaxImportLine {
			return nil, tenants.Invalid(fmt.Sprintf("users[%d]", i), "is longer than %d KiB", MaxImportLine>>10)
		}
		u, err := parseRecord(raw, i+1, names)
		if err != nil {
			return nil, tenants.Invalid(fmt.Sprintf("users[%d]", i), "%s", err.Error())
		}
		in.Users = append(in.Users, *u)
	}

	for _, alg := range algs {
		key, err := s.keys.Generate(t.ID, jose.SignatureAlgorithm(alg))
		if err != nil {
			return nil, err
		}
		in.Keys = append(in.Keys, *key)
	}
	done, err := s.store.ImportTenant(ctx, in)
	if err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("tenant %q: %w", slug, err)
		}
		return nil, err
	}
	for old, new := range done.UserIDs {
		mapID("users", old, new)
	}
	res.Users = len(done.Users)
	s.changed(t)
	res.Tenant = tenantView(t)
	after := map[string]any{"source": doc.Source, "applications": len(in.Clients), "apis": len(in.APIs), "roles": len(in.Roles),
		"groups": len(in.Groups), "connections": len(in.Connections), "webhooks": len(in.Webhooks), "claim_rules": len(in.ClaimRules),
		"strings": len(in.Strings), "saml_apps": len(in.SAMLApps), "users": res.Users}
	if err := s.audit(ctx, t, ActionTenantImported, "tenant", t.ID, nil, after); err != nil {
		return nil, err
	}
	return res, nil
}

// prefix names the object a validation error is about: "name" of the
// third application becomes "applications[2].name".
func prefix(field string, err error) error {
	var ve *tenants.ValidationError
	if errors.As(err, &ve) {
		return tenants.Invalid(field+"."+ve.Field, "%s", ve.Message)
	}
	return err
}

// importSettings checks a document's settings as a change of settings is
// checked, and returns the new tenant with slug.
func (s *Service) importSettings(slug string, d DocSettings) (*tenants.Tenant, error) {
	t := &tenants.Tenant{
		ID: tenants.NewID(), Slug: slug, Host: slug + "." + s.baseURL.Hostname(), Issuer: s.baseURL.Scheme + "://" + slug + "." + s.baseURL.Host,
		GrantTypes: tenants.DefaultGrantTypes(), SignupMode: tenants.SignupOff, PasswordMinLength: 12, MFAPolicy: tenants.MFAOptional,
		AccessTokenTTLSeconds: int64(tenants.DefaultAccessTokenTTL.Seconds()), IDTokenTTLSeconds: int64(tenants.DefaultIDTokenTTL.Seconds()),
		RefreshTokenTTLSeconds: int64(tenants.DefaultRefreshTokenTTL.Seconds()), SessionTTLSeconds: int64(tenants.DefaultSessionTTL.Seconds()),
	}
	name := d.Name
	if strings.TrimSpace(name) == "" {
		name = slug
	}
	dur := func(n int64) *time.Duration {
		if n == 0 {
			return nil
		}
		v := time.Duration(min(max(n, -1<<32), 1<<32)) * time.Second
		return &v
	}
	in := TenantSettings{Name: &name, LogoURL: &d.LogoURL, AccentColor: &d.AccentColor, GrantTypes: d.GrantTypes,
		AccessTokenLifetime: dur(d.AccessTokenLifetime), IDTokenLifetime: dur(d.IDTokenLifetime),
		RefreshTokenLifetime: dur(d.RefreshTokenLifetime), SessionLifetime: dur(d.SessionLifetime),
		SignupDomains: d.SignupDomains, EmailFromName: &d.EmailFromName, EmailReplyTo: &d.EmailReplyTo, DefaultLocale: &d.DefaultLocale,
		RequirePushedAuthorizationRequests: &d.RequirePushedAuthorizationRequests, TokenExchangeImpersonation: &d.TokenExchangeImpersonation,
		UserMetadataFields: d.UserMetadataFields}
	if d.ClientRegistration != "" {
		in.ClientRegistration = &d.ClientRegistration
	}
	if d.SignupMode != "" {
		in.SignupMode = &d.SignupMode
	}
	if d.PasswordMinLength != 0 {
		in.PasswordMinLength = &d.PasswordMinLength
	}
	if d.MFAPolicy != "" {
		in.MFAPolicy = &d.MFAPolicy
	}
	if err := applySettings(t, in); err != nil {
		return nil, prefix("settings", err)
	}
	if d.KeyRotationPeriod != 0 {
		if d.KeyRotationPeriod < int64(MinKeyRotationPeriod.Seconds()) || d.KeyRotationPeriod > int64(MaxKeyRotationPeriod.Seconds()) {
			return nil, tenants.Invalid("settings.key_rotation_period", "must be 0 or between %s and %s", human(MinKeyRotationPeriod), human(MaxKeyRotationPeriod))
		}
		t.KeyRotationSeconds = d.KeyRotationPeriod
	}
	return t, nil
}

// importConnection checks a document's connection for tenant t and gives it
// a new id, its secrets sealed for it. The configuration is checked as the
// connector would read it; nothing is fetched.
func (s *Service) importConnection(ctx context.Context, t *tenants.Tenant, sourceTenant string, d DocConnection) (*tenants.Connection, error) {
	fed, err := s.federation()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(fed.Types(), d.Type) {
		return nil, tenants.Invalid("type", "unknown connection type %q", tenants.Truncate(d.Type, 32))
	}
	if len(d.Config) > federation.MaxMetadataSize+64<<10 {
		return nil, tenants.Invalid("config", "is too large")
	}
	c := &tenants.Connection{ID: tenants.NewID(), TenantID: t.ID, Type: d.Type, Name: strings.TrimSpace(d.Name), Enabled: d.Enabled,
		ClientID: strings.TrimSpace(d.ClientID), Issuer: d.Issuer, TrustEmail: d.TrustEmail, Config: d.Config, PassGroups: d.PassGroups}
	if c.Config != "" {
		var obj map[string]any
		if json.Unmarshal([]byte(c.Config), &obj) != nil {
			return nil, tenants.Invalid("config", "must be a JSON object")
		}
	}
	if _, err := federation.ParseConfig(c); err != nil {
		return nil, tenants.Invalid("config", "cannot be read: %s", tenants.Truncate(err.Error(), 200))
	}
	if err := validateName("name", c.Name, 100); err != nil {
		return nil, err
	}
	switch p := d.Provisioning; p {
	case "", tenants.ProvisionTenant, tenants.ProvisionCreate, tenants.ProvisionExisting:
		c.Provisioning = c.Provision()
		if p != "" {
			c.Provisioning = p
		}
	default:
		return nil, tenants.Invalid("provisioning", "must be %s, %s or %s", tenants.ProvisionTenant, tenants.ProvisionCreate, tenants.ProvisionExisting)
	}
	c.Domains = tenants.Strings{}
	for _, dm := range d.Domains {
		dm = strings.ToLower(strings.TrimSpace(dm))
		if !domainPattern.MatchString(dm) {
			return nil, tenants.Invalid("domains", "%q is not a domain name", tenants.Truncate(dm, 100))
		}
		if !slices.Contains(c.Domains, dm) {
			c.Domains = append(c.Domains, dm)
		}
	}
	if c.Type != tenants.ConnectionSAML {
		if err := validateToken("client_id", c.ClientID, 512); err != nil {
			return nil, err
		}
	}
	if c.Type == tenants.ConnectionOIDC {
		if err := fed.CheckURL(c.Issuer); err != nil || !strings.HasPrefix(c.Issuer, "http") {
			return nil, tenants.Invalid("issuer", "must be an https URL of a host this server connects to")
		}
	}
	from := &tenants.Connection{ID: d.ID, TenantID: sourceTenant, ClientSecretSealed: d.ClientSecretSealed, SPKeySealed: d.SPKeySealed}
	if err := fed.Reseal(from, c); err != nil {
		return nil, tenants.Invalid("client_secret_sealed", "cannot be opened: it was sealed by a server with another master key, or for another connection")
	}
	if c.Type == tenants.ConnectionSAML && len(c.SPKeySealed) == 0 {
		// Prepare makes a new SP key pair (SAML checks nothing upstream).
		if err := fed.Prepare(ctx, t, c, nil, false); err != nil {
			return nil, tenants.Invalid("config", "%v", err)
		}
		return c, nil
	}
	if c.Type != tenants.ConnectionSAML && len(c.ClientSecretSealed) == 0 {
		// The document left the secret out: the connection comes
		// disabled, until an admin gives it its secret.
		c.Enabled = false
		return c, nil
	}
	if _, err := fed.Build(t, c); err != nil {
		return nil, tenants.Invalid("config", "%v", err)
	}
	return c, nil
}

// importWebhook checks a document's webhook for tenant t and gives it a new
// id, its secret sealed for it (a new secret when the document has none,
// returned).
func (s *Service) importWebhook(ctx context.Context, t *tenants.Tenant, sourceTenant string, d DocWebhook) (*tenants.WebhookEndpoint, string, error) {
	sealer, err := s.webhooks()
	if err != nil {
		return nil, "", err
	}
	w := &tenants.WebhookEndpoint{ID: tenants.NewRandomID(), Enabled: d.Enabled}
	events := d.Events
	if events == nil {
		events = []string{}
	}
	if err := s.applyWebhook(ctx, w, WebhookInput{URL: &d.URL, Events: events}); err != nil {
		return nil, "", err
	}
	var whsec string
	if len(d.SecretSealed) > 0 {
		plain, err := sealer.Open(sourceTenant, d.ID, d.SecretSealed)
		if err != nil {
			return nil, "", tenants.Invalid("secret_sealed", "cannot be opened: it was sealed by a server with another master key, or for another endpoint")
		}
		w.SecretSealed = sealer.Seal(t.ID, w.ID, plain)
		return w, "", nil
	}
	whsec = webhook.NewSecret()
	w.SecretSealed = sealer.Seal(t.ID, w.ID, whsec)
	return w, whsec, nil
}

// importSAMLApp checks a document's SAML application as the console checks
// one, with its access by the document's role and group names, and gives
// it a new id (and a new NameID salt when the document has none).
func (s *Service) importSAMLApp(ctx context.Context, d DocSAMLApp, names *importNames) (*tenants.SAMLApp, error) {
	a := &tenants.SAMLApp{ID: tenants.NewRandomID(), NameIDSalt: d.NameIDSalt, NameIDSource: tenants.NameIDSourceEmail,
		Access: tenants.SAMLAccessEveryone, AccessRoles: tenants.Strings{}, AccessGroups: tenants.Strings{}}
	switch {
	case a.NameIDSalt == "":
		a.NameIDSalt = secret.Token(16)
	case len(a.NameIDSalt) < 16 || len(a.NameIDSalt) > 128 || !clientIDPattern.MatchString(a.NameIDSalt):
		return nil, tenants.Invalid("name_id_salt", "must be 16 to 128 letters, digits or ._~-")
	}
	for _, ref := range [...]struct {
		field string
		in    []string
		ids   map[string]string
		out   *tenants.Strings
	}{{"access_roles", d.AccessRoles, names.roles, &a.AccessRoles}, {"access_groups", d.AccessGroups, names.groups, &a.AccessGroups}} {
		if len(ref.in) > maxSAMLAccessRefs {
			return nil, tenants.Invalid(ref.field, "at most %d", maxSAMLAccessRefs)
		}
		for _, n := range ref.in {
			id, ok := ref.ids[n]
			if !ok {
				return nil, tenants.Invalid(ref.field, "the document has no %s %q", strings.TrimPrefix(ref.field, "access_"), tenants.Truncate(n, 100))
			}
			if !ref.out.Contains(id) {
				*ref.out = append(*ref.out, id)
			}
		}
	}
	certs := d.SigningCerts
	if certs == nil {
		certs = []string{}
	}
	attrs := d.Attributes
	if attrs == nil {
		attrs = []tenants.SAMLAttribute{}
	}
	in := SAMLAppInput{Name: &d.Name, EntityID: &d.EntityID, ACS: d.ACS, SLOURL: &d.SLOURL, SLOBinding: &d.SLOBinding, NameIDFormat: &d.NameIDFormat,
		NameIDSource: &d.NameIDSource, Attributes: attrs, SignResponse: &d.SignResponse, SignAssertion: &d.SignAssertion,
		RequireSignedRequests: &d.RequireSignedRequests, SigningCerts: certs, EncryptionCert: &d.EncryptionCert,
		EncryptAssertions: &d.EncryptAssertions, Access: &d.Access, Enabled: &d.Enabled}
	if d.ACS == nil {
		in.ACS = []SAMLEndpoint{}
	}
	if err := s.applySAMLApp(ctx, a, in); err != nil {
		return nil, err
	}
	return a, nil
}
