package oidc

import (
	"context"
	"errors"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// errUnreachable answers engine storage calls on paths that Gatehouse serves
// itself. If one is ever reached, an engine upgrade routed a request we
// thought was ours through the engine: the request fails closed with a
// server error instead of bypassing our checks.
var errUnreachable = errors.New("oidc: engine path replaced by Gatehouse was reached")

func unreachable() *oidc.Error { return oidc.ErrServerError().WithParent(errUnreachable) }

func (s *storage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (op.AuthRequest, error) {
	return nil, unreachable()
}
func (s *storage) AuthRequestByID(context.Context, string) (op.AuthRequest, error) {
	return nil, unreachable()
}
func (s *storage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, unreachable()
}
func (s *storage) SaveAuthCode(context.Context, string, string) error { return unreachable() }
func (s *storage) DeleteAuthRequest(context.Context, string) error    { return unreachable() }
func (s *storage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, unreachable()
}
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, unreachable()
}
func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, unreachable()
}
func (s *storage) TerminateSession(context.Context, string, string) error { return unreachable() }
func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return unreachable()
}
func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}
func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return unreachable()
}
func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return unreachable()
}
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, unreachable()
}
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, unreachable()
}
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, unreachable()
}
