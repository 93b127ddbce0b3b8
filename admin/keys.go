package admin

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// RotateKeyInput says which key to rotate, and how.
type RotateKeyInput struct {
	// Algorithm is the algorithm of the key to replace (one of
	// tenants.SigningAlgorithms; empty: RS256).
	Algorithm string
	// Now makes the new key sign at once instead of after its
	// pre-publication (after a leak, say): relying parties that cached the
	// JWKS see tokens with a key they do not know yet and must refetch.
	Now bool
}

// RotateKey gives the tenant in ctx a new signing key of an algorithm. It is
// published first and signs once relying parties' cached JWKS know it
// (unless in.Now); tokens signed with the old one keep verifying until they
// expire.
func (s *Service) RotateKey(ctx context.Context, in RotateKeyInput) (*Key, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	alg, err := tenants.ValidateSigningAlgorithm("alg", in.Algorithm)
	if err != nil {
		return nil, err
	}
	k, err := s.keys.Rotate(ctx, t, jose.SignatureAlgorithm(alg), in.Now)
	if err != nil {
		return nil, err
	}
	s.changed(t)
	v := keyView(k, s.store.Now())
	return v, s.audit(ctx, t, ActionKeyRotated, "key", k.ID, nil, v)
}

// ListKeys returns every signing key of the tenant in ctx, newest first.
func (s *Service) ListKeys(ctx context.Context) ([]*Key, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	ks, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := s.store.Now()
	out := make([]*Key, len(ks))
	for i := range ks {
		out[i] = keyView(&ks[i], now)
	}
	return out, nil
}

// Bounds of a tenant's key rotation period.
const (
	MinKeyRotationPeriod = 24 * time.Hour
	MaxKeyRotationPeriod = 5 * 365 * 24 * time.Hour
)

// KeyRotation is the view of a tenant's rotation schedule.
type KeyRotation struct {
	// PeriodSeconds is how often the keys rotate on their own (0: never).
	PeriodSeconds int64 `json:"rotation_period"`
}

// SetKeyRotation makes the keys of the tenant in ctx rotate every period,
// with pre-publication, on whichever node's periodic job finds it due (0:
// never).
func (s *Service) SetKeyRotation(ctx context.Context, period time.Duration) (*KeyRotation, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if period != 0 && (period < MinKeyRotationPeriod || period > MaxKeyRotationPeriod) {
		return nil, tenants.Invalid("rotation_period", "must be 0 (never) or between %s and %s", human(MinKeyRotationPeriod), human(MaxKeyRotationPeriod))
	}
	period = period.Truncate(time.Second)
	stored, err := s.store.TenantByID(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	before := &KeyRotation{PeriodSeconds: stored.KeyRotationSeconds}
	if err := s.store.SetKeyRotationPeriod(ctx, period); err != nil {
		return nil, err
	}
	s.changed(t)
	after := &KeyRotation{PeriodSeconds: int64(period / time.Second)}
	return after, s.audit(ctx, t, ActionKeyRotationSet, "tenant", t.ID, before, after)
}

// GetKeyRotation returns the rotation schedule of the tenant in ctx, as
// stored now.
func (s *Service) GetKeyRotation(ctx context.Context) (*KeyRotation, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	if t, err = s.store.TenantByID(ctx, t.ID); err != nil {
		return nil, err
	}
	return &KeyRotation{PeriodSeconds: t.KeyRotationSeconds}, nil
}

// signingAlg validates alg (empty: the default) as the value of field and
// makes sure tenant t has an active key of it, so that what selects it can
// be signed for at once.
func (s *Service) signingAlg(ctx context.Context, t *tenants.Tenant, field, alg string) (string, error) {
	alg, err := tenants.ValidateSigningAlgorithm(field, alg)
	if err != nil {
		return "", err
	}
	if err := s.keys.Ensure(ctx, t, jose.SignatureAlgorithm(alg)); err != nil {
		return "", err
	}
	return alg, nil
}
