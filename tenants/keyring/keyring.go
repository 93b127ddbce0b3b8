// Package keyring owns tenants' signing keys: it generates them, seals their
// private halves under the master key, rotates them, and keeps the opened
// keys of each tenant in memory, reloading them when the tenant's revision
// says another node changed them.
package keyring

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Key is an opened signing key.
type Key struct {
	ID        string
	Algorithm jose.SignatureAlgorithm
	Private   crypto.Signer
	Public    crypto.PublicKey
	CreatedAt time.Time
	RetiredAt *time.Time
	ExpiresAt *time.Time
}

// JWK returns the public half as a JSON Web Key.
func (k *Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Public, KeyID: k.ID, Algorithm: string(k.Algorithm), Use: "sig"}
}

// Set is the keys one tenant publishes; Signing is the one that signs.
type Set struct {
	Signing  *Key
	All      []*Key
	revision int64
	signers  sync.Map // typ -> jose.Signer for Signing
}

// Signer returns a cached JWS signer with the Signing key that writes typ in
// the JOSE header ("JWT" for ID tokens, "at+jwt" for access tokens).
func (s *Set) Signer(typ string) (jose.Signer, error) {
	if v, ok := s.signers.Load(typ); ok {
		return v.(jose.Signer), nil
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: s.Signing.Algorithm, Key: jose.JSONWebKey{Key: s.Signing.Private, KeyID: s.Signing.ID}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)),
	)
	if err != nil {
		return nil, fmt.Errorf("keyring: signer: %w", err)
	}
	v, _ := s.signers.LoadOrStore(typ, signer)
	return v.(jose.Signer), nil
}

// Find returns the published key with kid.
func (s *Set) Find(kid string) (*Key, bool) {
	for _, k := range s.All {
		if k.ID == kid {
			return k, true
		}
	}
	return nil, false
}

// Keyring generates, seals, opens and caches tenants' keys.
type Keyring struct {
	store *tenants.Store
	box   *secret.Box
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]*Set // tenant id -> keys
}

// New returns a Keyring over store sealing with box.
func New(store *tenants.Store, box *secret.Box) *Keyring {
	return &Keyring{store: store, box: box, now: time.Now, cache: map[string]*Set{}}
}

// Generate returns a new sealed key for tenantID with alg (RS256 or ES256).
func (r *Keyring) Generate(tenantID string, alg jose.SignatureAlgorithm) (*tenants.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("keyring: unsupported algorithm %s", alg)
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
	r.mu.Lock()
	set, ok := r.cache[t.ID]
	r.mu.Unlock()
	if ok && set.revision == t.Revision && (set.Signing.ExpiresAt == nil || r.now().Before(*set.Signing.ExpiresAt)) {
		return set, nil
	}
	set, err := r.load(tenants.WithTenant(ctx, t), t)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.cache[t.ID] = set
	r.mu.Unlock()
	return set, nil
}

// Forget drops the cached keys of a tenant.
func (r *Keyring) Forget(tenantID string) {
	r.mu.Lock()
	delete(r.cache, tenantID)
	r.mu.Unlock()
}

func (r *Keyring) load(ctx context.Context, t *tenants.Tenant) (*Set, error) {
	rows, err := r.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: load keys of %s: %w", t.Slug, err)
	}
	set := &Set{revision: t.Revision}
	for i := range rows {
		k, err := r.open(&rows[i])
		if err != nil {
			return nil, err
		}
		set.All = append(set.All, k)
		if rows[i].Active() && set.Signing == nil {
			set.Signing = k
		}
	}
	if set.Signing == nil {
		return nil, fmt.Errorf("keyring: tenant %s has no active signing key", t.Slug)
	}
	return set, nil
}

func (r *Keyring) open(row *tenants.SigningKey) (*Key, error) {
	der, err := r.box.Open(row.PrivateSealed, aad(row.TenantID, row.ID))
	if err != nil {
		return nil, fmt.Errorf("keyring: key %s: %w", row.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keyring: key %s: %w", row.ID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keyring: key %s is not a signing key", row.ID)
	}
	return &Key{
		ID:        row.ID,
		Algorithm: jose.SignatureAlgorithm(row.Algorithm),
		Private:   priv,
		Public:    priv.Public(),
		CreatedAt: row.CreatedAt,
		RetiredAt: row.RetiredAt,
		ExpiresAt: row.ExpiresAt,
	}, nil
}

// Rotate gives the tenant in ctx a new signing key. The key it replaces stays
// published for the longest token lifetime plus a margin, so that every token
// it signed still verifies until it expires.
func (r *Keyring) Rotate(ctx context.Context, t *tenants.Tenant) (*tenants.SigningKey, error) {
	key, err := r.Generate(t.ID, jose.RS256)
	if err != nil {
		return nil, err
	}
	longest := max(t.AccessTokenTTL(), t.IDTokenTTL())
	until := r.store.Now().Add(longest + 10*time.Minute)
	if err := r.store.RotateSigningKey(tenants.WithTenant(ctx, t), key, until); err != nil {
		return nil, err
	}
	r.Forget(t.ID)
	return key, nil
}
