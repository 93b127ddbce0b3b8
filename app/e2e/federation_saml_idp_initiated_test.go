package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

const reasonIDPInitiatedOff = "an IdP-initiated response (no InResponseTo), and IdP-initiated login is off for this connection"

// evilRelayState is the RelayState the IdP sends with its unsolicited
// answers: a URL elsewhere, which must never become a redirect.
const evilRelayState = "https://evil.example/after-login"

// unsolicited logs b in at the IdP as samlUser and has the IdP start a
// login at conn on its own (samlidp's /login/<shortcut>): the answer form,
// which posts to conn's ACS, with relayState.
func (s *samlEnv) unsolicited(b *browser, conn *admin.Connection, relayState string) *samltest.Form {
	t := b.t
	t.Helper()
	if err := s.idp.Login(b.client, samlUser.Name, samlUser.Password); err != nil {
		t.Fatal(err)
	}
	shortcut := "sc" + strings.NewReplacer("-", "x", "_", "y").Replace(secret.Token(6))
	s.idp.AddShortcut(t, shortcut, conn.EntityID, relayState)
	form, err := s.idp.InitiatedResponse(b.client, shortcut)
	if err != nil {
		t.Fatal(err)
	}
	if form.Action != conn.ACSURL || form.Fields.Get("RelayState") != relayState {
		t.Fatalf("the IdP posts to %s with RelayState %q", form.Action, form.Fields.Get("RelayState"))
	}
	r, err := samltest.ParseResponse(form.Fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Root().SelectAttr("InResponseTo") != nil {
		t.Fatal("the IdP-initiated response has an InResponseTo")
	}
	return form
}

// postACS posts an answer form to where it points.
func postACS(b *browser, form *samltest.Form) *page {
	b.t.Helper()
	return b.post(form.Action, url.Values{"SAMLResponse": {form.Fields.Get("SAMLResponse")}, "RelayState": {form.Fields.Get("RelayState")}})
}

// followToAccount follows the ACS's answer p (a redirect to continue)
// through every redirect, which must all stay on the tenant's host, and
// returns the page it ends on and the trail of addresses.
func (s *samlEnv) followToAccount(b *browser, p *page) (*page, []string) {
	t := b.t
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/federation/"+s.conn.ID+"/continue?token=") {
		t.Fatalf("ACS answered %d %s:\n%s", p.status, p.location, p.body)
	}
	return s.follow(b, p)
}

// follow follows redirects from p, which must all stay on the tenant's
// host, and returns the page it ends on and the trail of addresses.
func (s *samlEnv) follow(b *browser, p *page) (*page, []string) {
	t := b.t
	t.Helper()
	var trail []string
	for range 8 {
		if p.status != http.StatusFound && p.status != http.StatusSeeOther {
			return p, trail
		}
		loc := resolve(s.f.issuer, p.location)
		trail = append(trail, loc)
		if !strings.HasPrefix(loc, s.f.issuer+"/") || strings.Contains(loc, "evil.example") {
			t.Fatalf("redirected off the tenant to %s (trail %v)", loc, trail)
		}
		p = b.get(loc)
	}
	t.Fatalf("too many redirects: %v", trail)
	return nil, nil
}

// signedIn reports whether b has a session at the tenant: its account page
// shows the account instead of starting a sign-in.
func (s *samlEnv) signedIn(b *browser, email string) bool {
	b.t.Helper()
	p := b.get(s.f.issuer + "/account")
	return p.status == http.StatusOK && strings.Contains(p.body, email)
}

// loginEvents returns the tenant's login.succeeded events of userID.
func (s *samlEnv) loginEvents(t *testing.T, f *fixture, userID string) []tenants.AuditEvent {
	t.Helper()
	evs, err := s.e.store.ListAudit(tenants.WithTenant(context.Background(), f.tenant), tenants.AuditFilter{Action: "login.succeeded", ActorID: userID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestFederationSAMLIDPInitiated: a login the IdP starts on its own (an
// unsolicited response, no InResponseTo). Off by default: refused with a
// clear page, an audit event and no session. Switched on: the answer gets
// every check a solicited one gets (signature by the metadata's key only,
// shape, audience, recipient, destination, validity, replay) but the
// binding to a request; the user is provisioned as on any federated login,
// gets a session and lands on the account page; RelayState is never a
// redirect. Other tenants' ACSs refuse the answer.
func TestFederationSAMLIDPInitiated(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		s := newSAMLEnv(t, e, "acme")

		t.Run("off", func(t *testing.T) {
			for _, relay := range []string{"", evilRelayState} {
				b := s.browser(t)
				form := s.unsolicited(b, s.conn, relay)
				s.wantRejected(t, s.f, reasonIDPInitiatedOff, func() *page { return postACS(b, form) })
				if s.signedIn(b, samlUser.Email) {
					t.Fatal("signed in after a refused IdP-initiated answer")
				}
			}
			if _, err := e.store.UserByEmail(s.tctx(), samlUser.Email); !errors.Is(err, tenants.ErrNotFound) {
				t.Fatalf("a user was provisioned from a refused answer: %v", err)
			}
		})

		on := true
		if _, err := e.srv.Admin().UpdateConnection(s.f.adminCtx(), s.conn.ID, admin.ConnectionInput{AllowIDPInitiated: &on}); err != nil {
			t.Fatal(err)
		}

		t.Run("on", func(t *testing.T) {
			b := s.browser(t)
			form := s.unsolicited(b, s.conn, evilRelayState)
			p := postACS(b, form)
			noSession(t, p)
			p, trail := s.followToAccount(b, p)
			if last := trail[len(trail)-1]; last != s.f.issuer+"/account" {
				t.Fatalf("the login ended at %s, not the account page (trail %v)", last, trail)
			}
			if p.status != http.StatusOK || !strings.Contains(p.body, samlUser.Email) {
				t.Fatalf("account page: %d\n%s", p.status, p.body)
			}
			if !s.signedIn(b, samlUser.Email) {
				t.Fatal("no session after the IdP-initiated login")
			}

			// Provisioned and linked as on an SP-initiated login.
			u, err := e.store.UserByEmail(s.tctx(), samlUser.Email)
			if err != nil {
				t.Fatalf("no user provisioned: %v", err)
			}
			xs, err := e.store.ListExternalIdentities(s.tctx(), u.ID)
			if err != nil || len(xs) != 1 || xs[0].Issuer != s.idp.EntityID() || xs[0].Subject != "u-"+samlUser.Name || xs[0].ConnectionID != s.conn.ID {
				t.Fatalf("linked identities %+v (%v)", xs, err)
			}
			// The session says how the user signed in.
			ss, err := e.store.ListSessions(s.tctx(), u.ID)
			if err != nil || len(ss) != 1 || !slices.Equal([]string(ss[0].AMR), []string{"fed"}) || ss[0].IDP != "Corp SSO" {
				t.Fatalf("sessions %+v (%v)", ss, err)
			}
			// And the audit log.
			evs := s.loginEvents(t, s.f, u.ID)
			if len(evs) != 1 || evs[0].Outcome != "success" || !strings.Contains(evs[0].Reason, "IdP-initiated") || !strings.Contains(evs[0].Reason, "Corp SSO") {
				t.Fatalf("login.succeeded events %+v", evs)
			}

			// The same answer again, in this browser or another: a replay.
			s.wantRejected(t, s.f, "the assertion was already used (replay)", func() *page { return postACS(b, form) })
			s.wantRejected(t, s.f, "the assertion was already used (replay)", func() *page { return postACS(s.browser(t), form) })

			// A second login in the same browser finds the same user.
			again, _ := s.followToAccount(b, postACS(b, s.unsolicited(b, s.conn, "")))
			if again.status != http.StatusOK || !strings.Contains(again.body, samlUser.Email) {
				t.Fatalf("second IdP-initiated login: %d\n%s", again.status, again.body)
			}
			if n := len(s.loginEvents(t, s.f, u.ID)); n != 2 {
				t.Fatalf("%d login.succeeded events, want 2", n)
			}
		})

		t.Run("continued in another browser", func(t *testing.T) {
			b := s.browser(t)
			p := postACS(b, s.unsolicited(b, s.conn, ""))
			if p.status != http.StatusSeeOther {
				t.Fatalf("ACS: %d\n%s", p.status, p.body)
			}
			// The continue link, taken to a browser that did not post the
			// answer, is refused (and spent).
			mallory := s.browser(t)
			s.wantRejected(t, s.f, "the answer was posted from another browser", func() *page {
				return mallory.get(resolve(s.f.issuer, p.location))
			})
			if s.signedIn(mallory, samlUser.Email) {
				t.Fatal("signed in with another browser's continue link")
			}
			if q := b.get(resolve(s.f.issuer, p.location)); q.status != http.StatusBadRequest {
				t.Fatalf("a spent continue link: %d", q.status)
			}
		})

		// Every check of a solicited answer holds for an unsolicited one.
		t.Run("tampered", func(t *testing.T) {
			signer := s.idp.Signer
			other := samltest.NewSigner(t, "another idp")
			past := time.Now().Add(-time.Hour)
			resign := func(edit func(a *saml.Assertion)) func(*testing.T, *samltest.Response) {
				return func(t *testing.T, r *samltest.Response) {
					a, err := r.Assertion()
					if err != nil {
						t.Fatal(err)
					}
					edit(a)
					if err := r.SetAssertion(a, signer); err != nil {
						t.Fatal(err)
					}
				}
			}
			cases := []struct {
				name   string
				tamper func(*testing.T, *samltest.Response)
				reason string
			}{
				{"unsigned", func(_ *testing.T, r *samltest.Response) { r.RemoveAssertionSignature() },
					"neither the response nor its assertion is signed"},
				{"signed by another key", func(t *testing.T, r *samltest.Response) {
					a, _ := r.Assertion()
					if err := r.SetAssertion(a, other); err != nil {
						t.Fatal(err)
					}
				}, "the signature is not valid for the IdP's certificate"},
				{"two assertions", func(_ *testing.T, r *samltest.Response) {
					orig := r.AssertionElement()
					forged := orig.Copy()
					forged.CreateAttr("ID", "id-forged")
					forged.FindElement(".//NameID").SetText("u-admin")
					r.Root().InsertChildAt(orig.Index(), forged)
				}, "the SAML response must hold exactly one Response and one assertion (signature wrapping)"},
				{"wrapped in Extensions", func(_ *testing.T, r *samltest.Response) {
					orig := r.AssertionElement()
					ext := etree.NewElement("samlp:Extensions")
					r.Root().InsertChildAt(orig.Index(), ext)
					r.Root().RemoveChild(orig)
					ext.AddChild(orig)
				}, "the SAML response must hold exactly one Response and one assertion (signature wrapping)"},
				{"wrong Audience", resign(func(a *saml.Assertion) {
					a.Conditions.AudienceRestrictions[0].Audience.Value = "https://another.example/sp"
				}), "the assertion's Audience is not this service provider"},
				{"wrong Recipient", resign(func(a *saml.Assertion) {
					a.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient = "https://another.example/acs"
				}), "the assertion's Recipient is not this connection's ACS URL"},
				{"wrong Destination", func(t *testing.T, r *samltest.Response) {
					r.Root().CreateAttr("Destination", "https://another.example/acs")
					if err := r.SignResponse(signer); err != nil {
						t.Fatal(err)
					}
				}, "the response's Destination is not this connection's ACS URL"},
				{"expired", resign(func(a *saml.Assertion) {
					a.IssueInstant, a.Conditions.NotBefore, a.Conditions.NotOnOrAfter = past, past, past.Add(90*time.Second)
					a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = past.Add(90 * time.Second)
				}), "the response or its assertion has expired"},
				{"not yet valid", resign(func(a *saml.Assertion) {
					a.Conditions.NotBefore = time.Now().Add(time.Hour)
				}), "the assertion is not yet valid"},
				// An assertion that answered a request, its Response's
				// InResponseTo stripped: it does not pass as unsolicited.
				{"a solicited assertion", resign(func(a *saml.Assertion) {
					a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo = "id-of-a-request"
				}), "the response answers another request (InResponseTo is not this login's)"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					b := s.browser(t)
					form := s.unsolicited(b, s.conn, "")
					r, err := samltest.ParseResponse(form.Fields.Get("SAMLResponse"))
					if err != nil {
						t.Fatal(err)
					}
					if err := r.Decrypt(s.spKey); err != nil {
						t.Fatal(err)
					}
					r.RemoveResponseSignature()
					tc.tamper(t, r)
					s.wantRejected(t, s.f, tc.reason, func() *page {
						return b.post(s.conn.ACSURL, url.Values{"SAMLResponse": {r.Encode()}})
					})
					if s.signedIn(b, samlUser.Email) {
						t.Fatal("signed in with a tampered answer")
					}
				})
			}
			// The untampered answer, decrypted the same way, passes: what
			// was refused above is the change.
			b := s.browser(t)
			r, err := samltest.ParseResponse(s.unsolicited(b, s.conn, "").Fields.Get("SAMLResponse"))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Decrypt(s.spKey); err != nil {
				t.Fatal(err)
			}
			r.RemoveResponseSignature()
			if p, _ := s.followToAccount(b, b.post(s.conn.ACSURL, url.Values{"SAMLResponse": {r.Encode()}})); p.status != http.StatusOK {
				t.Fatalf("the untampered answer: %d\n%s", p.status, p.body)
			}
		})

		// The login goes through the same steps as any: an account with
		// the email address of an existing one that the IdP does not vouch
		// for must sign in to it first, and then lands on the account page.
		t.Run("link to an existing account", func(t *testing.T) {
			ann := samltest.User{Name: "ann", Password: "ann's IdP password", Email: s.f.email, CommonName: "Ann Example"}
			s.idp.AddUser(t, ann)
			b := s.browser(t)
			if err := s.idp.Login(b.client, ann.Name, ann.Password); err != nil {
				t.Fatal(err)
			}
			s.idp.AddShortcut(t, "ann", s.conn.EntityID, evilRelayState)
			form, err := s.idp.InitiatedResponse(b.client, "ann")
			if err != nil {
				t.Fatal(err)
			}
			p, _ := s.followToAccount(b, postACS(b, form))
			if !isLogin(p) || !strings.Contains(p.body, "Sign in to it to link your Corp SSO login") {
				t.Fatalf("want the login page asking to link, got %d:\n%s", p.status, p.body)
			}
			noSession(t, p)
			if s.signedIn(b, s.f.email) {
				t.Fatal("signed in to the existing account without its password")
			}
			p, trail := s.follow(b, b.post(s.f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {s.f.email}, "password": {s.f.password}, "link": {field(t, linkField, p.body)}}))
			if len(trail) == 0 || trail[len(trail)-1] != s.f.issuer+"/account" || p.status != http.StatusOK || !strings.Contains(p.body, s.f.email) {
				t.Fatalf("after linking: %d, trail %v\n%s", p.status, trail, p.body)
			}
			xs, err := e.store.ListExternalIdentities(s.tctx(), s.f.userID)
			if err != nil || len(xs) != 1 || xs[0].Subject != "u-ann" || xs[0].ConnectionID != s.conn.ID {
				t.Fatalf("ann's linked identities %+v (%v)", xs, err)
			}
			// Linked: the next IdP-initiated login goes straight in.
			b = s.browser(t)
			if err := s.idp.Login(b.client, ann.Name, ann.Password); err != nil {
				t.Fatal(err)
			}
			form, err = s.idp.InitiatedResponse(b.client, "ann")
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := s.followToAccount(b, postACS(b, form)); p.status != http.StatusOK || !strings.Contains(p.body, s.f.email) {
				t.Fatalf("linked IdP-initiated login: %d\n%s", p.status, p.body)
			}
		})

		// An SP-initiated login is never recorded as an IdP-initiated one:
		// the mark is the sign-in's intent, which no request from outside
		// can set.
		t.Run("SP-initiated login", func(t *testing.T) {
			fl := s.begin(s.browser(t))
			fl.upstream()
			form := fl.authenticate()
			c := fl.complete(fl.post(fl.b, form.Fields.Get("SAMLResponse"), form.Fields.Get("RelayState")))
			if evs := s.loginEvents(t, s.f, c.Subject); len(evs) == 0 || evs[0].Reason != "" {
				t.Fatalf("the SP-initiated login is recorded as %+v", evs)
			}
		})

		t.Run("another tenant's ACS", func(t *testing.T) {
			globex := e.fixture("globex")
			// Globex has its own connection to the same IdP, IdP-initiated
			// login on too.
			name, md, trust := "Corp SSO", string(s.idp.Metadata()), true
			gconn, err := e.srv.Admin().CreateConnection(globex.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionSAML, Provisioning: provisionCreate(), Name: &name,
				MetadataXML: &md, AllowIDPInitiated: &on, TrustEmail: &trust})
			if err != nil {
				t.Fatal(err)
			}
			b := s.browser(t)
			form := s.unsolicited(b, s.conn, "") // for acme's connection

			// Acme's connection id on globex's host: no such connection.
			acs := strings.Replace(s.conn.ACSURL, s.f.issuer, globex.issuer, 1)
			before := s.rejected(t, globex, "unknown connection")
			p := b.post(acs, url.Values{"SAMLResponse": {form.Fields.Get("SAMLResponse")}})
			if p.status != http.StatusNotFound || !strings.Contains(p.body, "Sign-in option not available") {
				t.Fatalf("ACS on another tenant's host: %d\n%s", p.status, p.body)
			}
			noSession(t, p)
			if after := s.rejected(t, globex, "unknown connection"); after != before+1 {
				t.Fatalf("%d audit events in the other tenant, want %d", after, before+1)
			}

			// Globex's own connection: the answer is addressed to acme.
			s.wantRejected(t, globex, "the response's Destination is not this connection's ACS URL", func() *page {
				return b.post(gconn.ACSURL, url.Values{"SAMLResponse": {form.Fields.Get("SAMLResponse")}})
			})
			gctx := tenants.WithTenant(context.Background(), globex.tenant)
			if _, err := e.store.UserByEmail(gctx, samlUser.Email); !errors.Is(err, tenants.ErrNotFound) {
				t.Fatalf("a user was provisioned at the other tenant: %v", err)
			}
			if s.signedIn(b, samlUser.Email) {
				t.Fatal("signed in at acme by a refused answer")
			}

			// Nothing was spent: the answer still works where it belongs.
			if p, _ := s.followToAccount(b, postACS(b, form)); p.status != http.StatusOK || !strings.Contains(p.body, samlUser.Email) {
				t.Fatalf("the answer at its own ACS: %d\n%s", p.status, p.body)
			}
		})

		// A tenant that requires MFA requires it of an IdP-initiated login
		// too: no session before the second factor, then the account page.
		t.Run("MFA required", func(t *testing.T) {
			s.f.setMFAPolicy(t, tenants.MFARequired)
			b := s.browser(t)
			p, _ := s.followToAccount(b, postACS(b, s.unsolicited(b, s.conn, evilRelayState)))
			if !isEnrol(p) {
				t.Fatalf("want the MFA enrolment page, got %d:\n%s", p.status, p.body)
			}
			if s.signedIn(b, samlUser.Email) {
				t.Fatal("signed in before the second factor")
			}
			u, err := e.store.UserByEmail(s.tctx(), samlUser.Email)
			if err != nil {
				t.Fatal(err)
			}
			before := len(s.loginEvents(t, s.f, u.ID))
			app := &authApp{secret: field(t, totpSecret, p.body)}
			p = b.post(s.f.issuer+"/login/enrol", url.Values{"step": {field(t, stepField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "code": {app.code(t)}})
			if p.status != http.StatusOK || len(recoveryCodeRe.FindAllString(p.body, -1)) != 10 {
				t.Fatalf("want the recovery codes, got %d:\n%s", p.status, p.body)
			}
			next := field(t, continueLink, p.body)
			p, trail := s.follow(b, b.get(s.f.issuer+next))
			if next != "/account" || p.status != http.StatusOK || !strings.Contains(p.body, samlUser.Email) {
				t.Fatalf("after enrolment, on to %s: %d, trail %v\n%s", next, p.status, trail, p.body)
			}
			ss, err := e.store.ListSessions(s.tctx(), u.ID)
			if err != nil || !slices.ContainsFunc(ss, func(s tenants.Session) bool {
				return slices.Contains([]string(s.AMR), "fed") && slices.Contains([]string(s.AMR), "mfa") && s.IDP == "Corp SSO"
			}) {
				t.Fatalf("sessions %+v (%v)", ss, err)
			}
			evs := s.loginEvents(t, s.f, u.ID)
			if len(evs) != before+1 || !strings.Contains(evs[0].Reason, "IdP-initiated") {
				t.Fatalf("login.succeeded events %+v", evs)
			}
		})
	})
}
