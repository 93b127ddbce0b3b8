package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SigningKeys returns the keys of the tenant of ctx that are still
// published (pending, signing, or retired but not yet expired), newest
// first.
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

// KeyRotation says how a new key of an algorithm takes over from the keys
// that sign now.
type KeyRotation struct {
	// Publish is how long the new key is only published before it signs,
	// so that relying parties that cache the JWKS know it before they see
	// a token it signed (0: it signs at once). When no key of the
	// algorithm signs now, the new key signs at once whatever Publish says.
	Publish time.Duration
	// Retain is how long a replaced key stays published after it stops
	// signing: the longest lifetime of a token it may have signed, plus a
	// margin.
	Retain time.Duration
	// Every, when set, makes the rotation a scheduled one: it happens only
	// if the newest key of the algorithm is at least Every old. Several
	// nodes running one schedule over one database rotate once.
	Every time.Duration
}

// RotateSigningKey makes key the signing key of its algorithm at once. The
// keys of that algorithm it replaces are retired now and stay published
// until retiredUntil.
func (s *Store) RotateSigningKey(ctx context.Context, key *SigningKey, retiredUntil time.Time) error {
	_, err := s.RolloverSigningKey(ctx, key, KeyRotation{Retain: retiredUntil.Sub(s.now())})
	return err
}

// RolloverSigningKey adds key, which takes over signing for its algorithm
// as r says: it is published now, and signs from Publish on. The keys of
// the algorithm that sign until then are retired at that moment and stay
// published for Retain more; a key still waiting to sign is superseded
// (it never signs, and leaves the JWKS now). It reports false, and changes
// nothing, when r.Every is set and the newest key of the algorithm is
// younger than that. The tenant's row is locked, so that rotations of one
// tenant (from any node) happen one after the other.
func (s *Store) RolloverSigningKey(ctx context.Context, key *SigningKey, r KeyRotation) (bool, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return false, err
	}
	if key.ID == "" {
		key.ID = newID()
	}
	rotated := false
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.lockTenant(tx, tid); err != nil {
			return err
		}
		// The time is read once the lock is held: a rotation that waited
		// must see the one before it as done, not as still to come.
		now := s.now()
		key.TenantID, key.CreatedAt = tid, now
		var ks []SigningKey
		if err := tx.Where("tenant_id = ? AND algorithm = ?", tid, key.Algorithm).Find(&ks).Error; err != nil {
			return err
		}
		if r.Every > 0 {
			for _, k := range ks {
				if now.Sub(k.CreatedAt) < r.Every {
					return nil
				}
			}
		}
		activates := now.Add(max(r.Publish, 0))
		signing := false
		for _, k := range ks {
			signing = signing || k.SignsAt(now)
		}
		if !signing {
			activates = now
		}
		for _, k := range ks {
			var set map[string]any
			switch {
			case !k.PublishedAt(now):
			case now.Before(k.Activation()) && !k.Activation().Before(activates):
				// Waiting to sign, and now never will.
				set = map[string]any{"retired_at": now, "expires_at": now}
			case k.RetiredAt == nil || k.RetiredAt.After(activates):
				set = map[string]any{"retired_at": activates, "expires_at": activates.Add(r.Retain)}
			}
			if set != nil {
				if err := tx.Table("signing_keys").Where("tenant_id = ? AND id = ?", tid, k.ID).Updates(set).Error; err != nil {
					return err
				}
			}
		}
		key.ActivatesAt, key.RetiredAt, key.ExpiresAt = &activates, nil, nil
		if err := tx.Create(key).Error; err != nil {
			return err
		}
		rotated = true
		return bumpRevision(tx, tid, now)
	})
	return rotated, mapErr(err)
}

// AddSigningKey adds key to the tenant of ctx if no key of its algorithm
// signs now, and reports whether it did: of several callers that each made
// a key for an algorithm the tenant lacks, one adds its key.
func (s *Store) AddSigningKey(ctx context.Context, key *SigningKey) (bool, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return false, err
	}
	if key.ID == "" {
		key.ID = newID()
	}
	added := false
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.lockTenant(tx, tid); err != nil {
			return err
		}
		now := s.now()
		key.TenantID, key.CreatedAt = tid, now
		var ks []SigningKey
		err := tx.Where("tenant_id = ? AND algorithm = ? AND (retired_at IS NULL OR retired_at > ?)", tid, key.Algorithm, now).Find(&ks).Error
		if err != nil {
			return err
		}
		for _, k := range ks {
			if k.SignsAt(now) {
				return nil
			}
		}
		key.ActivatesAt, key.RetiredAt, key.ExpiresAt = &now, nil, nil
		if err := tx.Create(key).Error; err != nil {
			return err
		}
		added = true
		return bumpRevision(tx, tid, now)
	})
	return added, mapErr(err)
}

// lockTenant locks the tenant's row for the rest of tx.
func (s *Store) lockTenant(tx *gorm.DB, tid string) error {
	var t Tenant
	return first(s.forUpdate(tx.Select("id").Where("id = ?", tid)), &t)
}

// DueRotation is an algorithm of a tenant whose keys are due to rotate.
type DueRotation struct {
	TenantID  string
	Algorithm string
	// Every is the tenant's rotation period.
	Every time.Duration
}

// DueKeyRotations returns, across every tenant with a rotation period, the
// algorithms whose newest published key is at least that period old. It
// reads only the keys of tenants that rotate on a schedule.
func (s *Store) DueKeyRotations(ctx context.Context) ([]DueRotation, error) {
	now := s.now()
	var rows []struct {
		TenantID  string
		Algorithm string
		CreatedAt time.Time
		Period    int64
	}
	err := s.conn(ctx).Table("signing_keys AS k").
		Select("k.tenant_id, k.algorithm, k.created_at, t.key_rotation_period AS period").
		Joins("JOIN tenants t ON t.id = k.tenant_id").
		Where("t.key_rotation_period > 0 AND (k.expires_at IS NULL OR k.expires_at > ?)", now).
		Scan(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	type ta struct{ tenant, alg string }
	newest := map[ta]time.Time{}
	period := map[ta]int64{}
	var order []ta
	for _, r := range rows {
		k := ta{r.TenantID, r.Algorithm}
		prev, seen := newest[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || r.CreatedAt.After(prev) {
			newest[k] = r.CreatedAt
		}
		period[k] = r.Period
	}
	var due []DueRotation
	for _, k := range order {
		every := seconds(period[k])
		if now.Sub(newest[k]) >= every {
			due = append(due, DueRotation{TenantID: k.tenant, Algorithm: k.alg, Every: every})
		}
	}
	return due, nil
}

// SetKeyRotationPeriod makes the keys of the tenant of ctx rotate every
// period on their own (0: never).
func (s *Store) SetKeyRotationPeriod(ctx context.Context, period time.Duration) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		ok, err := updateTenant(tx, tid, now, map[string]any{
			"key_rotation_period": int64(period / time.Second),
		})
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		return nil
	}))
}
