package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// sharedSAMLEntityID is the entity ID of the SAML application every
// isolation world has: two tenants may each have one with the same ID.
const (
	sharedSAMLEntityID  = "https://sp.example.com/saml/metadata"
	sharedSAMLSID       = "shared-sid"
	sharedSAMLNameID    = "shared@example.com"
	sharedSAMLMessageID = "id-shared-logout"
)

func newSAMLApp(entityID string) *tenants.SAMLApp {
	return &tenants.SAMLApp{Name: "SP " + suffix(), EntityID: entityID,
		ACS:          tenants.SAMLEndpoints{{URL: "https://sp.example.com/saml/acs", Binding: tenants.BindingHTTPPost, Index: 1}},
		NameIDFormat: tenants.NameIDEmail, NameIDSource: tenants.NameIDSourceEmail, NameIDSalt: suffix(),
		Attributes:   tenants.SAMLAttributes{{Name: "email", Source: "email"}},
		SignResponse: true, SignAssertion: true, Access: tenants.SAMLAccessEveryone, Enabled: true}
}

func mustSAMLApp(t testing.TB, ctx context.Context, s *tenants.Store, entityID string) *tenants.SAMLApp {
	t.Helper()
	a := newSAMLApp(entityID)
	must(t, "create SAML app", s.CreateSAMLApp(ctx, a))
	return a
}

func newSAMLRequest(s *tenants.Store, appID string) *tenants.SAMLRequest {
	return &tenants.SAMLRequest{AppID: appID, RequestID: "id-" + suffix(), ACSURL: "https://sp.example.com/saml/acs",
		Binding: tenants.BindingHTTPPost, RelayState: "rs", BrowserHash: randomHash(), ExpiresAt: s.Now().Add(10 * time.Minute)}
}

func mustSAMLRequest(t testing.TB, ctx context.Context, s *tenants.Store, appID string) *tenants.SAMLRequest {
	t.Helper()
	r := newSAMLRequest(s, appID)
	must(t, "create SAML request", s.CreateSAMLRequest(ctx, r))
	return r
}

// testSAMLApps checks the life of a SAML application: create, read by id
// and entity ID, a duplicate entity ID refused, list, update, delete with
// its waiting requests.
func testSAMLApps(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "samlapps")
	a := mustSAMLApp(t, ctx, s, "https://a.example.com/sp")
	got, err := s.SAMLAppByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.EntityID != a.EntityID || len(got.ACS) != 1 || got.ACS[0].Binding != tenants.BindingHTTPPost || len(got.Attributes) != 1 ||
		!got.SignAssertion || !got.Enabled || got.NameIDSalt == "" {
		t.Fatalf("read back %+v, want %+v", got, a)
	}
	if byEntity, err := s.SAMLAppByEntityID(ctx, a.EntityID); err != nil || byEntity.ID != a.ID {
		t.Fatalf("by entity ID = %+v, %v", byEntity, err)
	}
	if err := s.CreateSAMLApp(ctx, newSAMLApp(a.EntityID)); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Fatalf("same entity ID again: %v, want ErrAlreadyExists", err)
	}
	b := mustSAMLApp(t, ctx, s, "https://b.example.com/sp")
	if as, err := s.ListSAMLApps(ctx); err != nil || len(as) != 2 {
		t.Fatalf("list = %+v, %v; want 2", as, err)
	}
	got.Name, got.Access, got.AccessGroups, got.SigningCerts, got.RequireSignedRequests = "Renamed", tenants.SAMLAccessGroups, tenants.Strings{"g1"}, tenants.Strings{"MIIC"}, true
	got.ACS = append(got.ACS, tenants.SAMLEndpoint{URL: "https://a.example.com/acs2", Binding: tenants.BindingHTTPRedirect, Index: 2})
	must(t, "update", s.UpdateSAMLApp(ctx, got))
	again, _ := s.SAMLAppByID(ctx, a.ID)
	if again.Name != "Renamed" || again.Access != tenants.SAMLAccessGroups || !again.AccessGroups.Contains("g1") || len(again.ACS) != 2 ||
		!again.RequireSignedRequests || again.NameIDSalt != a.NameIDSalt {
		t.Fatalf("after update %+v", again)
	}
	again.EntityID = b.EntityID
	if err := s.UpdateSAMLApp(ctx, again); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Fatalf("update to another app's entity ID: %v, want ErrAlreadyExists", err)
	}
	r := mustSAMLRequest(t, ctx, s, a.ID)
	if got, err := s.SAMLRequestByID(ctx, r.ID); err != nil || got.RequestID != r.RequestID || got.ACSURL != r.ACSURL {
		t.Fatalf("request = %+v, %v", got, err)
	}
	if err := s.CreateSAMLRequest(ctx, newSAMLRequest(s, "no-such-app")); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("request for an unknown app: %v, want ErrNotFound", err)
	}
	must(t, "delete", s.DeleteSAMLApp(ctx, a.ID))
	if _, err := s.SAMLAppByID(ctx, a.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteSAMLApp(ctx, a.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("delete again: %v, want ErrNotFound", err)
	}
	if n := countRows(t, s, "saml_requests", "app_id", a.ID); n != 0 {
		t.Fatalf("%d requests left after delete", n)
	}
}

// testSAMLRequests checks that a waiting request expires and is spent once,
// even by concurrent spenders.
func testSAMLRequests(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "samlreq")
	a := mustSAMLApp(t, ctx, s, "https://c.example.com/sp")
	old := newSAMLRequest(s, a.ID)
	old.ExpiresAt = s.Now().Add(-time.Second)
	must(t, "create expired", s.CreateSAMLRequest(ctx, old))
	if _, err := s.SAMLRequestByID(ctx, old.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("expired request: %v, want ErrNotFound", err)
	}
	unbound := newSAMLRequest(s, a.ID)
	unbound.BrowserHash = ""
	must(t, "create unbound", s.CreateSAMLRequest(ctx, unbound))
	browser := randomHash()
	must(t, "claim", s.ClaimSAMLRequest(ctx, unbound.ID, browser))
	if err := s.ClaimSAMLRequest(ctx, unbound.ID, randomHash()); !errors.Is(err, tenants.ErrConflict) {
		t.Fatalf("second claim: %v, want ErrConflict", err)
	}
	if got, _ := s.SAMLRequestByID(ctx, unbound.ID); got.BrowserHash != browser {
		t.Fatalf("claimed by %q, want %q", got.BrowserHash, browser)
	}
	r := mustSAMLRequest(t, ctx, s, a.ID)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.SpendSAMLRequest(ctx, r.ID) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d spends succeeded, want 1", wins)
	}
	if _, err := s.SAMLRequestByID(ctx, r.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("spent request: %v, want ErrNotFound", err)
	}
}

// testSAMLParticipants checks the sessions' record of the applications
// they signed in to: a second assertion extends the row, lookups by
// session and by NameID, expiry, deletion by session; and that a logout
// message id is accepted once.
func testSAMLParticipants(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "samlpart")
	a := mustSAMLApp(t, ctx, s, "https://p.example.com/sp")
	b := mustSAMLApp(t, ctx, s, "https://q.example.com/sp")
	p := &tenants.SAMLParticipant{AppID: a.ID, UserID: "u1", SID: "sid-1", NameID: "ann@example.com", NameIDFormat: tenants.NameIDEmail,
		SessionIndex: "si-1", ExpiresAt: s.Now().Add(time.Hour)}
	must(t, "record", s.RecordSAMLParticipant(ctx, p))
	again := *p
	again.ID, again.SessionIndex, again.ExpiresAt = "", "si-2", s.Now().Add(2*time.Hour)
	must(t, "record again", s.RecordSAMLParticipant(ctx, &again))
	must(t, "record b", s.RecordSAMLParticipant(ctx, &tenants.SAMLParticipant{AppID: b.ID, UserID: "u1", SID: "sid-1", NameID: "p-1",
		ExpiresAt: s.Now().Add(time.Hour)}))
	must(t, "record expired", s.RecordSAMLParticipant(ctx, &tenants.SAMLParticipant{AppID: a.ID, UserID: "u1", SID: "sid-old", NameID: "ann@example.com",
		ExpiresAt: s.Now().Add(-time.Second)}))
	ps, err := s.SAMLParticipants(ctx, "sid-1")
	if err != nil || len(ps) != 2 {
		t.Fatalf("participants = %+v, %v; want 2", ps, err)
	}
	byName, err := s.SAMLParticipantsByNameID(ctx, a.ID, "ann@example.com")
	if err != nil || len(byName) != 1 || byName[0].SessionIndex != "si-2" || byName[0].SID != "sid-1" {
		t.Fatalf("by NameID = %+v, %v; want the one unexpired row, extended", byName, err)
	}
	if err := s.RecordSAMLParticipant(ctx, &tenants.SAMLParticipant{AppID: "no-such-app", SID: "sid-1", NameID: "x"}); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("unknown app: %v, want ErrNotFound", err)
	}
	must(t, "delete", s.DeleteSAMLParticipants(ctx, "sid-1"))
	if ps, _ := s.SAMLParticipants(ctx, "sid-1"); len(ps) != 0 {
		t.Fatalf("after delete %+v", ps)
	}
	must(t, "use message", s.UseSAMLMessage(ctx, a.ID, "id-1", s.Now().Add(time.Minute)))
	if err := s.UseSAMLMessage(ctx, a.ID, "id-1", s.Now().Add(time.Minute)); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Fatalf("replayed message: %v, want ErrAlreadyExists", err)
	}
	must(t, "same id from another app", s.UseSAMLMessage(ctx, b.ID, "id-1", s.Now().Add(time.Minute)))
	must(t, "delete app", s.DeleteSAMLApp(ctx, a.ID))
	if n := countRows(t, s, "saml_messages", "app_id", a.ID) + countRows(t, s, "saml_participants", "app_id", a.ID); n != 0 {
		t.Fatalf("%d rows left after the app was deleted", n)
	}
}
