package oidc

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
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

// bearerToken reads the access token of a userinfo request: the
// Authorization header (RFC 6750 §2.1) or, for a form POST, the
// access_token parameter (§2.2); never the URL (§2.3, refused), never both.
func bearerToken(r *http.Request) (string, bool, error) {
	if r.URL.Query().Has("access_token") {
		return "", false, oauthErr(httperr.InvalidRequest, "access_token must not be sent in the URL")
	}
	var fromBody string
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err != nil {
			return "", false, oauthErr(httperr.InvalidRequest, "the body is not a valid form")
		}
		if len(r.PostForm["access_token"]) > 1 {
			return "", false, oauthErr(httperr.InvalidRequest, "access_token is repeated")
		}
		fromBody = r.PostForm.Get("access_token")
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return fromBody, fromBody != "", nil
	}
	if fromBody != "" {
		return "", true, oauthErr(httperr.InvalidRequest, "send the access token in one place only")
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", true, nil
	}
	return strings.TrimSpace(tok), true, nil
}

// UserInfo returns the claims of the token's user for its scopes (OIDC Core
// §5.3). The token must be an active access token of this tenant issued
// with the openid scope to a user. Failures carry RFC 6750's challenge.
func (p *Provider) UserInfo(ctx context.Context, r *http.Request) (*Response, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	token, sent, err := bearerToken(r)
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
		return nil, invalid.WithChallenge(bearerChallenge(t.Issuer, httperr.InvalidToken))
	}
	if rec.GrantID == "" || !slices.Contains(rec.Scopes, ScopeOpenID) {
		e := &httperr.Error{Status: http.StatusForbidden, Code: httperr.InsufficientScope, Description: "the access token was not issued with the openid scope"}
		return nil, e.WithChallenge(bearerChallenge(t.Issuer, httperr.InsufficientScope) + `, scope="openid"`)
	}
	u, err := p.store.UserByID(ctx, rec.Subject)
	if tenants.Unavailable(err) {
		return nil, err
	}
	if err != nil || u.DisabledAt != nil {
		return nil, invalid.WithChallenge(bearerChallenge(t.Issuer, httperr.InvalidToken))
	}
	info := new(oidc.UserInfo)
	fillUserinfo(info, u, rec.Scopes)
	if err := p.fillGroups(ctx, info, u.ID, rec.Scopes); err != nil {
		return nil, serverError(err)
	}
	return jsonAnswer(info), nil
}

// fillGroups sets the groups claim, the names of the user's groups, when
// scopes hold the groups scope.
func (p *Provider) fillGroups(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	if !slices.Contains(scopes, ScopeGroups) {
		return nil
	}
	names, err := p.groupNames(ctx, userID)
	if err != nil {
		return err
	}
	info.AppendClaims(tenants.ClaimGroups, names)
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
