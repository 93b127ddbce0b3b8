package admin

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Audit actions of dynamic client registration.
const (
	ActionInitialTokenCreated = "registration.token_created"
	ActionInitialTokenDeleted = "registration.token_deleted"
)

// RegistrationError is a refusal of the registration endpoint (RFC 7591
// §3.2.2, RFC 7592 §2): Code is invalid_redirect_uri or
// invalid_client_metadata (400), or invalid_token (401: a missing, wrong,
// used-up or other tenant's initial or registration access token, and a
// client that is not there, alike).
type RegistrationError struct {
	Code, Description string
}

func (e *RegistrationError) Error() string { return e.Code + ": " + e.Description }

// Registration error codes.
const (
	RegInvalidToken         = "invalid_token"
	RegInvalidRedirectURI   = "invalid_redirect_uri"
	RegInvalidClientMetdata = "invalid_client_metadata"
)

func badToken() error {
	return &RegistrationError{Code: RegInvalidToken, Description: "the access token is missing, not valid, or used up"}
}

func badMetadata(msg string) error {
	return &RegistrationError{Code: RegInvalidClientMetdata, Description: msg}
}

// registrationError turns a validation error into the registration
// endpoint's: one about redirect URIs is invalid_redirect_uri.
func registrationError(err error) error {
	var v *tenants.ValidationError
	if errors.As(err, &v) {
		code := RegInvalidClientMetdata
		if v.Field == "redirect_uris" {
			code = RegInvalidRedirectURI
		}
		return &RegistrationError{Code: code, Description: v.Field + ": " + v.Message}
	}
	return err
}

// ClientMetadata is the client metadata of a registration request (RFC
// 7591 §2, OpenID Connect Dynamic Client Registration §2, Back-Channel
// Logout §2.2, RFC 9126 §6). Unknown members are ignored (RFC 7591 §2);
// software statements are not supported.
type ClientMetadata struct {
	ClientID                           string          `json:"client_id,omitempty"`
	RedirectURIs                       []string        `json:"redirect_uris"`
	TokenEndpointAuthMethod            string          `json:"token_endpoint_auth_method"`
	GrantTypes                         []string        `json:"grant_types"`
	ResponseTypes                      []string        `json:"response_types"`
	ClientName                         string          `json:"client_name"`
	ApplicationType                    string          `json:"application_type"`
	PostLogoutRedirectURIs             []string        `json:"post_logout_redirect_uris"`
	JWKS                               json.RawMessage `json:"jwks"`
	JWKSURI                            string          `json:"jwks_uri"`
	IDTokenSignedResponseAlg           string          `json:"id_token_signed_response_alg"`
	BackchannelLogoutURI               string          `json:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired   bool            `json:"backchannel_logout_session_required"`
	RequirePushedAuthorizationRequests bool            `json:"require_pushed_authorization_requests"`
	// Scope (RFC 7591 §2) names API scopes the client asks to be granted,
	// space-separated: each must be one of an API's registration_scopes.
	// OpenID Connect's own scopes need no grant and are ignored.
	Scope string `json:"scope"`
}

// Registration is the registration endpoint's answer (RFC 7591 §3.2.1,
// RFC 7592 §3): the client's metadata as registered, and how to manage it.
// RegistrationAccessToken is in the answer to the registration only.
type Registration struct {
	*Client
	// ApplicationType is OpenID's (web or native), not the console's kind.
	ApplicationType string `json:"application_type"`
	// Scope is the API scopes granted, space-separated (RFC 7591 §2).
	Scope                   string `json:"scope,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri"`
}

// registrationTenant returns the tenant in ctx if it takes registrations.
func registrationTenant(ctx context.Context) (*tenants.Tenant, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok || t.Registration() == tenants.RegistrationOff {
		return nil, tenants.ErrNotFound
	}
	return t, nil
}

// asRegistrant returns ctx naming who acts in the audit log: the
// registration endpoint's caller (kind "registration", by how it was let
// in), or a registered client managing itself. Such a principal holds no
// scope and reaches no tenant: it authorizes nothing.
func asRegistrant(ctx context.Context, kind, id, name string) context.Context {
	return WithPrincipal(ctx, &Principal{Kind: kind, ID: id, Name: name})
}

// metadataInput turns metadata into what an application needs, with RFC
// 7591's defaults: grant_types authorization_code, response_types code,
// token_endpoint_auth_method client_secret_basic, application_type web.
func metadataInput(md ClientMetadata) (CreateClientInput, error) {
	in := CreateClientInput{
		Name: strings.TrimSpace(md.ClientName), RedirectURIs: md.RedirectURIs, PostLogoutRedirectURIs: md.PostLogoutRedirectURIs,
		GrantTypes: md.GrantTypes, IDTokenSignedResponseAlg: md.IDTokenSignedResponseAlg, TokenEndpointAuthMethod: md.TokenEndpointAuthMethod,
		JWKS: rawKeys(md.JWKS), JWKSURI: md.JWKSURI, RequirePushedAuthorizationRequests: md.RequirePushedAuthorizationRequests,
		BackchannelLogoutURI: md.BackchannelLogoutURI, BackchannelLogoutSessionRequired: md.BackchannelLogoutSessionRequired,
	}
	if in.Name == "" {
		in.Name = "Registered application"
	}
	if len(in.GrantTypes) == 0 {
		in.GrantTypes = []string{tenants.GrantAuthorizationCode}
	}
	for _, rt := range md.ResponseTypes {
		if rt != "code" {
			return in, badMetadata("response_types: only code is supported")
		}
	}
	code := slices.Contains(in.GrantTypes, tenants.GrantAuthorizationCode)
	if len(md.ResponseTypes) > 0 && !code {
		return in, badMetadata("response_types code needs the authorization_code grant type")
	}
	public := md.TokenEndpointAuthMethod == tenants.AuthMethodNone
	switch md.ApplicationType {
	case "", "web":
		switch {
		case public:
			in.Kind = KindSPA
		case onlyMachineGrants(in.GrantTypes):
			in.Kind = KindMachine
		default:
			in.Kind = KindWeb
		}
	case "native":
		if !public {
			return in, badMetadata("a native application is public: token_endpoint_auth_method none")
		}
		in.Kind = KindNative
	default:
		return in, badMetadata("application_type: web or native")
	}
	in.Public = public
	return in, nil
}

func rawKeys(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	return string(raw)
}

func (s *Service) registration(t *tenants.Tenant, v *Client) *Registration {
	typ := "web"
	if v.ApplicationType == KindNative {
		typ = "native"
	}
	var scopes []string
	for _, g := range v.APIGrants {
		scopes = append(scopes, g.Scopes...)
	}
	return &Registration{Client: v, ApplicationType: typ, Scope: strings.Join(scopes, " "),
		RegistrationClientURI: t.Issuer + tenants.PathRegister + "/" + v.ClientID}
}

// RegisterClient registers a client at the tenant in ctx (RFC 7591 §3):
// with the tenant's mode token, initialToken must be one of its unexpired
// initial access tokens with a use left (one is spent); with open, any
// caller may (a token given must still be valid). The client is marked
// registered (it always asks for consent), gets no API access, and a
// registration access token (RFC 7592) that only its hash is kept of.
func (s *Service) RegisterClient(ctx context.Context, initialToken string, md ClientMetadata) (*Registration, error) {
	t, err := registrationTenant(ctx)
	if err != nil {
		return nil, err
	}
	if t.Registration() == tenants.RegistrationToken && initialToken == "" {
		return nil, badToken()
	}
	in, err := metadataInput(md)
	if err != nil {
		return nil, err
	}
	if in.Audiences, in.Scopes, err = s.registrationAccess(ctx, md.Scope); err != nil {
		return nil, err
	}
	tokenHash := ""
	ctx = asRegistrant(ctx, "registration", tenants.RegistrationOpen, "dynamic client registration")
	if initialToken != "" {
		tokenHash = secret.Hash(initialToken)
		ctx = asRegistrant(ctx, "registration", "initial access token", "dynamic client registration")
	}
	rat := secret.Token(32)
	var spent bool
	v, err := s.createClient(ctx, t, in, func(c *tenants.Client, grants []tenants.ClientGrant) error {
		c.RegistrationTokenHash = secret.Hash(rat)
		err := s.store.RegisterClient(ctx, c, tokenHash, grants)
		spent = errors.Is(err, tenants.ErrNotFound)
		return err
	})
	if spent {
		return nil, badToken()
	}
	if err != nil {
		return nil, registrationError(err)
	}
	r := s.registration(t, v)
	r.RegistrationAccessToken = rat
	return r, nil
}

// registrationAccess resolves the scope metadata of a registration into
// the API access it asks for: each scope one of an API's
// registration_scopes (the admin's word for what self-registered clients
// may have), and the APIs they belong to.
func (s *Service) registrationAccess(ctx context.Context, scope string) (audiences, scopes []string, err error) {
	if len(scope) > 4096 {
		return nil, nil, badMetadata("scope: too long")
	}
	words := strings.Fields(scope)
	if len(words) == 0 {
		return nil, nil, nil
	}
	apis, err := s.store.ListAPIs(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range words {
		if tenants.OIDCScope(w) {
			continue
		}
		var owner *tenants.API
		for i := range apis {
			if apis[i].RegistrationScopes.Contains(w) {
				if owner != nil {
					return nil, nil, badMetadata("scope: " + tenants.Truncate(w, 60) + " is a scope of more than one API")
				}
				owner = &apis[i]
			}
		}
		if owner == nil {
			return nil, nil, badMetadata("scope: " + tenants.Truncate(w, 60) + " is not a scope applications may register for")
		}
		if !slices.Contains(audiences, owner.Audience) {
			audiences = append(audiences, owner.Audience)
		}
		if !slices.Contains(scopes, w) {
			scopes = append(scopes, w)
		}
	}
	return audiences, scopes, nil
}

// registeredClient loads the client clientID of the tenant in ctx that
// registered itself, if rat is its registration access token.
func (s *Service) registeredClient(ctx context.Context, clientID, rat string) (*tenants.Tenant, *tenants.Client, error) {
	t, err := registrationTenant(ctx)
	if err != nil {
		return nil, nil, err
	}
	if rat == "" || len(clientID) > 200 {
		return nil, nil, badToken()
	}
	c, err := s.store.RegisteredClient(ctx, clientID, secret.Hash(rat))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, nil, badToken()
	}
	return t, c, err
}

// managing returns ctx naming client c, managing its own registration
// (RFC 7592), as the actor of the audit log.
func managing(ctx context.Context, c *tenants.Client) context.Context {
	return asRegistrant(ctx, tenants.PrincipalClient, c.ClientID, "registration access token")
}

// ReadRegistration answers a client's read of its registration (RFC 7592
// §2.1).
func (s *Service) ReadRegistration(ctx context.Context, clientID, rat string) (*Registration, error) {
	t, c, err := s.registeredClient(ctx, clientID, rat)
	if err != nil {
		return nil, err
	}
	v, err := s.clientWithGrants(ctx, c)
	if err != nil {
		return nil, err
	}
	return s.registration(t, v), nil
}

// UpdateRegistration replaces a client's metadata with md (RFC 7592
// §2.2: a field left out takes its default). The client's id must be
// md's; its kind and way of authenticating (with a secret or not) stay.
func (s *Service) UpdateRegistration(ctx context.Context, clientID, rat string, md ClientMetadata) (*Registration, error) {
	t, c, err := s.registeredClient(ctx, clientID, rat)
	if err != nil {
		return nil, err
	}
	if md.ClientID != clientID {
		return nil, badMetadata("client_id must be the client's")
	}
	in, err := metadataInput(md)
	if err != nil {
		return nil, err
	}
	if in.Kind != c.ApplicationType {
		return nil, badMetadata("the application's type and public or confidential kind cannot change; register a new one")
	}
	up := UpdateClientInput{Name: &in.Name, RedirectURIs: nonNil(in.RedirectURIs), PostLogoutRedirectURIs: nonNil(in.PostLogoutRedirectURIs),
		GrantTypes: in.GrantTypes, IDTokenSignedResponseAlg: &in.IDTokenSignedResponseAlg, TokenEndpointAuthMethod: &in.TokenEndpointAuthMethod,
		JWKS: &in.JWKS, JWKSURI: &in.JWKSURI, RequirePushedAuthorizationRequests: &in.RequirePushedAuthorizationRequests,
		BackchannelLogoutURI: &in.BackchannelLogoutURI, BackchannelLogoutSessionRequired: &in.BackchannelLogoutSessionRequired}
	if in.TokenEndpointAuthMethod == "" {
		up.TokenEndpointAuthMethod = nil // the kind's default: as registered
	}
	v, err := s.updateClient(managing(ctx, c), t, c, up)
	if err != nil {
		return nil, registrationError(err)
	}
	return s.registration(t, v), nil
}

// DeleteRegistration deletes a client that registered itself, with its
// consents and tokens (RFC 7592 §2.3).
func (s *Service) DeleteRegistration(ctx context.Context, clientID, rat string) error {
	t, c, err := s.registeredClient(ctx, clientID, rat)
	if err != nil {
		return err
	}
	before, err := s.clientWithGrants(ctx, c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteClient(ctx, clientID); err != nil {
		return err
	}
	s.changed(t)
	return s.audit(managing(ctx, c), t, ActionClientDeleted, "client", clientID, before, nil)
}

// InitialAccessToken is an initial access token as admins see it; Token
// is in the answer to its creation only.
type InitialAccessToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	UsesLeft  int       `json:"uses_left"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
	Token     string    `json:"token,omitempty"`
}

func initialTokenView(rt *tenants.InitialAccessToken) *InitialAccessToken {
	return &InitialAccessToken{ID: rt.ID, Name: rt.Name, UsesLeft: rt.UsesLeft, ExpiresAt: rt.ExpiresAt, CreatedAt: rt.CreatedAt}
}

// InitialAccessTokenInput is what a new initial access token needs: a
// name for admins, how long it lasts (default 7 days, at most 90) and how
// many clients it may register (default 1, at most 1000).
type InitialAccessTokenInput struct {
	Name     string
	Lifetime time.Duration
	Uses     int
}

// CreateInitialAccessToken makes an initial access token for the tenant
// in ctx (RFC 7591 §3): 256 random bits, shown once, kept as a hash.
func (s *Service) CreateInitialAccessToken(ctx context.Context, in InitialAccessTokenInput) (*InitialAccessToken, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name != "" {
		if err := validateName("name", name, 200); err != nil {
			return nil, err
		}
	}
	if in.Lifetime == 0 {
		in.Lifetime = 7 * 24 * time.Hour
	}
	if in.Lifetime < time.Minute || in.Lifetime > 90*24*time.Hour {
		return nil, tenants.Invalid("lifetime", "between a minute and 90 days")
	}
	if in.Uses == 0 {
		in.Uses = 1
	}
	if in.Uses < 1 || in.Uses > 1000 {
		return nil, tenants.Invalid("uses", "between 1 and 1000")
	}
	plain := "gh_iat_" + secret.Token(32)
	rt := &tenants.InitialAccessToken{TokenHash: secret.Hash(plain), Name: name, UsesLeft: in.Uses, ExpiresAt: s.store.Now().Add(in.Lifetime)}
	if err := s.store.CreateInitialAccessToken(ctx, rt); err != nil {
		return nil, err
	}
	v := initialTokenView(rt)
	if err := s.audit(ctx, t, ActionInitialTokenCreated, "initial_access_token", rt.ID, nil, v); err != nil {
		return nil, err
	}
	v.Token = plain
	return v, nil
}

// ListInitialAccessTokens returns the usable initial access tokens of the
// tenant in ctx.
func (s *Service) ListInitialAccessTokens(ctx context.Context) ([]*InitialAccessToken, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	ts, err := s.store.ListInitialAccessTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*InitialAccessToken, 0, len(ts))
	for i := range ts {
		out = append(out, initialTokenView(&ts[i]))
	}
	return out, nil
}

// DeleteInitialAccessToken deletes an initial access token of the tenant
// in ctx: it registers nothing more.
func (s *Service) DeleteInitialAccessToken(ctx context.Context, id string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	if err := s.store.DeleteInitialAccessToken(ctx, id); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionInitialTokenDeleted, "initial_access_token", id, nil, nil)
}
