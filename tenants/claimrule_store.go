package tenants

import (
	"context"

	"gorm.io/gorm"
)

// Every change to a tenant's claim rules bumps the tenant's revision: the
// token path keeps the tenant's rules compiled per revision.

// ListClaimRules returns the claim rules of the tenant in ctx in the order
// they run: by position, then id.
func (s *Store) ListClaimRules(ctx context.Context) ([]ClaimRule, error) {
	q, _, err := s.scoped(ctx, "claim_rules")
	if err != nil {
		return nil, err
	}
	var out []ClaimRule
	return out, mapErr(q.Order("position, id").Find(&out).Error)
}

// ClaimRuleByID returns the claim rule with id in the tenant of ctx.
func (s *Store) ClaimRuleByID(ctx context.Context, id string) (*ClaimRule, error) {
	q, _, err := s.scoped(ctx, "claim_rules")
	if err != nil {
		return nil, err
	}
	var r ClaimRule
	if err := first(q.Where("id = ?", id), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// CreateClaimRule stores a new claim rule in the tenant of ctx; a rule
// without a position goes after the tenant's last.
func (s *Store) CreateClaimRule(ctx context.Context, r *ClaimRule) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if r.ID == "" {
		r.ID = newID()
	}
	r.TenantID, r.CreatedAt, r.UpdatedAt = tid, now, now
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		if r.Position == 0 {
			var last struct{ Max *int }
			if err := tx.Table("claim_rules").Select("MAX(position) AS max").Where("tenant_id = ?", tid).Scan(&last).Error; err != nil {
				return err
			}
			r.Position = 1
			if last.Max != nil {
				r.Position = *last.Max + 1
			}
		}
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		return bumpRevision(tx, tid, now)
	}))
}

// UpdateClaimRule saves every field of r, a rule of the tenant in ctx.
func (s *Store) UpdateClaimRule(ctx context.Context, r *ClaimRule) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("claim_rules").Where("tenant_id = ? AND id = ?", tid, r.ID).Updates(map[string]any{
			"name": r.Name, "position": r.Position, "enabled": r.Enabled, "condition": r.Condition,
			"id_token_claims": r.IDTokenClaims, "access_token_claims": r.AccessTokenClaims, "deny": r.Deny, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		r.TenantID, r.UpdatedAt = tid, now
		return bumpRevision(tx, tid, now)
	}))
}

// DeleteClaimRule deletes the claim rule with id in the tenant of ctx.
func (s *Store) DeleteClaimRule(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM claim_rules WHERE tenant_id = ? AND id = ?", tid, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpRevision(tx, tid, s.now())
	}))
}
