package social_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/social"
	"github.com/gatehouse-id/gatehouse/federation/social/socialtest"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
)

const callbackURL = "https://acme.example/federation/conn-1/callback"

// build returns the connector of a connection of type typ whose client is
// registered at fake.
func build(t *testing.T, fake *socialtest.Fake, factory federation.Factory, typ, config string) federation.Connector {
	t.Helper()
	clientID := "client-" + typ
	fake.AddClient(clientID, "s3cret")
	conn := &tenants.Connection{ID: "conn-1", TenantID: "tenant-1", Type: typ, Name: typ, Enabled: true, ClientID: clientID, Config: config}
	c, err := factory(federation.Settings{Connection: conn, ClientSecret: "s3cret", CallbackURL: callbackURL,
		HTTPClient: fake.Upstream().HTTP(upstream.API), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// login runs one login at c: Start, the browser at the provider (which
// approves at once), and Finish with what Start recorded, unless spoil
// changes it first.
func login(t *testing.T, fake *socialtest.Fake, c federation.Connector, spoil func(*tenants.FederationState)) (*federation.Identity, error) {
	t.Helper()
	ctx := context.Background()
	b := federation.Begin{State: "state-" + oauth2.GenerateVerifier()[:12], Nonce: "nonce-" + oauth2.GenerateVerifier()[:12],
		Verifier: oauth2.GenerateVerifier(), LoginHint: "someone@example.com"}
	step, err := c.Start(ctx, b)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	browser := fake.Client(nil)
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := browser.Get(step.RedirectURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, callbackURL+"?") {
		t.Fatalf("authorize answered %d %q", resp.StatusCode, loc)
	}
	if got := mustParse(t, loc).Query().Get("state"); got != b.State {
		t.Fatalf("state came back as %q, want %q", got, b.State)
	}
	st := &tenants.FederationState{Nonce: b.Nonce, PKCEVerifier: b.Verifier}
	if spoil != nil {
		spoil(st)
	}
	return c.Finish(ctx, st, httptest.NewRequest(http.MethodGet, loc, nil))
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// wantRejected checks that err is a *federation.Rejection whose reason
// contains want.
func wantRejected(t *testing.T, id *federation.Identity, err error, want string) {
	t.Helper()
	var rej *federation.Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("got %+v, %v; want a rejection %q", id, err, want)
	}
	if !strings.Contains(rej.Reason, want) {
		t.Fatalf("reason = %q, want %q", rej.Reason, want)
	}
}

func spoilVerifier(st *tenants.FederationState) { st.PKCEVerifier = oauth2.GenerateVerifier() }
func spoilNonce(st *tenants.FederationState)    { st.Nonce = "another-login" }

func TestGoogle(t *testing.T) {
	t.Parallel()
	fake := socialtest.New(t)
	c := build(t, fake, social.NewGoogle, tenants.ConnectionGoogle, "")
	ann := socialtest.User{Subject: "108234", Email: "ann@gmail.test", EmailVerified: true, Name: "Ann Lee", GivenName: "Ann", FamilyName: "Lee"}
	expired := time.Now().Add(-time.Hour).Unix()
	tests := []struct {
		name   string
		user   socialtest.User
		tamper socialtest.Tamper
		spoil  func(*tenants.FederationState)
		want   federation.Identity
		reject string
	}{
		{name: "verified address", user: ann, want: federation.Identity{Issuer: "https://accounts.google.com", Subject: "108234",
			Email: "ann@gmail.test", EmailVerified: true, Name: "Ann Lee", GivenName: "Ann", FamilyName: "Lee"}},
		{name: "unverified address", user: socialtest.User{Subject: "7", Email: "bo@example.test", Name: "Bo"},
			want: federation.Identity{Issuer: "https://accounts.google.com", Subject: "7", Email: "bo@example.test", Name: "Bo"}},
		{name: "email_verified as a string", user: ann, tamper: socialtest.Tamper{Claims: map[string]any{"email_verified": "true"}},
			want: federation.Identity{Issuer: "https://accounts.google.com", Subject: "108234", Email: "ann@gmail.test", EmailVerified: true,
				Name: "Ann Lee", GivenName: "Ann", FamilyName: "Lee"}},
		{name: "issuer without scheme: the identity's issuer is still Google's one", user: ann,
			tamper: socialtest.Tamper{Claims: map[string]any{"iss": "accounts.google.com"}},
			want: federation.Identity{Issuer: "https://accounts.google.com", Subject: "108234", Email: "ann@gmail.test", EmailVerified: true,
				Name: "Ann Lee", GivenName: "Ann", FamilyName: "Lee"}},
		{name: "no profile in the ID token: userinfo gives it", user: ann,
			tamper: socialtest.Tamper{Claims: map[string]any{"name": nil, "given_name": nil, "family_name": nil}},
			want: federation.Identity{Issuer: "https://accounts.google.com", Subject: "108234", Email: "ann@gmail.test", EmailVerified: true,
				Name: "Ann Lee", GivenName: "Ann", FamilyName: "Lee"}},
		{name: "access denied", user: ann, tamper: socialtest.Tamper{Deny: true}, reject: "cancelled or refused at Google (access_denied)"},
		{name: "another login's nonce", user: ann, spoil: spoilNonce, reject: "nonce is not this login's"},
		{name: "no nonce", user: ann, tamper: socialtest.Tamper{Claims: map[string]any{"nonce": nil}}, reject: "nonce is not this login's"},
		{name: "signed by another key", user: ann, tamper: socialtest.Tamper{ForeignKey: true}, reject: "signature does not verify against Google's keys"},
		{name: "for another application", user: ann, tamper: socialtest.Tamper{Claims: map[string]any{"aud": "another-client"}}, reject: "for another application"},
		{name: "expired", user: ann, tamper: socialtest.Tamper{Claims: map[string]any{"exp": expired, "iat": expired - 60}}, reject: "has expired"},
		{name: "another issuer", user: ann, tamper: socialtest.Tamper{Claims: map[string]any{"iss": "https://accounts.evil.test"}}, reject: "from another issuer"},
		{name: "wrong PKCE verifier", user: ann, spoil: spoilVerifier, reject: "code exchange at Google failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.SetUser(socialtest.Google, tt.user)
			fake.Tamper(socialtest.Google, tt.tamper)
			id, err := login(t, fake, c, tt.spoil)
			if tt.reject != "" {
				wantRejected(t, id, err, tt.reject)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*id, tt.want) {
				t.Fatalf("identity = %+v, want %+v", *id, tt.want)
			}
		})
	}
	asked := fake.Authorizations(socialtest.Google)
	q := asked[len(asked)-1]
	if q.Get("nonce") == "" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" ||
		q.Get("scope") != "openid email profile" || q.Get("login_hint") != "someone@example.com" || q.Has("access_type") ||
		q.Get("redirect_uri") != callbackURL || q.Get("client_id") != "client-google" {
		t.Fatalf("authorization request = %v", q)
	}
}

func TestGitHub(t *testing.T) {
	t.Parallel()
	fake := socialtest.New(t)
	c := build(t, fake, social.NewGitHub, tenants.ConnectionGitHub, "")
	tests := []struct {
		name   string
		user   socialtest.User
		tamper socialtest.Tamper
		spoil  func(*tenants.FederationState)
		want   federation.Identity
		reject string
	}{
		{name: "private verified primary address", user: socialtest.User{Subject: "583231", Login: "octocat", Name: "The Octocat", Email: "octo@example.test", EmailVerified: true},
			want: federation.Identity{Issuer: "https://github.com", Subject: "583231", Name: "The Octocat", Email: "octo@example.test", EmailVerified: true}},
		{name: "public unverified primary address", user: socialtest.User{Subject: "9", Login: "nine", Name: "Nine", Email: "nine@example.test", PublicEmail: true},
			want: federation.Identity{Issuer: "https://github.com", Subject: "9", Name: "Nine", Email: "nine@example.test"}},
		{name: "private unverified primary address", user: socialtest.User{Subject: "10", Login: "ten", Email: "ten@example.test"},
			want: federation.Identity{Issuer: "https://github.com", Subject: "10", Name: "ten", Email: "ten@example.test"}},
		{name: "access denied", user: socialtest.User{Subject: "1", Login: "a"}, tamper: socialtest.Tamper{Deny: true}, reject: "cancelled or refused at GitHub (access_denied)"},
		{name: "wrong PKCE verifier", user: socialtest.User{Subject: "1", Login: "a"}, spoil: spoilVerifier, reject: "code exchange at GitHub failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.SetUser(socialtest.GitHub, tt.user)
			fake.Tamper(socialtest.GitHub, tt.tamper)
			id, err := login(t, fake, c, tt.spoil)
			if tt.reject != "" {
				wantRejected(t, id, err, tt.reject)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*id, tt.want) {
				t.Fatalf("identity = %+v, want %+v", *id, tt.want)
			}
		})
	}
	q := fake.Authorizations(socialtest.GitHub)[0]
	if q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("scope") != "read:user user:email" {
		t.Fatalf("authorization request = %v", q)
	}
}

func TestMicrosoft(t *testing.T) {
	t.Parallel()
	fake := socialtest.New(t)
	const (
		contoso  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		fabrikam = "0f1d2c3b-4a59-4687-a8b9-c0d1e2f3a4b5"
	)
	work := socialtest.User{Subject: "00000000-0000-0000-66f3-3332eca7ea81", TenantID: contoso, Email: "ann@contoso.test",
		EmailVerified: true, Name: "Ann Lee", GivenName: "Ann", FamilyName: "Lee"}
	personal := socialtest.User{Subject: "00000000-0000-0000-1111-222233334444", TenantID: socialtest.ConsumersTenant,
		Email: "bo@outlook.test", Name: "Bo", GivenName: "Bo", FamilyName: "Smith"}
	workID := federation.Identity{Issuer: "https://login.microsoftonline.com/" + contoso + "/v2.0", Subject: work.Subject,
		Email: "ann@contoso.test", Name: "Ann Lee", GivenName: "Ann", FamilyName: "Lee"}
	tests := []struct {
		name   string
		tenant string
		user   socialtest.User
		tamper socialtest.Tamper
		spoil  func(*tenants.FederationState)
		want   federation.Identity
		reject string
	}{
		{name: "common: a work account, never a verified address", tenant: "", user: work, want: workID},
		{name: "common: a personal account", tenant: "common", user: personal, want: federation.Identity{
			Issuer: "https://login.microsoftonline.com/" + socialtest.ConsumersTenant + "/v2.0", Subject: personal.Subject,
			Email: "bo@outlook.test", Name: "Bo", GivenName: "Bo", FamilyName: "Smith"}},
		{name: "organizations: a work account", tenant: "organizations", user: work, want: workID},
		{name: "organizations: no personal account", tenant: "organizations", user: personal, reject: "personal Microsoft accounts"},
		{name: "one tenant: its account", tenant: contoso, user: work, want: workID},
		{name: "one tenant: another tenant's account", tenant: fabrikam, user: work, reject: "another issuer than its tenant's"},
		{name: "issuer of another tenant than tid", tenant: "common", user: work,
			tamper: socialtest.Tamper{Claims: map[string]any{"iss": "https://login.microsoftonline.com/" + fabrikam + "/v2.0"}}, reject: "another issuer than its tenant's"},
		{name: "no tid", tenant: "common", user: work, tamper: socialtest.Tamper{Claims: map[string]any{"tid": nil}}, reject: "no valid tenant"},
		{name: "no oid", tenant: "common", user: work, tamper: socialtest.Tamper{Claims: map[string]any{"oid": nil}}, reject: "no object id"},
		{name: "no email claim: Graph's mail", tenant: "common", user: func() socialtest.User { u := work; u.NoEmailClaim = true; return u }(), want: workID},
		{name: "another login's nonce", tenant: "common", user: work, spoil: spoilNonce, reject: "nonce is not this login's"},
		{name: "signed by another key", tenant: "common", user: work, tamper: socialtest.Tamper{ForeignKey: true}, reject: "signature does not verify against Microsoft's keys"},
		{name: "for another application", tenant: "common", user: work, tamper: socialtest.Tamper{Claims: map[string]any{"aud": "x"}}, reject: "for another application"},
		{name: "access denied", tenant: "common", user: work, tamper: socialtest.Tamper{Deny: true}, reject: "cancelled or refused at Microsoft (access_denied)"},
		{name: "unknown tenant", tenant: "invalid.example", user: work, reject: "Microsoft cannot be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ""
			if tt.tenant != "" {
				cfg = `{"microsoft_tenant":"` + tt.tenant + `"}`
			}
			c := build(t, fake, social.NewMicrosoft, tenants.ConnectionMicrosoft, cfg)
			fake.SetUser(socialtest.Microsoft, tt.user)
			fake.Tamper(socialtest.Microsoft, tt.tamper)
			id, err := login(t, fake, c, tt.spoil)
			if tt.reject != "" {
				wantRejected(t, id, err, tt.reject)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*id, tt.want) {
				t.Fatalf("identity = %+v, want %+v", *id, tt.want)
			}
		})
	}
	q := fake.Authorizations(socialtest.Microsoft)[0]
	if q.Get("nonce") == "" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" ||
		!strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorization request = %v", q)
	}
	if _, err := social.NewMicrosoft(federation.Settings{Connection: &tenants.Connection{Name: "m", ClientID: "x",
		Config: `{"microsoft_tenant":"../common"}`}}); err == nil {
		t.Fatal("a tenant that is not a path segment was accepted")
	}
}

// TestConnectorsGoThroughTheGuard builds each connector on an upstream
// client that does not allow the fake's host names: the fake runs on
// loopback, so every request the connector makes is refused. The guard is
// in the path of every call (discovery, token, JWKS, profiles).
func TestConnectorsGoThroughTheGuard(t *testing.T) {
	t.Parallel()
	fake := socialtest.New(t)
	guard := upstream.New(upstream.AllowList{}, upstream.Options{Resolver: fake.Resolve, RootCAs: fake.RootCAs()})
	for _, tt := range []struct {
		typ     string
		factory federation.Factory
		p       socialtest.Provider
		user    socialtest.User
	}{
		{tenants.ConnectionGoogle, social.NewGoogle, socialtest.Google, socialtest.User{Subject: "1", Email: "a@gmail.test"}},
		{tenants.ConnectionGitHub, social.NewGitHub, socialtest.GitHub, socialtest.User{Subject: "2", Login: "a"}},
		{tenants.ConnectionMicrosoft, social.NewMicrosoft, socialtest.Microsoft, socialtest.User{Subject: "3", TenantID: socialtest.ConsumersTenant, Email: "a@outlook.test"}},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			fake.SetUser(tt.p, tt.user)
			clientID := "client-" + tt.typ
			fake.AddClient(clientID, "s3cret")
			conn := &tenants.Connection{ID: "conn-1", TenantID: "tenant-1", Type: tt.typ, Name: tt.typ, Enabled: true, ClientID: clientID}
			c, err := tt.factory(federation.Settings{Connection: conn, ClientSecret: "s3cret", CallbackURL: callbackURL,
				HTTPClient: guard.HTTP(upstream.API), Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			_, err = login(t, fake, c, nil)
			var rej *federation.Rejection
			if !errors.As(err, &rej) || upstream.KindOf(rej.Err) != upstream.KindRefused {
				t.Fatalf("login through a guard that refuses loopback: %v", err)
			}
		})
	}
	// Without the upstream client, a connector is not built at all (its
	// libraries would fall back to http.DefaultClient).
	for _, f := range []federation.Factory{social.NewGoogle, social.NewGitHub, social.NewMicrosoft} {
		_, err := f(federation.Settings{Connection: &tenants.Connection{ClientID: "x"}})
		if !errors.Is(err, federation.ErrNoUpstreamClient) {
			t.Fatalf("built without an upstream client: %v", err)
		}
	}
}
