package tenants

import (
	"context"
	"time"
)

// CreateSession stores a new login session in the tenant of ctx.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	sess.TenantID = tid
	sess.CreatedAt, sess.LastSeenAt = now, now
	return mapErr(s.conn(ctx).Create(sess).Error)
}

// SessionByID returns the unexpired session with id (the hash of its cookie)
// in the tenant of ctx.
func (s *Store) SessionByID(ctx context.Context, id string) (*Session, error) {
	q, _, err := s.scoped(ctx, "sessions")
	if err != nil {
		return nil, err
	}
	var sess Session
	if err := first(q.Where("id = ?", id), &sess); err != nil {
		return nil, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &sess, nil
}

// TouchSession records that the session was used at.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	q, _, err := s.scoped(ctx, "sessions")
	if err != nil {
		return err
	}
	return mapErr(q.Where("id = ?", id).Update("last_seen_at", at).Error)
}

// DeleteSession ends the session with id in the tenant of ctx. Deleting a
// session that does not exist is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.conn(ctx).Exec("DELETE FROM sessions WHERE tenant_id = ? AND id = ?", tid, id).Error)
}

// ListSessions returns the unexpired sessions of a user in the tenant of ctx.
func (s *Store) ListSessions(ctx context.Context, userID string) ([]Session, error) {
	q, _, err := s.scoped(ctx, "sessions")
	if err != nil {
		return nil, err
	}
	var ss []Session
	return ss, mapErr(q.Where("user_id = ? AND expires_at > ?", userID, s.now()).Order("created_at DESC").Find(&ss).Error)
}
