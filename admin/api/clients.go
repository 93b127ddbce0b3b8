package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

// clientFieldNames maps the services' field names to this API's.
var clientFieldNames = map[string]string{"name": "client_name", "audience": "audiences", "scope": "scopes", "grace_period": "grace_period_seconds"}

// createClientBody registers an application (RFC 7591 field names where
// there is one).
type createClientBody struct {
	Kind                               string          `json:"kind" required:"true" enum:"web,spa,native,machine" doc:"web: server-side app, confidential; spa: single-page app, public, PKCE; native: mobile or desktop app, public, PKCE, private-use redirect schemes allowed; machine: client credentials only"`
	ClientName                         string          `json:"client_name" required:"true"`
	RedirectURIs                       []string        `json:"redirect_uris" doc:"exact redirect URIs: https, http on a loopback host, or (native) a reverse-domain private-use scheme"`
	PostLogoutRedirectURIs             []string        `json:"post_logout_redirect_uris"`
	GrantTypes                         []string        `json:"grant_types" enumFrom:"grant_types" doc:"among those the tenant allows, each with the grant it needs if any; public clients only grants without a secret, machine clients only grants without an end user. Defaults by kind: the tenant's default grants that fit it"`
	Audiences                          []string        `json:"audiences" doc:"audiences of the tenant's APIs the application may request tokens for; to set scopes per API later, use PUT .../grants"`
	Scopes                             []string        `json:"scopes" doc:"API scopes granted, each defined by one of the audiences; none: every scope of the audiences"`
	IDTokenSignedResponseAlg           string          `json:"id_token_signed_response_alg" enumFrom:"signing_algorithms" doc:"the JWS algorithm of the application's ID tokens (RFC 7591); defaults to RS256"`
	TokenEndpointAuthMethod            string          `json:"token_endpoint_auth_method" enum:"client_secret_basic,client_secret_post,client_secret_jwt,private_key_jwt,none" doc:"how the application authenticates at the token, introspection, revocation and pushed authorization request endpoints (RFC 7591), enforced: web and machine applications client_secret_basic (the default), client_secret_post, client_secret_jwt (HS256 assertions keyed by the client secret, OIDC Core §9; the secret is kept sealed under the master key besides its hash) or private_key_jwt (RFC 7523 assertions, with jwks or jwks_uri), spa and native applications none"`
	JWKS                               json.RawMessage `json:"jwks" doc:"private_key_jwt: the application's public signing keys, a JSON Web Key Set (RSA of 2048 bits or more, EC P-256 or Ed25519; at most 20 keys, 64 KiB)"`
	JWKSURI                            string          `json:"jwks_uri" doc:"private_key_jwt: where the application publishes its JSON Web Key Set (https; http only on loopback hosts); fetched from a public address, or a host in GATEHOUSE_UPSTREAM_ALLOW_HOSTS, and again on an unknown kid"`
	RequirePushedAuthorizationRequests bool            `json:"require_pushed_authorization_requests" doc:"the application must push its authorization requests to /oauth/par (RFC 9126) before /authorize"`
	DPoPBoundAccessTokens              bool            `json:"dpop_bound_access_tokens" doc:"the application sends a DPoP proof (RFC 9449) with every token request; without one the token endpoint refuses it. Any application may use DPoP without it"`
	RefreshTokenGracePeriod            int64           `json:"refresh_token_grace_period" doc:"seconds, 0 to 60: how long after a refresh token was rotated the same application may present it again and get the same new refresh token (tabs of one SPA refreshing at once); 0, the default, means any reuse revokes the token family"`
	BackchannelLogoutURI               string          `json:"backchannel_logout_uri" doc:"where the application is sent a logout token when a session of its user ends (OpenID Connect Back-Channel Logout 1.0): https, no fragment; http, loopback and private addresses only for hosts in GATEHOUSE_UPSTREAM_ALLOW_HOSTS"`
	BackchannelLogoutSessionRequired   bool            `json:"backchannel_logout_session_required" doc:"every logout token names the session (sid)"`
	Consent                            string          `json:"consent" enum:"required,skip" doc:"required (the default): users are asked to consent; skip: a first-party application of the tenant, whose consent is recorded as implicit (the user still sees and may revoke it on the account page; prompt=consent still asks)"`
	ClaimFormat                        string          `json:"claim_format" enum:"names,ids" doc:"names (the default): the roles and groups claims of the application's tokens carry role and group names; ids: their stable ids, unchanged by a rename (upstream groups passed through keep their names)"`
	LogoURI                            string          `json:"logo_uri" doc:"the logo the consent page shows: an https URL"`
}

func (h *Handler) listClients(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	cs, err := h.svc.ListClients(ctx)
	if err != nil {
		return err
	}
	// Names are free text without control characters: \x01 sorts the pair
	// (name, client_id) as a pair.
	page, err := paginate(c, cs, func(x *admin.Client) string { return x.ClientName + "\x01" + x.ClientID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) createClient(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b createClientBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.Kind == "" {
		return badRequest("kind", "must be web, spa, native or machine")
	}
	v, err := h.svc.CreateClient(ctx, admin.CreateClientInput{
		Name: b.ClientName, Kind: b.Kind, RedirectURIs: b.RedirectURIs, PostLogoutRedirectURIs: b.PostLogoutRedirectURIs,
		GrantTypes: b.GrantTypes, Audiences: b.Audiences, Scopes: b.Scopes, IDTokenSignedResponseAlg: b.IDTokenSignedResponseAlg,
		TokenEndpointAuthMethod: b.TokenEndpointAuthMethod, JWKS: rawJWKS(b.JWKS), JWKSURI: b.JWKSURI,
		RequirePushedAuthorizationRequests: b.RequirePushedAuthorizationRequests, Consent: b.Consent, ClaimFormat: b.ClaimFormat, LogoURI: b.LogoURI,
		RefreshTokenGracePeriod: b.RefreshTokenGracePeriod,
		DPoPBoundAccessTokens:   b.DPoPBoundAccessTokens,
		BackchannelLogoutURI:    b.BackchannelLogoutURI, BackchannelLogoutSessionRequired: b.BackchannelLogoutSessionRequired,
	})
	if err != nil {
		return renamed(err, clientFieldNames)
	}
	return created(c, "/tenants/"+t.Slug+"/applications/"+v.ClientID, v)
}

func (h *Handler) getClient(c echo.Context) error {
	ctx, id, err := h.object(c, "client_id")
	if err != nil {
		return err
	}
	v, err := h.svc.GetClient(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// updateClientBody is a partial update: absent (or null) fields are left as
// they are; a list given replaces the list.
type updateClientBody struct {
	ClientName                         *string         `json:"client_name"`
	RedirectURIs                       []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs             []string        `json:"post_logout_redirect_uris"`
	GrantTypes                         []string        `json:"grant_types" enumFrom:"grant_types"`
	IDTokenSignedResponseAlg           *string         `json:"id_token_signed_response_alg" enumFrom:"signing_algorithms" doc:"the JWS algorithm of the application's ID tokens from now on"`
	TokenEndpointAuthMethod            *string         `json:"token_endpoint_auth_method" enum:"client_secret_basic,client_secret_post,client_secret_jwt,private_key_jwt,none" doc:"how the application authenticates from now on; a confidential application may switch between client_secret_basic and client_secret_post"`
	JWKS                               json.RawMessage `json:"jwks" doc:"private_key_jwt: replaces the application's keys (and clears jwks_uri)"`
	JWKSURI                            *string         `json:"jwks_uri" doc:"private_key_jwt: replaces where the application's keys are published (and clears jwks)"`
	RequirePushedAuthorizationRequests *bool           `json:"require_pushed_authorization_requests" doc:"whether the application must push its authorization requests (RFC 9126)"`
	DPoPBoundAccessTokens              *bool           `json:"dpop_bound_access_tokens" doc:"whether the application must send a DPoP proof (RFC 9449) with every token request"`
	RefreshTokenGracePeriod            *int64          `json:"refresh_token_grace_period" doc:"seconds, 0 to 60: the refresh token grace period from now on"`
	BackchannelLogoutURI               *string         `json:"backchannel_logout_uri" doc:"replaces where the application is sent logout tokens; \"\" for nowhere"`
	BackchannelLogoutSessionRequired   *bool           `json:"backchannel_logout_session_required" doc:"whether every logout token names the session (sid)"`
	Consent                            *string         `json:"consent" enum:"required,skip" doc:"whether users are asked to consent from now on; consents already recorded stay"`
	ClaimFormat                        *string         `json:"claim_format" enum:"names,ids" doc:"what the roles and groups claims carry from now on: names or ids"`
	LogoURI                            *string         `json:"logo_uri" doc:"the logo the consent page shows: an https URL; \"\" for none"`
}

func (h *Handler) updateClient(c echo.Context) error {
	ctx, id, err := h.object(c, "client_id")
	if err != nil {
		return err
	}
	var b updateClientBody
	if err := decode(c, &b); err != nil {
		return err
	}
	v, err := h.svc.UpdateClient(ctx, id, admin.UpdateClientInput{
		Name: b.ClientName, RedirectURIs: b.RedirectURIs, PostLogoutRedirectURIs: b.PostLogoutRedirectURIs, GrantTypes: b.GrantTypes,
		IDTokenSignedResponseAlg: b.IDTokenSignedResponseAlg,
		TokenEndpointAuthMethod:  b.TokenEndpointAuthMethod,
		JWKS:                     optionalJWKS(b.JWKS), JWKSURI: b.JWKSURI,
		RequirePushedAuthorizationRequests: b.RequirePushedAuthorizationRequests, Consent: b.Consent, ClaimFormat: b.ClaimFormat,
		RefreshTokenGracePeriod: b.RefreshTokenGracePeriod,
		DPoPBoundAccessTokens:   b.DPoPBoundAccessTokens,
		BackchannelLogoutURI:    b.BackchannelLogoutURI, BackchannelLogoutSessionRequired: b.BackchannelLogoutSessionRequired,
		LogoURI: b.LogoURI,
	})
	if err != nil {
		return renamed(err, clientFieldNames)
	}
	return c.JSON(http.StatusOK, v)
}

// rawJWKS is a key set as the service takes it: "" for absent or null.
func rawJWKS(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// optionalJWKS is a key set of a partial update: nil for absent or null.
func optionalJWKS(raw json.RawMessage) *string {
	if s := rawJWKS(raw); s != "" {
		return &s
	}
	return nil
}

func (h *Handler) deleteClient(c echo.Context) error {
	ctx, id, err := h.object(c, "client_id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteClient(ctx, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// maxGrace is the longest grace period of a rotated secret, in seconds.
const maxGrace = 30 * 24 * 60 * 60

type rotateSecretBody struct {
	GracePeriodSeconds *int64 `json:"grace_period_seconds" doc:"how long the previous secret keeps working, 0 to 2592000 seconds; default 86400"`
}

// rotateSecret gives a confidential application a new secret, shown in
// this answer only.
func (h *Handler) rotateSecret(c echo.Context) error {
	ctx, id, err := h.object(c, "client_id")
	if err != nil {
		return err
	}
	var b rotateSecretBody
	if err := decodeOptional(c, &b); err != nil {
		return err
	}
	grace := admin.SecretGracePeriod
	if b.GracePeriodSeconds != nil {
		if n := *b.GracePeriodSeconds; n < 0 || n > maxGrace {
			return badRequest("grace_period_seconds", "must be between 0 and 2592000 (30 days)")
		}
		grace = time.Duration(*b.GracePeriodSeconds) * time.Second
	}
	v, err := h.svc.RotateClientSecret(ctx, id, grace)
	if err != nil {
		return renamed(err, clientFieldNames)
	}
	return c.JSON(http.StatusOK, v)
}

// grantBody is the API scopes an application may request from one API.
type grantBody struct {
	Audience string   `json:"audience" required:"true" doc:"the API's audience"`
	Scopes   []string `json:"scopes" required:"true" doc:"scopes of that API; empty: the audience without scopes"`
}

// setGrants replaces the API scopes an application may request.
func (h *Handler) setGrants(c echo.Context) error {
	ctx, id, err := h.object(c, "client_id")
	if err != nil {
		return err
	}
	var b []grantBody
	if err := decode(c, &b); err != nil {
		return err
	}
	grants := make([]admin.ClientGrant, len(b))
	for i, g := range b {
		grants[i] = admin.ClientGrant{Audience: g.Audience, Scopes: g.Scopes}
	}
	v, err := h.svc.SetClientGrants(ctx, id, grants)
	if err != nil {
		return renamed(err, map[string]string{"scope": "scopes"})
	}
	return c.JSON(http.StatusOK, v)
}

// object resolves the tenant of the path and the id in path parameter
// name.
func (h *Handler) object(c echo.Context, name string) (ctx context.Context, id string, err error) {
	ctx, _, err = h.tenant(c)
	if err != nil {
		return nil, "", err
	}
	id, err = pathParam(c, name)
	return ctx, id, err
}
