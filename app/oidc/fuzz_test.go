package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// fuzzRegistered are the redirect URIs of the fuzz fixture's client.
var fuzzRegistered = []string{"https://app.example.com/callback", "http://127.0.0.1:9000/cb", "com.example.app:/oauth2redirect"}

// fuzzFixture is a provider over a real SQLite store with one tenant (a
// real RS256 key) and one public client registered for fuzzRegistered.
type fuzzFixture struct {
	p   *Provider
	ctx context.Context
	set *keyring.Set
	t   *tenants.Tenant
}

func newFuzzFixture(f *testing.F) *fuzzFixture {
	f.Helper()
	ctx := context.Background()
	s := storetest.Open(f, storetest.SQLiteURL(f))
	master, err := secret.ParseMasterKey(secret.NewMasterKey())
	if err != nil {
		f.Fatal(err)
	}
	box, err := secret.NewBox(master)
	if err != nil {
		f.Fatal(err)
	}
	ring := keyring.New(s, box, keyring.Config{PoolSize: -1})
	tn := &tenants.Tenant{ID: tenants.NewID(), Slug: "fuzz", DisplayName: "Fuzz", Host: "fuzz.localhost", Issuer: "http://fuzz.localhost:8080",
		AccessTokenTTLSeconds: 3600, IDTokenTTLSeconds: 1800, RefreshTokenTTLSeconds: 86400, SessionTTLSeconds: 86400,
		GrantTypes: tenants.Strings{tenants.GrantAuthorizationCode, tenants.GrantRefreshToken}}
	key, err := ring.Generate(tn.ID, jose.RS256)
	if err != nil {
		f.Fatal(err)
	}
	if err := s.CreateTenant(ctx, tn, key); err != nil {
		f.Fatal(err)
	}
	tctx := tenants.WithTenant(ctx, tn)
	if err := s.CreateClient(tctx, &tenants.Client{ClientID: "web", Name: "web", ApplicationType: "native",
		TokenEndpointAuthMethod: tenants.AuthMethodNone, RedirectURIs: fuzzRegistered,
		GrantTypes: tenants.Strings{tenants.GrantAuthorizationCode}}, nil); err != nil {
		f.Fatal(err)
	}
	if tn, err = s.TenantByID(ctx, tn.ID); err != nil {
		f.Fatal(err)
	}
	tctx = tenants.WithTenant(ctx, tn)
	p, err := New(s, cache.New(s, cache.Config{Poll: time.Minute}), ring, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	set, err := ring.Keys(ctx, tn)
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzFixture{p: p, ctx: tctx, set: set, t: tn}
}

// FuzzAuthorizeRedirect sends arbitrary query strings to Authorize. Its
// invariant is the redirect URI's (RFC 9700 §4.1.3): a request it accepts,
// and an error it sends back to the client, carry a redirect URI that is
// exactly one of the client's registered ones, never a near match.
func FuzzAuthorizeRedirect(f *testing.F) {
	fx := newFuzzFixture(f)
	ok := url.Values{"client_id": {"web"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	for _, uri := range fuzzRegistered {
		q := url.Values{"redirect_uri": {uri}}
		for k, v := range ok {
			q[k] = v
		}
		if _, err := fx.p.Authorize(fx.ctx, q, "browser"); err != nil {
			f.Fatalf("a valid request for %s fails: %v", uri, err)
		}
	}
	for _, uri := range append(slices.Clone(fuzzRegistered),
		"https://app.example.com/callback/", "https://APP.example.com/callback", "https://app.example.com/callback?x=1",
		"https://app.example.com:443/callback", "https://app.example.com/Callback", "https://app.example.com/callback#f",
		"http://127.0.0.1:9001/cb", "http://localhost:9000/cb", "https://app.example.com/callback\x00", "https://app.example.com/%63allback",
		"com.example.app:/oauth2redirect/..", "") {
		q := url.Values{}
		for k, v := range ok {
			q[k] = v
		}
		q.Set("redirect_uri", uri)
		f.Add(q.Encode())
		q.Set("response_type", "token")
		f.Add(q.Encode())
		q.Add("redirect_uri", fuzzRegistered[0])
		f.Add(q.Encode())
	}
	f.Add("client_id=web&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&redirect_uri=https%3A%2F%2Fevil.example%2F")
	f.Add("client_id=web&client_id=other&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback")
	f.Add("client_id=web;redirect_uri=https://evil.example/")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		ar, err := fx.p.Authorize(fx.ctx, form, "browser")
		if err == nil {
			if !slices.Contains(fuzzRegistered, ar.RedirectURI) || ar.RedirectURI != form.Get("redirect_uri") {
				t.Fatalf("accepted redirect_uri %q (asked %q)", ar.RedirectURI, form["redirect_uri"])
			}
			return
		}
		var e *httperr.Error
		if errors.As(err, &e) && e.Redirect != nil && !slices.Contains(fuzzRegistered, e.Redirect.URI) {
			t.Fatalf("error %v redirects to unregistered %q", err, e.Redirect.URI)
		}
	})
}

// FuzzVerifyJWT feeds arbitrary tokens to the verifier of access tokens at
// userinfo and introspection, seeded with a real token of the fixture's
// tenant. It must never panic, and must accept only what the tenant's key
// signed: an accepted token's claims are the genuine token's.
func FuzzVerifyJWT(f *testing.F) {
	fx := newFuzzFixture(f)
	signer, err := fx.set.Signer(jose.RS256, accessTokenJWTTyp)
	if err != nil {
		f.Fatal(err)
	}
	claims := map[string]any{"iss": fx.t.Issuer, "sub": "user-1", "aud": "https://api.example.com", "client_id": "web",
		"exp": float64(time.Now().Add(time.Hour).Unix()), "iat": float64(time.Now().Unix()), "jti": "j1", "scope": "openid"}
	payload, err := json.Marshal(claims)
	if err != nil {
		f.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		f.Fatal(err)
	}
	good, err := jws.CompactSerialize()
	if err != nil {
		f.Fatal(err)
	}
	var want map[string]any
	if err := fx.p.verifyJWT(fx.ctx, good, accessTokenJWTTyp, false, &want); err != nil || !reflect.DeepEqual(want, claims) {
		f.Fatalf("the genuine token does not verify: %v (%v)", err, want)
	}
	parts := strings.Split(good, ".")
	f.Add(good)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + parts[1] + ".")
	f.Add("eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9." + parts[1] + "." + parts[2])
	f.Add(parts[0] + "." + parts[1] + "." + parts[2] + "A")
	f.Add(good + ".")
	f.Add("..")
	f.Add("")
	f.Add(`{"payload":"` + parts[1] + `","signatures":[]}`)
	f.Fuzz(func(t *testing.T, token string) {
		var got map[string]any
		if err := fx.p.verifyJWT(fx.ctx, token, accessTokenJWTTyp, false, &got); err != nil {
			return
		}
		if !reflect.DeepEqual(got, claims) {
			t.Fatalf("accepted %q with claims %v", token, got)
		}
	})
}

// FuzzParseForm builds protocol POSTs from arbitrary methods, content
// types, query strings and bodies (NUL, invalid UTF-8, repeated and huge
// values). ParseForm must never panic, and a form it accepts came from a
// POST with a form body and no secret in the URL, repeats only resource
// and audience, and is exactly what the body says.
func FuzzParseForm(f *testing.F) {
	f.Add("POST", "application/x-www-form-urlencoded", "", "grant_type=client_credentials&scope=a+b")
	f.Add("POST", "application/x-www-form-urlencoded; charset=utf-8", "", "resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb")
	f.Add("POST", "Application/X-WWW-Form-Urlencoded", "", "a=1&a=2")
	f.Add("POST", "application/x-www-form-urlencoded", "code=abc", "grant_type=authorization_code")
	f.Add("POST", "application/x-www-form-urlencoded", "x=1", "client_secret=%00%ff&x=%zz")
	f.Add("POST", "application/json", "", `{"grant_type":"client_credentials"}`)
	f.Add("POST", "multipart/form-data; boundary=x", "", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--")
	f.Add("GET", "application/x-www-form-urlencoded", "grant_type=x", "")
	f.Add("POST", "application/x-www-form-urlencoded", "", "a=\xff\xfe&b=\x00&"+strings.Repeat("c", 1<<12)+"="+strings.Repeat("d", 1<<14))
	f.Add("POST", "application/x-www-form-urlencoded", "", "a;b=c&&=&%")
	f.Fuzz(func(t *testing.T, method, contentType, query, body string) {
		if !validMethod(method) {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "http://fuzz.localhost/oauth/token", strings.NewReader(body))
		r.Method = method
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		form, err := ParseForm(r)
		if err != nil {
			return
		}
		if method != http.MethodPost {
			t.Fatalf("accepted a %q", method)
		}
		q := r.URL.Query()
		for _, k := range secretParams {
			if q.Has(k) {
				t.Fatalf("accepted %s in the URL %q", k, query)
			}
		}
		for k, vs := range form {
			if len(vs) > 1 && !repeatable[k] {
				t.Fatalf("accepted repeated %s", k)
			}
		}
		want, err := url.ParseQuery(body)
		if err != nil {
			t.Fatalf("accepted the invalid body %q", body)
		}
		if len(want) == 0 && len(form) == 0 {
			return
		}
		if !reflect.DeepEqual(url.Values(form), want) {
			t.Fatalf("body %q parsed as %v, want %v", body, form, want)
		}
	})
}

// validMethod reports whether m is an HTTP token, as a server would read.
func validMethod(m string) bool {
	return m != "" && !strings.ContainsFunc(m, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	})
}
