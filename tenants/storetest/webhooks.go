package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

func newWebhook(events ...string) *tenants.WebhookEndpoint {
	return &tenants.WebhookEndpoint{URL: "https://hooks.example.com/" + suffix(), Events: events, Enabled: true,
		SecretSealed: []byte("sealed-" + suffix())}
}

func mustWebhook(t testing.TB, ctx context.Context, s *tenants.Store, events ...string) *tenants.WebhookEndpoint {
	t.Helper()
	w := newWebhook(events...)
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	return w
}

// mustDelivery returns the one delivery of event eventID to endpoint.
func mustDelivery(t testing.TB, ctx context.Context, s *tenants.Store, endpointID, eventID string) *tenants.WebhookDelivery {
	t.Helper()
	ds := deliveries(t, ctx, s, endpointID)
	var found []*tenants.WebhookDelivery
	for i := range ds {
		if ds[i].EventID == eventID {
			found = append(found, &ds[i])
		}
	}
	if len(found) != 1 {
		t.Fatalf("deliveries of event %s to %s: %d, want 1", eventID, endpointID, len(found))
	}
	return found[0]
}

func deliveries(t testing.TB, ctx context.Context, s *tenants.Store, endpointID string) []tenants.WebhookDelivery {
	t.Helper()
	ds, err := s.ListWebhookDeliveries(ctx, endpointID, "", 1000)
	if err != nil {
		t.Fatalf("list deliveries: %v", err)
	}
	return ds
}

// testWebhooks checks the life of an endpoint: create, read, list, update
// (enabling forgets failures), delete with its deliveries.
func testWebhooks(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "webhooks")
	w := mustWebhook(t, ctx, s, "user.signed_in", "user.created")
	got, err := s.WebhookByID(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != w.URL || len(got.Events) != 2 || !got.Enabled || string(got.SecretSealed) != string(w.SecretSealed) {
		t.Fatalf("read back %+v, want %+v", got, w)
	}
	second := mustWebhook(t, ctx, s, tenants.WebhookAllEvents)
	ws, err := s.ListWebhooks(ctx)
	if err != nil || len(ws) != 2 || ws[0].ID != w.ID || ws[1].ID != second.ID {
		t.Fatalf("list = %+v, %v; want both, oldest first", ws, err)
	}
	until := s.Now().Add(time.Hour)
	got.URL, got.Events, got.Enabled, got.PreviousSecretSealed, got.PreviousSecretUntil = "https://other.example.com/h", tenants.Strings{"token.issued"}, false, []byte("old"), &until
	got.DisabledReason = "failing"
	if err := s.UpdateWebhook(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := s.WebhookByID(ctx, w.ID)
	if again.URL != got.URL || again.Enabled || !again.Events.Contains("token.issued") || string(again.PreviousSecretSealed) != "old" ||
		again.PreviousSecretUntil == nil || again.DisabledReason != "failing" {
		t.Fatalf("after update %+v", again)
	}
	again.Enabled = true
	if err := s.UpdateWebhook(ctx, again); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.WebhookByID(ctx, w.ID); !e.Enabled || e.DisabledReason != "" || e.FailingSince != nil {
		t.Fatalf("enabled again: %+v, want failures forgotten", e)
	}
	if err := s.AppendAudit(ctx, &tenants.AuditEvent{Action: "token.issued", ClientID: "c"}); err != nil {
		t.Fatal(err)
	}
	if ds := deliveries(t, ctx, s, w.ID); len(ds) != 1 {
		t.Fatalf("deliveries %d, want 1", len(ds))
	}
	if err := s.DeleteWebhook(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WebhookByID(ctx, w.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebhook(ctx, w.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("delete again: %v, want ErrNotFound", err)
	}
	if _, err := s.ListWebhookDeliveries(ctx, w.ID, "", 10); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("deliveries of a deleted endpoint: %v, want ErrNotFound", err)
	}
	if n := countRows(t, s, "webhook_deliveries", "endpoint_id", w.ID); n != 0 {
		t.Fatalf("%d deliveries left after delete", n)
	}
}

// testWebhookEnqueue checks that every way of writing audit events writes,
// in its transaction, one delivery per subscribed enabled endpoint, with
// the payload of the contract and nothing else; and that an event that is
// not written enqueues nothing.
func testWebhookEnqueue(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "enqueue")
	signins := mustWebhook(t, ctx, s, "user.signed_in")
	all := mustWebhook(t, ctx, s, tenants.WebhookAllEvents)
	off := mustWebhook(t, ctx, s, tenants.WebhookAllEvents)
	off.Enabled = false
	if err := s.UpdateWebhook(ctx, off); err != nil {
		t.Fatal(err)
	}
	octx, _ := newTenant(t, s, "enqueue-other")
	other := mustWebhook(t, octx, s, tenants.WebhookAllEvents)

	login := &tenants.AuditEvent{Action: "login.succeeded", ActorKind: "user", ActorID: "u1", ActorName: "ada@example.com", TargetType: "user",
		TargetID: "u1", Reason: "password", Before: `{"secret":"x"}`, IPAddress: "192.0.2.1"}
	if err := s.AppendAudit(ctx, login); err != nil {
		t.Fatal(err)
	}
	grouped := &tenants.AuditEvent{Action: "client.updated", TargetType: "client", TargetID: "web"}
	if err := s.AppendAuditGrouped(ctx, grouped); err != nil {
		t.Fatal(err)
	}
	silent := &tenants.AuditEvent{Action: "admin.access_denied"}
	if err := s.AppendAudit(ctx, silent); err != nil {
		t.Fatal(err)
	}
	// An event the grouped append refuses (its client is gone) is not
	// written, and neither are its deliveries.
	refused := &tenants.AuditEvent{Action: "token.issued", ClientID: "gone-" + suffix()}
	if err := s.AppendAuditGrouped(ctx, refused); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("grouped append for a missing client: %v, want ErrNotFound", err)
	}

	d := mustDelivery(t, ctx, s, signins.ID, login.ID)
	if d.EventType != "user.signed_in" || d.Status != tenants.DeliveryPending || d.Attempts != 0 || d.NextAttemptAt.After(s.Now()) {
		t.Fatalf("delivery %+v", d)
	}
	var p struct {
		Type, ID, Timestamp, Tenant string
		Data                        map[string]any
	}
	if err := json.Unmarshal([]byte(d.Payload), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "user.signed_in" || p.ID != login.ID || p.Tenant != tn.Slug || p.Timestamp == "" || p.Data["action"] != "login.succeeded" {
		t.Fatalf("payload %s", d.Payload)
	}
	for _, leak := range []string{"secret", "192.0.2.1", "ada@example.com"} {
		if strings.Contains(d.Payload, leak) {
			t.Errorf("payload %s holds %q", d.Payload, leak)
		}
	}
	if ds := deliveries(t, ctx, s, signins.ID); len(ds) != 1 {
		t.Errorf("endpoint of user.signed_in got %d deliveries, want 1", len(ds))
	}
	mustDelivery(t, ctx, s, all.ID, login.ID)
	if g := mustDelivery(t, ctx, s, all.ID, grouped.ID); g.EventType != "application.updated" {
		t.Errorf("client.updated delivered as %q, want application.updated", g.EventType)
	}
	if ds := deliveries(t, ctx, s, all.ID); len(ds) != 2 {
		t.Errorf("endpoint of every event got %d deliveries, want 2 (none for unmapped or refused events)", len(ds))
	}
	if ds := deliveries(t, ctx, s, off.ID); len(ds) != 0 {
		t.Errorf("disabled endpoint got %d deliveries", len(ds))
	}
	if ds := deliveries(t, octx, s, other.ID); len(ds) != 0 {
		t.Errorf("another tenant's endpoint got %d deliveries", len(ds))
	}

	// Token issues write their events in their own transaction.
	user := mustUser(t, ctx, s, "issue-"+suffix()+"@example.com")
	mustClient(t, ctx, s, "issue-app")
	_, issue := mustRedeemed(t, ctx, s, "issue-app", user.ID)
	for _, ev := range issue.Events {
		mustDelivery(t, ctx, s, all.ID, ev.ID)
	}
}

// testWebhookClaims checks the dispatcher's side: claims lease due
// deliveries to one claimant at a time, even when many claim at once;
// outcomes are recorded under the claim only; failures back off and, past
// the window, disable the endpoint with an audit event.
func testWebhookClaims(t *testing.T, s *tenants.Store) {
	clock := s.Now()
	var mu sync.Mutex
	s.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	ctx, _ := newTenant(t, s, "claims")
	w := mustWebhook(t, ctx, s, tenants.WebhookAllEvents)
	const n = 30
	for range n {
		if err := s.AppendAudit(ctx, &tenants.AuditEvent{Action: "user.created", TargetType: "user", TargetID: suffix()}); err != nil {
			t.Fatal(err)
		}
	}
	// Eight claimants at once: every delivery is claimed exactly once.
	var wg sync.WaitGroup
	seen := map[string]int{}
	var claimErr error
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cs, err := s.ClaimWebhookDeliveries(context.Background(), "claim-"+string(rune('a'+i)), time.Minute, 4)
				mu.Lock()
				if err != nil {
					claimErr = err
				}
				for _, c := range cs {
					seen[c.ID]++
					if c.URL != w.URL || string(c.SecretSealed) != string(w.SecretSealed) {
						claimErr = errors.New("claimed delivery without its endpoint")
					}
				}
				mu.Unlock()
				if err != nil || len(cs) == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if claimErr != nil {
		t.Fatal(claimErr)
	}
	if len(seen) != n {
		t.Fatalf("claimed %d deliveries, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("delivery %s claimed %d times", id, k)
		}
	}
	if cs, _ := s.ClaimWebhookDeliveries(ctx, "late", time.Minute, 100); len(cs) != 0 {
		t.Fatalf("claimed %d leased deliveries", len(cs))
	}
	// The lease lapses: another claimant takes over; the first one's
	// outcome no longer changes the delivery.
	advance(2 * time.Minute)
	cs, err := s.ClaimWebhookDeliveries(ctx, "second", time.Minute, 100)
	if err != nil || len(cs) != n {
		t.Fatalf("after the lease: claimed %d, %v; want %d", len(cs), err, n)
	}
	first := cs[0]
	if _, err := s.CompleteWebhookDelivery(ctx, tenants.WebhookResult{Delivery: &first, Token: "claim-a", OK: true, StatusCode: 200, DisableAfter: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if d := mustDelivery(t, ctx, s, w.ID, first.EventID); d.Status != tenants.DeliveryPending || d.Attempts != 0 {
		t.Fatalf("a stale claim changed the delivery: %+v", d)
	}
	// A success under the claim.
	if _, err := s.CompleteWebhookDelivery(ctx, tenants.WebhookResult{Delivery: &first, Token: "second", OK: true, StatusCode: 204, Took: 30 * time.Millisecond, DisableAfter: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if d := mustDelivery(t, ctx, s, w.ID, first.EventID); d.Status != tenants.DeliveryDelivered || d.Attempts != 1 || d.LastStatusCode != 204 || d.DeliveredAt == nil {
		t.Fatalf("delivered: %+v", d)
	}
	// A failure backs off; released deliveries are claimable at once.
	failed := cs[1]
	next := s.Now().Add(10 * time.Second)
	if _, err := s.CompleteWebhookDelivery(ctx, tenants.WebhookResult{Delivery: &failed, Token: "second", StatusCode: 500, Error: "answered HTTP 500", NextAttempt: next, DisableAfter: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for _, c := range cs[2:] {
		rest = append(rest, c.ID)
	}
	if err := s.ReleaseWebhookDeliveries(ctx, "second", rest); err != nil {
		t.Fatal(err)
	}
	cs, _ = s.ClaimWebhookDeliveries(ctx, "third", time.Minute, 100)
	if len(cs) != n-2 {
		t.Fatalf("after release: claimed %d, want %d (not the one backing off)", len(cs), n-2)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	_ = s.ReleaseWebhookDeliveries(ctx, "third", ids)
	if ep, _ := s.WebhookByID(ctx, w.ID); ep.FailingSince == nil || !ep.Enabled {
		t.Fatalf("after a failure: %+v, want failing since, enabled", ep)
	}
	as, err := s.ListWebhookAttempts(ctx, w.ID, failed.ID)
	if err != nil || len(as) != 1 || as[0].StatusCode != 500 || as[0].Error != "answered HTTP 500" {
		t.Fatalf("attempts %+v, %v", as, err)
	}
	// Manual redelivery makes it due now.
	if d, err := s.RedeliverWebhook(ctx, w.ID, failed.ID); err != nil || d.Status != tenants.DeliveryPending || d.NextAttemptAt.After(s.Now()) {
		t.Fatalf("redeliver: %+v, %v", d, err)
	}
	// A day of failures disables the endpoint, once, with an audit event.
	advance(25 * time.Hour)
	cs, _ = s.ClaimWebhookDeliveries(ctx, "fourth", time.Minute, 2)
	if len(cs) != 2 {
		t.Fatalf("claimed %d, want 2", len(cs))
	}
	disabled, err := s.CompleteWebhookDelivery(ctx, tenants.WebhookResult{Delivery: &cs[0], Token: "fourth", Error: "could not be reached", NextAttempt: s.Now().Add(time.Minute), DisableAfter: 24 * time.Hour})
	if err != nil || !disabled {
		t.Fatalf("after a day of failures: disabled %v, %v", disabled, err)
	}
	if again, _ := s.CompleteWebhookDelivery(ctx, tenants.WebhookResult{Delivery: &cs[1], Token: "fourth", Error: "x", NextAttempt: s.Now(), DisableAfter: 24 * time.Hour}); again {
		t.Error("disabled twice")
	}
	ep, _ := s.WebhookByID(ctx, w.ID)
	if ep.Enabled || ep.DisabledReason == "" {
		t.Fatalf("endpoint %+v, want disabled with a reason", ep)
	}
	evs, err := s.ListAudit(ctx, tenants.AuditFilter{Action: tenants.ActionWebhookDisabled})
	if err != nil || len(evs) != 1 || evs[0].TargetID != w.ID {
		t.Fatalf("audit of the disabling: %+v, %v", evs, err)
	}
	if cs, _ := s.ClaimWebhookDeliveries(ctx, "fifth", time.Minute, 100); len(cs) != 0 {
		t.Fatalf("claimed %d deliveries of a disabled endpoint", len(cs))
	}
	// Finished deliveries go after the horizon, pending ones stay.
	advance(time.Hour)
	pruned, err := s.PruneWebhookDeliveries(ctx, s.Now())
	if err != nil || pruned != 1 {
		t.Fatalf("pruned %d, %v; want the delivered one", pruned, err)
	}
}
