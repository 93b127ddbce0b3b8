package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// CreateAccessToken records an access token issued outside a family (client
// credentials) in the tenant of ctx, with the audit events of its issue (in
// the same transaction).
func (s *Store) CreateAccessToken(ctx context.Context, t *AccessToken, events ...*AuditEvent) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	t.TenantID, t.CreatedAt = tid, s.now()
	if len(events) == 0 {
		return mapErr(s.db.WithContext(ctx).Create(t).Error)
	}
	for _, ev := range events {
		ev.TenantID = tid
		if err := s.prepareAudit(ctx, ev); err != nil {
			return err
		}
	}
	// One transaction: the token's hot path pays one commit, not two.
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		return tx.Create(events).Error
	}))
}

// AccessTokenByID returns the access token with jti in the tenant of ctx,
// with the revocation time of its family.
func (s *Store) AccessTokenByID(ctx context.Context, jti string) (*AccessToken, error) {
	q, _, err := s.scoped(ctx, "access_tokens")
	if err != nil {
		return nil, err
	}
	var t AccessToken
	err = first(q.Select("access_tokens.*, grants.revoked_at AS grant_revoked_at").
		Joins("LEFT JOIN grants ON grants.id = access_tokens.grant_id AND grants.tenant_id = access_tokens.tenant_id").
		Where("access_tokens.id = ?", jti), &t)
	return &t, err
}

// RevokeAccessToken revokes the access token with jti in the tenant of ctx.
func (s *Store) RevokeAccessToken(ctx context.Context, jti string) error {
	q, _, err := s.scoped(ctx, "access_tokens")
	if err != nil {
		return err
	}
	return mapErr(q.Where("id = ? AND revoked_at IS NULL", jti).Update("revoked_at", s.now()).Error)
}

// RefreshTokenByHash returns the refresh token whose hash is tokenHash, and
// its family, in the tenant of ctx.
func (s *Store) RefreshTokenByHash(ctx context.Context, tokenHash string) (*RefreshToken, *Grant, error) {
	q, tid, err := s.scoped(ctx, "refresh_tokens")
	if err != nil {
		return nil, nil, err
	}
	var rt RefreshToken
	if err := first(q.Where("token_hash = ?", tokenHash), &rt); err != nil {
		return nil, nil, err
	}
	var g Grant
	if err := first(s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tid, rt.GrantID), &g); err != nil {
		return nil, nil, err
	}
	return &rt, &g, nil
}

// RotateRefreshToken marks the refresh token oldID used and stores the tokens
// that replace it, in one transaction. If oldID was already used or revoked
// it fails with ErrConflict and writes nothing: the caller is seeing a reuse.
func (s *Store) RotateRefreshToken(ctx context.Context, oldID string, issue Issue) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("refresh_tokens").
			Where("tenant_id = ? AND id = ? AND used_at IS NULL AND revoked_at IS NULL", tid, oldID).
			Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrConflict
		}
		return s.insertIssue(tx, tid, now, issue)
	}))
}

// GrantByID returns the token family with id in the tenant of ctx.
func (s *Store) GrantByID(ctx context.Context, id string) (*Grant, error) {
	q, _, err := s.scoped(ctx, "grants")
	if err != nil {
		return nil, err
	}
	var g Grant
	return &g, first(q.Where("id = ?", id), &g)
}

// RevokeGrant revokes a token family, and with it every access and refresh
// token issued in it, in the tenant of ctx. Revoking a revoked family is
// not an error.
func (s *Store) RevokeGrant(ctx context.Context, grantID, reason string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Table("grants").Where("tenant_id = ? AND id = ? AND revoked_at IS NULL", tid, grantID).
			Updates(map[string]any{"revoked_at": now, "revoked_reason": reason}).Error
		if err != nil {
			return err
		}
		return tx.Table("refresh_tokens").Where("tenant_id = ? AND grant_id = ? AND revoked_at IS NULL", tid, grantID).
			Update("revoked_at", now).Error
	}))
}

// DeleteExpired removes, across every tenant, rows that can no longer be
// used: authorization requests, sessions, tokens and families, links, and
// lapsed client grants past their expiry by more than grace (kept that
// long so replays are still recognised). Authorization requests nobody
// signed in to go at their expiry: there is nothing in them to recognise,
// and anyone can make them.
// It is maintenance, not a tenant operation, and so is not tenant-scoped.
func (s *Store) DeleteExpired(ctx context.Context, grace time.Duration) (int64, error) {
	now := s.now()
	cutoff := now.Add(-grace)
	var n int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM auth_requests WHERE expires_at < ? AND user_id = ''", now)
		if res.Error != nil {
			return res.Error
		}
		n += res.RowsAffected
		for _, table := range []string{"auth_requests", "sessions", "access_tokens", "refresh_tokens", "console_sessions", "setup_tokens", "federation_states", "saml_assertions", "user_tokens", "login_steps", "client_grants"} {
			res := tx.Exec("DELETE FROM "+table+" WHERE expires_at < ?", cutoff)
			if res.Error != nil {
				return res.Error
			}
			n += res.RowsAffected
		}
		res = tx.Exec("DELETE FROM throttles WHERE updated_at < ?", cutoff)
		if res.Error != nil {
			return res.Error
		}
		n += res.RowsAffected
		res = tx.Exec("DELETE FROM outbox WHERE created_at < ?", cutoff.Add(-6*24*time.Hour))
		if res.Error != nil {
			return res.Error
		}
		n += res.RowsAffected
		res = tx.Exec("DELETE FROM grants WHERE expires_at < ? AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = grants.id) AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = grants.id)", cutoff)
		n += res.RowsAffected
		return res.Error
	})
	return n, mapErr(err)
}
