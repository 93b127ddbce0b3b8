package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

var (
	dataOptions = regexp.MustCompile(`data-options="([^"]*)"`)
	// The form fields of the passwordless form (which follows the
	// password form on the login page).
	passkeyForm = regexp.MustCompile(`(?s)<form method="post" action="/login/passkey" id="webauthn-login".*?</form>`)
)

const passkeyLoginError = "That passkey could not be used."

// options fetches the JSON options of a ceremony as the page's script does.
func (fl *oidcFlow) options(path string) []byte {
	t := fl.b.t
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fl.f.issuer+strings.ReplaceAll(path, "&amp;", "&"), nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	p := fl.b.do(req)
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
		t.Fatalf("options %s: %d %s", path, p.status, p.body)
	}
	return []byte(p.body)
}

// enrolPasskey walks a new login of b through enrolment with key (the
// tenant must require MFA) and returns the ID token's claims.
func (f *fixture) enrolPasskey(t *testing.T, b *browser, key *softKey) idClaims {
	t.Helper()
	fl, p := f.begin(b)
	p = fl.password(p)
	if !isEnrol(p) || !strings.Contains(p.body, `id="webauthn-register"`) {
		t.Fatalf("want the enrolment page with a passkey, got %d:\n%s", p.status, p.body)
	}
	opts := fl.options(field(t, regexp.MustCompile(`id="webauthn-register" data-options="([^"]*)"`), p.body))
	p = fl.post("/login/enrol/webauthn", url.Values{"step": {field(t, stepField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
		"credential": {key.create(f.issuer, opts)}})
	if p.status != http.StatusOK || len(recoveryCodeRe.FindAllString(p.body, -1)) != 10 {
		t.Fatalf("want recovery codes after the passkey enrolment, got %d:\n%s", p.status, p.body)
	}
	return fl.finish(fl.follow(b.get(f.issuer + "/consent?id=" + url.QueryEscape(field(t, idOf, p.body)))))
}

// passkeyLogin signs in without a password: the login page's passkey form,
// answered by key for rpID ("" for its own).
func (fl *oidcFlow) passkeyLogin(p *page, key *softKey, rpID string) *page {
	t := fl.b.t
	t.Helper()
	if !isLogin(p) {
		t.Fatalf("want the login page, got %d %s:\n%s", p.status, p.location, p.body)
	}
	form := passkeyForm.FindString(p.body)
	if form == "" {
		t.Fatalf("the login page offers no passkey:\n%s", p.body)
	}
	opts := fl.options(field(t, dataOptions, form))
	return fl.post("/login/passkey", url.Values{"id": {field(t, idField, form)}, "csrf_token": {field(t, csrfField, form)},
		"credential": {key.get(fl.f.issuer, rpID, opts)}})
}

// TestPasskeyCeremonies drives every WebAuthn ceremony over HTTP with a
// software authenticator: enrolment when MFA is required, passwordless
// login, second factor after a password, registration from the account
// page; and what must fail: a replayed assertion, a cloned authenticator,
// a disabled user, another tenant's passkey.
func TestPasskeyCeremonies(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		key := &softKey{t: t}

		// Enrolment with a passkey: a phishing-resistant second factor.
		f.enrolPasskey(t, e.browser(), key).want(t, []string{"pwd", "hwk", "mfa"}, acrPhishing)
		if evs := f.audit("mfa.enrolled"); len(evs) != 1 || evs[0].Reason != "webauthn" {
			t.Fatalf("audit of the enrolment: %+v", evs)
		}
		if string(key.user) != f.userID {
			t.Fatalf("user handle %q, want the user id", key.user)
		}

		// Passwordless: the passkey alone, under a new session.
		b := e.browser()
		fl, p := f.begin(b)
		p = fl.passkeyLogin(p, key, "")
		c := fl.finish(p)
		c.want(t, []string{"hwk", "user", "mfa"}, acrPhishing)
		if c.Subject != f.userID {
			t.Fatalf("sub = %q", c.Subject)
		}
		if f.sessionCookie(b) == "" {
			t.Fatal("no session after a passkey login")
		}

		// A replayed assertion: its challenge is spent.
		b2 := e.browser()
		fl, p = f.begin(b2)
		form := passkeyForm.FindString(p.body)
		opts := fl.options(field(t, dataOptions, form))
		cred := key.get(f.issuer, "", opts)
		post := url.Values{"id": {field(t, idField, form)}, "csrf_token": {field(t, csrfField, form)}, "credential": {cred}}
		fl.finish(fl.post("/login/passkey", post)).want(t, []string{"hwk", "user", "mfa"}, acrPhishing)
		b3 := e.browser()
		fl3, p3 := f.begin(b3)
		form3 := passkeyForm.FindString(p3.body)
		post3 := url.Values{"id": {field(t, idField, form3)}, "csrf_token": {field(t, csrfField, form3)}, "credential": {cred}}
		if p := fl3.post("/login/passkey", post3); p.status != http.StatusUnauthorized || !strings.Contains(p.body, passkeyLoginError) {
			t.Fatalf("replayed assertion: %d\n%s", p.status, p.body)
		}

		// A cloned authenticator: the signature counter goes back.
		fl, p = f.begin(e.browser())
		form = passkeyForm.FindString(p.body)
		var ro requestOptions
		if err := jsonUnmarshal(fl.options(field(t, dataOptions, form)), &ro); err != nil {
			t.Fatal(err)
		}
		clone := key.sign(f.issuer, key.rpID, ro.PublicKey.Challenge, key.counter-1)
		if p := fl.post("/login/passkey", url.Values{"id": {field(t, idField, form)}, "csrf_token": {field(t, csrfField, form)},
			"credential": {clone}}); p.status != http.StatusUnauthorized {
			t.Fatalf("cloned authenticator: %d\n%s", p.status, p.body)
		}
		if evs := f.audit("login.failed"); len(evs) < 2 || !strings.Contains(evs[0].Reason, "counter") {
			t.Fatalf("clone warning not audited: %+v", evs)
		}

		// Second factor after the password (a step-up needs one too).
		fl, p = f.begin(e.browser())
		p = fl.password(p)
		if !isMFA(p) || !strings.Contains(p.body, `id="webauthn-login"`) {
			t.Fatalf("want the MFA page with a passkey, got %d:\n%s", p.status, p.body)
		}
		opts = fl.options(field(t, dataOptions, p.body))
		if !strings.Contains(string(opts), b64url.EncodeToString(key.id)) {
			t.Fatalf("second-factor options do not allow the user's credential: %s", opts)
		}
		p = fl.post("/login/mfa/webauthn", url.Values{"step": {field(t, stepField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
			"credential": {key.get(f.issuer, "", opts)}})
		fl.finish(p).want(t, []string{"pwd", "hwk", "mfa"}, acrPhishing)

		// The account page registers a second passkey for the signed-in
		// user (b has a session).
		second := &softKey{t: t}
		p = b.get(f.issuer + "/logout") // any form of the session carries its token
		csrf := field(t, csrfField, p.body)
		fla := &oidcFlow{f: f, b: b}
		// Without the password (or a code), once the session's sign-in is
		// minutes old: refused, nothing stored.
		f.staleSession(t, b)
		opts = fla.options("/account/webauthn/options")
		p = b.post(f.issuer+"/account/webauthn", url.Values{"csrf_token": {csrf}, "credential": {(&softKey{t: t}).create(f.issuer, opts)}, "confirm": {"not the password"}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="confirm-change"`) || !strings.Contains(p.body, `role="alert"`) {
			t.Fatalf("account registration with a wrong password: %d %s", p.status, p.location)
		}
		opts = fla.options("/account/webauthn/options")
		p = b.post(f.issuer+"/account/webauthn", url.Values{"csrf_token": {csrf}, "credential": {second.create(f.issuer, opts)}, "name": {"Backup key"},
			"confirm": {f.password}})
		if p.status != http.StatusSeeOther || p.location != "/account?done=passkey-added" {
			t.Fatalf("account registration: %d %s\n%s", p.status, p.location, p.body)
		}
		// Without the session's form token: refused, nothing stored.
		third := &softKey{t: t}
		opts = fla.options("/account/webauthn/options")
		if p := b.post(f.issuer+"/account/webauthn", url.Values{"csrf_token": {"x"}, "credential": {third.create(f.issuer, opts)}}); p.status != http.StatusForbidden {
			t.Fatalf("account registration without CSRF token: %d", p.status)
		}
		// Without a session: no options.
		if p := e.browser().get(f.issuer + "/account/webauthn/options"); p.status != http.StatusUnauthorized {
			t.Fatalf("account options without a session: %d %s", p.status, p.body)
		}
		fl, p = f.begin(e.browser())
		fl.finish(fl.passkeyLogin(p, second, "")).want(t, []string{"hwk", "user", "mfa"}, acrPhishing)
		factors, err := e.store.ListFactors(f.tctx(), f.userID)
		if err != nil || len(factors) != 3 { // the pending TOTP secret and two keys
			t.Fatalf("factors: %d %v", len(factors), err)
		}

		// A disabled user's passkey opens nothing.
		if _, err := e.srv.Admin().SetUserDisabled(f.adminCtx(), f.userID, true); err != nil {
			t.Fatal(err)
		}
		fl, p = f.begin(e.browser())
		if p := fl.passkeyLogin(p, key, ""); p.status != http.StatusUnauthorized || !strings.Contains(p.body, passkeyLoginError) {
			t.Fatalf("disabled user's passkey: %d\n%s", p.status, p.body)
		}
		if _, err := e.srv.Admin().SetUserDisabled(f.adminCtx(), f.userID, false); err != nil {
			t.Fatal(err)
		}

		// Another tenant knows nothing of the passkey, whether the
		// assertion names the first tenant's RP id or its own.
		g := e.fixture("globex")
		for _, rp := range []string{key.rpID, "globex.localhost"} {
			fl, p := g.begin(e.browser())
			if p := fl.passkeyLogin(p, key, rp); p.status != http.StatusUnauthorized || !strings.Contains(p.body, passkeyLoginError) {
				t.Fatalf("acme's passkey at globex (rp %s): %d\n%s", rp, p.status, p.body)
			}
		}
		if evs := g.audit("login.failed"); len(evs) != 2 || evs[0].ActorID != "" {
			t.Fatalf("failures at globex: %+v", evs)
		}
	})
}

// TestPasskeyOptionsRefused: the options endpoints begin nothing for a
// stranger: another browser's auth request or login step, another site's
// page, a missing session.
func TestPasskeyOptionsRefused(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		_, p := f.begin(b)
		form := passkeyForm.FindString(p.body)
		path := field(t, dataOptions, form)
		other := e.browser()
		for _, tc := range []struct {
			name   string
			b      *browser
			path   string
			site   string
			status int
		}{
			{"the browser of the request", b, path, "same-origin", http.StatusOK},
			{"another browser", other, path, "same-origin", http.StatusBadRequest},
			{"another site's page", b, path, "cross-site", http.StatusForbidden},
			{"unknown request", b, "/login/passkey/options?id=nope", "", http.StatusBadRequest},
			{"unknown MFA step", b, "/login/mfa/webauthn/options?step=nope", "", http.StatusBadRequest},
			{"unknown enrolment step", b, "/login/enrol/webauthn/options?step=nope", "", http.StatusBadRequest},
			{"account without a session", b, "/account/webauthn/options", "", http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodGet, f.issuer+strings.ReplaceAll(tc.path, "&amp;", "&"), nil)
				if tc.site != "" {
					req.Header.Set("Sec-Fetch-Site", tc.site)
				}
				p := tc.b.do(req)
				if p.status != tc.status || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
					t.Fatalf("%d %s %s", p.status, p.header.Get("Content-Type"), p.body)
				}
			})
		}
	})
}
