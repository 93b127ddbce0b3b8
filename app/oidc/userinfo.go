package oidc

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// bearerChallenge is the WWW-Authenticate of a protected resource's 401 or
// 403 (RFC 6750 §3): the realm, and the error when the request carried a
// token.
func bearerChallenge(issuer, code string) string {
	c := `Bearer realm="` + issuer + `"`
	if code != "" {
		c += `, error="` + code + `"`
	}
	return c
}

// bearerToken reads the bearer access token of a userinfo request (see
// accessTokenOf); a DPoP one is no bearer token.
func bearerToken(r *http.Request) (string, bool, error) {
	tok, dpop, sent, err := accessTokenOf(r)
	if dpop {
		tok = ""
	}
	return tok, sent, err
}

// accessTokenOf reads the access token of a userinfo request: the
// Authorization header, scheme Bearer (RFC 6750 §2.1) or DPoP (RFC 9449
// §7.1), or, for a form POST, the access_token parameter (§2.2, bearer
// only); never the URL (§2.3, refused), never both. dpop is true for the
// DPoP scheme.
func accessTokenOf(r *http.Request) (token string, dpop, sent bool, err error) {
	if r.URL.Query().Has("access_token") {
		return "", false, false, oauthErr(httperr.InvalidRequest, "access_token must not be sent in the URL")
	}
	var fromBody string
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err != nil {
			return "", false, false, oauthErr(httperr.InvalidRequest, "the body is not a valid form")
		}
		if len(r.PostForm["access_token"]) > 1 {
			return "", false, false, oauthErr(httperr.InvalidRequest, "access_token is repeated")
		}
		fromBody = r.PostForm.Get("access_token")
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return fromBody, false, fromBody != "", nil
	}
	if fromBody != "" {
		return "", false, true, oauthErr(httperr.InvalidRequest, "send the access token in one place only")
	}
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	switch {
	case tok == "":
		return "", false, true, nil
	case strings.EqualFold(scheme, "Bearer"):
		return tok, false, true, nil
	case strings.EqualFold(scheme, TokenTypeDPoP):
		return tok, true, true, nil
	}
	return "", false, true, nil
}

// UserInfo returns the claims of the token's user for its scopes (OIDC Core
// §5.3). The token must be an active access token of this tenant issued
// with the openid scope to a user. Failures carry RFC 6750's challenge.
func (p *Provider) UserInfo(ctx context.Context, r *http.Request) (*Response, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	token, dpop, sent, err := accessTokenOf(r)
	if err != nil {
		return nil, httperr.As(err).WithChallenge(bearerChallenge(t.Issuer, httperr.InvalidRequest))
	}
	invalid := &httperr.Error{Status: http.StatusUnauthorized, Code: httperr.InvalidToken, Description: "the access token is not valid"}
	if !sent {
		// No credentials: the challenge names no error (RFC 6750 §3.1).
		missing := &httperr.Error{Status: http.StatusUnauthorized, Code: httperr.InvalidRequest, Description: "an access token is required"}
		return nil, missing.WithChallenge(bearerChallenge(t.Issuer, ""))
	}
	_, rec, err := p.checkAccessToken(ctx, token)
	if tenants.Unavailable(err) {
		return nil, err
	}
	if err != nil {
		return nil, invalid.WithChallenge(p.challenge(t, dpop, httperr.InvalidToken))
	}
	if err := p.checkBinding(ctx, t, r, rec, token, dpop); err != nil {
		return nil, err
	}
	if rec.GrantID == "" || !slices.Contains(rec.Scopes, ScopeOpenID) {
		e := &httperr.Error{Status: http.StatusForbidden, Code: httperr.InsufficientScope, Description: "the access token was not issued with the openid scope"}
		return nil, e.WithChallenge(p.challenge(t, dpop, httperr.InsufficientScope) + `, scope="openid"`)
	}
	u, err := p.store.UserByID(ctx, rec.Subject)
	if tenants.Unavailable(err) {
		return nil, err
	}
	if err != nil || u.DisabledAt != nil {
		return nil, invalid.WithChallenge(p.challenge(t, dpop, httperr.InvalidToken))
	}
	info := new(oidc.UserInfo)
	fillUserinfo(info, u, rec.Scopes)
	var cl *tenants.Client
	if slices.Contains(rec.Scopes, ScopeGroups) {
		c, err := p.lookupClient(ctx, rec.ClientID)
		if err != nil {
			return nil, invalid.WithChallenge(p.challenge(t, dpop, httperr.InvalidToken))
		}
		cl = c.Client.Client
	}
	if err := p.fillGroups(ctx, info, cl, u, rec.Scopes, nil); err != nil {
		return nil, serverError(err)
	}
	return jsonAnswer(info), nil
}

// fillGroups sets the groups claim of a token of client c when scopes
// hold the groups scope: the names (or, for a client whose claim format
// is ids, the ids) of the user's groups and the upstream groups passed
// through (tenants.UserAccess.GroupClaim), from access as the token read
// it, or read now (from the cache, for u as read for this answer) when nil.
func (p *Provider) fillGroups(ctx context.Context, info *oidc.UserInfo, c *tenants.Client, u *tenants.User, scopes []string, access *tenants.UserAccess) error {
	if !slices.Contains(scopes, ScopeGroups) {
		return nil
	}
	if access == nil || !access.Read.Groups || (!access.Read.Passed && p.passesGroups(ctx)) {
		var err error
		if access, err = p.cache.UserAccess(ctx, u, tenants.AccessQuery{Groups: true, Passed: p.passesGroups(ctx)}); err != nil {
			return err
		}
	}
	info.AppendClaims(tenants.ClaimGroups, access.GroupClaim(c.ClaimsByID()))
	return nil
}

// fillUserinfo sets the standard claims (OIDC Core §5.4) that scopes ask for.
func fillUserinfo(info *oidc.UserInfo, u *tenants.User, scopes []string) {
	info.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case ScopeProfile:
			info.Name = u.Name
			info.GivenName = u.GivenName
			info.FamilyName = u.FamilyName
			info.UpdatedAt = oidc.FromTime(u.UpdatedAt.Truncate(time.Second))
		case ScopeEmail:
			info.Email = u.Email
			info.EmailVerified = oidc.Bool(u.EmailVerified)
			if !u.EmailVerified {
				// The library's type omits false; relying parties must see it.
				info.AppendClaims("email_verified", false)
			}
		}
	}
}

// challenge is the WWW-Authenticate of a userinfo refusal with code: in the
// scheme the request used.
func (p *Provider) challenge(t *tenants.Tenant, dpop bool, code string) string {
	if dpop {
		return dpopChallenge(code)
	}
	return bearerChallenge(t.Issuer, code)
}

// checkBinding checks how an access token rec was presented at userinfo
// (RFC 9449 §7): a DPoP-bound token only with the DPoP scheme and a proof,
// made for this request with its key and the token's hash (ath); a bearer
// token only as Bearer (a DPoP scheme with an unbound token is refused
// too: the client believes it is bound). 401 otherwise, with the challenge
// of the scheme used.
func (p *Provider) checkBinding(ctx context.Context, t *tenants.Tenant, r *http.Request, rec *accessToken, token string, dpop bool) error {
	invalid := &httperr.Error{Status: http.StatusUnauthorized, Code: httperr.InvalidToken}
	switch {
	case !dpop && rec.JKT != "":
		invalid.Description = "this access token is bound to a DPoP key: send it with the DPoP scheme and a proof"
		return invalid.WithChallenge(bearerChallenge(t.Issuer, httperr.InvalidToken) + ", " + dpopChallenge(""))
	case !dpop:
		return nil
	case rec.JKT == "":
		invalid.Description = "this access token is not bound to a DPoP key: send it as Bearer"
		return invalid.WithChallenge(dpopChallenge(httperr.InvalidToken))
	}
	proof, err := p.checkDPoP(ctx, t, r, t.Issuer+PathUserinfo, token, false)
	if err == nil && proof == nil {
		err = oauthErr(errInvalidDPoPProof, "a DPoP proof is required with the DPoP scheme")
	}
	if err == nil && !secret.Equal(proof.JKT, rec.JKT) {
		err = oauthErr(errInvalidDPoPProof, "the DPoP proof is not made with the key the access token is bound to")
	}
	if err != nil {
		e := httperr.As(err)
		if e.Status >= 500 {
			return err
		}
		refusal := &httperr.Error{Status: http.StatusUnauthorized, Code: e.Code, Description: e.Description}
		return refusal.WithChallenge(dpopChallenge(e.Code))
	}
	return nil
}
