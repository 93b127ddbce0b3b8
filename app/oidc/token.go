package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// grantHandler answers a token request of one grant type, for a client
// already authenticated and allowed to use the grant.
type grantHandler func(ctx context.Context, t *tenants.Tenant, c *client, form url.Values) (*Response, error)

// grantHandlers is the token endpoint's dispatch table: one handler per
// grant type of the registry (tenants.GrantTypes).
func (p *Provider) grantHandlers() map[string]grantHandler {
	return map[string]grantHandler{
		tenants.GrantAuthorizationCode: p.exchangeCode,
		tenants.GrantRefreshToken:      p.exchangeRefresh,
		tenants.GrantClientCredentials: p.clientCredentials,
		tenants.GrantDeviceCode:        p.exchangeDeviceCode,
		tenants.GrantTokenExchange:     p.exchangeToken,
	}
}

// checkGrantHandlers makes a grant of the registry without a handler (or a
// handler of a grant the registry does not know) a startup error rather
// than a request that fails.
func checkGrantHandlers(h map[string]grantHandler) error {
	for _, g := range tenants.GrantTypes() {
		if h[g.Name] == nil {
			return fmt.Errorf("oidc: grant %s has no token endpoint handler", g.Name)
		}
	}
	for name := range h {
		if _, ok := tenants.LookupGrant(name); !ok {
			return fmt.Errorf("oidc: token endpoint handles %s, which is not in the grant registry", name)
		}
	}
	return nil
}

// Token is the token endpoint (RFC 6749 §3.2). Every request goes through
// the same steps, once: the form is read strictly, the grant looked up in
// the registry and checked against the tenant's grants, the client
// authenticated and checked against its own grants, and only then the
// grant's handler runs. A refusal is audited (token.rejected) with the
// request's id, the answer's X-Request-ID.
func (p *Provider) Token(ctx context.Context, r *http.Request) (*Response, error) {
	var clientID string
	resp, err := p.token(ctx, r, &clientID)
	if err != nil {
		p.rejected(ctx, auditTokenRejected, clientID, err)
	}
	return resp, err
}

// token is Token, which sets *clientID to the client the request names
// once its form is read.
func (p *Provider) token(ctx context.Context, r *http.Request, clientID *string) (*Response, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	form, err := ParseForm(r)
	if err != nil {
		return nil, err
	}
	*clientID = requestClientID(r, form)
	name := form.Get("grant_type")
	if name == "" {
		return nil, oauthErr(httperr.InvalidRequest, "grant_type is required")
	}
	_, known := tenants.LookupGrant(name)
	handler := p.grants[name]
	if !known || handler == nil {
		return nil, oauthErr(httperr.UnsupportedGrantType, "grant_type %s is not supported", name)
	}
	c, err := p.clientFor(ctx, t, r, form, name)
	if err != nil {
		return nil, err
	}
	// A DPoP proof (RFC 9449 §5) binds what the grant issues to its key.
	proof, err := p.tokenDPoP(ctx, t, c, r)
	if err != nil {
		return nil, err
	}
	if proof != nil {
		ctx = withDPoPKey(ctx, proof.JKT)
	}
	resp, err := handler(ctx, t, c, form)
	if err == nil && proof != nil && p.nonceKey != nil {
		resp.Header.Set(HeaderDPoPNonce, p.dpopNonce(t, p.now()))
	}
	if err == nil && p.observer != nil {
		if body, ok := resp.Body.(*oidc.AccessTokenResponse); ok {
			p.observer.TokenIssued(name, tokenAlg(body.AccessToken))
		}
	}
	return resp, err
}

// clientFor checks a request for the registered grant name the way every
// endpoint that serves a grant does (the token endpoint, and the device
// authorization endpoint for the device grant): the tenant must allow the
// grant, the client authenticate (a public client by its id alone, where
// the grant is Public) and have registered the grant.
func (p *Provider) clientFor(ctx context.Context, t *tenants.Tenant, r *http.Request, form url.Values, name string) (*client, error) {
	grant, known := tenants.LookupGrant(name)
	if !known {
		return nil, oauthErr(httperr.UnsupportedGrantType, "grant_type %s is not supported", name)
	}
	if !t.AllowsGrant(name) {
		return nil, oauthErr(httperr.UnauthorizedClient, "this tenant does not allow the %s grant", name)
	}
	challenge := basicChallenge(t.Issuer)
	creds, err := clientAuth(r, form, challenge)
	if err != nil {
		return nil, err
	}
	c, err := p.authenticate(ctx, creds, !grant.Public, challenge, t.Issuer+PathToken)
	if err != nil {
		return nil, err
	}
	if !c.AllowsGrant(name) {
		return nil, oauthErr(httperr.UnauthorizedClient, "this client may not use the %s grant", name)
	}
	return c, nil
}

// tokenAlg returns the alg of a JWS we signed, from its protected header.
func tokenAlg(jws string) string {
	head, _, _ := strings.Cut(jws, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Alg string `json:"alg"`
	}
	if err != nil || json.Unmarshal(b, &h) != nil || h.Alg == "" {
		return "unknown"
	}
	return h.Alg
}

// authenticate checks the credentials of a client endpoint call: a public
// client by its id alone (it must not send a secret or an assertion), a
// confidential one by exactly the method it is registered for: its secret,
// or an assertion (RFC 7523 §2.2) signed with one of its keys and meant
// for endpoint (the URL called) or the issuer. requireSecret refuses
// public clients (grants only confidential clients may use). Every failure
// is invalid_client, 401.
func (p *Provider) authenticate(ctx context.Context, creds ClientAuth, requireSecret bool, challenge, endpoint string) (*client, error) {
	c, err := p.lookupClient(ctx, creds.ID)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, invalidClient("client authentication failed", challenge)
	}
	if err != nil {
		return nil, serverError(err)
	}
	if c.Public() {
		// A public client identifies itself (none): by client_id in the
		// body, or, as many libraries send it, Basic with an empty secret.
		if creds.Secret != "" || creds.Assertion != "" || requireSecret {
			return nil, invalidClient("client authentication failed", challenge)
		}
		return c, nil
	}
	// A confidential client authenticates with exactly the method it is
	// registered for (RFC 7591 §2): a secret that arrives the other way
	// is refused, so a secret meant for the header never has to be
	// accepted from a body that proxies and logs may keep. The answer
	// is the same as for an unknown client: it does not tell which
	// client ids exist.
	if !presents(creds, c.TokenEndpointAuthMethod) {
		return nil, invalidClient("client authentication failed", challenge)
	}
	if creds.Assertion != "" {
		if err := p.assertionFailure(ctx, c, p.verifyAssertion(ctx, c, creds.Assertion, endpoint), challenge); err != nil {
			return nil, err
		}
		return c, nil
	}
	if !c.checkSecret(creds.Secret, p.now()) {
		return nil, invalidClient("client authentication failed", challenge)
	}
	return c, nil
}

// assertionFailure is the answer to an assertion verifyAssertion refused
// (nil for none): invalid_client, saying why only to a signer that holds
// the client's key; a replay is audited as token reuse.
func (p *Provider) assertionFailure(ctx context.Context, c *client, err error, challenge string) error {
	var shown errAssertion
	var hidden errNoKey
	var fetch fetchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &shown):
		if shown == errReplayed {
			p.audit(ctx, auditAssertionReplayed, c.ClientID, c.ClientID, "failure", string(shown))
		}
		return invalidClient(string(shown), challenge)
	case errors.As(err, &hidden), errors.As(err, &fetch):
		tenants.Logger(ctx).InfoContext(ctx, "client assertion refused", "client_id", c.ClientID, "reason", err.Error())
		return invalidClient("client authentication failed", challenge)
	}
	return serverError(err)
}

// presents reports whether creds authenticate the way method (RFC 7591's
// names) says: an assertion for private_key_jwt and client_secret_jwt
// (verifyAssertion then takes only the algorithms of the client's
// method), Basic, a secret in the body, or nothing (none).
func presents(creds ClientAuth, method string) bool {
	switch {
	case creds.Assertion != "":
		return tenants.AssertionMethod(method)
	case creds.Basic:
		return method == tenants.AuthMethodBasic
	case creds.Secret != "":
		return method == tenants.AuthMethodPost
	}
	return method == tenants.AuthMethodNone
}

// authenticateCaller reads and checks the client credentials of an
// introspection or revocation request.
func (p *Provider) authenticateCaller(ctx context.Context, r *http.Request, form url.Values, requireSecret bool, path string) (*client, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	challenge := basicChallenge(t.Issuer)
	creds, err := clientAuth(r, form, challenge)
	if err != nil {
		return nil, err
	}
	return p.authenticate(ctx, creds, requireSecret, challenge, t.Issuer+path)
}
