package oidc

import (
	"context"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// errInvalidToken is the userinfo answer to a bad, expired, revoked or
// foreign token: 401 (RFC 6750 §3.1); the server adds WWW-Authenticate.
func errInvalidToken() error {
	return op.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: "the access token is not valid"}, http.StatusUnauthorized)
}

// UserInfo returns the claims of the token's user for its scopes (OIDC Core
// §5.3). The token must be an active access token of this tenant issued
// with the openid scope to a user.
func (s *server) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	p := s.p
	_, rec, err := p.checkAccessToken(ctx, r.Data.AccessToken)
	if err != nil {
		return nil, errInvalidToken()
	}
	if rec.GrantID == nil || !slices.Contains(rec.Scopes, oidc.ScopeOpenID) {
		return nil, op.NewStatusError(&oidc.Error{ErrorType: "insufficient_scope", Description: "the access token was not issued with the openid scope"}, http.StatusForbidden)
	}
	u, err := p.store.UserByID(ctx, rec.Subject)
	if err != nil || u.DisabledAt != nil {
		return nil, errInvalidToken()
	}
	info := new(oidc.UserInfo)
	fillUserinfo(info, u, rec.Scopes)
	resp := op.NewResponse(info)
	resp.Header = noStore()
	return resp, nil
}
