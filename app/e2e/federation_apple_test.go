package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/social/socialtest"
)

var appleField = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// appleKey makes a Sign in with Apple key: the .p8 PEM and its public half.
func appleKey(t *testing.T) (string, *ecdsa.PublicKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), &k.PublicKey
}

// applePosts is the fake Apple's form_post page: where it posts, and what.
func applePosts(t *testing.T, p *page) (string, url.Values) {
	t.Helper()
	m := formAction.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("Apple's answer: %d\n%s", p.status, p.body)
	}
	fields := url.Values{}
	for _, in := range appleField.FindAllStringSubmatch(p.body, -1) {
		fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields
}

// TestAppleSignIn signs in with Apple against the fake Apple: a connection
// made through the management API with the team id, key id, Services ID
// and .p8 key (write-only); the authorization asks for form_post, the
// callback takes Apple's cross-site POST without any cookie and the
// browser that started the login finishes it; the token endpoint gets an
// ES256 client secret signed with the key (made once, reused); the name
// comes from the first sign-in's user field only; a private relay address
// is verified only when the ID token says is_private_email for it; a
// replayed answer and one finished in another browser are refused.
func TestAppleSignIn(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		p8, pub := appleKey(t)
		const team, keyID, service = "TEAM123456", "KEY1234567", "com.acme.signin"
		e.fake.AddAppleClient(socialtest.AppleClient{ServiceID: service, TeamID: team, KeyID: keyID, Key: pub})
		base := "/tenants/acme/connections"
		body := func(edit func(map[string]any)) map[string]any {
			b := map[string]any{"type": "apple", "client_id": service, "apple_team_id": team, "apple_key_id": keyID, "apple_private_key": p8,
				"trust_email": true, "provisioning": "create"}
			if edit != nil {
				edit(b)
			}
			return b
		}
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
		rsaPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}))
		for name, edit := range map[string]func(map[string]any){
			"no key":          func(b map[string]any) { delete(b, "apple_private_key") },
			"an RSA key":      func(b map[string]any) { b["apple_private_key"] = rsaPEM },
			"not PEM":         func(b map[string]any) { b["apple_private_key"] = "MIGTAgEAMBMG" },
			"bad team id":     func(b map[string]any) { b["apple_team_id"] = "team" },
			"no key id":       func(b map[string]any) { delete(b, "apple_key_id") },
			"a client secret": func(b map[string]any) { b["client_secret"] = "s3cret" },
			"huge key": func(b map[string]any) {
				b["apple_private_key"] = "-----BEGIN PRIVATE KEY-----\n" + strings.Repeat("A", 8<<10) + "\n-----END PRIVATE KEY-----\n"
			},
			"apple field on saml": func(b map[string]any) { b["type"] = "saml" },
		} {
			if st, _, got := op.do(t, http.MethodPost, base, body(edit)); st != http.StatusBadRequest && st != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d %v, want a refusal", name, st, got)
			}
		}
		c := op.must(t, http.StatusCreated, http.MethodPost, base, body(nil))
		if c["name"] != "Apple" || c["apple_team_id"] != team || c["apple_key_id"] != keyID || c["client_id"] != service ||
			c["has_client_secret"] != true || c["callback_url"] != f.issuer+"/federation/"+c["id"].(string)+"/callback" {
			t.Fatalf("created %v", c)
		}
		for k, v := range c {
			if s, ok := v.(string); ok && strings.Contains(s, "PRIVATE KEY") {
				t.Fatalf("the key is shown in %s", k)
			}
		}
		conn := &admin.Connection{ID: c["id"].(string), Name: "Apple"}
		relay := "x7kq2@" + "privaterelay.appleid.com"
		e.fake.SetUser(socialtest.Apple, socialtest.User{Subject: "001234.apple.ann", Email: relay, EmailVerified: true, PrivateEmail: true,
			GivenName: "Ann", FamilyName: "Apfel"})
		noCookies := &http.Client{Transport: e.fake.Transport(e.dial), Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		crossSite := func(action string, fields url.Values) *page {
			resp, err := noCookies.PostForm(action, fields)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			return &page{status: resp.StatusCode, location: resp.Header.Get("Location")}
		}
		login := func(b *browser) (*fedFlow, string, url.Values) {
			fl, up := f.beginFederated(b, conn)
			u := mustURL(up)
			q := u.Query()
			if u.Host != "appleid.apple.com" || q.Get("response_mode") != "form_post" || q.Get("scope") != "name email" || q.Get("nonce") == "" ||
				q.Get("code_challenge_method") != "S256" || !strings.Contains(u.RawQuery, "scope=name%20email") {
				t.Fatalf("authorization request %s", up)
			}
			action, fields := applePosts(t, b.get(up))
			if action != c["callback_url"] {
				t.Fatalf("Apple posts to %s", action)
			}
			return fl, action, fields
		}

		b := e.browser()
		fl, action, fields := login(b)
		if fields.Get("user") == "" {
			t.Fatal("the first sign-in carries no user field")
		}
		p := crossSite(action, fields)
		if p.status != http.StatusSeeOther || !strings.Contains(p.location, "/continue?token=") {
			t.Fatalf("form_post callback: %d %s", p.status, p.location)
		}
		// A replay of the same answer: the state is spent.
		if again := crossSite(action, fields); again.status != http.StatusBadRequest {
			t.Fatalf("replayed answer: %d %s", again.status, again.location)
		}
		cur := resolve(f.issuer, p.location)
		claims := fl.finish(cur, b.get(cur))
		if claims.Name != "Ann Apfel" || claims.Email != relay || claims.IDP == "" {
			t.Fatalf("first Apple sign-in: %+v", claims)
		}
		secrets := e.fake.AppleSecrets()
		if len(secrets) != 1 {
			t.Fatalf("%d client secrets accepted", len(secrets))
		}
		js, err := jose.ParseSigned(secrets[0], []jose.SignatureAlgorithm{jose.ES256})
		if err != nil || js.Signatures[0].Header.KeyID != keyID {
			t.Fatalf("client secret: %v", err)
		}

		// The next sign-in has no name; the account keeps its own. The
		// client secret is reused.
		b2 := e.browser()
		fl, action, fields = login(b2)
		if fields.Get("user") != "" {
			t.Fatal("Apple sent the user field twice")
		}
		p = crossSite(action, fields)
		cur = resolve(f.issuer, p.location)
		if claims2 := fl.finish(cur, b2.get(cur)); claims2.Subject != claims.Subject || claims2.Name != "Ann Apfel" {
			t.Fatalf("second sign-in: %+v, want the same user %+v", claims2, claims)
		}
		if s := e.fake.AppleSecrets(); len(s) != 2 || s[1] != s[0] {
			t.Fatalf("the client secret was not reused: %d", len(s))
		}

		// A relay address that the ID token does not call private is
		// not taken as verified: the new user gets no address.
		e.fake.SetUser(socialtest.Apple, socialtest.User{Subject: "001234.apple.bob", Email: "b0b@privaterelay.appleid.com", EmailVerified: true,
			GivenName: "Bob"})
		b3 := e.browser()
		fl, action, fields = login(b3)
		p = crossSite(action, fields)
		cur = resolve(f.issuer, p.location)
		if claims3 := fl.finish(cur, b3.get(cur)); claims3.Email != "" || claims3.Name != "Bob" {
			t.Fatalf("inconsistent relay address: %+v, want no address", claims3)
		}

		// An answer finished in another browser than the one that
		// started the login is refused.
		_, action, fields = login(e.browser())
		p = crossSite(action, fields)
		if other := e.browser().get(resolve(f.issuer, p.location)); other.status != http.StatusBadRequest {
			t.Fatalf("another browser finishing the login: %d %s", other.status, other.location)
		}

		// A GET to the callback (not form_post) is refused.
		fl, action, fields = login(e.browser())
		if p := e.browser().get(action + "?" + fields.Encode()); p.status != http.StatusBadRequest {
			t.Fatalf("Apple answer by GET: %d", p.status)
		}
	})
}

// TestConsoleAppleConnection adds a Sign in with Apple connection in the
// console: the form asks for the Services ID, team id, key id and the .p8
// text; a key that is not one is the form's error; the key is never shown
// back, and the connection's page says where to register the callback.
func TestConsoleAppleConnection(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		form := e.base + "/admin/t/acme/connections/new/apple"
		p := b.get(form)
		for _, want := range []string{"Services ID", `name="apple_team_id"`, `name="apple_key_id"`, "Private key (.p8)"} {
			if p.status != http.StatusOK || !strings.Contains(p.body, want) {
				t.Fatalf("the Apple form lacks %q: %d\n%s", want, p.status, p.body)
			}
		}
		p8, _ := appleKey(t)
		fields := url.Values{"csrf_token": {csrf}, "client_id": {"com.acme.signin"}, "apple_team_id": {"TEAM123456"}, "apple_key_id": {"KEY1234567"},
			"client_secret": {"not a key"}, "enabled": {"true"}, "provisioning": {"tenant"}}
		if p := b.post(form, fields); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "PEM") {
			t.Fatalf("a bad key: %d\n%s", p.status, p.body)
		}
		fields.Set("client_secret", p8)
		p = b.post(form, fields)
		if p.status != http.StatusSeeOther {
			t.Fatalf("add: %d\n%s", p.status, p.body)
		}
		p = b.get(resolve(e.base, p.location))
		if p.status != http.StatusOK || !strings.Contains(p.body, f.issuer+"/federation/") || strings.Contains(p.body, strings.Split(p8, "\n")[1]) ||
			!strings.Contains(p.body, "TEAM123456") {
			t.Fatalf("the connection's page: %d\n%s", p.status, p.body)
		}
	})
}
