package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/app/account"
	"github.com/gatehouse-id/gatehouse/app/login"
	"github.com/gatehouse-id/gatehouse/app/samlidp"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// pageRoutes are the routes of every page package on a tenant's host.
func pageRoutes() []web.Route {
	return append(append(login.Routes(), account.Routes()...), samlidp.Routes()...)
}

// auditCount is the number of audit events of the fixture's tenant.
func (f *fixture) auditCount(t *testing.T) int {
	t.Helper()
	evs, err := f.e.store.ListAudit(tenants.WithTenant(context.Background(), f.tenant), tenants.AuditFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestPageRoutesRefuseForeignPosts walks every route of the sign-in and
// account pages, as a signed-in browser holding a valid anti-CSRF token:
// every POST that is a form of ours answers 403 and records nothing when
// its token is missing or forged, or when another site sends it (Origin,
// Sec-Fetch-Site); every GET that begins a WebAuthn ceremony answers 403
// to another site. The POSTs other sites send by design are listed, so
// that a new one is a decision.
func TestPageRoutesRefuseForeignPosts(t *testing.T) {
	crossSite := map[string]bool{"/authorize": true, "/logout": true, "/federation/:connection/saml/acs": true, "/saml/idp/sso": true,
		"/saml/idp/slo":                    true, // an SP's LogoutRequest (HTTP-POST binding)
		"/federation/:connection/callback": true} // Sign in with Apple's form_post
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		csrf := field(t, csrfField, f.accountPage(b).body)
		forged := "A" + csrf[1:]
		if forged == csrf {
			forged = "B" + csrf[1:]
		}
		before := f.auditCount(t)
		fill := strings.NewReplacer(":connection", "c1", ":factor", "f1", ":session", "s1", ":client", "c1", ":identity", "i1")
		posts, guarded := 0, 0
		for _, r := range pageRoutes() {
			path := fill.Replace(r.Path)
			switch {
			case r.Method == http.MethodPost && r.CrossSite:
				if !crossSite[r.Path] {
					t.Errorf("POST %s takes cross-site requests: add it to the list only if other sites send it by design", r.Path)
				}
			case r.Method == http.MethodPost:
				posts++
				for _, tt := range []struct {
					name   string
					form   url.Values
					header map[string]string
				}{
					{"no token", url.Values{}, nil},
					{"forged token", url.Values{"csrf_token": {forged}}, nil},
					{"another tenant's site", url.Values{"csrf_token": {csrf}}, map[string]string{"Origin": "http://beta.localhost:" + e.port}},
					{"another site", url.Values{"csrf_token": {csrf}}, map[string]string{"Origin": "https://evil.example"}},
					{"a cross-site fetch", url.Values{"csrf_token": {csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
					{"a same-site fetch from a sibling", url.Values{"csrf_token": {csrf}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
				} {
					req, _ := http.NewRequest(http.MethodPost, f.issuer+path, strings.NewReader(tt.form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					for k, v := range tt.header {
						req.Header.Set(k, v)
					}
					if p := b.do(req); p.status != http.StatusForbidden {
						t.Errorf("POST %s, %s: %d, want 403", r.Path, tt.name, p.status)
					}
				}
			case r.SameSiteOnly:
				guarded++
				req, _ := http.NewRequest(http.MethodGet, f.issuer+path, nil)
				req.Header.Set("Sec-Fetch-Site", "cross-site")
				if p := b.do(req); p.status != http.StatusForbidden {
					t.Errorf("GET %s from another site: %d, want 403", r.Path, p.status)
				}
			}
		}
		if posts < 20 || guarded < 4 {
			t.Fatalf("walked %d form POSTs and %d same-site GETs: the route tables look incomplete", posts, guarded)
		}
		if after := f.auditCount(t); after != before {
			t.Errorf("refused requests recorded %d audit events", after-before)
		}
		// The session survived it all.
		if p := b.get(f.issuer + "/account"); p.status != http.StatusOK {
			t.Fatalf("account page after the walk: %d", p.status)
		}
	})
}

// sessionHandles are the "sign out" forms of other sessions on an account
// page.
var sessionHandles = regexp.MustCompile(`action="/account/sessions/([^/"]+)/revoke"`)

// TestPageRoutesAnswerOtherTenantsIDsAsNotFound walks every route of the
// pages that names a row in its path, as acme's signed-in user (whose
// session signed in moments ago, so that a sensitive change needs no
// confirmation) naming beta's rows: each answers 404, and beta's rows are
// untouched.
func TestPageRoutesAnswerOtherTenantsIDsAsNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, bt := e.fixture("acme"), e.fixture("beta")
		// Beta's sessions need no second step for the factor made below.
		bt.setMFAPolicy(t, tenants.MFAOff)
		ctxB := tenants.WithTenant(context.Background(), bt.tenant)
		// Beta's rows: a factor, a connection and an identity through it,
		// a consent, and a second session whose handle beta's page shows.
		factor := &tenants.MFAFactor{UserID: bt.userID, Type: tenants.FactorTOTP, Name: "Beta app", Confirmed: true}
		conn := &tenants.Connection{Type: tenants.ConnectionOIDC, Name: "Beta IdP", Enabled: true, Issuer: "https://idp.beta.test", ClientID: "gh"}
		for _, err := range []error{e.store.CreateFactor(ctxB, factor), e.store.CreateConnection(ctxB, conn)} {
			if err != nil {
				t.Fatal(err)
			}
		}
		samlApp := &tenants.SAMLApp{Name: "Beta SP", EntityID: "urn:beta-sp", ACS: tenants.SAMLEndpoints{{URL: "https://sp.beta.test/acs",
			Binding: tenants.BindingHTTPPost, Index: 1}}, NameIDFormat: tenants.NameIDEmail, NameIDSource: tenants.NameIDSourceEmail,
			NameIDSalt: "s", SignAssertion: true, Access: tenants.SAMLAccessEveryone, Enabled: true}
		if err := e.store.CreateSAMLApp(ctxB, samlApp); err != nil {
			t.Fatal(err)
		}
		ident := &tenants.ExternalIdentity{UserID: bt.userID, ConnectionID: conn.ID, Issuer: conn.Issuer, Subject: "beta-sub"}
		if err := e.store.CreateExternalIdentity(ctxB, ident); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.GrantConsent(ctxB, bt.userID, bt.web.ClientID, tenants.ScopeSet{"": {"openid"}}); err != nil {
			t.Fatal(err)
		}
		b1, b2 := e.browser(), e.browser()
		bt.accountPage(b1)
		m := sessionHandles.FindStringSubmatch(bt.accountPage(b2).body)
		if m == nil {
			t.Fatal("beta's account page shows no other session")
		}
		ids := map[string]string{":connection": conn.ID, ":factor": factor.ID, ":session": m[1], ":client": bt.web.ClientID, ":identity": ident.ID, ":app": samlApp.ID}

		b := e.browser()
		csrf := field(t, csrfField, a.accountPage(b).body)
		param := regexp.MustCompile(`:[a-z]+`)
		walked := 0
		for _, r := range pageRoutes() {
			names := param.FindAllString(r.Path, -1)
			if len(names) == 0 {
				continue
			}
			path := r.Path
			for _, n := range names {
				id, ok := ids[n]
				if !ok {
					t.Fatalf("route %s %s names %s: give the walk one of beta's", r.Method, r.Path, n)
				}
				path = strings.ReplaceAll(path, n, url.PathEscape(id))
			}
			walked++
			var p *page
			if r.Method == http.MethodPost {
				p = b.post(a.issuer+path, url.Values{"csrf_token": {csrf}, "state": {"s"}, "SAMLResponse": {"PHNhbWw+"}})
			} else {
				p = b.get(a.issuer + path + "?state=s&code=c&token=t")
			}
			if p.status != http.StatusNotFound {
				t.Errorf("%s %s with beta's ids at acme: %d, want 404", r.Method, r.Path, p.status)
			}
		}
		if walked < 8 {
			t.Fatalf("walked %d routes with ids", walked)
		}
		// Beta's rows are all there.
		if fs, err := e.store.ListFactors(ctxB, bt.userID); err != nil || len(fs) != 1 {
			t.Errorf("beta's factors: %v %v", fs, err)
		}
		if xs, err := e.store.ListExternalIdentities(ctxB, bt.userID); err != nil || len(xs) != 1 {
			t.Errorf("beta's identities: %v %v", xs, err)
		}
		if ss, err := e.store.ListSessions(ctxB, bt.userID); err != nil || len(ss) != 2 {
			t.Errorf("beta's sessions: %d %v", len(ss), err)
		}
		if _, err := e.store.ConsentFor(ctxB, bt.userID, bt.web.ClientID); err != nil {
			t.Errorf("beta's consent: %v", err)
		}
	})
}
