package admin

import (
	"encoding/json"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Tenant is the public view of a tenant and its settings.
type Tenant struct {
	ID                                 string   `json:"id"`
	Slug                               string   `json:"slug"`
	Name                               string   `json:"name"`
	Issuer                             string   `json:"issuer"`
	DiscoveryURL                       string   `json:"discovery_url"`
	LogoURL                            string   `json:"logo_url"`
	AccentColor                        string   `json:"accent_color"`
	GrantTypes                         []string `json:"grant_types"`
	AccessTokenLifetimeSeconds         int64    `json:"access_token_lifetime"`
	IDTokenLifetimeSeconds             int64    `json:"id_token_lifetime"`
	RefreshTokenLifetimeSeconds        int64    `json:"refresh_token_lifetime"`
	SessionLifetimeSeconds             int64    `json:"session_lifetime"`
	SignupMode                         string   `json:"signup_mode"`
	SignupDomains                      []string `json:"signup_domains"`
	PasswordMinLength                  int      `json:"password_min_length"`
	MFAPolicy                          string   `json:"mfa_policy"`
	EmailFromName                      string   `json:"email_from_name"`
	EmailReplyTo                       string   `json:"email_reply_to" doc:"where answers to the tenant's email go; empty for none"`
	DefaultLocale                      string   `json:"default_locale" doc:"language of the pages and email when a request names none Gatehouse speaks; empty is English"`
	RequirePushedAuthorizationRequests bool     `json:"require_pushed_authorization_requests"`
	TokenExchangeImpersonation         bool     `json:"token_exchange_impersonation"`
	ClientRegistration                 string   `json:"client_registration"`
	// UserMetadataFields are the user_metadata fields users may edit on
	// the account page.
	UserMetadataFields []tenants.MetadataField `json:"user_metadata_fields"`
	CreatedAt          time.Time               `json:"created_at"`
}

func tenantView(t *tenants.Tenant) *Tenant {
	return &Tenant{
		ID: t.ID, Slug: t.Slug, Name: t.DisplayName, Issuer: t.Issuer,
		DiscoveryURL: t.Issuer + "/.well-known/openid-configuration",
		LogoURL:      t.LogoURL, AccentColor: t.AccentColor, GrantTypes: nonNil(t.GrantTypes),
		AccessTokenLifetimeSeconds: t.AccessTokenTTLSeconds, IDTokenLifetimeSeconds: t.IDTokenTTLSeconds,
		RefreshTokenLifetimeSeconds: t.RefreshTokenTTLSeconds, SessionLifetimeSeconds: t.SessionTTLSeconds,
		SignupMode: t.Signup(), SignupDomains: nonNil(t.SignupDomains), PasswordMinLength: t.MinPasswordLength(),
		MFAPolicy: t.MFA(), EmailFromName: t.EmailFromName, DefaultLocale: t.DefaultLocale, EmailReplyTo: t.EmailReplyTo,
		RequirePushedAuthorizationRequests: t.RequirePushedAuthorizationRequests,
		TokenExchangeImpersonation:         t.TokenExchangeImpersonation,
		ClientRegistration:                 t.Registration(),
		UserMetadataFields:                 append([]tenants.MetadataField{}, t.UserMetadataFields...),
		CreatedAt:                          t.CreatedAt,
	}
}

// Scope is the public view of an API scope.
type Scope struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

// API is the public view of an API.
type API struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Audience string  `json:"audience"`
	Scopes   []Scope `json:"scopes"`
	// SigningAlg is the JWS algorithm of the API's access tokens.
	SigningAlg string `json:"signing_alg"`
	// RBAC says whether users get only the scopes their roles hold.
	RBAC bool `json:"rbac"`
	// TokenClaims are the claims ("roles", "groups") its access tokens carry.
	TokenClaims []string `json:"token_claims"`
	// ResourceServerClientID is the application that may introspect the
	// API's access tokens.
	ResourceServerClientID string `json:"resource_server_client_id,omitempty"`
	// RegistrationScopes are the scopes self-registered clients may get.
	RegistrationScopes []string  `json:"registration_scopes"`
	CreatedAt          time.Time `json:"created_at"`
}

func apiView(a *tenants.API) *API {
	v := &API{ID: a.ID, Name: a.Name, Audience: a.Audience, Scopes: []Scope{}, SigningAlg: a.AccessTokenAlg(), RBAC: a.RBAC,
		TokenClaims: append([]string{}, a.TokenClaims...), ResourceServerClientID: a.ResourceServerClientID,
		RegistrationScopes: append([]string{}, a.RegistrationScopes...), CreatedAt: a.CreatedAt}
	for _, s := range a.Scopes {
		v.Scopes = append(v.Scopes, Scope{Value: s.Name, Description: s.Description})
	}
	return v
}

// ClientGrant is the API scopes a client may request.
type ClientGrant struct {
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
}

// Client is the public view of an application, with RFC 7591 field names.
// ClientSecret is only set in the answer to the call that created it.
type Client struct {
	ClientID                 string        `json:"client_id"`
	ClientSecret             string        `json:"client_secret,omitempty"`
	ClientSecretExpiresAt    *int64        `json:"client_secret_expires_at,omitempty"`
	ClientName               string        `json:"client_name"`
	ApplicationType          string        `json:"application_type"`
	TokenEndpointAuthMethod  string        `json:"token_endpoint_auth_method"`
	GrantTypes               []string      `json:"grant_types"`
	ResponseTypes            []string      `json:"response_types"`
	RedirectURIs             []string      `json:"redirect_uris"`
	PostLogoutRedirectURIs   []string      `json:"post_logout_redirect_uris"`
	APIGrants                []ClientGrant `json:"api_grants"`
	IDTokenSignedResponseAlg string        `json:"id_token_signed_response_alg"`
	// JWKS or JWKSURI: a private_key_jwt application's public keys.
	JWKS                               json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                            string          `json:"jwks_uri,omitempty"`
	RequirePushedAuthorizationRequests bool            `json:"require_pushed_authorization_requests"`
	RefreshTokenGraceSeconds           int64           `json:"refresh_token_grace_period"`
	DPoPBoundAccessTokens              bool            `json:"dpop_bound_access_tokens"`
	BackchannelLogoutURI               string          `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired   bool            `json:"backchannel_logout_session_required"`
	// LogoURI is the logo the consent page shows (https).
	LogoURI string `json:"logo_uri,omitempty"`
	// Registered marks an application that registered itself (RFC 7591).
	Registered bool `json:"registered"`
	// Consent is required (users are asked) or skip (a first-party
	// application: the consent is recorded as implicit).
	Consent string `json:"consent"`
	// ClaimFormat is names or ids: what the roles and groups claims of
	// the application's tokens carry.
	ClaimFormat      string `json:"claim_format"`
	ClientIDIssuedAt int64  `json:"client_id_issued_at"`
}

func clientView(c *tenants.Client, grants []tenants.ClientGrant, audiences map[string]string) *Client {
	v := &Client{
		ClientID:                 c.ClientID,
		ClientName:               c.Name,
		LogoURI:                  c.LogoURI,
		ApplicationType:          c.ApplicationType,
		TokenEndpointAuthMethod:  c.TokenEndpointAuthMethod,
		GrantTypes:               nonNil(c.GrantTypes),
		ResponseTypes:            []string{},
		RedirectURIs:             nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:   nonNil(c.PostLogoutRedirectURIs),
		APIGrants:                []ClientGrant{},
		IDTokenSignedResponseAlg: c.IDTokenAlg(),
		Consent:                  tenants.ConsentPolicyOf(c.Consent),
		ClaimFormat:              tenants.ClaimFormatOf(c.ClaimFormat),
		ClientIDIssuedAt:         c.CreatedAt.Unix(),
	}
	if c.AllowsGrant(tenants.GrantAuthorizationCode) {
		v.ResponseTypes = []string{"code"}
	}
	if c.JWKS != "" {
		v.JWKS = json.RawMessage(c.JWKS)
	}
	v.JWKSURI = c.JWKSURI
	v.RequirePushedAuthorizationRequests = c.RequirePushedAuthorizationRequests
	v.RefreshTokenGraceSeconds = c.RefreshTokenGraceSeconds
	v.DPoPBoundAccessTokens = c.DPoPBoundAccessTokens
	v.BackchannelLogoutURI, v.BackchannelLogoutSessionRequired = c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired
	v.Registered = c.Registered
	if tenants.HasSecret(c.TokenEndpointAuthMethod) {
		zero := int64(0)
		v.ClientSecretExpiresAt = &zero
	}
	for _, g := range grants {
		v.APIGrants = append(v.APIGrants, ClientGrant{Audience: audiences[g.APIID], Scopes: nonNil(g.Scopes)})
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// User is the public view of an end user; ID is the OpenID Connect subject.
type User struct {
	ID            string     `json:"id"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"email_verified"`
	Name          string     `json:"name,omitempty"`
	GivenName     string     `json:"given_name,omitempty"`
	FamilyName    string     `json:"family_name,omitempty"`
	Disabled      bool       `json:"disabled"`
	LastLoginAt   *time.Time `json:"last_login_at,omitempty"`
	// UserMetadata (the user's own) and AppMetadata (admins' and the
	// API's only) are JSON objects.
	UserMetadata json.RawMessage `json:"user_metadata"`
	AppMetadata  json.RawMessage `json:"app_metadata"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

func userView(u *tenants.User) *User {
	return &User{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, GivenName: u.GivenName,
		FamilyName: u.FamilyName, Disabled: u.DisabledAt != nil, LastLoginAt: u.LastLoginAt,
		UserMetadata: metadataJSON(u.UserMetadata), AppMetadata: metadataJSON(u.AppMetadata), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// metadataJSON is a stored metadata object as JSON: {} for none.
func metadataJSON(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s)
}

// Session is the public view of a user's login session. ID is a reference
// derived from the session's key, not the key itself.
type Session struct {
	ID         string    `json:"id"`
	AuthTime   time.Time `json:"auth_time"`
	AMR        []string  `json:"amr"`
	IPAddress  string    `json:"ip_address"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// sessionRefOf derives the public reference of a session from its key.
func sessionRefOf(id string) string { return secret.Hash("session-ref|" + id)[:20] }

func sessionView(s *tenants.Session) *Session {
	return &Session{ID: sessionRefOf(s.ID), AuthTime: s.AuthTime, AMR: nonNil(s.AMR), IPAddress: s.IPAddress,
		UserAgent: s.UserAgent, CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt}
}

// Consent is what a user allowed an application.
type Consent struct {
	ClientID   string              `json:"client_id"`
	ClientName string              `json:"client_name"`
	Scopes     map[string][]string `json:"scopes"`
	// Implicit: recorded without asking, for a first-party application.
	Implicit  bool      `json:"implicit"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func consentView(c *tenants.Consent, clientName string) *Consent {
	scopes := map[string][]string(c.Scopes)
	if scopes == nil {
		scopes = map[string][]string{}
	}
	return &Consent{ClientID: c.ClientID, ClientName: clientName, Scopes: scopes, Implicit: c.Implicit, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// AuditEvent is the public view of an audit log entry.
type AuditEvent struct {
	ID         string          `json:"id"`
	Time       time.Time       `json:"time"`
	TenantID   string          `json:"tenant_id"`
	ActorKind  string          `json:"actor_kind"`
	ActorID    string          `json:"actor_id"`
	ActorName  string          `json:"actor_name"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type,omitempty"`
	TargetID   string          `json:"target_id,omitempty"`
	ClientID   string          `json:"client_id,omitempty"`
	Outcome    string          `json:"outcome"`
	Reason     string          `json:"reason,omitempty"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	IPAddress  string          `json:"ip_address,omitempty"`
	UserAgent  string          `json:"user_agent,omitempty"`
	RequestID  string          `json:"request_id,omitempty"`
}

func auditView(e *tenants.AuditEvent) *AuditEvent {
	v := &AuditEvent{ID: e.ID, Time: e.OccurredAt, TenantID: e.TenantID, ActorKind: e.ActorKind, ActorID: e.ActorID,
		ActorName: e.ActorName, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, ClientID: e.ClientID, Outcome: e.Outcome,
		Reason: e.Reason, IPAddress: e.IPAddress, UserAgent: e.UserAgent, RequestID: e.RequestID}
	if e.Before != "" {
		v.Before = json.RawMessage(e.Before)
	}
	if e.After != "" {
		v.After = json.RawMessage(e.After)
	}
	return v
}

// Key is the public view of a signing key. Status is "next" while it is
// published ahead of signing (until activates_at), "active" while it signs,
// "retired" while tokens it signed may still be verified (until
// expires_at), then "expired".
type Key struct {
	KID         string     `json:"kid"`
	Algorithm   string     `json:"alg"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatesAt time.Time  `json:"activates_at"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

func keyView(k *tenants.SigningKey, now time.Time) *Key {
	var status string
	switch {
	case !k.PublishedAt(now):
		status = "expired"
	case k.SignsAt(now):
		status = "active"
	case now.Before(k.Activation()):
		status = "next"
	default:
		status = "retired"
	}
	return &Key{KID: k.ID, Algorithm: k.Algorithm, Status: status, CreatedAt: k.CreatedAt, ActivatesAt: k.Activation(),
		RetiredAt: k.RetiredAt, ExpiresAt: k.ExpiresAt}
}
