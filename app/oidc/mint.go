package oidc

import (
	"context"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// accessToken is what an access token says. It is not stored: the signed
// JWT carries it, and the revocation list (tenants.RevokedToken) and the
// family's state say whether it is still active.
type accessToken struct {
	// ID is the jti. A family token's jti names its family (see familyOf).
	ID       string
	ClientID string
	Subject  string
	// GrantID is the family of a user's token; "" for a client's own token
	// (client credentials).
	GrantID   string
	Scopes    []string
	Audience  string
	ExpiresAt time.Time
	// Alg signs it: its API's access-token algorithm.
	Alg jose.SignatureAlgorithm
	// Claims are the roles and groups claims its API asks for (see
	// accessTokenClaims) and what the tenant's claim rules add; nil for
	// none.
	Claims map[string]any
	// IDClaims are what the claim rules add to the ID token minted with
	// it; nil for none.
	IDClaims map[string]any
	// UserAccess is the user's access as read for the token (nil: not
	// read); the groups claim of the ID token minted with it uses it.
	UserAccess *tenants.UserAccess
	// JKT is the thumbprint of the DPoP key the token is bound to (cnf.jkt,
	// RFC 9449 §6.1); "" for a bearer token.
	JKT string
	// Actor is the act claim of a delegated token (RFC 8693 §4.1): who
	// acts for Subject; nil for a token of the subject's own.
	Actor *oidc.ActorClaims
}

// newAccessToken returns an access token of the tenant t, expiring after
// the tenant's access token lifetime. A token issued in the family grantID
// gets a jti that starts with the family's id, so that checking it needs
// nothing but the token. A token request that proved possession of a DPoP
// key (ctx) gets a token bound to it.
func (p *Provider) newAccessToken(ctx context.Context, t *tenants.Tenant, c *client, subject string, scopes []string, audience, grantID string) *accessToken {
	jti := secret.Token(16)
	if grantID != "" {
		jti = grantID + jtiFamilySep + jti
	}
	return &accessToken{
		ID:        jti,
		ClientID:  c.ClientID,
		Subject:   subject,
		GrantID:   grantID,
		Scopes:    scopes,
		Audience:  audience,
		ExpiresAt: p.now().Add(t.AccessTokenTTL()).Truncate(time.Second),
		Alg:       accessTokenAlg(c, audience),
		JKT:       dpopKeyFrom(ctx),
	}
}

// accessTokenAlg is the algorithm of c's access tokens for audience: the
// API's (tenants.API.AccessTokenAlg); tokens that only read the user's
// claims, and tokens for an API the client lost meanwhile, get the default.
func accessTokenAlg(c *client, audience string) jose.SignatureAlgorithm {
	if g, ok := c.Grants[audience]; ok && g.API != nil {
		return jose.SignatureAlgorithm(g.API.AccessTokenAlg())
	}
	return jose.SignatureAlgorithm(tenants.DefaultSigningAlgorithm)
}

// jtiFamilySep separates the family from the random part of a family
// token's jti; neither family ids nor secret.Token use it.
const jtiFamilySep = "."

// familyOf returns the family a jti names, or "" for a client's own token.
func familyOf(jti string) string {
	g, _, ok := strings.Cut(jti, jtiFamilySep)
	if !ok {
		return ""
	}
	return g
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
func (p *Provider) signAccessToken(ctx context.Context, t *tenants.Tenant, rec *accessToken, authTime *time.Time) (string, error) {
	claims := oidc.NewAccessTokenClaims(t.Issuer, rec.Subject, []string{accessTokenAudience(t, rec.Audience)}, rec.ExpiresAt, rec.ID, rec.ClientID, 0)
	claims.IssuedAt = oidc.FromTime(p.now())
	claims.NotBefore = claims.IssuedAt
	claims.Scopes = oidc.SpaceDelimitedArray(slices.Clone(rec.Scopes))
	if len(rec.Claims) > 0 || rec.JKT != "" {
		claims.Claims = make(map[string]any, len(rec.Claims)+1)
		for k, v := range rec.Claims {
			claims.Claims[k] = v
		}
		if rec.JKT != "" {
			// Bound to the client's DPoP key (RFC 9449 §6.1).
			claims.Claims["cnf"] = map[string]any{"jkt": rec.JKT}
		}
	}
	if authTime != nil {
		claims.AuthTime = oidc.FromTime(*authTime)
	}
	claims.Actor = rec.Actor
	signer, err := p.keys.Signer(ctx, t, rec.Alg, accessTokenJWTTyp)
	if err != nil {
		return "", serverError(err)
	}
	tok, err := crypto.Sign(claims, signer)
	if err != nil {
		return "", serverError(err)
	}
	return tok, nil
}

// signIDToken mints an ID token (OIDC Core §2) the way access tokens are
// minted: typ JWT, iss, sub, aud and azp the client, exp after the tenant's
// ID token lifetime, iat, auth_time, nonce (code exchange only, §12.2),
// acr, amr, sid (Back-Channel Logout §2.1), at_hash of the access token (§3.1.3.6), idp for an upstream
// login, the user's claims for the scopes (groups for the groups scope),
// and what the tenant's claim rules add (ruled); access is the user's
// access as the token read it (nil: read here if the groups scope needs it).
func (p *Provider) signIDToken(ctx context.Context, t *tenants.Tenant, c *client, grant *tenants.Grant, u *tenants.User, scopes []string, nonce, accessToken string, ruled map[string]any, access *tenants.UserAccess) (string, error) {
	var err error
	now := p.now()
	claims := oidc.NewIDTokenClaims(t.Issuer, grant.UserID, []string{grant.ClientID}, now.Add(t.IDTokenTTL()), grant.AuthTime, nonce, grant.ACR, grant.AMR, grant.ClientID, 0)
	claims.IssuedAt = oidc.FromTime(now)
	// The session of the sign-in (Back-Channel Logout 1.0 §2.1): the
	// sid a logout token names.
	claims.SessionID = grant.SID
	// The client's id_token_signed_response_alg (RFC 7591); at_hash
	// follows it (OIDC Core §3.1.3.6).
	alg := jose.SignatureAlgorithm(c.IDTokenAlg())
	if accessToken != "" {
		claims.AccessTokenHash, err = oidc.ClaimHash(accessToken, alg)
		if err != nil {
			return "", err
		}
	}
	info := new(oidc.UserInfo)
	fillUserinfo(info, u, scopes)
	if err := p.fillGroups(ctx, info, c.Client.Client, u, scopes, access); err != nil {
		return "", err
	}
	if grant.IDP != "" {
		// How the user authenticated, next to amr: the upstream connection.
		info.AppendClaims("idp", grant.IDP)
	}
	// What the claim rules add (never a reserved claim: package
	// claimrules refuses those at save and at run). A claim the server
	// sets keeps the server's value: the engine's registered claims win
	// when the token is marshalled, and groups and idp win here.
	for k, v := range ruled {
		if _, set := info.Claims[k]; !set {
			info.AppendClaims(k, v)
		}
	}
	claims.SetUserInfo(info)
	signer, err := p.keys.Signer(ctx, t, alg, idTokenJWTTyp)
	if err != nil {
		return "", err
	}
	return crypto.Sign(claims, signer)
}

// respondWithTokens signs the access token (and an ID token for openid,
// with the claims of u, the grant's user as the grant read it, and the
// claim rules' at.IDClaims) and answers
// the token request (RFC 6749 §5.1).
func (p *Provider) respondWithTokens(ctx context.Context, t *tenants.Tenant, c *client, grant *tenants.Grant, u *tenants.User, at *accessToken, scopes []string, refresh, nonce string) (*Response, error) {
	accessToken, err := p.signAccessToken(ctx, t, at, &grant.AuthTime)
	if err != nil {
		return nil, err
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken:  accessToken,
		TokenType:    tokenTypeFor(ctx),
		RefreshToken: refresh,
		ExpiresIn:    uint64(at.ExpiresAt.Sub(p.now()).Seconds()),
		Scope:        scopes,
	}
	if slices.Contains(scopes, ScopeOpenID) {
		resp.IDToken, err = p.signIDToken(ctx, t, c, grant, u, scopes, nonce, accessToken, at.IDClaims, at.UserAccess)
		if err != nil {
			return nil, serverError(err)
		}
	}
	return jsonAnswer(resp), nil
}

// family is what a grant that signs a user in issues: a new token family
// (tenants.Grant), its first access token, optionally a refresh token, and
// what the store writes for them in one transaction.
type family struct {
	grant   *tenants.Grant
	access  *accessToken
	refresh string // the refresh token, "" for none
	issue   tenants.Issue
}

// newFamily starts the token family grantID of a user's sign-in a for
// client c: an access token for scopes and audience, and a refresh token when the
// user asked for offline_access and the client and tenant allow refresh
// tokens. The audit event of the issue names grantType.
func (p *Provider) newFamily(ctx context.Context, t *tenants.Tenant, c *client, grantID string, a tenants.Authentication, scopes []string, audience, grantType string) *family {
	withRefresh := slices.Contains(scopes, ScopeOfflineAccess) && c.AllowsGrant(tenants.GrantRefreshToken) && t.AllowsGrant(tenants.GrantRefreshToken)
	familyTTL := t.AccessTokenTTL()
	if withRefresh {
		familyTTL = max(familyTTL, t.RefreshTokenTTL())
	}
	grant := &tenants.Grant{
		ID:        grantID,
		ClientID:  c.ClientID,
		UserID:    a.UserID,
		Scopes:    scopes,
		Audience:  audience,
		AuthTime:  a.Time,
		AMR:       a.AMR,
		IDP:       a.IDP,
		ACR:       a.ACR,
		SID:       a.SID,
		ExpiresAt: p.now().Add(familyTTL),
		DPoPJKT:   refreshKeyFor(ctx, c),
	}
	f := &family{grant: grant, access: p.newAccessToken(ctx, t, c, a.UserID, scopes, audience, grant.ID)}
	f.issue = tenants.Issue{Grant: grant, Events: []*tenants.AuditEvent{
		tokenEvent(auditTokenIssued, c.ClientID, a.UserID, "success", grantType),
	}}
	if withRefresh {
		f.refresh = secret.Token(32)
		f.issue.Refresh = &tenants.RefreshToken{TokenHash: secret.Hash(f.refresh), GrantID: grant.ID, ClientID: c.ClientID, UserID: a.UserID, ExpiresAt: grant.ExpiresAt}
	}
	return f
}
