package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

const (
	acrMFAURI      = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
	acrPhishingURI = "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant"
)

// authorizePost sends an authorization request as a form POST (OIDC Core
// §3.1.2.1; the body holds more than a URL would) with params over a
// valid request of the web client.
func (f *fixture) authorizePost(t *testing.T, params url.Values) *page {
	t.Helper()
	_, challenge := pkce()
	form := url.Values{"client_id": {f.web.ClientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"st-" + secret.Token(6)}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range params {
		form[k] = v
	}
	return f.e.browser().post(f.issuer+"/authorize", form)
}

// storedRequest returns the auth request a /authorize answer sent to the
// login page, or fails.
func (f *fixture) storedRequest(t *testing.T, p *page) *tenants.AuthRequest {
	t.Helper()
	loc, err := url.Parse(p.location)
	if err != nil || !isRedirect(p) || loc.Path != "/login" {
		t.Fatalf("authorize: %d %s, want the login page\n%s", p.status, p.location, p.body)
	}
	ar, err := f.e.store.AuthRequestByID(f.tctx(), loc.Query().Get("id"))
	if err != nil {
		t.Fatal(err)
	}
	return ar
}

// rowBytes is the bytes of the text columns of auth request id.
func (f *fixture) rowBytes(t *testing.T, id string) int {
	t.Helper()
	db, err := f.e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	length, ph := "length(CAST(%s AS BLOB))", "?"
	if f.e.store.Dialect() == tenants.DialectPostgres {
		length, ph = "octet_length(%s)", "$1"
	}
	var cols []string
	for _, c := range []string{"id", "tenant_id", "client_id", "redirect_uri", "state", "nonce", "scopes", "audience", "response_mode",
		"code_challenge", "code_challenge_method", "prompt", "login_hint", "hint_subject", "browser_hash", "user_id", "amr", "idp", "acr", "acr_values"} {
		cols = append(cols, fmt.Sprintf(length, c))
	}
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT "+strings.Join(cols, " + ")+" FROM auth_requests WHERE id = "+ph, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAuthorizeStoresLittle: finding 7 of the security review. Every
// parameter an anonymous authorization request stores is capped: values
// echoed to the client (state, nonce) that are too long are refused with
// invalid_request at the client's redirect URI, and nothing is stored;
// what the server may ignore (an over-long login_hint, ACR values it does
// not know) is dropped. The largest row an anonymous request can make is a
// few KiB (it was about 60 KB).
func TestAuthorizeStoresLittle(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		long := func(n int) string { return secret.Token(n)[:n] }
		for _, tc := range []struct {
			name, param, value string
			wantState          bool
		}{
			{"over-long state", "state", long(2049), false},
			{"over-long nonce", "nonce", long(513), true},
		} {
			rows := f.authRequests(t)
			p := f.authorizePost(t, url.Values{tc.param: {tc.value}})
			cb, err := url.Parse(p.location)
			if err != nil || p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, redirectURI) {
				t.Fatalf("%s: %d %s, want a redirect to the client", tc.name, p.status, p.location)
			}
			q := cb.Query()
			if q.Get("error") != "invalid_request" || q.Get("iss") != f.issuer {
				t.Errorf("%s: %v, want invalid_request with iss", tc.name, q)
			}
			if got := q.Has("state"); got != tc.wantState || len(p.location) > 4096 {
				t.Errorf("%s: state echoed %v (want %v), Location of %d bytes", tc.name, got, tc.wantState, len(p.location))
			}
			if got := f.authRequests(t); got != rows {
				t.Errorf("%s: %d rows stored", tc.name, got-rows)
			}
		}

		// An over-long login_hint is a hint the server ignores.
		ar := f.storedRequest(t, f.authorizePost(t, url.Values{"login_hint": {long(300) + "@acme.test"}}))
		if ar.LoginHint != "" {
			t.Errorf("over-long login_hint stored: %d bytes", len(ar.LoginHint))
		}
		hint := f.email
		if ar := f.storedRequest(t, f.authorizePost(t, url.Values{"login_hint": {hint}})); ar.LoginHint != hint {
			t.Errorf("login_hint %q stored as %q", hint, ar.LoginHint)
		}

		// ACR values: only those Gatehouse knows are kept, each once, in
		// the order asked; unknown ones, however many or long, are
		// dropped (the acr claim they ask for is voluntary).
		var unknown []string
		for i := range 1000 {
			unknown = append(unknown, fmt.Sprintf("urn:example:acr:%d", i))
		}
		for _, tc := range []struct {
			name, acr string
			want      []string
		}{
			{"many unknown", strings.Join(unknown, " "), nil},
			{"one huge unknown", long(50000), nil},
			{"known among unknown", strings.Join(unknown[:500], " ") + " " + acrPhishingURI + " " + long(5000) + " " + acrMFAURI + " " + acrPhishingURI, []string{acrPhishingURI, acrMFAURI}},
			{"known", acrMFAURI, []string{acrMFAURI}},
		} {
			ar := f.storedRequest(t, f.authorizePost(t, url.Values{"acr_values": {tc.acr}}))
			if !slices.Equal(ar.ACRValues, tc.want) {
				t.Errorf("%s: stored acr_values %q, want %q", tc.name, ar.ACRValues, tc.want)
			}
		}

		// Everything at its cap at once.
		worst := url.Values{"state": {long(2048)}, "nonce": {long(512)}, "login_hint": {long(246) + "@acme.test"},
			"acr_values": {strings.Join(append(unknown, acrMFAURI, acrPhishingURI), " ")}, "prompt": {"login consent select_account"},
			"max_age": {"999999999999999999"}, "scope": {"openid profile email offline_access"}}
		ar = f.storedRequest(t, f.authorizePost(t, worst))
		if n := f.rowBytes(t, ar.ID); n > 4096 {
			t.Errorf("the largest anonymous request stored %d bytes, want at most 4 KiB", n)
		} else {
			t.Logf("the largest anonymous request stores %d bytes", n)
		}
	})
}
