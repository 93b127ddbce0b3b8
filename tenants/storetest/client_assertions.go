package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// testClientAssertions checks the replay cache of client assertions: a
// jti is accepted once per client and tenant, whatever expiry a replay
// names; the same jti of another client or tenant is another assertion;
// and the record goes with its client.
func testClientAssertions(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "assertions")
	otherCtx, _ := newTenant(t, s, "assertions-other")
	mustClient(t, ctx, s, "signer")
	mustClient(t, ctx, s, "signer-2")
	mustClient(t, otherCtx, s, "signer")
	mustClient(t, otherCtx, s, "only-there")
	exp := s.Now().Add(time.Minute)
	rev := revision(t, s, tn.ID)
	tests := []struct {
		name     string
		ctx      context.Context
		clientID string
		jti      string
		expires  time.Time
		wantErr  error
	}{
		{"first time", ctx, "signer", "jti-1", exp, nil},
		{"replay", ctx, "signer", "jti-1", exp, tenants.ErrAlreadyExists},
		{"replay with a later expiry", ctx, "signer", "jti-1", exp.Add(time.Hour), tenants.ErrAlreadyExists},
		{"same jti of another client", ctx, "signer-2", "jti-1", exp, nil},
		{"same jti in another tenant", otherCtx, "signer", "jti-1", exp, nil},
		{"another jti", ctx, "signer", "jti-2", exp, nil},
		{"unknown client", ctx, "nobody", "jti-3", exp, tenants.ErrNotFound},
		{"client of another tenant", ctx, "only-there", "jti-3", exp, tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.UseClientAssertion(tt.ctx, tt.clientID, tt.jti, tt.expires); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if n := countRows(t, s, "client_assertions", "tenant_id", tn.ID); n != 3 {
		t.Errorf("tenant has %d records, want 3", n)
	}
	if got := revision(t, s, tn.ID); got != rev {
		t.Errorf("revision went from %d to %d: an authentication is not configuration", rev, got)
	}
	if err := s.DeleteClient(ctx, "signer"); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "client_assertions", "tenant_id", tn.ID); n != 1 {
		t.Errorf("tenant has %d records after its client went, want 1", n)
	}
}

// testUseClientAssertionConcurrently presents one assertion from many
// requests at once, as a replaying attacker would: exactly one wins.
func testUseClientAssertionConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "assertion-race")
	mustClient(t, ctx, s, "signer")
	const n = 10
	wins := 0
	for i, err := range race(n, func(int) error { return s.UseClientAssertion(ctx, "signer", "jti-race", s.Now().Add(time.Minute)) }) {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, tenants.ErrAlreadyExists):
			t.Errorf("use %d: err = %v, want nil or %v", i, err, tenants.ErrAlreadyExists)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d uses were accepted, want exactly 1", wins, n)
	}
}

// testPushedRequests checks that a pushed authorization request is used
// once, by its client, in its tenant, before it expires.
func testPushedRequests(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "par")
	otherCtx, _ := newTenant(t, s, "par-other")
	mustClient(t, ctx, s, "app")
	mustClient(t, ctx, s, "app-2")
	mustClient(t, otherCtx, s, "app")
	push := func(ctx context.Context, id, clientID string, ttl time.Duration) {
		t.Helper()
		if err := s.CreatePushedRequest(ctx, &tenants.PushedRequest{ID: id, ClientID: clientID, Params: `{"state":["x"]}`, ExpiresAt: s.Now().Add(ttl)}); err != nil {
			t.Fatal(err)
		}
	}
	push(ctx, "r1", "app", time.Minute)
	push(ctx, "r2", "app", -time.Second)
	push(otherCtx, "r3", "app", time.Minute)
	if err := s.CreatePushedRequest(ctx, &tenants.PushedRequest{ID: "r4", ClientID: "nobody", Params: "{}", ExpiresAt: s.Now().Add(time.Minute)}); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("push for an unknown client: %v", err)
	}
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		id, cid  string
		wantErr  error
		wantBody string
	}{
		{"another client's", ctx, "r1", "app-2", tenants.ErrNotFound, ""},
		{"another tenant's", ctx, "r3", "app", tenants.ErrNotFound, ""},
		{"first use", ctx, "r1", "app", nil, `{"state":["x"]}`},
		{"second use", ctx, "r1", "app", tenants.ErrNotFound, ""},
		{"expired", ctx, "r2", "app", tenants.ErrNotFound, ""},
		{"unknown", ctx, "nope", "app", tenants.ErrNotFound, ""},
		{"in its tenant", otherCtx, "r3", "app", nil, `{"state":["x"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.UsePushedRequest(tc.ctx, tc.id, tc.cid)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (r.Params != tc.wantBody || r.UsedAt == nil) {
				t.Fatalf("got %+v", r)
			}
		})
	}
	// Many uses at once: exactly one wins.
	push(ctx, "race", "app", time.Minute)
	wins := 0
	for i, err := range race(10, func(int) error { _, err := s.UsePushedRequest(ctx, "race", "app"); return err }) {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, tenants.ErrNotFound):
			t.Errorf("use %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d uses won, want 1", wins)
	}
}

// testDPoPProofs checks the replay cache of DPoP proofs (RFC 9449 §11.1): a
// jti is accepted once per key and tenant, whatever expiry a replay names;
// the same jti of another key or tenant is another proof; the records go
// with their tenant.
func testDPoPProofs(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "dpop")
	otherCtx, other := newTenant(t, s, "dpop-other")
	exp := s.Now().Add(time.Minute)
	rev := revision(t, s, tn.ID)
	for _, tt := range []struct {
		name     string
		ctx      context.Context
		jkt, jti string
		expires  time.Time
		wantErr  error
	}{
		{"first time", ctx, "key-1", "jti-1", exp, nil},
		{"replay", ctx, "key-1", "jti-1", exp, tenants.ErrAlreadyExists},
		{"replay with a later expiry", ctx, "key-1", "jti-1", exp.Add(time.Hour), tenants.ErrAlreadyExists},
		{"same jti of another key", ctx, "key-2", "jti-1", exp, nil},
		{"same key and jti in another tenant", otherCtx, "key-1", "jti-1", exp, nil},
		{"another jti", ctx, "key-1", "jti-2", exp, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.UseDPoPProof(tt.ctx, tt.jkt, tt.jti, tt.expires); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if n := countRows(t, s, "dpop_proofs", "tenant_id", tn.ID); n != 3 {
		t.Errorf("tenant has %d records, want 3", n)
	}
	if got := revision(t, s, tn.ID); got != rev {
		t.Errorf("revision went from %d to %d: a proof is not configuration", rev, got)
	}
	if err := s.UseDPoPProof(context.Background(), "key-9", "jti-9", exp); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("without a tenant: err = %v, want %v", err, tenants.ErrNoTenant)
	}
	if err := s.DeleteTenant(otherCtx); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "dpop_proofs", "tenant_id", other.ID); n != 0 {
		t.Errorf("a deleted tenant keeps %d records", n)
	}
}
