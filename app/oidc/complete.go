package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Complete issues the one authorization code of a request whose user has
// logged in and consented, and returns where to send the browser: the
// client's redirect URI with code, state and iss (RFC 6749 §4.1.2, RFC 9207).
func (p *Provider) Complete(ctx context.Context, ar *tenants.AuthRequest) (string, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return "", httperr.Internal(err)
	}
	code := secret.Token(32)
	err = p.store.IssueCode(ctx, ar.ID, secret.Hash(code), p.now().Add(codeTTL))
	if errors.Is(err, tenants.ErrConflict) {
		return "", httperr.Page(http.StatusBadRequest, "This sign-in was already completed",
			"Go back to the application and sign in again.")
	}
	if err != nil {
		return "", httperr.Internal(err)
	}
	params := url.Values{"code": {code}, "iss": {t.Issuer}}
	if ar.State != "" {
		params.Set("state", ar.State)
	}
	loc, err := httperr.Location(ar.RedirectURI, params)
	if err != nil {
		return "", httperr.Internal(err)
	}
	return loc, nil
}

// Fail returns an authorization error delivered to the request's client
// (access_denied, login_required, consent_required, ...).
func (p *Provider) Fail(ctx context.Context, ar *tenants.AuthRequest, code, description string) error {
	t, err := tenantFrom(ctx)
	if err != nil {
		return httperr.Internal(err)
	}
	return httperr.OAuth(code, "%s", description).RedirectTo(httperr.Redirect{URI: ar.RedirectURI, State: ar.State, Issuer: t.Issuer})
}
