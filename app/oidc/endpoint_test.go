package oidc

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/views/httperr"
)

func post(target, body string, header ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

func code(err error) string {
	if e := httperr.As(err); e != nil {
		return e.Code
	}
	return ""
}

func TestParseForm(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *http.Request
		want string // error code, "" = accepted
	}{
		{"plain", post("/oauth/token", "grant_type=x&scope=a+b"), ""},
		{"resource repeated", post("/oauth/token", "resource=a&resource=b"), ""},
		{"grant_type repeated", post("/oauth/token", "grant_type=a&grant_type=b"), httperr.InvalidRequest},
		{"client_id repeated", post("/oauth/token", "client_id=a&client_id=a"), httperr.InvalidRequest},
		{"secret in URL", post("/oauth/token?client_secret=s", "grant_type=x"), httperr.InvalidRequest},
		{"code in URL", post("/oauth/token?code=c", ""), httperr.InvalidRequest},
		{"JSON body", post("/oauth/token", `{}`, "Content-Type", "application/json"), httperr.InvalidRequest},
		{"no content type", post("/oauth/token", "a=b", "Content-Type", ""), httperr.InvalidRequest},
		{"bad escape", post("/oauth/token", "a=%zz"), httperr.InvalidRequest},
		{"GET", httptest.NewRequest(http.MethodGet, "/oauth/token", nil), httperr.InvalidRequest},
		{"charset parameter", post("/oauth/token", "a=b", "Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseForm(tc.r)
			if got := code(err); got != tc.want {
				t.Fatalf("code %q, want %q (err %v)", got, tc.want, err)
			}
		})
	}
}

func TestClientAuth(t *testing.T) {
	basic := func(id, secret string) string {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		return r.Header.Get("Authorization")
	}
	for _, tc := range []struct {
		name       string
		body, auth string
		wantID     string
		wantSecret string
		wantStatus int
	}{
		{"basic", "", basic("app", "s3cret"), "app", "s3cret", 0},
		{"basic is form-urlencoded (RFC 6749 §2.3.1)", "", basic("a:b", "p%&+ q"), "a:b", "p%&+ q", 0},
		{"post", "client_id=app&client_secret=s", "", "app", "s", 0},
		{"public", "client_id=app", "", "app", "", 0},
		{"nothing", "", "", "", "", 401},
		{"two methods", "client_secret=s", basic("app", "s"), "", "", 400},
		{"basic and another client_id", "client_id=other", basic("app", "s"), "", "", 401},
		{"basic and the same client_id", "client_id=app", basic("app", "s"), "app", "s", 0},
		{"bearer scheme", "client_id=app", "Bearer xyz", "", "", 401},
		{"garbage basic", "", "Basic !!!", "", "", 401},
		{"assertion of another type", "client_assertion_type=x&client_assertion=a.b.c", "", "", "", 401},
		{"assertion", "client_assertion_type=" + url.QueryEscape(AssertionTypeJWTBearer) + "&client_assertion=e30." + jwtPart(`{"sub":"app"}`) + ".c", "", "app", "", 0},
		{"assertion naming another client_id", "client_id=other&client_assertion_type=" + url.QueryEscape(AssertionTypeJWTBearer) + "&client_assertion=e30." + jwtPart(`{"sub":"app"}`) + ".c", "", "", "", 401},
		{"assertion without sub", "client_assertion_type=" + url.QueryEscape(AssertionTypeJWTBearer) + "&client_assertion=e30." + jwtPart(`{"iss":"app"}`) + ".c", "", "", "", 401},
		{"assertion with a sub of the wrong type", "client_assertion_type=" + url.QueryEscape(AssertionTypeJWTBearer) + "&client_assertion=e30." + jwtPart(`{"sub":1}`) + ".c", "", "", "", 401},
		{"assertion not a JWS", "client_assertion_type=" + url.QueryEscape(AssertionTypeJWTBearer) + "&client_assertion=abc", "", "", "", 401},
		{"assertion and Basic", "client_assertion_type=" + url.QueryEscape(AssertionTypeJWTBearer) + "&client_assertion=e30." + jwtPart(`{"sub":"app"}`) + ".c", basic("app", "s"), "", "", 400},
		{"assertion and a secret", "client_secret=s&client_assertion_type=" + url.QueryEscape(AssertionTypeJWTBearer) + "&client_assertion=e30." + jwtPart(`{"sub":"app"}`) + ".c", "", "", "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post("/oauth/token", tc.body, "Authorization", tc.auth)
			form, err := ParseForm(r)
			if err != nil {
				t.Fatal(err)
			}
			ca, err := clientAuth(r, form, `Basic realm="x"`)
			if tc.wantStatus != 0 {
				e := httperr.As(err)
				if e == nil || e.Status != tc.wantStatus {
					t.Fatalf("err %v, want status %d", err, tc.wantStatus)
				}
				if e.Status == 401 && e.Challenge == "" {
					t.Fatal("a 401 without WWW-Authenticate")
				}
				return
			}
			if err != nil || ca.ID != tc.wantID || ca.Secret != tc.wantSecret {
				t.Fatalf("got %+v, %v; want %q %q", ca, err, tc.wantID, tc.wantSecret)
			}
		})
	}
}

func jwtPart(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestBearerToken(t *testing.T) {
	get := func(target, auth string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	for _, tc := range []struct {
		name      string
		r         *http.Request
		token     string
		sent      bool
		wantError bool
	}{
		{"header", get("/userinfo", "Bearer abc"), "abc", true, false},
		{"lower-case scheme", get("/userinfo", "bearer abc"), "abc", true, false},
		{"none", get("/userinfo", ""), "", false, false},
		{"other scheme", get("/userinfo", "Basic abc"), "", true, false},
		{"in the URL", get("/userinfo?access_token=abc", ""), "", false, true},
		{"body", post("/userinfo", "access_token=abc"), "abc", true, false},
		{"body and header", post("/userinfo", "access_token=abc", "Authorization", "Bearer abc"), "", true, true},
		{"body repeated", post("/userinfo", "access_token=a&access_token=b"), "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, sent, err := bearerToken(tc.r)
			if (err != nil) != tc.wantError || tok != tc.token || sent != tc.sent {
				t.Fatalf("got %q %v %v", tok, sent, err)
			}
		})
	}
}

// S256 agrees with an independent implementation (golang.org/x/oauth2,
// which relying parties use).
func TestS256(t *testing.T) {
	for _, v := range []string{oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), strings.Repeat("a", 43)} {
		if got, want := s256(v), oauth2.S256ChallengeFromVerifier(v); got != want {
			t.Fatalf("s256(%s) = %s, want %s", v, got, want)
		}
	}
}

func TestGrantHandlersCoverTheRegistry(t *testing.T) {
	p := &Provider{}
	if err := checkGrantHandlers(p.grantHandlers()); err != nil {
		t.Fatal(err)
	}
	h := p.grantHandlers()
	delete(h, "client_credentials")
	if err := checkGrantHandlers(h); err == nil {
		t.Fatal("a registry grant without a handler passed")
	}
	h = p.grantHandlers()
	h["urn:example:magic"] = h["client_credentials"]
	if err := checkGrantHandlers(h); err == nil {
		t.Fatal("a handler of an unknown grant passed")
	}
}
