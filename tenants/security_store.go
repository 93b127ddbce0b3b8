package tenants

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// CreateUserToken stores a single-use link for a user of the tenant in ctx.
// Earlier unused links of the same purpose stop working: only the newest
// link sent works.
func (s *Store) CreateUserToken(ctx context.Context, t *UserToken) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	t.TenantID, t.CreatedAt = tid, now
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("users").Where("tenant_id = ? AND id = ?", tid, t.UserID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := tx.Table("user_tokens").Where("tenant_id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL", tid, t.UserID, t.Purpose).
			Update("used_at", now).Error; err != nil {
			return err
		}
		return tx.Create(t).Error
	}))
}

// UseUserToken spends the unused, unexpired link with id (the hash of its
// token) and purpose in the tenant of ctx; anything else is ErrNotFound.
func (s *Store) UseUserToken(ctx context.Context, id, purpose string) (*UserToken, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var t UserToken
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("user_tokens").Where("tenant_id = ? AND id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", tid, id, purpose, now).
			Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return first(tx.Where("tenant_id = ? AND id = ?", tid, id), &t)
	})
	return &t, mapErr(err)
}

// UserTokenValid returns the unused, unexpired link with id and purpose,
// without spending it (to show the form it opens).
func (s *Store) UserTokenValid(ctx context.Context, id, purpose string) (*UserToken, error) {
	q, _, err := s.scoped(ctx, "user_tokens")
	if err != nil {
		return nil, err
	}
	var t UserToken
	err = first(q.Where("id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", id, purpose, s.now()), &t)
	return &t, err
}

// ChangePassword sets a user's password hash (and when it changed), ends
// every session of the user, revokes their token families, and spends
// their unused password-reset and change-of-address links: an old link, an
// old session or an old refresh token opens nothing after a password
// change. It is the only way a password changes, whoever sets it (the
// user, a reset link, an administrator).
func (s *Store) ChangePassword(ctx context.Context, userID, hash string) error {
	return s.changeAccess(ctx, userID, map[string]any{"password_hash": hash, "password_changed_at": s.now()}, "password changed")
}

// SetEmail sets a user's email address and whether it is verified.
func (s *Store) SetEmail(ctx context.Context, userID, email string, verified bool) error {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return err
	}
	res := q.Where("id = ?", userID).Updates(map[string]any{
		"email": email, "email_normalized": NormalizeEmail(email), "email_verified": verified, "updated_at": s.now(),
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}

// CreateFactor stores a second factor of a user of the tenant in ctx.
func (s *Store) CreateFactor(ctx context.Context, f *MFAFactor) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if f.ID == "" {
		f.ID = newID()
	}
	f.TenantID, f.CreatedAt = tid, s.now()
	f.SecretSealed = nonNilBytes(f.SecretSealed)
	return mapErr(s.conn(ctx).Create(f).Error)
}

// ListFactors returns a user's factors, oldest first.
func (s *Store) ListFactors(ctx context.Context, userID string) ([]MFAFactor, error) {
	q, _, err := s.scoped(ctx, "mfa_factors")
	if err != nil {
		return nil, err
	}
	var fs []MFAFactor
	return fs, mapErr(q.Where("user_id = ?", userID).Order("created_at, id").Find(&fs).Error)
}

// FactorByCredentialID returns the WebAuthn factor with credentialID
// (base64url) in the tenant of ctx.
func (s *Store) FactorByCredentialID(ctx context.Context, credentialID string) (*MFAFactor, error) {
	q, _, err := s.scoped(ctx, "mfa_factors")
	if err != nil {
		return nil, err
	}
	var f MFAFactor
	return &f, first(q.Where("credential_id = ? AND credential_id <> ''", credentialID), &f)
}

// UseFactor records a use of a factor: its time, its confirmation, and,
// for WebAuthn, the credential as updated by the use (sign count).
func (s *Store) UseFactor(ctx context.Context, id, credential string) error {
	q, _, err := s.scoped(ctx, "mfa_factors")
	if err != nil {
		return err
	}
	fields := map[string]any{"last_used_at": s.now(), "confirmed": true}
	if credential != "" {
		fields["credential"] = credential
	}
	res := q.Where("id = ?", id).Updates(fields)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}

// SwapFactorCredential records a use of a factor whose credential is still
// old, replacing it with credential (a TOTP factor's last accepted step),
// and confirms the factor: a compare-and-swap, so that of two uses that
// read the same credential only one passes; the other gets ErrConflict.
func (s *Store) SwapFactorCredential(ctx context.Context, id, old, credential string) error {
	q, _, err := s.scoped(ctx, "mfa_factors")
	if err != nil {
		return err
	}
	res := q.Where("id = ? AND credential = ?", id, old).Updates(map[string]any{
		"credential": credential, "last_used_at": s.now(), "confirmed": true,
	})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}

// DeleteFactor removes a factor of a user.
func (s *Store) DeleteFactor(ctx context.Context, userID, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Exec("DELETE FROM mfa_factors WHERE tenant_id = ? AND user_id = ? AND id = ?", tid, userID, id)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}

// ReplaceRecoveryCodes replaces a user's recovery codes with new hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM recovery_codes WHERE tenant_id = ? AND user_id = ?", tid, userID).Error; err != nil {
			return err
		}
		for _, h := range hashes {
			if err := tx.Create(&RecoveryCode{ID: newID(), TenantID: tid, UserID: userID, CodeHash: h, CreatedAt: now}).Error; err != nil {
				return err
			}
		}
		return nil
	}))
}

// UseRecoveryCode spends a user's unused recovery code with hash; anything
// else is ErrNotFound.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	q, _, err := s.scoped(ctx, "recovery_codes")
	if err != nil {
		return err
	}
	res := q.Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hash).Update("used_at", s.now())
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// UseRecoveryCodeMadeBefore is UseRecoveryCode for a code made no later
// than before: a step-up of a session spends only codes the user had when
// the session signed in, not ones made since (by whoever holds it).
func (s *Store) UseRecoveryCodeMadeBefore(ctx context.Context, userID, hash string, before time.Time) error {
	q, _, err := s.scoped(ctx, "recovery_codes")
	if err != nil {
		return err
	}
	res := q.Where("user_id = ? AND code_hash = ? AND used_at IS NULL AND created_at <= ?", userID, hash, before.UTC()).Update("used_at", s.now())
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// CountRecoveryCodes returns how many unused recovery codes a user has.
func (s *Store) CountRecoveryCodes(ctx context.Context, userID string) (int64, error) {
	q, _, err := s.scoped(ctx, "recovery_codes")
	if err != nil {
		return 0, err
	}
	var n int64
	return n, mapErr(q.Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error)
}

// CreateLoginStep stores a step of a login in progress in the tenant of ctx.
func (s *Store) CreateLoginStep(ctx context.Context, st *LoginStep) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	st.TenantID, st.CreatedAt = tid, s.now()
	return mapErr(s.conn(ctx).Create(st).Error)
}

// LoginStepByID returns the unused, unexpired step with id, without using it.
func (s *Store) LoginStepByID(ctx context.Context, id string) (*LoginStep, error) {
	q, _, err := s.scoped(ctx, "login_steps")
	if err != nil {
		return nil, err
	}
	var st LoginStep
	return &st, first(q.Where("id = ? AND used_at IS NULL AND expires_at > ?", id, s.now()), &st)
}

// UseLoginStep spends the unused, unexpired step with id; anything else is
// ErrNotFound.
func (s *Store) UseLoginStep(ctx context.Context, id string) (*LoginStep, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var st LoginStep
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("login_steps").Where("tenant_id = ? AND id = ? AND used_at IS NULL AND expires_at > ?", tid, id, now).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return first(tx.Where("tenant_id = ? AND id = ?", tid, id), &st)
	})
	return &st, mapErr(err)
}

// The methods below are not tenant-scoped: throttling keys name their
// tenant themselves, and the outbox is the operators'.

// Throttles returns the counters of keys that exist (in no order).
func (s *Store) Throttles(ctx context.Context, keys []string) ([]Throttle, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var ts []Throttle
	return ts, mapErr(s.conn(ctx).Where("key IN ?", keys).Find(&ts).Error)
}

// RecordFailure counts a failure for key in a window starting at the first
// failure (a window older than window starts again), and locks the key until
// lock(failures) from now. It returns the number of failures in the window.
func (s *Store) RecordFailure(ctx context.Context, key string, window time.Duration, lock func(failures int64) time.Duration) (int64, error) {
	return s.countFailure(ctx, key, window, lock, false)
}

// ErrLocked is TakeTurn's answer for a key locked now.
var ErrLocked = errors.New("tenants: throttle key locked")

// TakeTurn counts a failure for key, as RecordFailure, unless the key is
// locked now (ErrLocked, nothing counted): the check and the count are one
// step under the row's lock, so that of attempts made at once exactly as
// many pass as the key has failures left. The attempt that took a turn and
// then succeeds gives it back with RefundFailure.
func (s *Store) TakeTurn(ctx context.Context, key string, window time.Duration, lock func(failures int64) time.Duration) (int64, error) {
	return s.countFailure(ctx, key, window, lock, true)
}

// RefundFailure takes back a failure counted by TakeTurn for an attempt
// that succeeded (or was never judged): one fewer failure, and no lock
// when the count left earns none.
func (s *Store) RefundFailure(ctx context.Context, key string, lock func(failures int64) time.Duration) error {
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var t Throttle
		if err := first(s.forUpdate(tx.Where("key = ?", key)), &t); err != nil {
			if err == ErrNotFound {
				return nil // reset meanwhile
			}
			return err
		}
		failures := max(t.Failures-1, 0)
		locked := t.LockedUntil
		if lock(failures) <= 0 {
			locked = nil
		}
		return tx.Table("throttles").Where("key = ?", key).Updates(map[string]any{
			"failures": failures, "locked_until": locked, "updated_at": now,
		}).Error
	}))
}

func (s *Store) countFailure(ctx context.Context, key string, window time.Duration, lock func(failures int64) time.Duration, unlessLocked bool) (int64, error) {
	now := s.now()
	var failures int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var t Throttle
		err := first(s.forUpdate(tx.Where("key = ?", key)), &t)
		fresh := err == ErrNotFound
		switch {
		case err == ErrNotFound:
			t = Throttle{Key: key, Failures: 1, WindowStart: now, UpdatedAt: now}
		case err != nil:
			return err
		case unlessLocked && t.LockedUntil != nil && now.Before(*t.LockedUntil):
			return ErrLocked
		case !now.Before(t.WindowStart.Add(window)):
			t.Failures, t.WindowStart = 1, now
		default:
			t.Failures++
		}
		t.UpdatedAt = now
		t.LockedUntil = nil
		if d := lock(t.Failures); d > 0 {
			until := now.Add(d)
			t.LockedUntil = &until
		}
		failures = t.Failures
		if fresh {
			// A plain insert (Save would upsert, overwriting the count of
			// a first failure that raced this one): the loser of the race
			// fails on the key and is counted again below.
			return tx.Create(&t).Error
		}
		// Columns named, not Save: Save stamps updated_at with GORM's
		// clock, not the store's.
		return tx.Table("throttles").Where("key = ?", key).Updates(map[string]any{
			"failures": t.Failures, "window_start": t.WindowStart, "locked_until": t.LockedUntil, "updated_at": t.UpdatedAt,
		}).Error
	})
	if isConflictRace(err) {
		// Two first failures raced on insert: count this one again.
		return s.countFailure(ctx, key, window, lock, unlessLocked)
	}
	if errors.Is(err, ErrLocked) {
		return 0, ErrLocked
	}
	return failures, mapErr(err)
}

func isConflictRace(err error) bool { return mapErr(err) == ErrAlreadyExists }

// ResetThrottle forgets the failures of key (after a success).
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	return mapErr(s.conn(ctx).Exec("DELETE FROM throttles WHERE key = ?", key).Error)
}

// AppendOutbox keeps a message in the development outbox.
func (s *Store) AppendOutbox(ctx context.Context, m *OutboxMessage) error {
	if m.ID == "" {
		m.ID = newID()
	}
	m.CreatedAt = s.now()
	return mapErr(s.conn(ctx).Create(m).Error)
}

// ListOutbox returns the newest messages of the development outbox.
func (s *Store) ListOutbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	var ms []OutboxMessage
	return ms, mapErr(s.conn(ctx).Order("created_at DESC, id DESC").Limit(limit).Find(&ms).Error)
}
