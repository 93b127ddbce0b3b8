package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RevokeAccessToken puts the access token jti of clientID, valid until
// expiresAt, on the tenant's revocation list. Revoking it again is not an
// error.
func (s *Store) RevokeAccessToken(ctx context.Context, jti, clientID string, expiresAt time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if jti == "" || len(jti) > 256 {
		return ErrNotFound
	}
	row := &RevokedToken{TenantID: tid, JTI: jti, ClientID: clientID, ExpiresAt: expiresAt, CreatedAt: s.now()}
	err = s.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(row).Error
	return mapErr(err)
}

// AccessTokenStatus answers, in one query, what the database says of the
// access token jti of clientID in the tenant of ctx: revoked or not,
// whether its client still exists, and, when grantID names its family, the
// family's state and owners.
func (s *Store) AccessTokenStatus(ctx context.Context, jti, clientID, grantID string) (*TokenStatus, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var row struct {
		Revoked       bool
		ClientExists  bool
		GrantFound    bool
		GrantRevoked  bool
		GrantClientID *string
		GrantUserID   *string
	}
	err = s.conn(ctx).Raw(`SELECT
		EXISTS (SELECT 1 FROM revoked_tokens WHERE tenant_id = ? AND jti = ?) AS revoked,
		EXISTS (SELECT 1 FROM clients WHERE tenant_id = ? AND client_id = ?) AS client_exists,
		EXISTS (SELECT 1 FROM grants WHERE tenant_id = ? AND id = ?) AS grant_found,
		EXISTS (SELECT 1 FROM grants WHERE tenant_id = ? AND id = ? AND revoked_at IS NOT NULL) AS grant_revoked,
		(SELECT client_id FROM grants WHERE tenant_id = ? AND id = ?) AS grant_client_id,
		(SELECT user_id FROM grants WHERE tenant_id = ? AND id = ?) AS grant_user_id`,
		tid, jti, tid, clientID, tid, grantID, tid, grantID, tid, grantID, tid, grantID).Scan(&row).Error
	if err != nil {
		return nil, mapErr(err)
	}
	st := &TokenStatus{Revoked: row.Revoked, ClientExists: row.ClientExists, GrantFound: row.GrantFound, GrantRevoked: row.GrantRevoked}
	if row.GrantClientID != nil {
		st.GrantClientID = *row.GrantClientID
	}
	if row.GrantUserID != nil {
		st.GrantUserID = *row.GrantUserID
	}
	return st, nil
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
	if err := first(s.conn(ctx).Where("tenant_id = ? AND id = ?", tid, rt.GrantID), &g); err != nil {
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
	if err := s.prepareAudits(ctx, tid, issue.Events); err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("refresh_tokens").
			Where("tenant_id = ? AND id = ? AND used_at IS NULL AND revoked_at IS NULL", tid, oldID).
			Updates(map[string]any{"used_at": now, "successor_seed": issue.SuccessorSeed})
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
// used: authorization requests, device authorizations, sessions, tokens
// and families, links, and lapsed client grants past their expiry by more
// than grace (kept that long so replays are still recognised).
// Authorization requests nobody signed in to, and device authorizations
// nobody answered, go at their expiry: there is nothing in them to
// recognise, and anyone can make them.
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
		// A used jti or request_uri is refused by its expiry alone once it
		// expires: nothing to recognise later, and anyone may make a
		// public client's pushed requests, so they go at once.
		for _, table := range []string{"client_assertions", "dpop_proofs", "pushed_requests", "saml_requests", "saml_messages", "saml_participants"} {
			res := tx.Exec("DELETE FROM "+table+" WHERE expires_at < ?", now)
			if res.Error != nil {
				return res.Error
			}
			n += res.RowsAffected
		}
		res = tx.Exec("DELETE FROM device_authorizations WHERE expires_at < ? AND status = ?", now, DevicePending)
		if res.Error != nil {
			return res.Error
		}
		n += res.RowsAffected
		for _, table := range []string{"auth_requests", "device_authorizations", "sessions", "revoked_tokens", "refresh_tokens", "console_sessions", "setup_tokens", "federation_states", "saml_assertions", "user_tokens", "login_steps", "client_grants"} {
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
		res = tx.Exec("DELETE FROM grants WHERE expires_at < ? AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = grants.id)", cutoff)
		n += res.RowsAffected
		return res.Error
	})
	return n, mapErr(err)
}
