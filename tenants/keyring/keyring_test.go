package keyring_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// clock is a time source for Store.SetClock that moves only when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newBox(t testing.TB) *secret.Box {
	t.Helper()
	master, err := secret.ParseMasterKey(secret.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(master)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// newTenant creates a tenant with a real RS256 key, as admin does.
func newTenant(t testing.TB, s *tenants.Store, r *keyring.Keyring, slug string) *tenants.Tenant {
	t.Helper()
	tn := &tenants.Tenant{ID: tenants.NewID(), Slug: slug, DisplayName: slug, Host: slug + ".localhost", Issuer: "http://" + slug + ".localhost:8080",
		AccessTokenTTLSeconds: 3600, IDTokenTTLSeconds: 1800, RefreshTokenTTLSeconds: 86400, SessionTTLSeconds: 86400}
	key, err := r.Generate(tn.ID, jose.RS256)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTenant(context.Background(), tn, key); err != nil {
		t.Fatal(err)
	}
	return tn
}

// current returns t as stored now (its revision moves with its keys).
func current(t *testing.T, s *tenants.Store, tn *tenants.Tenant) *tenants.Tenant {
	t.Helper()
	got, err := s.TenantByID(context.Background(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func keys(t *testing.T, r *keyring.Keyring, s *tenants.Store, tn *tenants.Tenant) *keyring.Set {
	t.Helper()
	set, err := r.Keys(context.Background(), current(t, s, tn))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// signVerify signs with the set's signer of alg and verifies the result
// with the published key the token names, as a relying party would.
func signVerify(t *testing.T, set *keyring.Set, alg jose.SignatureAlgorithm) string {
	t.Helper()
	signer, err := set.Signer(alg, "JWT")
	if err != nil {
		t.Fatalf("Signer(%s): %v", alg, err)
	}
	jws, err := signer.Sign([]byte(`{"iss":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("parse %s token: %v", alg, err)
	}
	h := parsed.Signatures[0].Protected
	k, ok := set.Find(h.KeyID)
	if !ok || k.Algorithm != alg || h.Algorithm != string(alg) {
		t.Fatalf("%s token names key %q (alg %s), which the set does not publish as %s", alg, h.KeyID, h.Algorithm, alg)
	}
	if _, err := parsed.Verify(k.Public); err != nil {
		t.Fatalf("verify %s token: %v", alg, err)
	}
	return h.KeyID
}

func kids(ks []*keyring.Key) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.ID)
	}
	return out
}

func TestKeysPerAlgorithm(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		s := storetest.Open(t, db.URL(t))
		box := newBox(t)
		r := keyring.New(s, box, keyring.Config{PoolSize: -1})
		ctx := context.Background()
		a, b := newTenant(t, s, r, "acme"), newTenant(t, s, r, "globex")

		set := keys(t, r, s, a)
		if got := set.Algorithms(); !slices.Equal(got, []jose.SignatureAlgorithm{jose.RS256}) {
			t.Fatalf("a new tenant signs with %v, want RS256", got)
		}
		if _, err := set.Signer(jose.ES256, "JWT"); err == nil {
			t.Fatal("Signer(ES256) of a tenant without an ES256 key: want an error")
		}
		// Another node adds an ES256 key; this node's cache has not heard
		// yet (the tenant's revision it knows is the old one), and
		// Keyring.Signer still finds the key.
		stale := current(t, s, a)
		if _, err := r.Keys(ctx, stale); err != nil {
			t.Fatal(err)
		}
		node2 := keyring.New(s, box, keyring.Config{PoolSize: -1})
		if err := node2.Ensure(ctx, stale, jose.ES256); err != nil {
			t.Fatal(err)
		}
		if cached, _ := r.Keys(ctx, stale); len(cached.Algorithms()) != 1 {
			t.Fatalf("the cache already knows %v", cached.Algorithms())
		}
		if _, err := r.Signer(ctx, stale, jose.ES256, "JWT"); err != nil {
			t.Fatalf("Keyring.Signer(ES256) after another node added the key: %v", err)
		}
		if _, err := r.Signer(ctx, stale, jose.PS256, "JWT"); err == nil {
			t.Fatal("Keyring.Signer(PS256) without a PS256 key: want an error")
		}
		for _, alg := range []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.PS256} {
			for range 2 { // idempotent
				if err := r.Ensure(ctx, current(t, s, a), alg); err != nil {
					t.Fatalf("Ensure(%s): %v", alg, err)
				}
			}
		}
		for _, bad := range []jose.SignatureAlgorithm{jose.HS256, "none", "es256", jose.RS512} {
			if err := r.Ensure(ctx, current(t, s, a), bad); err == nil {
				t.Errorf("Ensure(%q): want an error", bad)
			}
			if _, err := r.Rotate(ctx, current(t, s, a), bad, true); err == nil {
				t.Errorf("Rotate(%q): want an error", bad)
			}
		}
		set = keys(t, r, s, a)
		if got, want := set.Algorithms(), keyring.Algorithms(); !slices.Equal(got, want) {
			t.Fatalf("Algorithms = %v, want %v (RS256 first)", got, want)
		}
		if n := len(set.Verifying()); n != 4 {
			t.Fatalf("%d published keys, want one per algorithm", n)
		}
		if got, want := set.VerifyingAlgorithms(), keyring.Algorithms(); !slices.Equal(got, want) {
			t.Fatalf("VerifyingAlgorithms = %v, want %v", got, want)
		}
		for _, alg := range keyring.Algorithms() {
			signVerify(t, set, alg)
		}
		// Another tenant's keys are never this tenant's.
		other := keys(t, r, s, b)
		if got := other.Algorithms(); !slices.Equal(got, []jose.SignatureAlgorithm{jose.RS256}) {
			t.Errorf("the other tenant signs with %v, want RS256 only", got)
		}
		for _, k := range other.Verifying() {
			if _, ok := set.Find(k.ID); ok {
				t.Errorf("acme finds globex's key %s", k.ID)
			}
		}
		for _, k := range set.Verifying() {
			if _, ok := other.Find(k.ID); ok {
				t.Errorf("globex finds acme's key %s", k.ID)
			}
		}
		// A forged tenant (another's id with this one's revision) gets the
		// keys of the id, never a mix.
		forged := *current(t, s, a)
		forged.ID = b.ID
		fs, err := r.Keys(ctx, &forged)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(kids(fs.Verifying()), kids(other.Verifying())) {
			t.Errorf("keys of a forged tenant: %v, want globex's %v", kids(fs.Verifying()), kids(other.Verifying()))
		}
	})
}

// TestEnsureConcurrently: two nodes (two keyrings) ensuring the same
// algorithm at once store one key.
func TestEnsureConcurrently(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		url := db.URL(t)
		s1, s2 := storetest.Open(t, url), storetest.Open(t, url)
		box := newBox(t)
		r1, r2 := keyring.New(s1, box, keyring.Config{PoolSize: -1}), keyring.New(s2, box, keyring.Config{PoolSize: -1})
		tn := newTenant(t, s1, r1, "race")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, r := range []*keyring.Keyring{r1, r2} {
			wg.Go(func() { errs[i] = r.Ensure(context.Background(), tn, jose.ES256) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Ensure on node %d: %v", i+1, err)
			}
		}
		ks, err := s1.ListSigningKeys(tenants.WithTenant(context.Background(), tn))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, k := range ks {
			if k.Algorithm == string(jose.ES256) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d ES256 keys, want 1", n)
		}
	})
}

// TestRotationTimeline follows a rotation on the store's clock: the next
// key is in the JWKS before it signs, takes over after PrePublish, and the
// old key leaves once the longest token it may have signed has expired.
func TestRotationTimeline(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		s := storetest.Open(t, db.URL(t))
		clk := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
		s.SetClock(clk.Now)
		r := keyring.New(s, newBox(t), keyring.Config{PoolSize: -1})
		tn := newTenant(t, s, r, "timeline")
		ctx := context.Background()
		old := signVerify(t, keys(t, r, s, tn), jose.RS256)
		clk.Advance(time.Second) // the next key is the newer one
		t0 := clk.Now()
		next, err := r.Rotate(ctx, current(t, s, tn), jose.RS256, false)
		if err != nil {
			t.Fatal(err)
		}
		// The set is loaded once; the clock alone moves it along.
		set := keys(t, r, s, tn)
		retain := time.Hour + keyring.RetainMargin // the longest lifetime is the access token's
		if keyring.PrePublish < keyring.JWKSMaxAge {
			t.Fatalf("PrePublish %s is shorter than the JWKS cache lifetime %s", keyring.PrePublish, keyring.JWKSMaxAge)
		}
		tests := []struct {
			name      string
			at        time.Duration
			signer    string
			published []string
		}{
			{"right after the rotation", 0, old, []string{next.ID, old}},
			{"once every cached JWKS expired", keyring.JWKSMaxAge, old, []string{next.ID, old}},
			{"just before the switch", keyring.PrePublish - time.Second, old, []string{next.ID, old}},
			{"at the switch", keyring.PrePublish, next.ID, []string{next.ID, old}},
			{"just before the old key expires", keyring.PrePublish + retain - time.Second, next.ID, []string{next.ID, old}},
			{"when it expires", keyring.PrePublish + retain, next.ID, []string{next.ID}},
		}
		for _, tt := range tests {
			clk.Advance(t0.Add(tt.at).Sub(clk.Now()))
			if got := signVerify(t, set, jose.RS256); got != tt.signer {
				t.Errorf("%s: signs with %s, want %s", tt.name, got, tt.signer)
			}
			if got := kids(set.Verifying()); !slices.Equal(got, tt.published) {
				t.Errorf("%s: publishes %v, want %v", tt.name, got, tt.published)
			}
			if _, ok := set.Find(old); ok != slices.Contains(tt.published, old) {
				t.Errorf("%s: Find(old) = %v", tt.name, ok)
			}
		}
		// A fresh load agrees: the expired key is not even loaded.
		if got := kids(keys(t, r, s, tn).Verifying()); !slices.Equal(got, []string{next.ID}) {
			t.Errorf("after expiry a reload publishes %v, want [%s]", got, next.ID)
		}
	})
}

// TestScheduledRotationOnTwoNodes: two nodes on one database, both running
// the schedule when a tenant's period has passed, rotate it once.
func TestScheduledRotationOnTwoNodes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		url := db.URL(t)
		s1, s2 := storetest.Open(t, url), storetest.Open(t, url)
		clk := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
		s1.SetClock(clk.Now)
		s2.SetClock(clk.Now)
		box := newBox(t)
		r1, r2 := keyring.New(s1, box, keyring.Config{PoolSize: -1}), keyring.New(s2, box, keyring.Config{PoolSize: -1})
		tn := newTenant(t, s1, r1, "scheduled")
		idle := newTenant(t, s1, r1, "idle")
		if err := s1.SetKeyRotationPeriod(tenants.WithTenant(context.Background(), tn), 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		run := func() int {
			var wg sync.WaitGroup
			n := make([]int, 2)
			for i, r := range []*keyring.Keyring{r1, r2} {
				wg.Go(func() {
					var err error
					if n[i], err = r.RotateDue(context.Background()); err != nil {
						t.Errorf("node %d: %v", i+1, err)
					}
				})
			}
			wg.Wait()
			return n[0] + n[1]
		}
		if n := run(); n != 0 {
			t.Fatalf("%d rotations before the period passed", n)
		}
		clk.Advance(30 * 24 * time.Hour)
		if n := run(); n != 1 {
			t.Fatalf("%d rotations once due, want 1", n)
		}
		if n := run(); n != 0 {
			t.Fatalf("%d rotations right after, want 0", n)
		}
		set := keys(t, r2, s2, tn)
		if n := len(set.Verifying()); n != 2 {
			t.Errorf("%d published keys after the scheduled rotation, want 2 (the next one is pre-published)", n)
		}
		if n := len(keys(t, r1, s1, idle).Verifying()); n != 1 {
			t.Errorf("the tenant without a schedule has %d keys, want 1", n)
		}
	})
}

// TestCreatingTenantsUsesThePool: with the pool running, Generate hands out
// pre-generated RSA keys, each once, and still generates when it is empty.
func TestCreatingTenantsUsesThePool(t *testing.T) {
	s := storetest.Open(t, storetest.SQLiteURL(t))
	r := keyring.New(s, newBox(t), keyring.Config{PoolSize: 2, RotationCheck: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	seen := map[string]bool{}
	for range 5 {
		k, err := r.Generate("t", jose.RS256)
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.PublicJWK] {
			t.Fatal("the pool handed out one key twice")
		}
		seen[k.PublicJWK] = true
	}
}

// BenchmarkCachedTenantMemory reports the heap one cached tenant's opened
// keys take (one RS256 key, both signers made), which sizes
// Config.CacheSize:
//
//	go test ./tenants/keyring -run '^$' -bench CachedTenantMemory -benchtime 1x
func BenchmarkCachedTenantMemory(b *testing.B) {
	s := storetest.Open(b, storetest.SQLiteURL(b))
	const n = 200
	box := newBox(b)
	r := keyring.New(s, box, keyring.Config{PoolSize: -1, CacheSize: n})
	var ts []*tenants.Tenant
	for i := range n {
		ts = append(ts, newTenant(b, s, r, fmt.Sprintf("m%d", i)))
	}
	// published: the tenant's keys served (discovery, JWKS); signing: they
	// also signed an ID token and an access token.
	for _, signs := range []bool{false, true} {
		name := "published"
		if signs {
			name = "signing"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				r2 := keyring.New(s, box, keyring.Config{PoolSize: -1, CacheSize: n})
				for _, tn := range ts {
					set, err := r2.Keys(context.Background(), tn)
					if err != nil {
						b.Fatal(err)
					}
					if len(set.Verifying()) == 0 {
						b.Fatal("no published key")
					}
					for _, typ := range []string{"JWT", "at+jwt"} {
						if !signs {
							break
						}
						if _, err := set.Signer(jose.RS256, typ); err != nil {
							b.Fatal(err)
						}
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/tenant")
				runtime.KeepAlive(r2)
			}
		})
	}
}

// A key is unsealed only when it signs: a node serving a tenant's JWKS
// never opens its private keys, and a key it cannot open (another master
// key) fails the signature, not the publication.
func TestPrivateKeysOpenOnlyToSign(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		s := storetest.Open(t, db.URL(t))
		r := keyring.New(s, newBox(t), keyring.Config{PoolSize: -1})
		a := newTenant(t, s, r, "acme")

		other := keyring.New(s, newBox(t), keyring.Config{PoolSize: -1})
		set, err := other.Keys(tenants.WithTenant(context.Background(), a), a)
		if err != nil {
			t.Fatalf("keys under another master key: %v (publishing must not need the private half)", err)
		}
		if len(set.Verifying()) != 1 || set.Verifying()[0].Private != nil {
			t.Fatalf("published keys %v: want one, not unsealed", kids(set.Verifying()))
		}
		if _, err := set.Signer(jose.RS256, "JWT"); err == nil {
			t.Fatal("signing with a key sealed under another master key: want an error")
		}

		own := keys(t, r, s, a)
		if own.Verifying()[0].Private != nil {
			t.Fatal("a freshly loaded key is unsealed before it signs")
		}
		signVerify(t, own, jose.RS256)
		if own.Verifying()[0].Private == nil {
			t.Fatal("the signing key was not unsealed by signing")
		}
	})
}
