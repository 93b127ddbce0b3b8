package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Pushed authorization requests (RFC 9126).
const (
	// RequestURIPrefix starts every request_uri (RFC 9126 §2.2); a random
	// 256-bit value follows, whose hash is the stored request's id.
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	// pushedRequestTTL is how long a request_uri may be used (§2.2: short).
	pushedRequestTTL = 60 * time.Second
	// maxPushedRequest bounds the stored parameters, in encoded bytes.
	maxPushedRequest = 16 << 10
)

// pushedParams are the parameters of an authorization request that
// Authorize reads: the ones a pushed request keeps. Client credentials and
// anything unknown are dropped (RFC 9126 §2.1: the client authenticates
// the push; unknown parameters are ignored at /authorize anyway).
var pushedParams = []string{
	"client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint", "id_token_hint",
	"acr_values", "resource", "audience", "dpop_jkt",
}

// PushAuthorization is the pushed authorization request endpoint (RFC 9126
// §2): the client authenticates as at the token endpoint (a public client
// by its id), the request is validated exactly as /authorize validates it,
// and stored for one use within 60 seconds under a request_uri (201). Its
// errors are OAuth JSON (§2.3), never a redirect.
func (p *Provider) PushAuthorization(ctx context.Context, r *http.Request) (*Response, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	form, err := ParseForm(r)
	if err != nil {
		return nil, err
	}
	challenge := basicChallenge(t.Issuer)
	creds, err := clientAuth(r, form, challenge)
	if err != nil {
		return nil, err
	}
	c, err := p.authenticate(ctx, creds, false, challenge, t.Issuer+PathPAR)
	if err != nil {
		return nil, err
	}
	if form.Has("request_uri") {
		return nil, oauthErr(httperr.InvalidRequest, "request_uri cannot be pushed")
	}
	if form.Has("request") {
		return nil, oauthErr("request_not_supported", "request objects are not supported")
	}
	params := url.Values{}
	for _, k := range pushedParams {
		if vs, ok := form[k]; ok {
			params[k] = vs
		}
	}
	params.Set("client_id", c.ClientID)
	if len(params.Encode()) > maxPushedRequest {
		return nil, oauthErr(httperr.InvalidRequest, "the request is too large")
	}
	if _, err := p.authorize(ctx, params, "", true); err != nil {
		return nil, pushError(err)
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, serverError(err)
	}
	token := secret.Token(32)
	err = p.store.CreatePushedRequest(ctx, &tenants.PushedRequest{ID: secret.Hash(token), ClientID: c.ClientID, Params: string(raw),
		ExpiresAt: p.now().Add(pushedRequestTTL)})
	if err != nil {
		return nil, serverError(err)
	}
	resp := jsonAnswer(map[string]any{"request_uri": RequestURIPrefix + token, "expires_in": int(pushedRequestTTL / time.Second)})
	resp.Status = http.StatusCreated
	return resp, nil
}

// pushError is what the push endpoint answers for an error Authorize
// would have shown as a page or sent back to the redirect URI: the same
// code and description, as JSON, 400 (RFC 9126 §2.3).
func pushError(err error) error {
	e := httperr.As(err)
	if e == nil || e.Status >= http.StatusInternalServerError {
		return err
	}
	code := e.Code
	if code == "" {
		code = httperr.InvalidRequest
	}
	return oauthErr(code, "%s", e.Description)
}

// usePushed returns the parameters of the pushed request that form names
// with request_uri, for the client form names with client_id, and marks it
// used: a request_uri works once, for its client and tenant, until it
// expires (RFC 9126 §4). Every other parameter of form is ignored. Its
// errors are pages: no redirect URI of the request can be trusted yet.
func (p *Provider) usePushed(ctx context.Context, form url.Values) (url.Values, error) {
	clientID, uri := form.Get("client_id"), form.Get("request_uri")
	if clientID == "" || len(form["client_id"]) > 1 || len(form["request_uri"]) > 1 {
		return nil, badRequestPage("The request names no single application (client_id) for its request_uri.")
	}
	token, ok := strings.CutPrefix(uri, RequestURIPrefix)
	if !ok || token == "" || len(token) > 128 {
		return nil, badRequestPage("The request_uri was not issued by this server.")
	}
	pr, err := p.store.UsePushedRequest(ctx, secret.Hash(token), clientID)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, httperr.Page(http.StatusBadRequest, "This sign-in request has expired",
			"Its request_uri is unknown, expired or was used already. Go back to the application and sign in again.").WithCode("invalid_request_uri")
	}
	if err != nil {
		return nil, httperr.Internal(err)
	}
	var params url.Values
	if err := json.Unmarshal([]byte(pr.Params), &params); err != nil {
		return nil, httperr.Internal(err)
	}
	return params, nil
}
