package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Complete issues the one authorization code of a request whose user has
// logged in and consented, and returns how the browser delivers it: to the
// client's redirect URI with code, state and iss (RFC 6749 §4.1.2, RFC
// 9207), in the query or posted (response_mode=form_post).
//
// A sign-in intent of Gatehouse's own pages completes once, with no code:
// the browser goes to its ReturnTo.
func (p *Provider) Complete(ctx context.Context, ar *tenants.AuthRequest) (httperr.Delivery, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return httperr.Delivery{}, httperr.Internal(err)
	}
	if ar.Intent != "" {
		err := p.store.CompleteIntent(ctx, ar.ID)
		if errors.Is(err, tenants.ErrConflict) {
			return httperr.Delivery{}, completed()
		}
		if err != nil {
			return httperr.Delivery{}, httperr.Internal(err)
		}
		return httperr.Delivery{URI: ar.ReturnTo}, nil
	}
	code := secret.Token(32)
	err = p.store.IssueCode(ctx, ar.ID, secret.Hash(code), p.now().Add(codeTTL))
	if errors.Is(err, tenants.ErrConflict) {
		return httperr.Delivery{}, completed()
	}
	if err != nil {
		return httperr.Delivery{}, httperr.Internal(err)
	}
	return codeDelivery(t, ar, code), nil
}

// codeDelivery is how the browser delivers code to the client: to its
// redirect URI with code, state and iss (RFC 6749 §4.1.2, RFC 9207), in
// the response mode it asked for.
func codeDelivery(t *tenants.Tenant, ar *tenants.AuthRequest, code string) httperr.Delivery {
	params := url.Values{"code": {code}, "iss": {t.Issuer}}
	if ar.State != "" {
		params.Set("state", ar.State)
	}
	return httperr.Delivery{URI: ar.RedirectURI, Params: params, FormPost: ar.ResponseMode == ResponseModeFormPost}
}

// Fail returns an authorization error delivered to the request's client
// (access_denied, login_required, consent_required, ...); for a sign-in
// intent of Gatehouse's own pages, a page.
func (p *Provider) Fail(ctx context.Context, ar *tenants.AuthRequest, code, description string) error {
	t, err := tenantFrom(ctx)
	if err != nil {
		return httperr.Internal(err)
	}
	if ar.Intent != "" {
		return httperr.Page(http.StatusBadRequest, "Sign-in did not complete", "%s.", upperFirst(description)).WithCode(code)
	}
	return httperr.OAuth(code, "%s", description).RedirectTo(httperr.Redirect{URI: ar.RedirectURI, State: ar.State, Issuer: t.Issuer,
		FormPost: ar.ResponseMode == ResponseModeFormPost})
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
