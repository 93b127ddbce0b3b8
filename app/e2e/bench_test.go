package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// The benchmarks drive the real HTTP handler in-process (no sockets), on
// SQLite and, with GATEHOUSE_TEST_DATABASE_URL, PostgreSQL:
//
//	go test ./app/e2e -run '^$' -bench . -benchtime 2s
func BenchmarkEndpoints(b *testing.B) {
	for _, db := range storetest.Databases() {
		b.Run(db.Name, func(b *testing.B) {
			if db.URL == nil {
				b.Skip(db.Skip)
			}
			e := newEnv(b, db.URL(b))
			f := e.fixture("acme")
			h := e.srv.Handler()
			host := "acme.localhost:" + e.port

			cc := url.Values{"grant_type": {"client_credentials"}, "resource": {f.api}}.Encode()
			b.Run("client_credentials", func(b *testing.B) {
				benchPost(b, h, host, "/oauth/token", f.worker.ClientID, f.worker.ClientSecret, func() string { return cc })
			})
			b.Run("discovery", func(b *testing.B) { benchGet(b, h, host, "/.well-known/openid-configuration", "") })
			b.Run("jwks", func(b *testing.B) { benchGet(b, h, host, "/.well-known/jwks.json", "") })

			tok, _ := f.codeFlow(e.browser(), f.web, []string{"openid", "email"})
			b.Run("userinfo", func(b *testing.B) { benchGet(b, h, host, "/userinfo", "Bearer "+tok.AccessToken) })
			in := url.Values{"token": {tok.AccessToken}}.Encode()
			b.Run("introspection", func(b *testing.B) {
				benchPost(b, h, host, "/oauth/introspect", f.web.ClientID, f.web.ClientSecret, func() string { return in })
			})
			b.Run("code_exchange", func(b *testing.B) {
				forms := f.preparedCodes(b, b.N)
				i := 0
				benchPost(b, h, host, "/oauth/token", f.web.ClientID, f.web.ClientSecret, func() string { i++; return forms[i-1] })
			})
		})
	}
}

func benchGet(b *testing.B, h http.Handler, host, path, auth string) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = host
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
}

func benchPost(b *testing.B, h http.Handler, host, path, user, pass string, body func() string) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body()))
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
	}
}

// preparedCodes stores n authorization requests that a user has logged in
// to and consented, each with its code, straight through the store (the
// login pages are not what this measures), and returns their token forms.
func (f *fixture) preparedCodes(b *testing.B, n int) []string {
	b.Helper()
	return f.preparedCodesFor(b, n, func(int) string { return f.userID })
}

// preparedCodesFor is preparedCodes with the i-th code for the user userOf(i).
func (f *fixture) preparedCodesFor(b *testing.B, n int, userOf func(i int) string) []string {
	b.Helper()
	ctx := tenants.WithTenant(context.Background(), f.tenant)
	verifier, challenge := pkce()
	forms := make([]string, n)
	for i := range n {
		ar := &tenants.AuthRequest{ClientID: f.web.ClientID, RedirectURI: redirectURI, Scopes: tenants.Strings{"openid", "email"},
			CodeChallenge: challenge, CodeChallengeMethod: "S256", BrowserHash: "bench", ExpiresAt: time.Now().Add(time.Hour)}
		if err := f.e.store.CreateAuthRequest(ctx, ar); err != nil {
			b.Fatal(err)
		}
		if err := f.e.store.SetAuthenticated(ctx, ar.ID, tenants.Authentication{UserID: userOf(i), Time: time.Now().Truncate(time.Second), AMR: []string{"pwd"}}); err != nil {
			b.Fatal(err)
		}
		code := secret.Token(32)
		if err := f.e.store.IssueCode(ctx, ar.ID, secret.Hash(code), time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		forms[i] = url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode()
	}
	return forms
}
