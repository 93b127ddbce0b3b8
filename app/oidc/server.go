package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// server is the engine's LegacyServer with Gatehouse's overrides. Each
// override keeps every check the legacy method made (re-read
// server_legacy.go on every engine upgrade) and adds ours; see the file of
// each endpoint.
type server struct {
	*op.LegacyServer
	p *Provider
}

var _ op.ExtendedLegacyServer = (*server)(nil)

// VerifyClient authenticates the client of the token and revocation
// endpoints. Every failure is invalid_client with 401 (RFC 6749 §5.2).
func (s *server) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	// A grant the server does not offer is unsupported_grant_type, whoever
	// asks; the engine would first ask whether this client may use it.
	gt := oidc.GrantType(r.Form.Get("grant_type"))
	switch gt {
	case "", oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials:
	default:
		return nil, op.NewStatusError(oidc.ErrUnsupportedGrantType().WithDescription("grant_type %s is not supported", gt), http.StatusBadRequest)
	}
	if gt != "" {
		t, err := tenantFrom(ctx)
		if err != nil {
			return nil, err
		}
		if !t.AllowsGrant(string(gt)) {
			return nil, op.NewStatusError(oidc.ErrUnauthorizedClient().WithDescription("this tenant does not allow the %s grant", gt), http.StatusBadRequest)
		}
	}
	requireSecret := gt == oidc.GrantTypeClientCredentials
	return s.p.authenticateClient(ctx, r.Data, requireSecret)
}

// Authorize is never routed to the engine (package login owns /authorize);
// it fails closed.
func (s *server) Authorize(context.Context, *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	return nil, unreachable()
}

// JWTProfile turns the JWT bearer grant (RFC 7523) off: the engine would
// serve it without client authentication.
func (s *server) JWTProfile(context.Context, *op.Request[oidc.JWTProfileGrantRequest]) (*op.Response, error) {
	return nil, op.NewStatusError(oidc.ErrUnsupportedGrantType().WithDescription("the jwt-bearer grant is not supported"), http.StatusBadRequest)
}

// Keys serves the tenant's JWKS: the current key and retired keys that
// still verify tokens.
func (s *server) Keys(ctx context.Context, r *op.Request[struct{}]) (*op.Response, error) {
	resp, err := s.LegacyServer.Keys(ctx, r)
	if err != nil {
		return nil, err
	}
	resp.Header = map[string][]string{"Cache-Control": {"public, max-age=300"}}
	return resp, nil
}

// Ready reports whether the database answers.
func (s *server) Ready(ctx context.Context, _ *op.Request[struct{}]) (*op.Response, error) {
	if err := s.p.store.Ping(ctx); err != nil {
		return nil, op.NewStatusError(errors.New("database unavailable"), http.StatusServiceUnavailable)
	}
	return op.NewResponse(op.Status{Status: "ok"}), nil
}
