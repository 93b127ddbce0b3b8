package tenants

import (
	"context"
	"strings"
	"time"
)

// NormalizeEmail returns the form of an email address that uniqueness and
// lookups use: trimmed and lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser stores a new user in the tenant of ctx.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if u.ID == "" {
		u.ID = newID()
	}
	u.TenantID = tid
	u.EmailNormalized = NormalizeEmail(u.Email)
	u.CreatedAt, u.UpdatedAt = now, now
	return mapErr(s.db.WithContext(ctx).Create(u).Error)
}

// UserByID returns the user with id in the tenant of ctx.
func (s *Store) UserByID(ctx context.Context, id string) (*User, error) {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return nil, err
	}
	var u User
	return &u, first(q.Where("id = ?", id), &u)
}

// UserByEmail returns the user with email (case-insensitive) in the tenant of ctx.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return nil, err
	}
	var u User
	return &u, first(q.Where("email_normalized = ?", NormalizeEmail(email)), &u)
}

// ListUsers returns up to limit users of the tenant of ctx, ordered by email.
func (s *Store) ListUsers(ctx context.Context, limit int) ([]User, error) {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return nil, err
	}
	var us []User
	return us, mapErr(q.Order("email_normalized").Limit(limit).Find(&us).Error)
}

// RecordLogin sets the user's last login time and, when newHash is not
// empty, replaces the password hash (a re-hash with stronger parameters).
func (s *Store) RecordLogin(ctx context.Context, userID string, at time.Time, newHash string) error {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return err
	}
	fields := map[string]any{"last_login_at": at}
	if newHash != "" {
		fields["password_hash"] = newHash
		fields["updated_at"] = at
	}
	res := q.Where("id = ?", userID).Updates(fields)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}
