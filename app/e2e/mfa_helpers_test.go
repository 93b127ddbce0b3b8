package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// The pages of a login with a second factor, as tests read them.
var (
	stepField      = regexp.MustCompile(`name="step" value="([^"]*)"`)
	totpSecret     = regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`)
	recoveryCodeRe = regexp.MustCompile(`<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>`)
	// idOf is the auth request of the recovery codes page's way on.
	idOf = regexp.MustCompile(`href="/consent\?id=([^"&]+)"`)
	// continueLink is the link on the recovery codes page.
	continueLink = regexp.MustCompile(`class="button primary" href="([^"]+)"`)
)

// setMFAPolicy sets the tenant's MFA policy through the admin service.
func (f *fixture) setMFAPolicy(t *testing.T, policy string) {
	t.Helper()
	if _, err := f.e.srv.Admin().UpdateTenant(f.adminCtx(), admin.TenantSettings{MFAPolicy: &policy}); err != nil {
		t.Fatalf("set MFA policy %s: %v", policy, err)
	}
}

// authApp is an authenticator app: it makes the TOTP codes of a secret,
// never one of a time step it already used (the server refuses those).
type authApp struct {
	secret string
	last   int64
}

// code returns a code of the earliest usable step: the server accepts the
// current step and one on either side, so a test makes three codes in a
// row without waiting, and waits for the next step after that.
func (a *authApp) code(t testing.TB) string {
	t.Helper()
	now := time.Now().Unix() / 30
	step := max(now-1, a.last+1)
	for step > time.Now().Unix()/30+1 {
		time.Sleep(250 * time.Millisecond)
	}
	a.last = step
	c, err := totp.GenerateCodeCustom(a.secret, time.Unix(step*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oidcFlow is one authorization request of the fixture's web client, walked
// page by page.
type oidcFlow struct {
	f        *fixture
	b        *browser
	cfg      *oauth2.Config
	verifier string
	state    string
	nonce    string
}

// begin starts an authorization request with extra parameters and returns
// the first page that is not a redirect within the issuer.
func (f *fixture) begin(b *browser, params ...string) (*oidcFlow, *page) {
	fl := &oidcFlow{f: f, b: b, cfg: f.oauth2Config(f.web, "openid", "profile", "email"), verifier: oauth2.GenerateVerifier(),
		state: secret.Token(8), nonce: secret.Token(8)}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(fl.verifier), oauth2.SetAuthURLParam("nonce", fl.nonce)}
	for i := 0; i+1 < len(params); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
	}
	return fl, fl.follow(b.get(fl.cfg.AuthCodeURL(fl.state, opts...)))
}

// follow follows redirects within the issuer; it stops at a page, or at the
// redirect to the client.
func (fl *oidcFlow) follow(p *page) *page {
	for range 10 {
		if p.status != http.StatusFound && p.status != http.StatusSeeOther {
			return p
		}
		loc := resolve(fl.f.issuer, p.location)
		if strings.HasPrefix(loc, redirectURI) {
			return p
		}
		p = fl.b.get(loc)
	}
	fl.b.t.Fatal("too many redirects")
	return nil
}

// post posts a form to the issuer and follows the answer.
func (fl *oidcFlow) post(path string, form url.Values) *page {
	return fl.follow(fl.b.post(fl.f.issuer+path, form))
}

// password fills in the login form of p.
func (fl *oidcFlow) password(p *page) *page {
	t := fl.b.t
	t.Helper()
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="/login"`) {
		t.Fatalf("want the login form, got %d %s:\n%s", p.status, p.location, p.body)
	}
	return fl.post("/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
		"email": {fl.f.email}, "password": {fl.f.password}})
}

// isMFA, isEnrol and isLogin tell the pages apart.
func isMFA(p *page) bool {
	return p.status/100 == 2 && strings.Contains(p.body, "Confirm it") && strings.Contains(p.body, `name="step"`)
}
func isEnrol(p *page) bool {
	return p.status/100 == 2 && strings.Contains(p.body, `action="/login/enrol"`)
}
func isLogin(p *page) bool {
	return p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`)
}

// mfaCode posts a TOTP code (or, with field recovery_code, a recovery
// code) to the MFA page p.
func (fl *oidcFlow) mfaCode(p *page, name, code string) *page {
	t := fl.b.t
	t.Helper()
	if !isMFA(p) {
		t.Fatalf("want the MFA page, got %d %s:\n%s", p.status, p.location, p.body)
	}
	return fl.post("/login/mfa", url.Values{"step": {field(t, stepField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, name: {code}})
}

// finish consents if asked, and redeems the code the client got; it
// returns the ID token's claims.
func (fl *oidcFlow) finish(p *page) idClaims {
	t := fl.b.t
	t.Helper()
	if p.status == http.StatusOK && strings.Contains(p.body, `action="/consent"`) {
		p = fl.post("/consent", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"}})
	}
	loc := resolve(fl.f.issuer, p.location)
	if !strings.HasPrefix(loc, redirectURI) {
		t.Fatalf("want the redirect to the client, got %d %s:\n%s", p.status, p.location, p.body)
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	if q.Get("error") != "" || q.Get("state") != fl.state {
		t.Fatalf("client callback = %v", q)
	}
	tok, err := fl.cfg.Exchange(fl.f.e.ctx(), q.Get("code"), oauth2.VerifierOption(fl.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := fl.f.idTokenVerifier().Verify(fl.f.e.ctx(), raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.Nonce != fl.nonce {
		t.Fatalf("ID token nonce = %q", c.Nonce)
	}
	return c
}

// callbackError returns the error the client got at its redirect URI.
func (fl *oidcFlow) callbackError(p *page) string {
	t := fl.b.t
	t.Helper()
	loc := resolve(fl.f.issuer, p.location)
	if !strings.HasPrefix(loc, redirectURI) {
		t.Fatalf("want the redirect to the client, got %d %s:\n%s", p.status, p.location, p.body)
	}
	u, _ := url.Parse(loc)
	if u.Query().Get("state") != fl.state || u.Query().Get("iss") != fl.f.issuer {
		t.Fatalf("error callback without state/iss: %v", u.Query())
	}
	return u.Query().Get("error")
}

// idClaims are the ID token claims the MFA tests look at.
type idClaims struct {
	Subject  string   `json:"sub"`
	Nonce    string   `json:"nonce"`
	AMR      []string `json:"amr"`
	ACR      string   `json:"acr"`
	AuthTime int64    `json:"auth_time"`
}

func (c idClaims) want(t *testing.T, amr []string, acr string) {
	t.Helper()
	if !slices.Equal(c.AMR, amr) || c.ACR != acr {
		t.Fatalf("ID token amr/acr = %q/%q, want %q/%q", c.AMR, c.ACR, amr, acr)
	}
}

// sessionCookie returns the browser's session cookie at the fixture's
// tenant ("" when none).
func (f *fixture) sessionCookie(b *browser) string {
	u, _ := url.Parse(f.issuer)
	for _, c := range b.client.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, "gh_session") {
			return c.Value
		}
	}
	return ""
}

// enrolTOTP walks a new login of b through TOTP enrolment (the tenant must
// require MFA) and returns the authenticator app, the recovery codes shown
// and the ID token's claims.
func (f *fixture) enrolTOTP(t *testing.T, b *browser) (*authApp, []string, idClaims) {
	t.Helper()
	fl, p := f.begin(b)
	p = fl.password(p)
	if !isEnrol(p) {
		t.Fatalf("want the enrolment page, got %d %s:\n%s", p.status, p.location, p.body)
	}
	app := &authApp{secret: field(t, totpSecret, p.body)}
	p = fl.post("/login/enrol", url.Values{"step": {field(t, stepField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "code": {app.code(t)}})
	var codes []string
	for _, m := range recoveryCodeRe.FindAllStringSubmatch(p.body, -1) {
		codes = append(codes, m[1])
	}
	if p.status != http.StatusOK || len(codes) != 10 {
		t.Fatalf("want 10 recovery codes, got %d:\n%s", p.status, p.body)
	}
	cont := f.issuer + "/consent?id=" + url.QueryEscape(field(t, idOf, p.body))
	return app, codes, fl.finish(fl.follow(b.get(cont)))
}

// ACR values, as the tests spell them.
const (
	acrMFA      = authn.ACRMFA
	acrPhishing = authn.ACRPhishingResistant
)

// staleSessions makes every session of the fixture's user one that signed
// in longer ago than the re-authentication window.
func (f *fixture) staleSessions(t testing.TB) {
	t.Helper()
	db, err := f.e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	q := "UPDATE sessions SET auth_time = $1 WHERE tenant_id = $2 AND user_id = $3"
	if f.e.store.Dialect() == tenants.DialectSQLite {
		q = "UPDATE sessions SET auth_time = ? WHERE tenant_id = ? AND user_id = ?"
	}
	if _, err := db.Exec(q, f.e.store.Now().Add(-time.Hour).UTC(), f.tenant.ID, f.userID); err != nil {
		t.Fatalf("age the sessions: %v", err)
	}
}

// staleSession makes b's session at the fixture's tenant one that signed
// in longer ago than the re-authentication window, as a stolen session
// would be: its sensitive changes need a confirmation.
func (f *fixture) staleSession(t testing.TB, b *browser) {
	t.Helper()
	v := f.sessionCookie(b)
	if v == "" {
		t.Fatal("the browser has no session")
	}
	db, err := f.e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	q := "UPDATE sessions SET auth_time = $1 WHERE id = $2"
	if f.e.store.Dialect() == tenants.DialectSQLite {
		q = "UPDATE sessions SET auth_time = ? WHERE id = ?"
	}
	res, err := db.Exec(q, f.e.store.Now().Add(-time.Hour).UTC(), secret.Hash(v))
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("age the session: %v (%d rows)", err, n)
	}
}
