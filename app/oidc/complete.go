package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Complete issues the one authorization code of a request whose user has
// logged in and consented, and returns how the browser delivers it: to the
// client's redirect URI with code, state and iss (RFC 6749 §4.1.2, RFC
// 9207), in the query or posted (response_mode=form_post).
//
// The tenant's claim rules run first: a deny rule's message goes to the
// client as access_denied, a failed rule is an error page (both audited).
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
	if err := p.checkClaimRules(ctx, ar); err != nil {
		return httperr.Delivery{}, err
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

// checkClaimRules runs the tenant's claim rules for the authenticated
// request ar before its code is issued, so that a deny reaches the
// browser: the client gets access_denied with the rule's message (RFC
// 6749 §4.1.2.1); a rule that fails is an error page. The token endpoint
// runs them again (the claims are computed there).
func (p *Provider) checkClaimRules(ctx context.Context, ar *tenants.AuthRequest) error {
	req := ruleRequest{grantType: tenants.GrantAuthorizationCode, clientID: ar.ClientID, userID: ar.UserID,
		scopes: ar.Scopes, audience: ar.Audience, acr: ar.ACR, idp: ar.IDP, amr: ar.AMR}
	set, err := p.loadClaimRules(ctx, req)
	if err == nil && set != nil {
		var c *client
		var u *tenants.User
		var access *tokenAccess
		if c, err = p.lookupClient(ctx, ar.ClientID); err == nil {
			if u, err = p.store.UserByID(ctx, ar.UserID); err == nil {
				if access, err = p.readTokenAccess(ctx, c.Client, u, ar.Audience, accessWanted{rules: set}); err == nil {
					if _, err = evalClaimRules(ctx, set, c, u, access, req); err != nil {
						err = p.ruleRefused(ctx, req, err)
					}
				}
			}
		}
	}
	var denied *claimrules.Denied
	var re *claimrules.RunError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &denied):
		return p.Fail(ctx, ar, httperr.AccessDenied, denied.Message)
	case errors.As(err, &re):
		return errRuleFailedPage()
	}
	return httperr.Internal(err)
}
