package tenants

import (
	"strings"
	"time"
)

// Tenant is one issuer: its own users, applications, APIs, keys and
// sessions. Host is the lower-case host name (no port) that requests for the
// tenant arrive on; Issuer is fixed when the tenant is created, from
// configuration, and never derived from a request.
type Tenant struct {
	ID          string `gorm:"primaryKey"`
	Slug        string
	DisplayName string
	Host        string
	Issuer      string
	// Revision grows on every change to what nodes cache (the tenant itself,
	// its clients, APIs, grants and keys), so that every node can tell its
	// cached copy is stale.
	Revision int64

	// LogoURL and AccentColor brand the tenant's login pages.
	LogoURL     string
	AccentColor string
	// GrantTypes are the grant types the tenant's clients may use.
	GrantTypes Strings
	// System marks the built-in tenant whose users and clients administer
	// Gatehouse.
	System bool

	// SignupMode says who may create an account: SignupOff, SignupOpen, or
	// SignupDomains (addresses in SignupDomains only).
	SignupMode    string
	SignupDomains Strings
	// PasswordMinLength is the shortest password accepted.
	PasswordMinLength int64
	// MFAPolicy is MFAOff, MFAOptional or MFARequired.
	MFAPolicy string `gorm:"column:mfa_policy"`
	// EmailFromName is the sender name of the tenant's email.
	EmailFromName string
	// DefaultLocale is the language of the tenant's pages and email when
	// nothing a request says names one Gatehouse speaks ("" is English).
	DefaultLocale string
	// EmailReplyTo is where answers to the tenant's email go ("": none).
	EmailReplyTo string

	AccessTokenTTLSeconds  int64 `gorm:"column:access_token_ttl"`
	IDTokenTTLSeconds      int64 `gorm:"column:id_token_ttl"`
	RefreshTokenTTLSeconds int64 `gorm:"column:refresh_token_ttl"`
	SessionTTLSeconds      int64 `gorm:"column:session_ttl"`
	// KeyRotationSeconds is how often the tenant's signing keys rotate on
	// their own (0: only when an admin rotates them).
	KeyRotationSeconds int64 `gorm:"column:key_rotation_period"`
	// RequirePushedAuthorizationRequests makes /authorize refuse every
	// client's requests unless pushed first (RFC 9126 §6).
	RequirePushedAuthorizationRequests bool `gorm:"column:require_pushed_authorization_requests"`
	// TokenExchangeImpersonation lets a token exchange (RFC 8693) without
	// an actor_token issue a token with no act claim: the client then
	// impersonates the subject. Off, every exchanged token names its actor.
	TokenExchangeImpersonation bool `gorm:"column:token_exchange_impersonation"`
	// ClientRegistration says who may register clients at the tenant's
	// registration endpoint (RFC 7591): RegistrationOff (the default),
	// RegistrationToken or RegistrationOpen.
	ClientRegistration string `gorm:"column:client_registration"`
	// UserMetadataFields are the user_metadata fields the tenant's users
	// may edit on the account page (CheckMetadataFields).
	UserMetadataFields MetadataFields

	CreatedAt time.Time
	UpdatedAt time.Time
}

// AccessTokenTTL is how long an access token stays valid.
func (t *Tenant) AccessTokenTTL() time.Duration { return seconds(t.AccessTokenTTLSeconds) }

// IDTokenTTL is how long an ID token stays valid.
func (t *Tenant) IDTokenTTL() time.Duration { return seconds(t.IDTokenTTLSeconds) }

// RefreshTokenTTL is the absolute lifetime of a refresh token family.
func (t *Tenant) RefreshTokenTTL() time.Duration { return seconds(t.RefreshTokenTTLSeconds) }

// SessionTTL is the absolute lifetime of a login session.
func (t *Tenant) SessionTTL() time.Duration { return seconds(t.SessionTTLSeconds) }

// KeyRotationPeriod is how often the tenant's signing keys rotate on their
// own; 0 means never.
func (t *Tenant) KeyRotationPeriod() time.Duration { return seconds(t.KeyRotationSeconds) }

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

// Sign-up modes.
const (
	SignupOff     = "off"
	SignupOpen    = "open"
	SignupDomains = "domains"
)

// MFA policies.
const (
	MFAOff      = "off"
	MFAOptional = "optional"
	MFARequired = "required"
)

// Default lifetimes of a new tenant.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultIDTokenTTL      = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	DefaultSessionTTL      = 7 * 24 * time.Hour
)

// User is an end user of one tenant. ID is the OpenID Connect subject.
type User struct {
	ID                string `gorm:"primaryKey"`
	TenantID          string
	Email             string
	EmailNormalized   string
	EmailVerified     bool
	Name              string
	GivenName         string
	FamilyName        string
	PasswordHash      string
	DisabledAt        *time.Time
	LastLoginAt       *time.Time
	PasswordChangedAt *time.Time
	// UserMetadata and AppMetadata are JSON objects an import brought
	// (what the user may change, and what only admins may), "{}" or
	// empty for none.
	UserMetadata string
	AppMetadata  string
	// ImportedHashDigest is the SHA-256 (hex) of the password hash an
	// import last stored, so that the same import again is no change after
	// the hash was upgraded at sign-in.
	ImportedHashDigest string
	// Locale is the language the user chose for pages and email ("":
	// none chosen).
	Locale    string
	CreatedAt time.Time
	UpdatedAt time.Time
	// AccessRevision changes, in the same transaction, with anything the
	// user's access (UserAccess) is read from: a random number, never 0
	// once stored (0 is a user read without it). The database's triggers
	// keep it (migration 0031) and
	// the store never writes it, so that a user read and saved again can
	// never put back a revision a cached access was kept under.
	AccessRevision int64 `gorm:"->" json:"-"`
}

// Application types of a client (what kind of app registered it).
const (
	AppTypeWeb     = "web"     // server-side web app, confidential
	AppTypeSPA     = "spa"     // single-page app, public
	AppTypeNative  = "native"  // mobile or desktop app, public
	AppTypeMachine = "machine" // machine-to-machine, client credentials
)

// Token endpoint authentication methods (RFC 7591 §2).
const (
	AuthMethodBasic      = "client_secret_basic"
	AuthMethodPost       = "client_secret_post"
	AuthMethodPrivateKey = "private_key_jwt"
	AuthMethodNone       = "none"
	// AuthMethodSecretJWT is an assertion signed with HMAC keyed by the
	// client secret (RFC 7523 §2.2, OIDC Core §9). An HMAC cannot be
	// verified with a hash of its key, so such a client's secret is also
	// kept sealed under the master key (Client.SecretSealed).
	AuthMethodSecretJWT = "client_secret_jwt"
)

// AuthMethods are the token endpoint authentication methods Gatehouse
// enforces, in the order discovery lists them: a confidential client
// authenticates with exactly the one it is registered for, a public client
// with none. The introspection endpoint takes only the confidential ones.
func AuthMethods() []string {
	return []string{AuthMethodBasic, AuthMethodPost, AuthMethodSecretJWT, AuthMethodPrivateKey, AuthMethodNone}
}

// ValidateAuthMethod checks method for a public or confidential client:
// public clients use none, confidential ones client_secret_basic,
// client_secret_post, client_secret_jwt or private_key_jwt. Empty is the
// default: none or client_secret_basic.
func ValidateAuthMethod(method string, public bool) (string, error) {
	switch {
	case method == "" && public:
		return AuthMethodNone, nil
	case method == "":
		return AuthMethodBasic, nil
	case public && method == AuthMethodNone,
		!public && (HasSecret(method) || method == AuthMethodPrivateKey):
		return method, nil
	case public:
		return "", Invalid("token_endpoint_auth_method", "a public client authenticates with none, not %q", method)
	case method == AuthMethodNone:
		return "", Invalid("token_endpoint_auth_method", "a confidential client authenticates with client_secret_basic, client_secret_post, client_secret_jwt or private_key_jwt, not none")
	}
	return "", Invalid("token_endpoint_auth_method", "unknown method %q (client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none)", method)
}

// SecretMethod reports whether method authenticates by sending the client
// secret itself (in the Authorization header or the body).
func SecretMethod(method string) bool { return method == AuthMethodBasic || method == AuthMethodPost }

// HasSecret reports whether a client authenticating with method has a
// client secret: it sends it (SecretMethod) or keys its assertions' HMAC
// with it (client_secret_jwt).
func HasSecret(method string) bool { return SecretMethod(method) || method == AuthMethodSecretJWT }

// AssertionMethod reports whether method authenticates with a client
// assertion (RFC 7523 §2.2): private_key_jwt or client_secret_jwt.
func AssertionMethod(method string) bool {
	return method == AuthMethodPrivateKey || method == AuthMethodSecretJWT
}

// Client is an application registered with a tenant (an OAuth client).
// ClientID is its public identifier; SecretHash the SHA-256 of its secret.
type Client struct {
	ID                      string `gorm:"primaryKey"`
	TenantID                string
	ClientID                string
	Name                    string
	ApplicationType         string
	TokenEndpointAuthMethod string
	SecretHash              string
	PreviousSecretHash      string
	PreviousSecretExpiresAt *time.Time
	// SecretSealed and PreviousSecretSealed are, for a client_secret_jwt
	// client only, its current and previous secret sealed under the master
	// key ([SealClientSecret]), in step with SecretHash and
	// PreviousSecretHash; empty for every other client.
	SecretSealed           []byte
	PreviousSecretSealed   []byte
	RedirectURIs           Strings
	PostLogoutRedirectURIs Strings
	GrantTypes             Strings
	// IDTokenSignedResponseAlg is the JWS algorithm of the client's ID
	// tokens (RFC 7591 §2, OpenID Connect Dynamic Registration §2): one of
	// [SigningAlgorithms]; empty means [DefaultSigningAlgorithm].
	IDTokenSignedResponseAlg string `gorm:"column:id_token_signed_response_alg"`
	// Consent is whether the user is asked to consent (ConsentRequired,
	// also for "") or, for the tenant's own applications, not
	// (ConsentSkip): see ConsentPolicies.
	Consent string
	// JWKS (a JSON Web Key Set) or JWKSURI (where one is published) holds
	// the public keys of a private_key_jwt client's assertions (RFC 7591
	// §2); exactly one is set for such a client, neither for another.
	JWKS    string `gorm:"column:jwks"`
	JWKSURI string `gorm:"column:jwks_uri"`
	// RequirePushedAuthorizationRequests makes /authorize refuse the
	// client's requests unless pushed first (RFC 9126 §6).
	RequirePushedAuthorizationRequests bool `gorm:"column:require_pushed_authorization_requests"`
	// RefreshTokenGraceSeconds (0 to MaxRefreshTokenGrace) is how long after
	// a refresh token was rotated the same client may present it again and
	// get the same successor (tabs of one SPA refreshing at once); 0 means
	// none: any reuse revokes the family.
	RefreshTokenGraceSeconds int64 `gorm:"column:refresh_token_grace_seconds"`
	// DPoPBoundAccessTokens makes the token endpoint refuse the client's
	// requests without a DPoP proof (RFC 9449 §5.2).
	DPoPBoundAccessTokens bool `gorm:"column:dpop_bound_access_tokens"`
	// BackchannelLogoutURI is where the client hears of its users' logouts
	// (OpenID Connect Back-Channel Logout 1.0 §2.2); "" for nowhere.
	// With BackchannelLogoutSessionRequired every logout token it gets
	// names the session (sid).
	// LogoURI is the application's logo (https), shown on the consent
	// page; "" for none.
	LogoURI                          string `gorm:"column:logo_uri"`
	BackchannelLogoutURI             string `gorm:"column:backchannel_logout_uri"`
	BackchannelLogoutSessionRequired bool   `gorm:"column:backchannel_logout_session_required"`
	// Registered marks a client that registered itself (RFC 7591): it
	// always asks for consent. RegistrationTokenHash is the SHA-256 of its
	// registration access token (RFC 7592).
	Registered            bool
	RegistrationTokenHash string
	// Internal marks a client Gatehouse made for itself (the console's
	// "Try it" client): not listed, not editable.
	Internal bool
	// ClaimFormat says whether the roles and groups claims of the client's
	// tokens carry names (ClaimFormatNames, also for "") or the roles' and
	// groups' stable ids (ClaimFormatIDs).
	ClaimFormat string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MaxRefreshTokenGrace is the longest refresh token grace period a client
// may have.
const MaxRefreshTokenGrace = 60 * time.Second

// RefreshTokenGrace is the client's refresh token grace period (see
// RefreshTokenGraceSeconds), never more than MaxRefreshTokenGrace.
func (c *Client) RefreshTokenGrace() time.Duration {
	return min(max(seconds(c.RefreshTokenGraceSeconds), 0), MaxRefreshTokenGrace)
}

// Public reports whether the client cannot keep a secret (SPA, native).
func (c *Client) Public() bool { return c.TokenEndpointAuthMethod == AuthMethodNone }

// MinPasswordLength is the shortest password the tenant accepts (12 unless
// set).
func (t *Tenant) MinPasswordLength() int {
	if t.PasswordMinLength <= 0 {
		return 12
	}
	return int(t.PasswordMinLength)
}

// MFA is the tenant's MFA policy (optional unless set).
func (t *Tenant) MFA() string {
	if t.MFAPolicy == "" {
		return MFAOptional
	}
	return t.MFAPolicy
}

// Signup is the tenant's sign-up mode (off unless set).
func (t *Tenant) Signup() string {
	if t.SignupMode == "" {
		return SignupOff
	}
	return t.SignupMode
}

// SignupOpen reports whether anyone may create an account at the tenant in
// some way (the system tenant's accounts are operators': never).
func (t *Tenant) SignupOpen() bool { return !t.System && t.Signup() != SignupOff }

// AllowsSignup reports whether an account for email may be created by
// signing up (or by a first login through a connection that follows the
// tenant's sign-up setting): any address when sign-up is open; with
// domains, only an address in one of SignupDomains exactly (not a
// subdomain), and only when proven (proven: the address's owner confirmed
// it, or an upstream vouches for it), since an unproven address says
// nothing about who someone is.
func (t *Tenant) AllowsSignup(email string, proven bool) bool {
	if !t.SignupOpen() {
		return false
	}
	if t.Signup() == SignupOpen {
		return true
	}
	if !proven {
		return false
	}
	_, domain, ok := strings.Cut(NormalizeEmail(email), "@")
	if !ok || domain == "" {
		return false
	}
	for _, d := range t.SignupDomains {
		if NormalizeEmail(strings.TrimPrefix(strings.TrimSpace(d), "@")) == domain {
			return true
		}
	}
	return false
}

// AllowsGrant reports whether the tenant's clients may use grant type g.
func (t *Tenant) AllowsGrant(g string) bool { return t.GrantTypes.Contains(g) }

// AllowsGrant reports whether the client registered grant type g.
func (c *Client) AllowsGrant(g string) bool { return c.GrantTypes.Contains(g) }

// API is a resource server: it is named by its audience, and defines the
// scopes that clients may be granted on it.
type API struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	Name     string
	Audience string
	// SigningAlg is the JWS algorithm of the API's access tokens: one of
	// [SigningAlgorithms]; empty means [DefaultSigningAlgorithm].
	SigningAlg string
	// RBAC, when on, grants a user's tokens for the API only the scopes
	// the user holds through roles (see [GrantableScopes]); client
	// credentials tokens keep the client's grant.
	RBAC bool `gorm:"column:rbac"`
	// TokenClaims names the claims of [TokenClaimNames] the API's access
	// tokens carry for a user (RFC 9068 §2.2.3.1).
	TokenClaims Strings
	// ResourceServerClientID names the confidential client that is the
	// API itself at the introspection endpoint (RFC 7662 §2.1): it may
	// introspect the access tokens whose aud is the API. "" for none.
	ResourceServerClientID string `gorm:"column:resource_server_client_id"`
	// RegistrationScopes are the API's scopes a client that registers
	// itself (RFC 7591) may ask to be granted; none unless listed.
	RegistrationScopes Strings
	Scopes             []Scope `gorm:"foreignKey:APIID"`
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// WantsClaim reports whether the API's access tokens carry claim (one of
// [TokenClaimNames]).
func (a *API) WantsClaim(claim string) bool { return a != nil && a.TokenClaims.Contains(claim) }

// TableName implements gorm's tabler.
func (API) TableName() string { return "apis" }

// Scope is one permission an API defines, with the words the consent page
// shows for it.
type Scope struct {
	ID          string `gorm:"primaryKey"`
	TenantID    string
	APIID       string `gorm:"column:api_id"`
	Name        string
	Description string
	CreatedAt   time.Time
}

// TableName implements gorm's tabler.
func (Scope) TableName() string { return "api_scopes" }

// ClientGrant allows a client to request Scopes on an API.
type ClientGrant struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	ClientID  string
	APIID     string `gorm:"column:api_id"`
	Scopes    Strings
	CreatedAt time.Time
	// ExpiresAt, when set, is when the grant lapses (the console's Try it
	// client is granted the tried application's APIs for one try): from
	// then on it is never read.
	ExpiresAt *time.Time
}

// Consent records the scopes a user granted to a client.
type Consent struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	UserID   string
	ClientID string
	Scopes   ScopeSet
	// Implicit marks a consent recorded without asking, for a client whose
	// consent is ConsentSkip; the user sees and may revoke it as any other.
	// A consent the user gave once on the page is never implicit again.
	Implicit  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Session is a user's login at one tenant, in one browser. ID is the
// SHA-256 of the cookie value; the value itself is never stored.
type Session struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	UserID   string
	AuthTime time.Time
	AMR      Strings `gorm:"column:amr"`
	// IDP names the connection the user logged in through; empty for a
	// password.
	IDP string `gorm:"column:idp"`
	// ACR is the authentication context class the login reached.
	ACR string `gorm:"column:acr"`
	// SignInID names the sign-in the session comes from (the id of its
	// auth request); a session that rotates (a password change) keeps it.
	SignInID   string
	IPAddress  string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// AuthRequest is an authorization request (RFC 6749 §4.1.1) from the moment
// /authorize accepted it until its code is redeemed or it expires.
type AuthRequest struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	// ClientID is the client that asked; "" (NULL) for a sign-in intent of
	// Gatehouse's own pages.
	ClientID string `gorm:"default:null"`
	// Issuer is the tenant's issuer at the host the request was made at
	// (its own, or a custom domain's): the code is redeemed there only.
	Issuer              string
	RedirectURI         string
	State               string
	Nonce               string
	Scopes              Strings
	Audience            string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	// DPoPJKT binds the code to a DPoP key (RFC 9449 §10, the dpop_jkt
	// parameter): it is redeemed only with a proof of that key. "" for none.
	DPoPJKT     string `gorm:"column:dpop_jkt"`
	Prompt      Strings
	MaxAge      *int64
	LoginHint   string
	HintSubject string
	// UILocales are the languages the client asked the pages to be in
	// (ui_locales, OpenID Connect Core §3.1.2.1), space-separated.
	UILocales string `gorm:"column:ui_locales"`
	// BrowserHash is the SHA-256 of the browser cookie of the browser that
	// started the request; only that browser may continue it.
	BrowserHash string
	UserID      string
	AuthTime    *time.Time
	AMR         Strings `gorm:"column:amr"`
	IDP         string  `gorm:"column:idp"`
	ACR         string  `gorm:"column:acr"`
	// SID is the session (SessionSID) the user signed in with.
	SID string `gorm:"column:sid"`
	// ACRValues are the authentication context classes the client asked for.
	ACRValues Strings `gorm:"column:acr_values"`
	// CodeHash is the SHA-256 of the one authorization code issued for the
	// request; nil until the user has logged in and consented.
	CodeHash       *string
	CodeExpiresAt  *time.Time
	CodeRedeemedAt *time.Time
	// GrantID names the token family issued from the code, so that a replay
	// can revoke it.
	GrantID *string
	// Intent is "" for a client's authorization request, or why one of
	// Gatehouse's own pages asks someone to sign in (IntentAccount, ...);
	// such a request completes by sending the browser to ReturnTo, a path
	// on the tenant's host, with no code and no consent.
	Intent    string
	ReturnTo  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Sign-in intents of Gatehouse's own pages.
const (
	// IntentAccount signs in to the account pages.
	IntentAccount = "account"
	// IntentReauth proves again who the signed-in user is, before a
	// sensitive change on the account pages.
	IntentReauth = "reauth"
	// IntentIdPInitiated is a login an upstream SAML IdP started (an
	// unsolicited response): it lands on the account pages.
	IntentIdPInitiated = "idp_initiated"
	// IntentDevice signs in to answer a device's request (RFC 8628): it
	// returns to the device page.
	IntentDevice = "device"
	// IntentSAML signs in to answer a SAML application's AuthnRequest (or
	// an IdP-initiated launch): it returns to the SAML IdP's continue
	// endpoint, which issues the assertion.
	IntentSAML = "saml"
)

// DeviceAuthorization is a device authorization request (RFC 8628 §3.1)
// from the moment a device asked until its device code is redeemed or it
// expires. DeviceCodeHash is the SHA-256 of the device code, which is never
// stored; UserCode is the code the user types, as package oidc normalizes it.
type DeviceAuthorization struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	ClientID       string
	DeviceCodeHash string
	UserCode       string
	Scopes         Strings
	Audience       string
	// Status is DevicePending until the user answers, then DeviceApproved
	// or DeviceDenied; DeviceRedeemed once tokens were issued for it.
	Status string
	// Who approved it, and how (set with DeviceApproved).
	UserID   string
	AuthTime *time.Time
	AMR      Strings `gorm:"column:amr"`
	IDP      string  `gorm:"column:idp"`
	ACR      string  `gorm:"column:acr"`
	// IntervalSeconds is how long the device must wait between polls; it
	// grows by 5 s at every poll that came too early (RFC 8628 §3.5).
	IntervalSeconds int64
	LastPolledAt    *time.Time
	// GrantID names the token family issued for it.
	GrantID   *string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// States of a device authorization.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	DeviceRedeemed = "redeemed"
)

// Interval is how long the device must wait between polls.
func (d *DeviceAuthorization) Interval() time.Duration { return seconds(d.IntervalSeconds) }

// Grant is a token family: every access and refresh token issued from one
// authorization code and its refreshes. Revoking it revokes them all.
type Grant struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	ClientID string
	UserID   string
	Scopes   Strings
	Audience string
	AuthTime time.Time
	AMR      Strings `gorm:"column:amr"`
	IDP      string  `gorm:"column:idp"`
	ACR      string  `gorm:"column:acr"`
	// SID is the session the family's sign-in came from (the ID tokens'
	// sid); "" for none (client credentials, the device grant).
	SID           string `gorm:"column:sid"`
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RevokedAt     *time.Time
	RevokedReason string
	// DPoPJKT binds the family's refresh tokens to a DPoP key (RFC 9449
	// §5, public clients): the JWK SHA-256 thumbprint every refresh must
	// prove possession of. "" for none.
	DPoPJKT string `gorm:"column:dpop_jkt"`
}

// PushedRequest is an authorization request a client pushed (RFC 9126):
// ID is the SHA-256 of the random part of its request_uri, Params its
// parameters as JSON. It is used once, before ExpiresAt.
type PushedRequest struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	ClientID  string
	Params    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// RequiresPushedRequests reports whether the client's authorization
// requests must be pushed first, by its own setting or its tenant's.
func (c *Client) RequiresPushedRequests(t *Tenant) bool {
	return c.RequirePushedAuthorizationRequests || t.RequirePushedAuthorizationRequests
}

// ClientAssertion is the jti of a client assertion (RFC 7523) that was
// accepted, kept until the assertion expires so that none is accepted
// twice, by any node.
type ClientAssertion struct {
	TenantID  string `gorm:"primaryKey"`
	ClientID  string `gorm:"primaryKey"`
	JTI       string `gorm:"primaryKey;column:jti"`
	ExpiresAt time.Time
}

// DPoPProof is the jti of a DPoP proof (RFC 9449 §11.1) that was accepted,
// per key (JKT, the JWK thumbprint), kept until the proof is too old to be
// accepted anyway, so that no node accepts it twice.
type DPoPProof struct {
	TenantID  string `gorm:"primaryKey"`
	JKT       string `gorm:"primaryKey;column:jkt"`
	JTI       string `gorm:"primaryKey;column:jti"`
	ExpiresAt time.Time
}

// TableName is dpop_proofs.
func (DPoPProof) TableName() string { return "dpop_proofs" }

// RevokedToken is an access token revoked before its expiry, by its jti:
// access tokens are not stored, so the revocation list is what makes a
// revoked one inactive. The row goes when the token would have expired.
type RevokedToken struct {
	TenantID  string `gorm:"primaryKey"`
	JTI       string `gorm:"primaryKey;column:jti"`
	ClientID  string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// TokenStatus is what the database says of an access token: whether its
// jti was revoked, and for a family token whether the family exists, is
// revoked, and whose it is.
type TokenStatus struct {
	Revoked bool
	// ClientExists is false when the token's client was deleted: its
	// tokens die with it.
	ClientExists bool
	// Family fields, for a token issued in a family (GrantID given).
	GrantFound    bool
	GrantRevoked  bool
	GrantClientID string
	GrantUserID   string
}

// RefreshToken is one refresh token of a family; TokenHash is the SHA-256 of
// the token. UsedAt is set when it is rotated: a second use is a reuse.
type RefreshToken struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	TokenHash string
	GrantID   string
	ClientID  string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	// SuccessorSeed, set when the token was rotated for a client with a
	// refresh token grace period, derives the successor's value from this
	// token's (neither is stored): presented again within the grace
	// period, the token is answered with the same successor by any node.
	// "" for none.
	SuccessorSeed string
}

// SigningKey is a tenant's key pair. The private key is sealed under the
// master key; PublicJWK is the public half as a JSON Web Key.
type SigningKey struct {
	ID            string `gorm:"primaryKey"`
	TenantID      string
	Algorithm     string
	PublicJWK     string `gorm:"column:public_jwk"`
	PrivateSealed []byte
	CreatedAt     time.Time
	// ActivatesAt, when set, is when the key starts signing; before then it
	// is only published, so that relying parties' cached JWKS know it
	// before the first token it signs (nil: since CreatedAt).
	ActivatesAt *time.Time
	// RetiredAt is when a newer key of the algorithm takes over signing (it
	// may lie in the future while that key is pre-published); the key stays
	// in the JWKS until ExpiresAt, so that tokens it signed still verify.
	RetiredAt *time.Time
	ExpiresAt *time.Time
}

// Active reports whether the key is not retired yet: it signs, or will
// once it activates. See [SigningKey.SignsAt] for a given moment.
func (k *SigningKey) Active() bool { return k.RetiredAt == nil }

// Activation is when the key starts (or started) signing.
func (k *SigningKey) Activation() time.Time {
	if k.ActivatesAt != nil {
		return *k.ActivatesAt
	}
	return k.CreatedAt
}

// SignsAt reports whether the key is its algorithm's signing key at now:
// activated, and not retired.
func (k *SigningKey) SignsAt(now time.Time) bool {
	return !now.Before(k.Activation()) && (k.RetiredAt == nil || now.Before(*k.RetiredAt))
}

// PublishedAt reports whether the key is in the JWKS at now: not expired
// (pending, signing, or retired with tokens that may still verify).
func (k *SigningKey) PublishedAt(now time.Time) bool {
	return k.ExpiresAt == nil || now.Before(*k.ExpiresAt)
}

// SenderName is the display name of the tenant's email: the configured
// one, else the tenant's display name.
func (t *Tenant) SenderName() string {
	if n := strings.TrimSpace(t.EmailFromName); n != "" {
		return n
	}
	return t.DisplayName
}
