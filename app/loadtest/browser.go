package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// relyingParty is a confidential web client of an authorization server:
// what a browser flow needs to know to run the authorization code flow
// with PKCE (RFC 6749 section 4.1, RFC 7636) against any server, Gatehouse
// or a peer.
type relyingParty struct {
	authorize, token string
	clientID, secret string
	redirectURI      string
	scope            string
	// resource, when set, is sent as the RFC 8707 resource parameter.
	resource string
}

// credentials are what a browser types into a login form.
type credentials struct{ username, password string }

// browser is one user agent: its own cookies, no automatic redirects (the
// flow follows them and stops at the client's redirect URI), and the
// client address it claims through X-Forwarded-For ("" for none).
type browser struct {
	c    *http.Client
	from string
}

func newBrowser(transport http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Transport: transport, Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// maxPage bounds what a browser reads of a page or token response.
const maxPage = 1 << 20

// maxSteps bounds the requests of one flow before the code comes back: a
// server that redirects forever, or shows forms forever, fails the flow.
const maxSteps = 12

func (b *browser) do(ctx context.Context, method, u string, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.from != "" {
		r.Header.Set("X-Forwarded-For", b.from)
	}
	resp, err := b.c.Do(r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp, page, err
}

// flowStats are what one flow took.
type flowStats struct {
	// requests before the code reached the client, redirects among them.
	requests, redirects int
	signedIn, consented bool
	// signatures are the JWS among the tokens the code was exchanged for.
	signatures int
}

// errFlow is a flow that did not end with tokens.
var errFlow = errors.New("flow")

// flow runs one authorization code flow in b: the authorization request,
// the redirects and pages that follow (a login form filled with cred, a
// consent form allowed), the code at the redirect URI, and its exchange
// at the token endpoint. With cred nil, a login form fails the flow (a
// signed-in browser must not be asked).
func (rp *relyingParty) flow(ctx context.Context, b *browser, cred *credentials) (flowStats, error) {
	var st flowStats
	verifier, state := secret.Token(32), secret.Token(16)
	q := url.Values{"client_id": {rp.clientID}, "redirect_uri": {rp.redirectURI}, "response_type": {"code"}, "scope": {rp.scope},
		"state": {state}, "nonce": {secret.Token(16)}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}
	if rp.resource != "" {
		q.Set("resource", rp.resource)
	}
	method, next, form := http.MethodGet, rp.authorize+"?"+q.Encode(), url.Values(nil)
	code := ""
	for code == "" {
		if st.requests == maxSteps {
			return st, fmt.Errorf("%w: no code after %d requests (last %s)", errFlow, maxSteps, next)
		}
		resp, page, err := b.do(ctx, method, next, form)
		if err != nil {
			return st, err
		}
		st.requests++
		here := resp.Request.URL
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := here.Parse(resp.Header.Get("Location"))
			if err != nil || resp.Header.Get("Location") == "" {
				return st, fmt.Errorf("%w: HTTP %d from %s without a usable Location", errFlow, resp.StatusCode, here.Path)
			}
			if at, ok := strings.CutPrefix(loc.String(), rp.redirectURI); ok && (at == "" || at[0] == '?' || at[0] == '#') {
				v := loc.Query()
				if e := v.Get("error"); e != "" {
					return st, fmt.Errorf("%w: the server answered the client %s: %s", errFlow, e, v.Get("error_description"))
				}
				if v.Get("state") != state || v.Get("code") == "" {
					return st, fmt.Errorf("%w: redirect without the code or with another state", errFlow)
				}
				code = v.Get("code")
				continue
			}
			st.redirects++
			method, next, form = http.MethodGet, loc.String(), nil
		case resp.StatusCode == http.StatusOK:
			f, kind := pickForm(parseForms(page))
			switch {
			case f == nil:
				return st, fmt.Errorf("%w: a page at %s with no form to submit", errFlow, here.Path)
			case kind == loginForm && cred == nil:
				return st, fmt.Errorf("%w: a signed-in browser was asked to sign in at %s", errFlow, here.Path)
			case kind == loginForm:
				f.fill(*cred)
				st.signedIn = true
			default:
				st.consented = true
			}
			action, err := here.Parse(f.action)
			if err != nil {
				return st, fmt.Errorf("%w: form action %q: %v", errFlow, f.action, err)
			}
			method, next, form = f.method, action.String(), f.values
			if method == http.MethodGet {
				action.RawQuery = f.values.Encode()
				next, form = action.String(), nil
			}
		default:
			return st, fmt.Errorf("%w: HTTP %d at %s: %s", errFlow, resp.StatusCode, here.Path, snippet(page))
		}
	}
	sigs, err := rp.exchange(ctx, b.c.Transport, code, verifier)
	st.signatures = sigs
	return st, err
}

// exchange redeems code at the token endpoint with the client's secret
// (client_secret_basic) and returns how many of the tokens are JWS.
func (rp *relyingParty) exchange(ctx context.Context, transport http.RoundTripper, code, verifier string) (int, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rp.redirectURI}, "code_verifier": {verifier}}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, rp.token, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(url.QueryEscape(rp.clientID), url.QueryEscape(rp.secret))
	resp, err := transport.RoundTrip(r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w: code exchange: HTTP %d %s", errFlow, resp.StatusCode, snippet(body))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return 0, fmt.Errorf("%w: code exchange: no access token in %s", errFlow, snippet(body))
	}
	return jws(tok.AccessToken) + jws(tok.IDToken), nil
}

// jws is 1 when s is a compact JWS (three parts, a header with alg) and
// 0 otherwise (an opaque token, or none).
func jws(s string) int {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return 0
	}
	head, err := base64.RawURLEncoding.DecodeString(parts[0])
	var h struct {
		Alg string `json:"alg"`
	}
	if err != nil || json.Unmarshal(head, &h) != nil || h.Alg == "" || h.Alg == "none" {
		return 0
	}
	return 1
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// form is an HTML form as a browser would submit it: its hidden and
// prefilled fields, and the submit button a user would press.
type form struct {
	method, action string
	values         url.Values
	// user and pass are the names of the login fields, if any.
	user, pass string
	buttons    []button
}

type button struct{ name, value string }

func (f *form) fill(c credentials) {
	if f.user != "" {
		f.values.Set(f.user, c.username)
	}
	f.values.Set(f.pass, c.password)
}

var (
	formTag  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form\s*>`)
	fieldTag = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrPair = regexp.MustCompile(`(?is)([a-z_:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
	// userField names the field of a login form that takes the account.
	userField = regexp.MustCompile(`(?i)^(email|login|username|user|identifier)$`)
	// yes and no tell the buttons of a consent page apart.
	yes = regexp.MustCompile(`(?i)allow|accept|approve|confirm|continue|consent|yes|authorize`)
	no  = regexp.MustCompile(`(?i)deny|cancel|abort|reject|decline|^no$`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrPair.FindAllStringSubmatch(s, -1) {
		k := strings.ToLower(a[1])
		if _, seen := m[k]; !seen {
			m[k] = html.UnescapeString(a[2] + a[3] + a[4])
		}
	}
	return m
}

// parseForms reads the forms of a page. It knows as much HTML as login
// and consent pages use (Gatehouse's and oidc-provider's): no scripts, no
// nested forms.
func parseForms(page []byte) []*form {
	var forms []*form
	for _, m := range formTag.FindAllSubmatch(page, 32) {
		a := attrs(string(m[1]))
		f := &form{method: strings.ToUpper(a["method"]), action: a["action"], values: url.Values{}}
		if f.method != http.MethodPost {
			f.method = http.MethodGet
		}
		for _, fm := range fieldTag.FindAllSubmatch(m[2], 256) {
			fa := attrs(string(fm[2]))
			name, typ := fa["name"], strings.ToLower(fa["type"])
			if strings.EqualFold(string(fm[1]), "button") || typ == "submit" {
				if typ == "" || typ == "submit" {
					f.buttons = append(f.buttons, button{name: name, value: fa["value"]})
				}
				continue
			}
			if name == "" || typ == "checkbox" || typ == "radio" || typ == "file" {
				continue
			}
			switch {
			case typ == "password":
				f.pass = name
			case userField.MatchString(name) && typ != "hidden":
				f.user = name
			}
			f.values.Set(name, fa["value"])
		}
		forms = append(forms, f)
	}
	return forms
}

const (
	loginForm = iota + 1
	consentForm
)

// pickForm chooses what a user would submit: the login form (the one
// with a password field), or else the form with a button that says yes;
// or else a lone form. It presses the button (its name and value join
// the form's values).
func pickForm(forms []*form) (*form, int) {
	for _, f := range forms {
		if f.pass != "" {
			f.press(func(b button) bool { return !no.MatchString(b.name + " " + b.value) })
			return f, loginForm
		}
	}
	for _, f := range forms {
		for _, b := range f.buttons {
			if yes.MatchString(b.name+" "+b.value) && !no.MatchString(b.value) {
				f.press(func(c button) bool { return c == b })
				return f, consentForm
			}
		}
	}
	if len(forms) == 1 && !slicesAny(forms[0].buttons, func(b button) bool { return no.MatchString(b.name + " " + b.value) }) {
		forms[0].press(func(button) bool { return true })
		return forms[0], consentForm
	}
	return nil, 0
}

func (f *form) press(ok func(button) bool) {
	for _, b := range f.buttons {
		if ok(b) {
			if b.name != "" {
				f.values.Set(b.name, b.value)
			}
			return
		}
	}
}

func slicesAny[T any](s []T, f func(T) bool) bool {
	for _, v := range s {
		if f(v) {
			return true
		}
	}
	return false
}
