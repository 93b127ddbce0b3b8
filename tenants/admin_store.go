package tenants

import (
	"context"
	"time"
)

// The methods of this file act on Gatehouse's administration, not on one
// tenant's data: they are not tenant-scoped.

// SystemTenant returns the built-in tenant whose users and clients are
// administrators.
func (s *Store) SystemTenant(ctx context.Context) (*Tenant, error) {
	var t Tenant
	return &t, first(s.db.WithContext(ctx).Where("system = ?", true), &t)
}

// CreateAdminRole gives a principal of the system tenant a role.
func (s *Store) CreateAdminRole(ctx context.Context, r *AdminRole) error {
	if r.ID == "" {
		r.ID = newID()
	}
	r.CreatedAt = s.now()
	return mapErr(s.db.WithContext(ctx).Create(r).Error)
}

// AdminRoles returns the roles of a principal (kind and id).
func (s *Store) AdminRoles(ctx context.Context, kind, id string) ([]AdminRole, error) {
	var rs []AdminRole
	err := s.db.WithContext(ctx).Where("principal_kind = ? AND principal_id = ?", kind, id).Order("created_at").Find(&rs).Error
	return rs, mapErr(err)
}

// CountOperators returns how many operator roles exist.
func (s *Store) CountOperators(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&AdminRole{}).Where("role = ?", RoleOperator).Count(&n).Error
	return n, mapErr(err)
}

// CreateConsoleSession stores a console session.
func (s *Store) CreateConsoleSession(ctx context.Context, cs *ConsoleSession) error {
	now := s.now()
	cs.CreatedAt, cs.LastSeenAt = now, now
	return mapErr(s.db.WithContext(ctx).Create(cs).Error)
}

// ConsoleSessionByID returns the unexpired console session with id.
func (s *Store) ConsoleSessionByID(ctx context.Context, id string) (*ConsoleSession, error) {
	var cs ConsoleSession
	if err := first(s.db.WithContext(ctx).Where("id = ?", id), &cs); err != nil {
		return nil, err
	}
	if !s.now().Before(cs.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &cs, nil
}

// SetConsoleTryState records the state of a "Try it" login in progress.
func (s *Store) SetConsoleTryState(ctx context.Context, id, state string) error {
	res := s.db.WithContext(ctx).Model(&ConsoleSession{}).Where("id = ?", id).Update("try_state", state)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}

// DeleteConsoleSession ends a console session; ending one that does not
// exist is not an error.
func (s *Store) DeleteConsoleSession(ctx context.Context, id string) error {
	return mapErr(s.db.WithContext(ctx).Exec("DELETE FROM console_sessions WHERE id = ?", id).Error)
}

// CreateSetupToken stores a one-time setup link's hash.
func (s *Store) CreateSetupToken(ctx context.Context, hash string, ttl time.Duration) error {
	now := s.now()
	return mapErr(s.db.WithContext(ctx).Create(&SetupToken{ID: hash, CreatedAt: now, ExpiresAt: now.Add(ttl)}).Error)
}

// SetupTokenValid reports whether hash names an unused, unexpired setup link.
func (s *Store) SetupTokenValid(ctx context.Context, hash string) (bool, error) {
	var t SetupToken
	err := first(s.db.WithContext(ctx).Where("id = ? AND used_at IS NULL", hash), &t)
	if err == ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.now().Before(t.ExpiresAt), nil
}

// UseSetupToken spends a setup link: ErrConflict if it was used, has
// expired, or does not exist.
func (s *Store) UseSetupToken(ctx context.Context, hash string) error {
	now := s.now()
	res := s.db.WithContext(ctx).Model(&SetupToken{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", hash, now).Update("used_at", now)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}
