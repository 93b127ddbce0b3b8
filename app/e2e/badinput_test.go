package e2e

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHostileInput sends malformed, oversized and hostile requests to every
// endpoint: each gets its specific 4xx answer, never a 5xx.
func TestHostileInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		form := "application/x-www-form-urlencoded"
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(f.web.ClientID+":"+f.web.ClientSecret))
		big := strings.Repeat("a", 70<<10)
		for _, tc := range []struct {
			name, method, path, ctype, auth, body string
			wantStatus                            int
			wantError                             string
		}{
			{"token: no grant_type", "POST", "/oauth/token", form, basic, "", 400, "invalid_request"},
			{"token: password grant", "POST", "/oauth/token", form, basic, "grant_type=password&username=a&password=b", 400, "unsupported_grant_type"},
			{"token: jwt-bearer grant", "POST", "/oauth/token", form, "", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=x.y.z", 400, "unsupported_grant_type"},
			{"token: token exchange", "POST", "/oauth/token", form, basic, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=x&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token", 400, "unauthorized_client"}, // a registered grant the tenant does not offer
			// Served, but not offered by this tenant (TestDeviceGrantRefusals).
			{"token: device code", "POST", "/oauth/token", form, basic, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=x", 400, "unauthorized_client"},
			{"device authorization: not offered", "POST", "/oauth/device_authorization", form, basic, "scope=openid", 400, "unauthorized_client"},
			{"device authorization: device code in the URL", "POST", "/oauth/device_authorization?device_code=x", form, basic, "scope=openid", 400, "invalid_request"},
			{"token: unknown grant", "POST", "/oauth/token", form, basic, "grant_type=magic", 400, "unsupported_grant_type"},
			{"token: code missing", "POST", "/oauth/token", form, basic, "grant_type=authorization_code&redirect_uri=" + url.QueryEscape(redirectURI), 400, "invalid_request"},
			{"token: huge code", "POST", "/oauth/token", form, basic, "grant_type=authorization_code&code=" + strings.Repeat("c", 10000) + "&code_verifier=" + strings.Repeat("v", 50) + "&redirect_uri=" + url.QueryEscape(redirectURI), 400, "invalid_grant"},
			{"token: huge refresh token", "POST", "/oauth/token", form, basic, "grant_type=refresh_token&refresh_token=" + strings.Repeat("r", 10000), 400, "invalid_grant"},
			{"token: bad percent-encoding", "POST", "/oauth/token", form, basic, "grant_type=%zz", 400, "invalid_request"},
			{"token: body too large", "POST", "/oauth/token", form, basic, "grant_type=client_credentials&x=" + big, 413, ""},
			{"token: JSON body", "POST", "/oauth/token", "application/json", basic, `{"grant_type":"client_credentials"}`, 400, "invalid_request"},
			{"token: garbage basic auth", "POST", "/oauth/token", form, "Basic !!!notbase64", "grant_type=client_credentials", 401, "invalid_client"},
			{"token: two client auth methods", "POST", "/oauth/token", form, basic, "grant_type=client_credentials&client_id=" + f.web.ClientID + "&client_secret=x", 400, "invalid_request"},
			{"token: client assertion", "POST", "/oauth/token", form, "", "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c", 401, "invalid_client"},
			{"token: GET", "GET", "/oauth/token", "", "", "", 405, "invalid_request"},
			{"token: token in URL", "POST", "/oauth/token?code=abc", form, basic, "grant_type=authorization_code", 400, "invalid_request"},
			{"introspect: no client auth", "POST", "/oauth/introspect", form, "", "token=abc", 401, "invalid_client"},
			{"introspect: public client", "POST", "/oauth/introspect", form, "", "token=abc&client_id=" + f.spa.ClientID, 401, "invalid_client"},
			{"introspect: token missing", "POST", "/oauth/introspect", form, basic, "", 400, "invalid_request"},
			{"revoke: token missing", "POST", "/oauth/revoke", form, basic, "", 400, "invalid_request"},
			{"userinfo: no token", "GET", "/userinfo", "", "", "", 401, "invalid_request"},
			{"userinfo: token in query", "GET", "/userinfo?access_token=abc", "", "", "", 400, "invalid_request"},
			{"userinfo: not a JWT", "GET", "/userinfo", "", "Bearer not-a-token", "", 401, "invalid_token"},
			{"userinfo: alg none", "GET", "/userinfo", "", "Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.", "", 401, "invalid_token"},
			{"userinfo: huge token", "GET", "/userinfo", "", "Bearer " + strings.Repeat("a.", 6000), "", 401, "invalid_token"},
			{"discovery: POST", "POST", "/.well-known/openid-configuration", form, "", "", 405, "invalid_request"},
			{"jwks: POST", "POST", "/.well-known/jwks.json", form, "", "", 405, "invalid_request"},
			{"login: unknown request", "GET", "/login?id=not-a-request", "", "", "", 400, ""},
			{"login: no request", "GET", "/login", "", "", "", 400, ""},
			{"login: POST without CSRF", "POST", "/login", form, "", "id=x&email=a&password=b", 403, ""},
			{"consent: unknown request", "GET", "/consent?id=" + strings.Repeat("z", 500), "", "", "", 400, ""},
			{"logout: bad id_token_hint", "GET", "/logout?id_token_hint=a.b.c", "", "", "", 400, ""},
			{"logout: post_logout without client", "GET", "/logout?post_logout_redirect_uri=" + url.QueryEscape(postLogout), "", "", "", 400, ""},
			{"authorize: no parameters", "GET", "/authorize", "", "", "", 400, ""},
			{"authorize: repeated client_id", "GET", "/authorize?client_id=a&client_id=b", "", "", "", 400, ""},
			{"authorize: bad form", "POST", "/authorize", form, "", "client_id=%zz", 400, ""},
			{"unknown path", "GET", "/nope", "", "", "", 404, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var body *strings.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				} else {
					body = strings.NewReader("")
				}
				req, err := http.NewRequest(tc.method, f.issuer+tc.path, body)
				if err != nil {
					t.Fatal(err)
				}
				if tc.ctype != "" {
					req.Header.Set("Content-Type", tc.ctype)
				}
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				status, hdr, out := e.doJSON(req)
				if status != tc.wantStatus {
					t.Fatalf("status %d, want %d: %v", status, tc.wantStatus, out)
				}
				if tc.wantError != "" && errorCode(out) != tc.wantError {
					t.Fatalf("error %q, want %q: %v", errorCode(out), tc.wantError, out)
				}
				if tc.wantError == "" && status != 413 && !strings.Contains(hdr.Get("Content-Type"), "text/html") {
					t.Fatalf("people should get an HTML page, got %q", hdr.Get("Content-Type"))
				}
				if status == 401 && hdr.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			})
		}
	})
}

func TestDiscovery(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		req, _ := http.NewRequest(http.MethodGet, f.issuer+"/.well-known/openid-configuration", nil)
		status, hdr, d := e.doJSON(req)
		if status != 200 || hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("discovery: %d %v", status, hdr)
		}
		want := map[string]any{
			"issuer":                 f.issuer,
			"authorization_endpoint": f.issuer + "/authorize",
			"token_endpoint":         f.issuer + "/oauth/token",
			"jwks_uri":               f.issuer + "/.well-known/jwks.json",
			"end_session_endpoint":   f.issuer + "/logout",
			"authorization_response_iss_parameter_supported": true,
		}
		for k, v := range want {
			if d[k] != v {
				t.Errorf("%s = %v, want %v", k, d[k], v)
			}
		}
		for k, v := range map[string]string{
			"code_challenge_methods_supported":      "[S256]",
			"response_types_supported":              "[code]",
			"grant_types_supported":                 "[authorization_code refresh_token client_credentials]",
			"id_token_signing_alg_values_supported": "[RS256]",
		} {
			if got := strings.Join(strings.Fields(strings.Trim(fmtAny(d[k]), "[]")), " "); "["+got+"]" != v {
				t.Errorf("%s = %v, want %s", k, d[k], v)
			}
		}
	})
}
