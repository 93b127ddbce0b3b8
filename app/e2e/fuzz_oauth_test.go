package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// oauthErrorCodes are the error codes each client endpoint may answer
// with (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 7662 §2.3, RFC 8707 §2).
var oauthErrorCodes = map[string][]string{
	"/oauth/token": {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
		"unsupported_grant_type", "invalid_scope", "invalid_target"},
	"/oauth/introspect": {"invalid_request", "invalid_client"},
	"/oauth/revoke":     {"invalid_request", "invalid_client", "unsupported_token_type"},
}

var fuzzPaths = []string{"/oauth/token", "/oauth/introspect", "/oauth/revoke"}

// FuzzClientEndpoints sends arbitrary bodies, content types and
// Authorization headers to the token, introspection and revocation
// endpoints of a running node: every answer is a success or an OAuth JSON
// error of the endpoint's vocabulary with a matching status (400, or 401
// with a challenge exactly for invalid_client), never a 5xx. In a body or
// header, $WORKER, $WORKER_SECRET, $WEB, $WEB_SECRET, $SPA, $BASIC (the
// worker's Basic credentials), $WEB_BASIC and $TOKEN (an access token of
// the worker) stand for the fixture's values, so that inputs reach past
// client authentication. The seed corpus runs in the default suite (on
// PostgreSQL too when its URL is set); fuzz longer with
//
//	go test ./app/e2e -run '^$' -fuzz FuzzClientEndpoints -fuzztime 5m
func FuzzClientEndpoints(f *testing.F) {
	for _, s := range []struct {
		path          uint8
		contentType   string
		authorization string
		body          string
	}{
		{0, "application/x-www-form-urlencoded", "$BASIC", "grant_type=client_credentials"},
		{0, "application/x-www-form-urlencoded", "$BASIC", "grant_type=client_credentials&scope=read:orders&resource=https://api.acme.test"},
		{0, "application/x-www-form-urlencoded", "$BASIC", "grant_type=client_credentials&resource=%00"},
		{0, "application/x-www-form-urlencoded", "$BASIC", "grant_type=client_credentials&scope=%ff%fe"},
		{0, "application/x-www-form-urlencoded", "$BASIC", "grant_type=client_credentials&resource=http://[::1"},
		{0, "application/x-www-form-urlencoded", "$BASIC", "grant_type=client_credentials&audience=a&audience=b&resource=c"},
		{0, "application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=$WORKER&client_secret=$WORKER_SECRET"},
		{0, "application/x-www-form-urlencoded", "$WEB_BASIC", "grant_type=authorization_code&code=x&redirect_uri=http://127.0.0.1:9000/cb&code_verifier=" + strings.Repeat("v", 43)},
		{0, "application/x-www-form-urlencoded", "$WEB_BASIC", "grant_type=authorization_code&code=&redirect_uri=%00"},
		{0, "application/x-www-form-urlencoded", "$WEB_BASIC", "grant_type=refresh_token&refresh_token=$TOKEN"},
		{0, "application/x-www-form-urlencoded", "$WEB_BASIC", "grant_type=refresh_token&refresh_token=" + strings.Repeat("a", 5000)},
		{0, "application/x-www-form-urlencoded", "", "grant_type=authorization_code&client_id=$SPA&code=x&code_verifier=short"},
		{0, "application/x-www-form-urlencoded", "", "grant_type=refresh_token&client_id=$SPA&refresh_token=%80"},
		{0, "application/x-www-form-urlencoded", "", "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=$SPA"},
		{0, "application/x-www-form-urlencoded", "", "grant_type=password&username=a&password=b&client_id=$WORKER"},
		{0, "application/x-www-form-urlencoded", "Basic", "grant_type=client_credentials"},
		{0, "application/x-www-form-urlencoded", "Basic !!!", "grant_type=client_credentials"},
		{0, "application/x-www-form-urlencoded", "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:%zz")), "grant_type=client_credentials"},
		{0, "application/x-www-form-urlencoded", "Basic " + base64.StdEncoding.EncodeToString([]byte(":")), "grant_type=client_credentials"},
		{0, "application/x-www-form-urlencoded", "Bearer $TOKEN", "grant_type=client_credentials"},
		{0, "application/x-www-form-urlencoded", "$BASIC", "grant_type=client_credentials&client_secret=$WORKER_SECRET"},
		{0, "application/x-www-form-urlencoded", "$BASIC", "grant_type=client_credentials&client_assertion_type=x&client_assertion=y"},
		{0, "application/x-www-form-urlencoded; charset=\"", "$BASIC", "grant_type=client_credentials"},
		{0, "application/json", "$BASIC", `{"grant_type":"client_credentials"}`},
		{0, "multipart/form-data; boundary=x", "$BASIC", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--\r\n"},
		{0, "", "", ""},
		{0, "application/x-www-form-urlencoded", "$BASIC", "%"},
		{0, "application/x-www-form-urlencoded", "$BASIC", "grant_type=client_credentials&grant_type=client_credentials"},
		{1, "application/x-www-form-urlencoded", "$BASIC", "token=$TOKEN"},
		{1, "application/x-www-form-urlencoded", "$BASIC", "token=$TOKEN&token_type_hint=refresh_token"},
		{1, "application/x-www-form-urlencoded", "$BASIC", "token=$TOKEN&token_type_hint=%00"},
		{1, "application/x-www-form-urlencoded", "$BASIC", "token=a.b.c"},
		{1, "application/x-www-form-urlencoded", "$BASIC", "token=eyJhbGciOiJub25lIn0.e30."},
		{1, "application/x-www-form-urlencoded", "$BASIC", "token=eyJhbGciOiJFUzI1NiIsImtpZCI6IngiLCJ0eXAiOiJhdCtqd3QifQ.e30.AAAA"},
		{1, "application/x-www-form-urlencoded", "$BASIC", "token=" + strings.Repeat(".", 3000)},
		{1, "application/x-www-form-urlencoded", "$BASIC", ""},
		{1, "application/x-www-form-urlencoded", "", "token=$TOKEN&client_id=$SPA"},
		{1, "application/x-www-form-urlencoded", "$WEB_BASIC", "token=%ff"},
		{2, "application/x-www-form-urlencoded", "$BASIC", "token=$TOKEN"},
		{2, "application/x-www-form-urlencoded", "$BASIC", "token=$TOKEN&token_type_hint=access_token"},
		{2, "application/x-www-form-urlencoded", "$BASIC", "token=x&token_type_hint=bogus"},
		{2, "application/x-www-form-urlencoded", "", "token=x&client_id=$SPA"},
		{2, "application/x-www-form-urlencoded", "", "token=%00&client_id=$SPA"},
		{2, "application/x-www-form-urlencoded", "", "token=x&client_id=%00"},
		{2, "application/x-www-form-urlencoded", "$WEB_BASIC", "token=" + strings.Repeat("x", 70000)},
		{2, "text/plain", "$BASIC", "token=x"},
	} {
		f.Add(s.path, s.contentType, s.authorization, s.body)
	}
	dbURL := storetest.SQLiteURL(f)
	if os.Getenv(storetest.EnvPostgres) != "" {
		dbURL = storetest.PostgresURL(f)
	}
	e := newEnv(f, dbURL)
	fx := e.fixture("acme")
	status, _, body := fx.post("/oauth/token", fx.worker.ClientID, fx.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	if status != http.StatusOK {
		f.Fatalf("client_credentials: %d %v", status, body)
	}
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	// Longest first: $WORKER_SECRET before $WORKER.
	fill := strings.NewReplacer(
		"$WORKER_SECRET", url.QueryEscape(fx.worker.ClientSecret), "$WEB_SECRET", url.QueryEscape(fx.web.ClientSecret),
		"$WEB_BASIC", basic(fx.web.ClientID, fx.web.ClientSecret), "$BASIC", basic(fx.worker.ClientID, fx.worker.ClientSecret),
		"$WORKER", url.QueryEscape(fx.worker.ClientID), "$WEB", url.QueryEscape(fx.web.ClientID), "$SPA", url.QueryEscape(fx.spa.ClientID),
		"$TOKEN", body["access_token"].(string),
	)
	client := e.httpClient(false)
	f.Fuzz(func(t *testing.T, path uint8, contentType, authorization, reqBody string) {
		p := fuzzPaths[int(path)%len(fuzzPaths)]
		req, err := http.NewRequest(http.MethodPost, fx.issuer+p, strings.NewReader(fill.Replace(reqBody)))
		if err != nil {
			t.Skip()
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if authorization = fill.Replace(authorization); authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		if !validHeader(req.Header) {
			t.Skip() // Go's client would refuse to send it
		}
		shown := reqBody
		if len(shown) > 200 {
			shown = shown[:200] + "..."
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		var answer struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(raw, &answer); err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s %q: %d %s %q, want an OAuth JSON error", p, shown, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
		}
		known := false
		for _, c := range oauthErrorCodes[p] {
			known = known || c == answer.Error
		}
		switch {
		case resp.StatusCode >= 500:
			t.Fatalf("%s %q (auth %q, type %q): %d %s", p, shown, authorization, contentType, resp.StatusCode, raw)
		case !known:
			t.Fatalf("%s %q: error %q is not one of %v (%d)", p, shown, answer.Error, oauthErrorCodes[p], resp.StatusCode)
		case (answer.Error == "invalid_client") != (resp.StatusCode == http.StatusUnauthorized):
			t.Fatalf("%s %q: %s with status %d (invalid_client is 401, and only it)", p, shown, answer.Error, resp.StatusCode)
		case resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "":
			t.Fatalf("%s %q: 401 without a challenge", p, shown)
		case resp.StatusCode == http.StatusRequestEntityTooLarge && answer.Error == "invalid_request":
			// a body over the endpoint's limit
		case resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest:
			t.Fatalf("%s %q: status %d for %s, want 400", p, shown, resp.StatusCode, answer.Error)
		}
	})
}

// validHeader reports whether every header value is one net/http sends.
func validHeader(h http.Header) bool {
	for _, vs := range h {
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
					return false
				}
			}
		}
	}
	return true
}
