package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// keysByAlg returns the published keys of the tenant in ctx by algorithm.
func keysByAlg(t *testing.T, ctx context.Context, s *tenants.Store) map[string][]tenants.SigningKey {
	t.Helper()
	ks, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]tenants.SigningKey{}
	for _, k := range ks {
		out[k.Algorithm] = append(out[k.Algorithm], k)
	}
	return out
}

// testSigningKeysPerAlgorithm: a tenant holds one signing key per
// algorithm; AddSigningKey adds one only for an algorithm without one, and a
// rotation of one algorithm leaves the others alone.
func testSigningKeysPerAlgorithm(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "algs")
	otherCtx, other := newTenant(t, s, "algs-other")
	for _, alg := range []string{tenants.AlgES256, tenants.AlgPS256, tenants.AlgEdDSA} {
		rev := revision(t, s, tn.ID)
		added, err := s.AddSigningKey(ctx, newAlgKey(alg))
		if err != nil || !added {
			t.Fatalf("AddSigningKey(%s) = %v, %v; want added", alg, added, err)
		}
		if got := revision(t, s, tn.ID); got != rev+1 {
			t.Errorf("revision = %d after adding a %s key, want %d", got, alg, rev+1)
		}
		if added, err := s.AddSigningKey(ctx, newAlgKey(alg)); err != nil || added {
			t.Errorf("AddSigningKey(%s) again = %v, %v; want not added", alg, added, err)
		}
	}
	if added, err := s.AddSigningKey(ctx, newKey()); err != nil || added {
		t.Errorf("AddSigningKey(RS256) of a tenant with an RS256 key = %v, %v; want not added", added, err)
	}
	byAlg := keysByAlg(t, ctx, s)
	for _, alg := range tenants.SigningAlgorithms() {
		if len(byAlg[alg]) != 1 || !byAlg[alg][0].SignsAt(s.Now()) {
			t.Errorf("%s keys = %+v, want one that signs", alg, byAlg[alg])
		}
	}
	if got := keysByAlg(t, otherCtx, s); len(got) != 1 || len(got[tenants.AlgRS256]) != 1 {
		t.Errorf("the other tenant %s has keys %v, want its RS256 key only", other.Slug, got)
	}

	es := newAlgKey(tenants.AlgES256)
	if err := s.RotateSigningKey(ctx, es, s.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	after := keysByAlg(t, ctx, s)
	if len(after[tenants.AlgES256]) != 2 || after[tenants.AlgES256][0].ID != es.ID || !after[tenants.AlgES256][0].SignsAt(s.Now()) {
		t.Errorf("ES256 keys after its rotation = %+v, want the new one signing", after[tenants.AlgES256])
	}
	for _, alg := range []string{tenants.AlgRS256, tenants.AlgPS256, tenants.AlgEdDSA} {
		if len(after[alg]) != 1 || after[alg][0].RetiredAt != nil {
			t.Errorf("%s keys after rotating ES256 = %+v, want untouched", alg, after[alg])
		}
	}
}

// testAddSigningKeyConcurrently: callers racing to give a tenant its first
// key of an algorithm store one between them.
func testAddSigningKeyConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "alg-race")
	const n = 8
	added := make([]bool, n)
	for i, err := range race(n, func(i int) (err error) {
		added[i], err = s.AddSigningKey(ctx, newAlgKey(tenants.AlgES256))
		return err
	}) {
		if err != nil {
			t.Errorf("AddSigningKey %d: %v", i, err)
		}
	}
	if got := len(slices.DeleteFunc(added, func(b bool) bool { return !b })); got != 1 {
		t.Errorf("%d callers added a key, want 1", got)
	}
	if got := keysByAlg(t, ctx, s)[tenants.AlgES256]; len(got) != 1 {
		t.Errorf("%d ES256 keys, want 1", len(got))
	}
}

// testKeyPrePublication follows a rotation with pre-publication on the
// store's clock: the next key is published at once and signs from Publish
// on; the key it replaces signs until then and stays published for Retain
// more.
func testKeyPrePublication(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, _ := newTenant(t, s, "prepub")
	clk.Advance(time.Second) // the next key is the newer one
	t0 := clk.Now()
	old := keysByAlg(t, ctx, s)[tenants.AlgRS256][0]
	next := newKey()
	const publish, retain = 6 * time.Minute, 70 * time.Minute
	rotated, err := s.RolloverSigningKey(ctx, next, tenants.KeyRotation{Publish: publish, Retain: retain})
	if err != nil || !rotated {
		t.Fatalf("RolloverSigningKey = %v, %v", rotated, err)
	}
	if !samePtrTime(next.ActivatesAt, t0.Add(publish)) {
		t.Errorf("next key activates at %v, want %v", next.ActivatesAt, t0.Add(publish))
	}
	tests := []struct {
		name      string
		at        time.Duration
		signer    string   // the key that signs
		published []string // SigningKeys, newest first
	}{
		{"right after the rotation", 0, old.ID, []string{next.ID, old.ID}},
		{"just before the next key activates", publish - time.Second, old.ID, []string{next.ID, old.ID}},
		{"when it activates", publish, next.ID, []string{next.ID, old.ID}},
		{"just before the old key expires", publish + retain - time.Second, next.ID, []string{next.ID, old.ID}},
		{"when the old key expires", publish + retain, next.ID, []string{next.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(t0.Add(tt.at).Sub(clk.Now()))
			ks, err := s.SigningKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var ids, signers []string
			for _, k := range ks {
				ids = append(ids, k.ID)
				if k.SignsAt(clk.Now()) {
					signers = append(signers, k.ID)
				}
			}
			if !slices.Equal(ids, tt.published) {
				t.Errorf("published %v, want %v", ids, tt.published)
			}
			if !slices.Equal(signers, []string{tt.signer}) {
				t.Errorf("signing %v, want [%s]", signers, tt.signer)
			}
		})
	}

	t.Run("rotating at once supersedes a key waiting to sign", func(t *testing.T) {
		ctx, _ := newTenant(t, s, "prepub-now")
		start := clk.Now()
		first := keysByAlg(t, ctx, s)[tenants.AlgRS256][0]
		waiting := newKey()
		if _, err := s.RolloverSigningKey(ctx, waiting, tenants.KeyRotation{Publish: publish, Retain: retain}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		urgent := newKey()
		if _, err := s.RolloverSigningKey(ctx, urgent, tenants.KeyRotation{Retain: retain}); err != nil {
			t.Fatal(err)
		}
		now := clk.Now()
		ks, err := s.ListSigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			switch k.ID {
			case urgent.ID:
				if !k.SignsAt(now) {
					t.Errorf("the urgent key does not sign: %+v", k)
				}
			case waiting.ID:
				if k.PublishedAt(now) || k.SignsAt(start.Add(publish)) {
					t.Errorf("the superseded key is still published or would sign: %+v", k)
				}
			case first.ID:
				if k.SignsAt(now) || !samePtrTime(k.ExpiresAt, now.Add(retain)) {
					t.Errorf("the first key: %+v; want retired now, published for %s", k, retain)
				}
			}
		}
	})

	t.Run("an algorithm without a key signs at once", func(t *testing.T) {
		ctx, _ := newTenant(t, s, "prepub-new-alg")
		k := newAlgKey(tenants.AlgEdDSA)
		if _, err := s.RolloverSigningKey(ctx, k, tenants.KeyRotation{Publish: publish, Retain: retain}); err != nil {
			t.Fatal(err)
		}
		if !k.SignsAt(clk.Now()) {
			t.Errorf("the first EdDSA key activates at %v, want now (%v)", k.ActivatesAt, clk.Now())
		}
	})
}

// testScheduledKeyRotation: a tenant with a rotation period is due once its
// newest key of an algorithm is that old; of several scheduled rotations at
// once (several nodes), one rotates; a tenant without a period is never due.
func testScheduledKeyRotation(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, tn := newTenant(t, s, "scheduled")
	_, idle := newTenant(t, s, "unscheduled")
	const every = 24 * time.Hour
	if err := s.SetKeyRotationPeriod(ctx, every); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSigningKey(ctx, newAlgKey(tenants.AlgES256)); err != nil {
		t.Fatal(err)
	}
	got, err := s.TenantByID(context.Background(), tn.ID)
	if err != nil || got.KeyRotationPeriod() != every {
		t.Fatalf("KeyRotationPeriod = %v, %v; want %v", got.KeyRotationPeriod(), err, every)
	}
	due := func() []tenants.DueRotation {
		t.Helper()
		d, err := s.DueKeyRotations(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range d {
			if r.TenantID == idle.ID {
				t.Errorf("a tenant without a rotation period is due: %+v", r)
			}
		}
		return d
	}
	clk.Advance(every - time.Second)
	if d := due(); len(d) != 0 {
		t.Fatalf("due before the period passed: %+v", d)
	}
	clk.Advance(time.Second)
	d := due()
	slices.SortFunc(d, func(a, b tenants.DueRotation) int { return strings.Compare(a.Algorithm, b.Algorithm) })
	if len(d) != 2 || d[0].TenantID != tn.ID || d[0].Algorithm != tenants.AlgES256 || d[1].Algorithm != tenants.AlgRS256 || d[0].Every != every {
		t.Fatalf("DueKeyRotations = %+v, want ES256 and RS256 of %s every %s", d, tn.Slug, every)
	}
	const nodes = 4
	rotated := make([]bool, nodes)
	for i, err := range race(nodes, func(i int) (err error) {
		rotated[i], err = s.RolloverSigningKey(ctx, newKey(), tenants.KeyRotation{Publish: 6 * time.Minute, Retain: time.Hour, Every: every})
		return err
	}) {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	if n := len(slices.DeleteFunc(rotated, func(b bool) bool { return !b })); n != 1 {
		t.Errorf("%d nodes rotated, want 1", n)
	}
	if got := keysByAlg(t, ctx, s)[tenants.AlgRS256]; len(got) != 2 {
		t.Errorf("%d RS256 keys, want 2 (the old one and the next)", len(got))
	}
	if d := due(); len(d) != 1 || d[0].Algorithm != tenants.AlgES256 {
		t.Errorf("due after rotating RS256: %+v, want ES256 only", d)
	}
	if err := s.SetKeyRotationPeriod(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if d := due(); len(d) != 0 {
		t.Errorf("due after the schedule was stopped: %+v", d)
	}
}
