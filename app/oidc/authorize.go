package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// Caps on what an authorization request stores: anyone can make one, and
// it is kept until it expires, so an anonymous request must not be able to
// store much (finding 7 of issue 8: acr_values had no cap, and a row could
// take 60 KB). Every other stored parameter is bounded by what it must
// match: the client and its registered redirect URI, the granted scopes and
// API, the PKCE challenge's 43 characters, the known prompt and ACR values
// (each once), the subject of an ID token this tenant issued.
const (
	// maxState and maxNonce bound values the client gets back (in the
	// redirect, in the ID token): a longer one is refused with
	// invalid_request at the client's redirect URI, since the server may
	// not change it.
	maxState = 2048
	maxNonce = 512
	// maxLoginHint bounds a hint the server may ignore (OIDC Core
	// §3.1.2.1): a longer one is dropped. An email address has at most
	// 254 characters.
	maxLoginHint = 256
	// maxUILocales bounds the ui_locales kept (a few language tags).
	maxUILocales = 256
)

// Authorize validates an authorization request (RFC 6749 §4.1.1, OIDC Core
// §3.1.2.1) and stores it, bound to the browser whose cookie hashes to
// browserHash.
//
// Until the client and its redirect_uri are known good, errors are pages
// (400, no redirect). After that they go back to the client with error,
// state and iss (RFC 9207).
//
// A request with request_uri is the one its client pushed (RFC 9126 §4):
// only client_id is read from form, and the pushed parameters are
// validated again. A client (or tenant) that requires pushed requests
// gets invalid_request for any other.
//
// A refusal is audited (authorize.rejected) with the request's id, the
// reference its error page shows.
func (p *Provider) Authorize(ctx context.Context, form url.Values, browserHash string) (*tenants.AuthRequest, error) {
	ar, err := p.authorizeOnce(ctx, form, browserHash)
	if err != nil {
		p.rejected(ctx, auditAuthorizeRejected, form.Get("client_id"), err)
	}
	return ar, err
}

func (p *Provider) authorizeOnce(ctx context.Context, form url.Values, browserHash string) (*tenants.AuthRequest, error) {
	if form.Has("request_uri") {
		pushed, err := p.usePushed(ctx, form)
		if err != nil {
			return nil, err
		}
		return p.authorize(ctx, pushed, browserHash, true)
	}
	return p.authorize(ctx, form, browserHash, false)
}

// authorize validates form, pushed or not, as Authorize describes.
func (p *Provider) authorize(ctx context.Context, form url.Values, browserHash string, pushed bool) (*tenants.AuthRequest, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, httperr.Internal(err)
	}
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(form[k]) > 1 {
			return nil, badRequestPage("The request names more than one %s.", k)
		}
	}
	clientID := form.Get("client_id")
	if clientID == "" {
		return nil, badRequestPage("The request does not name an application (client_id is missing).")
	}
	c, err := p.lookupClient(ctx, clientID)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, badRequestPage("The application that sent you here is not registered with %s.", t.DisplayName)
	}
	if err != nil {
		return nil, httperr.Internal(err)
	}
	// The way back from a page about this client's request is the client
	// as it registered, never an address the request brought.
	home := appHome(c)
	redirectURI := form.Get("redirect_uri")
	if redirectURI == "" {
		e := httperr.Page(http.StatusBadRequest, badRequestTitle, "The request has no redirect_uri.")
		e.Back = home
		return nil, e
	}
	// Exact string comparison with a registered URI (RFC 9700 §4.1.3): no
	// prefix, case, port or path flexibility.
	if !slices.Contains(c.Client.RedirectURIs, redirectURI) {
		e := httperr.Page(http.StatusBadRequest, badRequestTitle, "The redirect_uri is not registered for this application.")
		e.Back = home
		e.Mismatch = &httperr.RedirectMismatch{Rejected: tenants.Truncate(redirectURI, 2048), Registered: slices.Clone(c.Client.RedirectURIs),
			Tenant: t.Slug, ClientID: c.ClientID}
		return nil, e
	}

	// Errors go back the way the client asked for answers, once that is
	// a mode Gatehouse has (an unknown one is an error in the query).
	responseMode := form.Get("response_mode")
	formPost := responseMode == ResponseModeFormPost && len(form["response_mode"]) == 1
	back := httperr.Redirect{URI: redirectURI, Issuer: t.Issuer, FormPost: formPost}
	state := form.Get("state")
	if len(state) > maxState {
		// Not echoed: the client never sent a state this long.
		return nil, httperr.OAuth(httperr.InvalidRequest, "state is too long").RedirectTo(back)
	}
	back.State = state
	fail := func(code, format string, args ...any) error {
		return httperr.OAuth(code, format, args...).RedirectTo(back)
	}
	for k, vs := range form {
		if len(vs) > 1 && k != "resource" && k != "audience" {
			return nil, fail(httperr.InvalidRequest, "parameter %s is repeated", k)
		}
	}
	if form.Get("request") != "" {
		return nil, fail("request_not_supported", "request objects are not supported")
	}
	if !pushed && c.RequiresPushedRequests(t) {
		return nil, fail(httperr.InvalidRequest, "this application must push its authorization requests to "+PathPAR+" (RFC 9126)")
	}
	switch rt := form.Get("response_type"); rt {
	case "code":
	case "":
		return nil, fail(httperr.InvalidRequest, "response_type is missing")
	default:
		return nil, fail(httperr.UnsupportedResponseType, "only response_type=code is supported")
	}
	if !c.AllowsGrant(tenants.GrantAuthorizationCode) || !t.AllowsGrant(tenants.GrantAuthorizationCode) {
		return nil, fail(httperr.UnauthorizedClient, "this application may not use the authorization code flow")
	}
	if responseMode != "" && !slices.Contains(ResponseModes, responseMode) {
		return nil, fail(httperr.InvalidRequest, "response_mode %q is not supported", responseMode)
	}

	// PKCE (RFC 7636) with S256, for every client.
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "":
		return nil, fail(httperr.InvalidRequest, "code_challenge is required (PKCE with S256)")
	case method != "S256":
		return nil, fail(httperr.InvalidRequest, "code_challenge_method must be S256")
	case !pkceChallenge.MatchString(challenge):
		return nil, fail(httperr.InvalidRequest, "code_challenge must be the base64url SHA-256 of the verifier")
	}

	scopes, audience, err := p.resolveScopes(c.Client, strings.Fields(form.Get("scope")), resources(form))
	if err != nil {
		var e *httperr.Error
		if errors.As(err, &e) {
			return nil, e.RedirectTo(back)
		}
		return nil, httperr.Internal(err)
	}

	var prompt []string
	for _, v := range strings.Fields(form.Get("prompt")) {
		if !slices.Contains(authn.AcceptedPrompts, v) {
			return nil, fail(httperr.InvalidRequest, "prompt %q is not supported", v)
		}
		if !slices.Contains(prompt, v) {
			prompt = append(prompt, v)
		}
	}
	if slices.Contains(prompt, authn.PromptNone) && len(prompt) > 1 {
		return nil, fail(httperr.InvalidRequest, "prompt=none cannot be combined with other values")
	}
	var maxAge *int64
	if v := form.Get("max_age"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fail(httperr.InvalidRequest, "max_age must be a non-negative integer")
		}
		maxAge = &n
	}
	nonce := form.Get("nonce")
	if len(nonce) > maxNonce {
		return nil, fail(httperr.InvalidRequest, "nonce is too long")
	}
	loginHint := form.Get("login_hint")
	if len(loginHint) > maxLoginHint {
		loginHint = ""
	}
	// ui_locales is a hint too (OIDC Core §3.1.2.1): one too long is
	// dropped, never an error; the pages pick from it what they speak.
	uiLocales := strings.Join(strings.Fields(form.Get("ui_locales")), " ")
	if len(uiLocales) > maxUILocales {
		uiLocales = ""
	}
	var hintSubject string
	if hint := form.Get("id_token_hint"); hint != "" {
		claims, err := p.VerifyIDTokenHint(ctx, hint)
		if err != nil {
			return nil, fail(httperr.InvalidRequest, "id_token_hint is not valid")
		}
		hintSubject = claims.Subject
	}

	// acr_values asks for the acr claim as a voluntary claim (OIDC Core
	// §3.1.2.1, §5.5.1.1): values Gatehouse does not know are dropped, the
	// known ones kept once each, in the order asked.
	var acrValues []string
	for _, v := range strings.Fields(form.Get("acr_values")) {
		if authn.KnownACR(v) && !slices.Contains(acrValues, v) {
			acrValues = append(acrValues, v)
		}
	}

	// dpop_jkt binds the code to the client's DPoP key (RFC 9449 §10): the
	// base64url SHA-256 thumbprint of a JWK, 43 characters.
	jkt := form.Get("dpop_jkt")
	if jkt != "" && !validJKT(jkt) {
		return nil, fail(httperr.InvalidRequest, "dpop_jkt must be a JWK SHA-256 thumbprint (43 base64url characters)")
	}

	ar := &tenants.AuthRequest{
		Issuer:              t.Issuer,
		DPoPJKT:             jkt,
		ACRValues:           acrValues,
		ClientID:            c.ClientID,
		RedirectURI:         redirectURI,
		State:               state,
		Nonce:               nonce,
		Scopes:              scopes,
		Audience:            audience,
		ResponseMode:        responseMode,
		CodeChallenge:       challenge,
		CodeChallengeMethod: method,
		Prompt:              prompt,
		MaxAge:              maxAge,
		LoginHint:           loginHint,
		HintSubject:         hintSubject,
		UILocales:           uiLocales,
		BrowserHash:         browserHash,
		ExpiresAt:           p.now().Add(authRequestTTL),
	}
	return ar, nil
}

func badRequestPage(format string, args ...any) error {
	return httperr.Page(http.StatusBadRequest, badRequestTitle, format, args...)
}

// badRequestTitle is the title of the page of an authorization request
// that cannot go back to its client.
const badRequestTitle = "This sign-in request is not valid"

// appHome is the way back to client c from an error page: the origin of
// its first registered web redirect URI (https, or http in development),
// named after the client; nil for a client with none (a native app's
// custom scheme leads nowhere a browser can go back to).
func appHome(c *client) *httperr.Back {
	for _, raw := range c.Client.RedirectURIs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			continue
		}
		name := c.Client.Name
		if name == "" {
			name = c.ClientID
		}
		return &httperr.Back{URL: u.Scheme + "://" + u.Host + "/", Name: name}
	}
	return nil
}

// resources returns the distinct resource (RFC 8707) and audience values of
// a request.
func resources(form url.Values) []string {
	var out []string
	for _, k := range []string{"resource", "audience"} {
		for _, v := range form[k] {
			if v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// resolveScopes checks requested scopes and resources against what the
// client was granted. OpenID Connect scopes pass; address and phone, which
// Gatehouse has no claims for, are dropped (OIDC Core §5.4 lets a provider
// ignore scopes). Every other scope must be granted to the client on the
// requested API; with no resource named, the one granted API that defines
// them all is chosen. It returns the scopes and the API audience ("" for
// none).
func (p *Provider) resolveScopes(c *cache.Client, requested, resources []string) ([]string, string, error) {
	if len(resources) > 1 {
		return nil, "", httperr.OAuth(httperr.InvalidTarget, "name one resource per request")
	}
	var std, api []string
	for _, s := range requested {
		switch {
		case tenants.StandardScope(s):
			if !slices.Contains(std, s) {
				std = append(std, s)
			}
		case tenants.IgnoredScope(s):
		default:
			if !slices.Contains(api, s) {
				api = append(api, s)
			}
		}
	}
	if len(std) == 0 && len(api) == 0 && len(resources) == 0 {
		return nil, "", httperr.OAuth(httperr.InvalidScope, "scope is required")
	}
	audience := ""
	if len(resources) == 1 {
		audience = resources[0]
		if _, ok := c.Grants[audience]; !ok {
			return nil, "", httperr.OAuth(httperr.InvalidTarget, "this application may not request tokens for %s", audience)
		}
	} else if len(api) > 0 {
		for aud, g := range c.Grants {
			if containsAll(g.Scopes, api) {
				if audience != "" {
					return nil, "", httperr.OAuth(httperr.InvalidTarget, "scopes match more than one API: name one with resource")
				}
				audience = aud
			}
		}
		if audience == "" {
			return nil, "", httperr.OAuth(httperr.InvalidScope, "this application may not request scope %s", strings.Join(api, " "))
		}
	}
	if audience != "" {
		for _, s := range api {
			if !slices.Contains(c.Grants[audience].Scopes, s) {
				return nil, "", httperr.OAuth(httperr.InvalidScope, "this application may not request scope %s on %s", s, audience)
			}
		}
	}
	return append(std, api...), audience, nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// IDTokenHint is what Gatehouse reads from an id_token_hint.
type IDTokenHint struct {
	Subject         string `json:"sub"`
	AuthorizedParty string `json:"azp"`
	Audience        any    `json:"aud"`
}

// VerifyIDTokenHint checks an ID token this tenant issued; an expired one is
// accepted, as OIDC Core §3.1.2.1 and RP-Initiated Logout §2 allow.
func (p *Provider) VerifyIDTokenHint(ctx context.Context, token string) (*IDTokenHint, error) {
	var claims IDTokenHint
	if err := p.verifyJWT(ctx, token, "jwt", true, &claims); err != nil {
		return nil, err
	}
	if claims.Subject == "" {
		return nil, errBadToken
	}
	return &claims, nil
}
