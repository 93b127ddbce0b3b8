package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SigningKeys returns the keys of the tenant of ctx that are still
// published (active, or retired but not yet expired), newest first.
func (s *Store) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	q, _, err := s.scoped(ctx, "signing_keys")
	if err != nil {
		return nil, err
	}
	var ks []SigningKey
	err = q.Where("expires_at IS NULL OR expires_at > ?", s.now()).Order("created_at DESC, id DESC").Find(&ks).Error
	return ks, mapErr(err)
}

// ListSigningKeys returns every key of the tenant of ctx, expired ones too,
// newest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]SigningKey, error) {
	q, _, err := s.scoped(ctx, "signing_keys")
	if err != nil {
		return nil, err
	}
	var ks []SigningKey
	return ks, mapErr(q.Order("created_at DESC, id DESC").Find(&ks).Error)
}

// RotateSigningKey makes key the tenant's signing key. The keys it replaces
// are retired now and stay published until retiredUntil.
func (s *Store) RotateSigningKey(ctx context.Context, key *SigningKey, retiredUntil time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if key.ID == "" {
		key.ID = newID()
	}
	key.TenantID, key.CreatedAt = tid, now
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		// Lock the tenant row so that two rotations cannot interleave.
		var t Tenant
		if err := first(s.forUpdate(tx.Where("id = ?", tid)), &t); err != nil {
			return err
		}
		err := tx.Table("signing_keys").Where("tenant_id = ? AND retired_at IS NULL", tid).
			Updates(map[string]any{"retired_at": now, "expires_at": retiredUntil}).Error
		if err != nil {
			return err
		}
		if err := tx.Create(key).Error; err != nil {
			return err
		}
		return bumpRevision(tx, tid, now)
	}))
}
