// Package keyring owns tenants' signing keys: it generates them (one or more
// algorithms per tenant, RSA keys ahead of need), seals their private halves
// under the master key, rotates them without breaking relying parties, and
// keeps the opened keys of recently used tenants in memory, reloading them
// when the tenant's revision says another node changed them.
package keyring

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// JWKSMaxAge is how long relying parties may cache a tenant's JWKS: the
// max-age of the JWKS endpoint's Cache-Control.
const JWKSMaxAge = 5 * time.Minute

// PrePublish is how long a rotation's new key is published before it
// signs: the JWKS cache lifetime, plus a minute for clock skew and slow
// fetches. A relying party that fetched the JWKS before the rotation has
// refetched it by the time it sees the first token the new key signed.
const PrePublish = JWKSMaxAge + time.Minute

// RetainMargin is how long a retired key stays published beyond the longest
// lifetime of a token it may have signed.
const RetainMargin = 10 * time.Minute

// Algorithms returns the JWS algorithms a tenant can have keys of, RS256
// (every tenant's) first: tenants.SigningAlgorithms as go-jose names them.
func Algorithms() []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	for _, a := range tenants.SigningAlgorithms() {
		out = append(out, jose.SignatureAlgorithm(a))
	}
	return out
}

// Key is an opened signing key.
type Key struct {
	ID        string
	Algorithm jose.SignatureAlgorithm
	// Private is the signing half. A key loaded from the store leaves it
	// nil until the key first signs (see [Key.signer]): discovery and the
	// JWKS need only Public, and most of a node's tenants are only looked
	// up, so their keys are never unsealed and parsed.
	Private   crypto.Signer
	Public    crypto.PublicKey
	unseal    func() (crypto.Signer, error)
	opened    sync.Once
	openErr   error
	CreatedAt time.Time
	// ActivatesAt is when the key starts signing: after CreatedAt while it
	// is pre-published.
	ActivatesAt time.Time
	// RetiredAt is when a newer key takes over; ExpiresAt is when the key
	// leaves the JWKS.
	RetiredAt *time.Time
	ExpiresAt *time.Time
}

// privateKey returns the signing half, unsealing it on first use.
func (k *Key) privateKey() (crypto.Signer, error) {
	k.opened.Do(func() {
		if k.Private == nil && k.unseal != nil {
			k.Private, k.openErr = k.unseal()
		}
	})
	if k.openErr != nil {
		return nil, k.openErr
	}
	if k.Private == nil {
		return nil, fmt.Errorf("keyring: key %s has no private half", k.ID)
	}
	return k.Private, nil
}

// JWK returns the public half as a JSON Web Key.
func (k *Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Public, KeyID: k.ID, Algorithm: string(k.Algorithm), Use: "sig"}
}

// SignsAt reports whether k is its algorithm's signing key at now.
func (k *Key) SignsAt(now time.Time) bool {
	return !now.Before(k.ActivatesAt) && (k.RetiredAt == nil || now.Before(*k.RetiredAt))
}

// PublishedAt reports whether k belongs in the JWKS at now.
func (k *Key) PublishedAt(now time.Time) bool { return k.ExpiresAt == nil || now.Before(*k.ExpiresAt) }

// Set is the keys of one tenant, as loaded at one revision. Which key signs
// and which are published is decided at each call, by the keyring's clock:
// a pre-published key starts signing, and a retired key leaves, on time.
type Set struct {
	keys     []*Key // published when loaded, newest first
	now      func() time.Time
	revision int64
	signers  sync.Map // signerID -> jose.Signer; certID -> *x509.Certificate (saml.go)
}

type signerID struct{ kid, typ string }

// Active returns the key of alg that signs now.
func (s *Set) Active(alg jose.SignatureAlgorithm) (*Key, bool) {
	now := s.now()
	for _, k := range s.keys {
		if k.Algorithm == alg && k.SignsAt(now) {
			return k, true
		}
	}
	return nil, false
}

// Signer returns a cached JWS signer with the active key of alg that writes
// typ in the JOSE header ("JWT" for ID tokens, "at+jwt" for access tokens).
// It fails when the tenant has no active key of alg ([Keyring.Ensure] makes
// one).
func (s *Set) Signer(alg jose.SignatureAlgorithm, typ string) (jose.Signer, error) {
	k, ok := s.Active(alg)
	if !ok {
		return nil, fmt.Errorf("keyring: no active %s key", alg)
	}
	id := signerID{k.ID, typ}
	if v, ok := s.signers.Load(id); ok {
		return v.(jose.Signer), nil
	}
	priv, err := k.privateKey()
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: k.Algorithm, Key: jose.JSONWebKey{Key: priv, KeyID: k.ID, Algorithm: string(k.Algorithm)}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)),
	)
	if err != nil {
		return nil, fmt.Errorf("keyring: signer: %w", err)
	}
	v, _ := s.signers.LoadOrStore(id, signer)
	return v.(jose.Signer), nil
}

// Algorithms returns the algorithms the tenant can sign with now, in the
// order of [Algorithms] (RS256 first).
func (s *Set) Algorithms() []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	for _, alg := range Algorithms() {
		if _, ok := s.Active(alg); ok {
			out = append(out, alg)
		}
	}
	return out
}

// Verifying returns every key that is published now, newest first: the
// active keys, the next keys published ahead of signing, and the retired
// keys until they expire. It is the JWKS, and what a token of the tenant
// may be verified with.
func (s *Set) Verifying() []*Key {
	now := s.now()
	out := make([]*Key, 0, len(s.keys))
	for _, k := range s.keys {
		if k.PublishedAt(now) {
			out = append(out, k)
		}
	}
	return out
}

// VerifyingAlgorithms returns the algorithms of the published keys, in the
// order of [Algorithms]: what a token of the tenant may be signed with (a
// retired key's algorithm included, until it expires).
func (s *Set) VerifyingAlgorithms() []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	keys := s.Verifying()
	for _, alg := range Algorithms() {
		if slices.ContainsFunc(keys, func(k *Key) bool { return k.Algorithm == alg }) {
			out = append(out, alg)
		}
	}
	return out
}

// Find returns the published key with kid; an expired key is not found.
func (s *Set) Find(kid string) (*Key, bool) {
	now := s.now()
	for _, k := range s.keys {
		if k.ID == kid && k.PublishedAt(now) {
			return k, true
		}
	}
	return nil, false
}

// Config sizes a Keyring.
type Config struct {
	// CacheSize is how many tenants' opened keys stay in memory; the least
	// recently used go first. 0 means DefaultCacheSize.
	CacheSize int
	// PoolSize is how many RSA keys [Keyring.Run] may keep generated ahead
	// of need, so that creating a tenant does not wait for one. The pool
	// starts with a couple of keys, replaces each key taken, and grows by
	// one each time it was found empty, up to PoolSize: a node that creates
	// no tenants spends no CPU on it. 0 means DefaultPoolSize; a negative
	// size keeps no pool.
	PoolSize int
	// RotationCheck is how often Run looks for scheduled rotations. 0
	// means one minute.
	RotationCheck time.Duration
}

// Defaults of Config.
const (
	// DefaultCacheSize is how many tenants' key sets stay cached. A set
	// only published (discovery, JWKS, verification) holds public keys; its
	// private keys are unsealed when it first signs
	// (BenchmarkCachedTenantMemory measures both).
	DefaultCacheSize = 16384
	DefaultPoolSize  = 8
)

// Keyring generates, seals, opens, caches and rotates tenants' keys.
type Keyring struct {
	store *tenants.Store
	box   *secret.Box
	cfg   Config

	cache *lru
	loads singleflight.Group
	pool  chan *rsa.PrivateKey // nil without a pool
	want  chan struct{}        // one token per key the pool should make
}

// poolStart is how many keys the pool makes when Run starts.
const poolStart = 2

// New returns a Keyring over store sealing with box. Its clock is the
// store's. The RSA pool fills only while [Keyring.Run] runs.
func New(store *tenants.Store, box *secret.Box, cfg Config) *Keyring {
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.PoolSize == 0 {
		cfg.PoolSize = DefaultPoolSize
	}
	if cfg.RotationCheck <= 0 {
		cfg.RotationCheck = time.Minute
	}
	r := &Keyring{store: store, box: box, cfg: cfg, cache: newLRU(cfg.CacheSize)}
	if cfg.PoolSize > 0 {
		r.pool = make(chan *rsa.PrivateKey, cfg.PoolSize)
		r.want = make(chan struct{}, cfg.PoolSize)
		for range min(poolStart, cfg.PoolSize) {
			r.want <- struct{}{}
		}
	}
	return r
}

// Run fills the RSA key pool and rotates the keys of tenants whose rotation
// period has passed, until ctx ends. Every node may run it: of several
// nodes finding one rotation due, one rotates.
func (r *Keyring) Run(ctx context.Context) {
	if r.pool != nil {
		go r.fill(ctx)
	}
	t := time.NewTicker(r.cfg.RotationCheck)
	defer t.Stop()
	for {
		if n, err := r.RotateDue(ctx); err != nil && ctx.Err() == nil {
			tenants.Logger(ctx).WarnContext(ctx, "scheduled key rotation", "err", err)
		} else if n > 0 {
			tenants.Logger(ctx).InfoContext(ctx, "rotated signing keys on schedule", "keys", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fill makes a key for the pool for each token in want, until ctx ends.
// The pool holds keys no tenant has yet; they never leave the process.
func (r *Keyring) fill(ctx context.Context) {
	for {
		select {
		case <-r.want:
		case <-ctx.Done():
			return
		}
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tenants.Logger(ctx).WarnContext(ctx, "generate RSA key", "err", err)
			return
		}
		select {
		case r.pool <- k:
		case <-ctx.Done():
			return
		}
	}
}

// Pooled returns how many pre-generated RSA keys wait in the pool.
func (r *Keyring) Pooled() int { return len(r.pool) }

// rsaKey takes a key from the pool, asking for its replacement, or, when
// the pool is empty, generates one and asks the pool to grow (by one, up
// to its size).
func (r *Keyring) rsaKey() (*rsa.PrivateKey, error) {
	defer func() {
		select {
		case r.want <- struct{}{}: // a nil channel never receives
		default:
		}
	}()
	select {
	case k := <-r.pool:
		return k, nil
	default:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
}

// Generate returns a new sealed key for tenantID with alg, one of
// [Algorithms]. RSA keys come from the pool while it has some.
func (r *Keyring) Generate(tenantID string, alg jose.SignatureAlgorithm) (*tenants.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		priv, err = r.rsaKey()
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("keyring: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	kid := secret.Token(12)
	pub, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: string(alg), Use: "sig"})
	if err != nil {
		return nil, err
	}
	return &tenants.SigningKey{
		ID:            kid,
		TenantID:      tenantID,
		Algorithm:     string(alg),
		PublicJWK:     string(pub),
		PrivateSealed: r.box.Seal(der, aad(tenantID, kid)),
	}, nil
}

func aad(tenantID, kid string) []byte { return []byte("signing-key|" + tenantID + "|" + kid) }

// Keys returns the opened keys of t, from memory while t.Revision is the one
// they were loaded at.
func (r *Keyring) Keys(ctx context.Context, t *tenants.Tenant) (*Set, error) {
	if set, ok := r.cache.get(t.ID); ok && set.revision == t.Revision {
		return set, nil
	}
	v, err, _ := r.loads.Do(fmt.Sprintf("%s@%d", t.ID, t.Revision), func() (any, error) {
		set, err := r.load(tenants.WithTenant(ctx, t), t)
		if err != nil {
			return nil, err
		}
		r.cache.put(t.ID, set)
		return set, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Set), nil
}

// Signer returns the signer of t's active key of alg (see [Set.Signer]).
// When the cached keys have none, it reloads them once before failing: a key
// another node just added for alg is found before this node's cache hears
// of the change.
func (r *Keyring) Signer(ctx context.Context, t *tenants.Tenant, alg jose.SignatureAlgorithm, typ string) (jose.Signer, error) {
	set, err := r.Keys(ctx, t)
	if err != nil {
		return nil, err
	}
	if _, ok := set.Active(alg); !ok {
		r.Forget(t.ID)
		if set, err = r.Keys(ctx, t); err != nil {
			return nil, err
		}
	}
	return set.Signer(alg, typ)
}

// Forget drops the cached keys of a tenant.
func (r *Keyring) Forget(tenantID string) { r.cache.remove(tenantID) }

func (r *Keyring) load(ctx context.Context, t *tenants.Tenant) (*Set, error) {
	rows, err := r.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: load keys of %s: %w", t.Slug, err)
	}
	set := &Set{revision: t.Revision, now: r.store.Now}
	for i := range rows {
		if rows[i].TenantID != t.ID {
			return nil, fmt.Errorf("keyring: key %s is not %s's", rows[i].ID, t.Slug)
		}
		k, err := r.open(&rows[i])
		if err != nil {
			return nil, err
		}
		set.keys = append(set.keys, k)
	}
	return set, nil
}

func (r *Keyring) open(row *tenants.SigningKey) (*Key, error) {
	var pub jose.JSONWebKey
	if err := pub.UnmarshalJSON([]byte(row.PublicJWK)); err != nil {
		return nil, fmt.Errorf("keyring: key %s: public JWK: %w", row.ID, err)
	}
	// (Keys written before the algorithm was recorded in the JWK lack it.)
	if (pub.KeyID != "" && pub.KeyID != row.ID) || (pub.Algorithm != "" && pub.Algorithm != row.Algorithm) || !pub.IsPublic() {
		return nil, fmt.Errorf("keyring: key %s: public JWK does not match its row", row.ID)
	}
	sealed, tenantID, kid := row.PrivateSealed, row.TenantID, row.ID
	return &Key{
		ID:          row.ID,
		Algorithm:   jose.SignatureAlgorithm(row.Algorithm),
		Public:      pub.Key,
		CreatedAt:   row.CreatedAt,
		ActivatesAt: row.Activation(),
		RetiredAt:   row.RetiredAt,
		ExpiresAt:   row.ExpiresAt,
		unseal: func() (crypto.Signer, error) {
			der, err := r.box.Open(sealed, aad(tenantID, kid))
			if err != nil {
				return nil, fmt.Errorf("keyring: key %s: %w", kid, err)
			}
			parsed, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				return nil, fmt.Errorf("keyring: key %s: %w", kid, err)
			}
			priv, ok := parsed.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("keyring: key %s is not a signing key", kid)
			}
			return priv, nil
		},
	}, nil
}

// supported reports whether alg is one of Algorithms.
func supported(alg jose.SignatureAlgorithm) error {
	if !slices.Contains(Algorithms(), alg) {
		return fmt.Errorf("keyring: unsupported algorithm %q", alg)
	}
	return nil
}

// Ensure makes sure t has an active key of alg, generating and storing one
// if it has none: an API or a client that selects alg calls it. Callers
// racing for one tenant store one key between them.
func (r *Keyring) Ensure(ctx context.Context, t *tenants.Tenant, alg jose.SignatureAlgorithm) error {
	if err := supported(alg); err != nil {
		return err
	}
	set, err := r.Keys(ctx, t)
	if err != nil {
		return err
	}
	if _, ok := set.Active(alg); ok {
		return nil
	}
	key, err := r.Generate(t.ID, alg)
	if err != nil {
		return err
	}
	if _, err := r.store.AddSigningKey(tenants.WithTenant(ctx, t), key); err != nil {
		return err
	}
	r.Forget(t.ID)
	return nil
}

// retain is how long a key of t stays published after it stops signing.
func retain(t *tenants.Tenant) time.Duration {
	return max(t.AccessTokenTTL(), t.IDTokenTTL()) + RetainMargin
}

// Rotate gives t a new key of alg. Unless immediately, the new key is
// published for [PrePublish] before it signs (the key it replaces signs
// until then); with immediately (after a leak, say) it signs at once. The
// replaced key stays published for the longest token lifetime plus
// [RetainMargin], so that every token it signed still verifies until it
// expires. A tenant without a key of alg gets one that signs at once.
func (r *Keyring) Rotate(ctx context.Context, t *tenants.Tenant, alg jose.SignatureAlgorithm, immediately bool) (*tenants.SigningKey, error) {
	if err := supported(alg); err != nil {
		return nil, err
	}
	key, err := r.Generate(t.ID, alg)
	if err != nil {
		return nil, err
	}
	rot := tenants.KeyRotation{Publish: PrePublish, Retain: retain(t)}
	if immediately {
		rot.Publish = 0
	}
	if _, err := r.store.RolloverSigningKey(tenants.WithTenant(ctx, t), key, rot); err != nil {
		return nil, err
	}
	r.Forget(t.ID)
	return key, nil
}

// RotateDue rotates, with pre-publication, the keys of every tenant whose
// rotation period has passed since its newest key of an algorithm, and
// returns how many it rotated. The store's conditional rotation makes it
// safe to run on several nodes at once.
func (r *Keyring) RotateDue(ctx context.Context) (int, error) {
	due, err := r.store.DueKeyRotations(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		t, err := r.store.TenantByID(ctx, d.TenantID)
		if errors.Is(err, tenants.ErrNotFound) {
			continue // deleted since
		}
		if err != nil {
			return n, err
		}
		key, err := r.Generate(t.ID, jose.SignatureAlgorithm(d.Algorithm))
		if err != nil {
			return n, err
		}
		rotated, err := r.store.RolloverSigningKey(tenants.WithTenant(ctx, t), key,
			tenants.KeyRotation{Publish: PrePublish, Retain: retain(t), Every: d.Every})
		if err != nil {
			return n, err
		}
		if rotated {
			r.Forget(t.ID)
			n++
		}
	}
	return n, nil
}
