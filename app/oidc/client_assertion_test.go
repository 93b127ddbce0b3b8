package oidc

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
)

func TestCheckAssertionClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	num := func(d time.Duration) *json.Number {
		n := json.Number(strconv.FormatInt(now.Add(d).Unix(), 10))
		return &n
	}
	iss := "https://acme.example.com"
	auds := []string{iss, iss + PathToken, iss + PathIntrospect}
	good := func() assertionClaims {
		return assertionClaims{Issuer: "app", Subject: "app", Audience: audience{iss + PathToken}, Expiry: num(time.Minute), IssuedAt: num(0), JTI: "j1"}
	}
	for _, tc := range []struct {
		name    string
		mutate  func(c *assertionClaims)
		wantErr bool
	}{
		{"good", func(*assertionClaims) {}, false},
		{"aud is the issuer", func(c *assertionClaims) { c.Audience = audience{iss} }, false},
		{"aud among others", func(c *assertionClaims) { c.Audience = audience{"https://other", iss} }, false},
		{"aud of the endpoint called", func(c *assertionClaims) { c.Audience = audience{iss + PathIntrospect} }, false},
		{"aud of another endpoint", func(c *assertionClaims) { c.Audience = audience{iss + PathRevoke} }, true},
		{"aud of another tenant", func(c *assertionClaims) { c.Audience = audience{"https://evil.example.com/oauth/token"} }, true},
		{"no aud", func(c *assertionClaims) { c.Audience = nil }, true},
		{"iss is another client", func(c *assertionClaims) { c.Issuer = "other" }, true},
		{"sub is another client", func(c *assertionClaims) { c.Subject = "other" }, true},
		{"no exp", func(c *assertionClaims) { c.Expiry = nil }, true},
		{"expired", func(c *assertionClaims) { c.Expiry = num(-time.Minute) }, true},
		{"expired within the skew", func(c *assertionClaims) { c.Expiry, c.IssuedAt = num(-10*time.Second), num(-20*time.Second) }, false},
		{"exp too far ahead", func(c *assertionClaims) { c.Expiry = num(time.Hour) }, true},
		{"exp at the bound", func(c *assertionClaims) { c.Expiry = num(maxAssertionLifetime) }, false},
		{"exp not a number", func(c *assertionClaims) { n := json.Number("soon"); c.Expiry = &n }, true},
		{"exp negative", func(c *assertionClaims) { n := json.Number("-1"); c.Expiry = &n }, true},
		{"exp huge", func(c *assertionClaims) { n := json.Number("1e300"); c.Expiry = &n }, true},
		{"nbf in the future", func(c *assertionClaims) { c.NotBefore = num(2 * time.Minute) }, true},
		{"nbf in the past", func(c *assertionClaims) { c.NotBefore = num(-time.Minute) }, false},
		{"iat in the future", func(c *assertionClaims) { c.IssuedAt = num(2 * time.Minute) }, true},
		{"no iat", func(c *assertionClaims) { c.IssuedAt = nil }, false},
		{"no jti", func(c *assertionClaims) { c.JTI = "" }, true},
		{"huge jti", func(c *assertionClaims) { c.JTI = string(make([]byte, 300)) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.mutate(&c)
			until, err := checkAssertionClaims(&c, "app", auds, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && !until.After(now) {
				t.Fatalf("kept until %v, not after now", until)
			}
		})
	}
}

func TestAudienceJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int
		wantErr bool
	}{{`"a"`, 1, false}, {`["a","b"]`, 2, false}, {`1`, 0, true}, {`[1]`, 0, true}, {`{}`, 0, true}} {
		var a audience
		err := json.Unmarshal([]byte(tc.in), &a)
		if (err != nil) != tc.wantErr || len(a) != tc.want {
			t.Errorf("%s: %v %v", tc.in, a, err)
		}
	}
}

func TestPresents(t *testing.T) {
	assertion := ClientAuth{ID: "c", Assertion: "x.y.z"}
	basic := ClientAuth{ID: "c", Secret: "s", Basic: true}
	post := ClientAuth{ID: "c", Secret: "s"}
	none := ClientAuth{ID: "c"}
	for _, tc := range []struct {
		name   string
		creds  ClientAuth
		method string
		want   bool
	}{
		{"assertion, private_key_jwt", assertion, tenants.AuthMethodPrivateKey, true},
		{"assertion, client_secret_jwt", assertion, tenants.AuthMethodSecretJWT, true},
		{"assertion, client_secret_basic", assertion, tenants.AuthMethodBasic, false},
		{"assertion, none", assertion, tenants.AuthMethodNone, false},
		{"Basic, client_secret_basic", basic, tenants.AuthMethodBasic, true},
		{"Basic, client_secret_jwt", basic, tenants.AuthMethodSecretJWT, false},
		{"Basic, client_secret_post", basic, tenants.AuthMethodPost, false},
		{"body, client_secret_post", post, tenants.AuthMethodPost, true},
		{"body, client_secret_jwt", post, tenants.AuthMethodSecretJWT, false},
		{"nothing, none", none, tenants.AuthMethodNone, true},
		{"nothing, client_secret_jwt", none, tenants.AuthMethodSecretJWT, false},
	} {
		if got := presents(tc.creds, tc.method); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAssertionAlgs(t *testing.T) {
	for _, tc := range []struct {
		method string
		want   []jose.SignatureAlgorithm
	}{
		{tenants.AuthMethodPrivateKey, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}},
		{tenants.AuthMethodSecretJWT, []jose.SignatureAlgorithm{jose.HS256}},
		{tenants.AuthMethodBasic, nil},
		{tenants.AuthMethodNone, nil},
	} {
		if got := assertionAlgs(tc.method); !slices.Equal(got, tc.want) {
			t.Errorf("assertionAlgs(%s) = %v, want %v", tc.method, got, tc.want)
		}
	}
}
