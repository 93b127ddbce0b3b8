package tenants

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
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
	return mapErr(s.conn(ctx).Create(u).Error)
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

// UserPage is one page of a user listing.
type UserPage struct {
	Users []User
	// Next is the cursor of the next page; empty on the last.
	Next string
}

// SearchUsers returns users of the tenant in ctx whose email or name
// contains query (case-insensitive), ordered by email, limit at a time,
// starting after the cursor after (an email).
func (s *Store) SearchUsers(ctx context.Context, query, after string, limit int) (*UserPage, error) {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if query = strings.ToLower(strings.TrimSpace(query)); query != "" {
		like := "%" + escapeLike(query) + "%"
		q = q.Where("(email_normalized LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\')", like, like)
	}
	if after != "" {
		q = q.Where("email_normalized > ?", after)
	}
	var us []User
	if err := q.Order("email_normalized").Limit(limit + 1).Find(&us).Error; err != nil {
		return nil, mapErr(err)
	}
	page := &UserPage{Users: us}
	if len(us) > limit {
		page.Users = us[:limit]
		page.Next = us[limit-1].EmailNormalized
	}
	return page, nil
}

// CountUsers returns how many users the tenant in ctx has.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return 0, err
	}
	var n int64
	return n, mapErr(q.Count(&n).Error)
}

// RecentLogins returns the users of the tenant in ctx who logged in last.
func (s *Store) RecentLogins(ctx context.Context, limit int) ([]User, error) {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return nil, err
	}
	var us []User
	return us, mapErr(q.Where("last_login_at IS NOT NULL").Order("last_login_at DESC").Limit(limit).Find(&us).Error)
}

// UpdateUserProfile saves the user's name fields and email.
func (s *Store) UpdateUserProfile(ctx context.Context, u *User) error {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return err
	}
	u.EmailNormalized = NormalizeEmail(u.Email)
	u.UpdatedAt = s.now()
	cols := map[string]any{
		"email": u.Email, "email_normalized": u.EmailNormalized, "email_verified": u.EmailVerified,
		"name": u.Name, "given_name": u.GivenName, "family_name": u.FamilyName, "updated_at": u.UpdatedAt,
	}
	// Metadata, a JSON object the caller checked, is written when given
	// ("" leaves it as it is).
	if u.UserMetadata != "" {
		cols["user_metadata"] = u.UserMetadata
	}
	if u.AppMetadata != "" {
		cols["app_metadata"] = u.AppMetadata
	}
	res := q.Where("id = ?", u.ID).Updates(cols)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}

// Metadata columns of users.
const (
	ColumnUserMetadata = "user_metadata"
	ColumnAppMetadata  = "app_metadata"
)

// SearchUsersByMetadata returns a page of the users of the tenant in ctx
// whose metadata column (ColumnUserMetadata or ColumnAppMetadata) has the
// top-level key, with the value when value is not empty (compared as
// text: a string, or a number or boolean as JSON writes it), ordered by
// normalized email, after the cursor. The caller checks key: letters,
// digits, '_' and '-'.
func (s *Store) SearchUsersByMetadata(ctx context.Context, column, key, value, after string, limit int) (*UserPage, error) {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return nil, err
	}
	if column != ColumnUserMetadata && column != ColumnAppMetadata {
		return nil, Invalid("metadata", "must name user_metadata or app_metadata")
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if s.Dialect() == DialectPostgres {
		if value == "" {
			q = q.Where("jsonb_exists(NULLIF("+column+", '')::jsonb, ?)", key)
		} else {
			q = q.Where("(NULLIF("+column+", '')::jsonb ->> ?) = ?", key, value)
		}
	} else {
		path := "$." + key
		if value == "" {
			q = q.Where("json_type(NULLIF("+column+", ''), ?) IS NOT NULL", path)
		} else {
			q = q.Where("(CASE json_type(NULLIF("+column+", ''), ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(NULLIF("+column+", ''), ?) AS TEXT) END) = ?", path, path, value)
		}
	}
	if after != "" {
		q = q.Where("email_normalized > ?", after)
	}
	var us []User
	if err := q.Order("email_normalized").Limit(limit + 1).Find(&us).Error; err != nil {
		return nil, mapErr(err)
	}
	page := &UserPage{Users: us}
	if len(us) > limit {
		page.Users = us[:limit]
		page.Next = us[limit-1].EmailNormalized
	}
	return page, nil
}

// SetUserDisabled disables (ending the user's sessions, revoking their
// tokens and spending their outstanding links, as a new password does) or
// enables a user.
func (s *Store) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	if !disabled {
		return s.changeAccess(ctx, userID, map[string]any{"disabled_at": nil}, "")
	}
	return s.changeAccess(ctx, userID, map[string]any{"disabled_at": s.now()}, "user disabled")
}

// linksSpentOnAccessChange are the purposes of the links a change of access
// spends: each opens the account (a new password, a new address) to whoever
// holds it. A link to confirm the current address is not a way in.
var linksSpentOnAccessChange = []string{TokenResetPassword, TokenChangeEmail}

// changeAccess updates a user's row and, when revokeReason is set (a new
// password, disabling: what opened the account must open nothing more),
// deletes their sessions, revokes their token families and spends their
// unused password reset and change-of-address links, in one transaction.
// It is the one place this rule lives: every password change and every
// disabling, by the user or an admin, goes through it.
func (s *Store) changeAccess(ctx context.Context, userID string, fields map[string]any, revokeReason string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	fields["updated_at"] = now
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("users").Where("tenant_id = ? AND id = ?", tid, userID).Updates(fields)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if revokeReason == "" {
			return nil
		}
		return revokeAccess(tx, tid, userID, now, revokeReason)
	}))
}

// revokeAccess deletes, in tx, the sessions of the user of tenant tid with
// userID, revokes their token families and spends their unused password
// reset and change-of-address links.
func revokeAccess(tx *gorm.DB, tid, userID string, now time.Time, reason string) error {
	if err := enqueueUserLogouts(tx, tid, userID, now, reason); err != nil {
		return err
	}
	if err := tx.Exec("DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?", tid, userID).Error; err != nil {
		return err
	}
	if err := tx.Table("user_tokens").Where("tenant_id = ? AND user_id = ? AND purpose IN ? AND used_at IS NULL", tid, userID, linksSpentOnAccessChange).
		Update("used_at", now).Error; err != nil {
		return err
	}
	if err := tx.Table("grants").Where("tenant_id = ? AND user_id = ? AND revoked_at IS NULL", tid, userID).
		Updates(map[string]any{"revoked_at": now, "revoked_reason": reason}).Error; err != nil {
		return err
	}
	return tx.Table("refresh_tokens").Where("tenant_id = ? AND user_id = ? AND revoked_at IS NULL", tid, userID).
		Update("revoked_at", now).Error
}

// DeleteUser deletes a user of the tenant in ctx and everything of theirs:
// sessions, consents, token families (and so their tokens), roles and
// group memberships.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error { return deleteUserRows(tx, tid, userID, s.now()) }))
}

// deleteUserRows deletes, in tx, the user of tenant tid with userID and
// everything of theirs; ErrNotFound if there is no such user.
func deleteUserRows(tx *gorm.DB, tid, userID string, now time.Time) error {
	if err := enqueueUserLogouts(tx, tid, userID, now, "user deleted"); err != nil {
		return err
	}
	for _, stmt := range []string{
		"DELETE FROM refresh_tokens WHERE tenant_id = ? AND grant_id IN (SELECT id FROM grants WHERE tenant_id = ? AND user_id = ?)",
	} {
		if err := tx.Exec(stmt, tid, tid, userID).Error; err != nil {
			return err
		}
	}
	for _, table := range []string{"grants", "sessions", "consents", "user_roles", "group_members"} {
		if err := tx.Exec("DELETE FROM "+table+" WHERE tenant_id = ? AND user_id = ?", tid, userID).Error; err != nil {
			return err
		}
	}
	if err := tx.Exec("UPDATE auth_requests SET user_id = '' WHERE tenant_id = ? AND user_id = ? AND code_hash IS NULL", tid, userID).Error; err != nil {
		return err
	}
	res := tx.Exec("DELETE FROM users WHERE tenant_id = ? AND id = ?", tid, userID)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// DeleteUserSession ends one session of a user of the tenant in ctx.
func (s *Store) DeleteUserSession(ctx context.Context, userID, sessionID string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var sess Session
		err := tx.Table("sessions").Where("tenant_id = ? AND user_id = ? AND id = ?", tid, userID, sessionID).Take(&sess).Error
		if err != nil {
			return err
		}
		if err := enqueueSessionLogouts(tx, &sess, s.now(), "session revoked"); err != nil {
			return err
		}
		return tx.Exec("DELETE FROM sessions WHERE tenant_id = ? AND user_id = ? AND id = ?", tid, userID, sessionID).Error
	}))
}
