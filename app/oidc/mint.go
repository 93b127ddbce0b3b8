package oidc

import (
	"context"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// newAccessToken returns the record of an access token of the tenant t,
// expiring after the tenant's access token lifetime.
func (p *Provider) newAccessToken(t *tenants.Tenant, clientID, subject string, scopes []string, audience string, grantID *string) *tenants.AccessToken {
	return &tenants.AccessToken{
		ID:        secret.Token(16),
		ClientID:  clientID,
		Subject:   subject,
		GrantID:   grantID,
		Scopes:    scopes,
		Audience:  audience,
		ExpiresAt: p.now().Add(t.AccessTokenTTL()).Truncate(time.Second),
	}
}

// accessTokenAudience is the aud of an access token: the API it was issued
// for, or, for a token that only reads the user's claims, the tenant's
// userinfo endpoint.
func accessTokenAudience(t *tenants.Tenant, audience string) string {
	if audience != "" {
		return audience
	}
	return t.Issuer + PathUserinfo
}

// signAccessToken writes an RFC 9068 JWT access token for rec: JOSE typ
// at+jwt, with iss, sub, aud, client_id, scope, exp, iat, jti (and
// auth_time for a user's token), signed by the tenant's current key.
func (p *Provider) signAccessToken(ctx context.Context, t *tenants.Tenant, rec *tenants.AccessToken, authTime *time.Time) (string, error) {
	_, set, err := p.tenantKeys(ctx)
	if err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	claims := oidc.NewAccessTokenClaims(t.Issuer, rec.Subject, []string{accessTokenAudience(t, rec.Audience)}, rec.ExpiresAt, rec.ID, rec.ClientID, 0)
	claims.IssuedAt = oidc.FromTime(p.now())
	claims.NotBefore = claims.IssuedAt
	claims.Scopes = oidc.SpaceDelimitedArray(slices.Clone(rec.Scopes))
	if authTime != nil {
		claims.AuthTime = oidc.FromTime(*authTime)
	}
	signer, err := set.Signer(accessTokenJWTTyp)
	if err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	tok, err := crypto.Sign(claims, signer)
	if err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	return tok, nil
}

// idTokenRequest is what an ID token is minted from: a grant, and the auth
// request's nonce on the code exchange (not on refresh, OIDC Core §12.2).
type idTokenRequest struct {
	grant  *tenants.Grant
	scopes []string
	nonce  string
}

var _ op.AuthRequest = (*idTokenRequest)(nil)

func (r *idTokenRequest) GetID() string                         { return r.grant.ID }
func (r *idTokenRequest) GetACR() string                        { return r.grant.ACR }
func (r *idTokenRequest) GetAMR() []string                      { return r.grant.AMR }
func (r *idTokenRequest) GetAudience() []string                 { return []string{r.grant.ClientID} }
func (r *idTokenRequest) GetAuthTime() time.Time                { return r.grant.AuthTime }
func (r *idTokenRequest) GetClientID() string                   { return r.grant.ClientID }
func (r *idTokenRequest) GetCodeChallenge() *oidc.CodeChallenge { return nil }
func (r *idTokenRequest) GetNonce() string                      { return r.nonce }
func (r *idTokenRequest) GetRedirectURI() string                { return "" }
func (r *idTokenRequest) GetResponseType() oidc.ResponseType    { return oidc.ResponseTypeCode }
func (r *idTokenRequest) GetResponseMode() oidc.ResponseMode    { return oidc.ResponseModeQuery }
func (r *idTokenRequest) GetScopes() []string                   { return r.scopes }
func (r *idTokenRequest) GetState() string                      { return "" }
func (r *idTokenRequest) GetSubject() string                    { return r.grant.UserID }
func (r *idTokenRequest) Done() bool                            { return true }

// signIDToken mints an ID token through the engine (typ JWT, at_hash of
// accessToken, nonce, auth_time, amr, azp, the claims of the scopes).
func (p *Provider) signIDToken(ctx context.Context, t *tenants.Tenant, c *client, req *idTokenRequest, accessToken string) (string, error) {
	return op.CreateIDToken(ctx, t.Issuer, req, t.IDTokenTTL(), accessToken, "", &storage{p: p}, c)
}

// tokenResponse is the answer of the token endpoint, never cached (RFC 6749 §5.1).
func tokenResponse(resp *oidc.AccessTokenResponse) *op.Response {
	r := op.NewResponse(resp)
	r.Header = noStore()
	return r
}

func noStore() map[string][]string {
	return map[string][]string{"Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
}
