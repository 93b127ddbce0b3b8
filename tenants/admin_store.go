package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The methods of this file act on Gatehouse's administration, not on one
// tenant's data: they are not tenant-scoped, except the changes of an
// administrator's access at the end, which act on the system tenant's
// users and clients.

// SystemTenant returns the built-in tenant whose users and clients are
// administrators.
func (s *Store) SystemTenant(ctx context.Context) (*Tenant, error) {
	var t Tenant
	return &t, first(s.conn(ctx).Where("system = ?", true), &t)
}

// CreateAdminRole gives a principal of the system tenant a role.
func (s *Store) CreateAdminRole(ctx context.Context, r *AdminRole) error {
	if r.ID == "" {
		r.ID = newID()
	}
	r.CreatedAt = s.now()
	return mapErr(s.conn(ctx).Create(r).Error)
}

// AdminRoles returns the roles of a principal (kind and id).
func (s *Store) AdminRoles(ctx context.Context, kind, id string) ([]AdminRole, error) {
	var rs []AdminRole
	err := s.conn(ctx).Where("principal_kind = ? AND principal_id = ?", kind, id).Order("created_at").Find(&rs).Error
	return rs, mapErr(err)
}

// CountOperators returns how many operator roles exist.
func (s *Store) CountOperators(ctx context.Context) (int64, error) {
	var n int64
	err := s.conn(ctx).Model(&AdminRole{}).Where("role = ?", RoleOperator).Count(&n).Error
	return n, mapErr(err)
}

// CreateConsoleSession stores a console session.
func (s *Store) CreateConsoleSession(ctx context.Context, cs *ConsoleSession) error {
	now := s.now()
	cs.CreatedAt, cs.LastSeenAt = now, now
	return mapErr(s.conn(ctx).Create(cs).Error)
}

// ConsoleSessionByID returns the unexpired console session with id.
func (s *Store) ConsoleSessionByID(ctx context.Context, id string) (*ConsoleSession, error) {
	var cs ConsoleSession
	if err := first(s.conn(ctx).Where("id = ?", id), &cs); err != nil {
		return nil, err
	}
	if !s.now().Before(cs.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &cs, nil
}

// SetConsoleTryState records the state of a "Try it" login in progress.
func (s *Store) SetConsoleTryState(ctx context.Context, id, state string) error {
	res := s.conn(ctx).Model(&ConsoleSession{}).Where("id = ?", id).Update("try_state", state)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}

// DeleteConsoleSession ends a console session; ending one that does not
// exist is not an error.
func (s *Store) DeleteConsoleSession(ctx context.Context, id string) error {
	return mapErr(s.conn(ctx).Exec("DELETE FROM console_sessions WHERE id = ?", id).Error)
}

// CreateSetupToken stores a one-time setup link's hash.
func (s *Store) CreateSetupToken(ctx context.Context, hash string, ttl time.Duration) error {
	now := s.now()
	return mapErr(s.conn(ctx).Create(&SetupToken{ID: hash, CreatedAt: now, ExpiresAt: now.Add(ttl)}).Error)
}

// SetupTokenValid reports whether hash names an unused, unexpired setup link.
func (s *Store) SetupTokenValid(ctx context.Context, hash string) (bool, error) {
	var t SetupToken
	err := first(s.conn(ctx).Where("id = ? AND used_at IS NULL", hash), &t)
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
	res := s.conn(ctx).Model(&SetupToken{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", hash, now).Update("used_at", now)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}

// ListAdminRoles returns every administrator role, grouped by principal
// (kind, then id), each principal's oldest first.
func (s *Store) ListAdminRoles(ctx context.Context) ([]AdminRole, error) {
	var rs []AdminRole
	err := s.conn(ctx).Order("principal_kind, principal_id, created_at, id").Find(&rs).Error
	return rs, mapErr(err)
}

// AdminUserScopes returns the management scopes of the administrator with
// userID (a user of the system tenant); ErrNotFound if none were given.
func (s *Store) AdminUserScopes(ctx context.Context, userID string) (Strings, error) {
	var row AdminUserScope
	if err := first(s.conn(ctx).Where("user_id = ?", userID), &row); err != nil {
		return nil, err
	}
	return row.Scopes, nil
}

// The methods below change who administers Gatehouse. They act on the
// system tenant, which ctx must carry (any other tenant: ErrNotFound), and
// each runs in one transaction that first locks the system tenant's row, so
// that they take turns: two changes made at once cannot both take away
// what the other counted on (the last operator).

// adminChange runs change in a transaction holding the system tenant's
// lock, and refuses (ErrLastOperator, nothing changed) a change that left
// no operator where there was one. Operators here are people (users): an
// operator client cannot sign in to the console, nor make administrators,
// so it does not count as the one who keeps Gatehouse administrable.
func (s *Store) adminChange(ctx context.Context, change func(tx *gorm.DB, tid string) error) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var sys Tenant
		if err := first(s.forUpdate(tx.Select("id").Where("id = ? AND system = ?", tid, true)), &sys); err != nil {
			return err
		}
		operators := func() (int64, error) {
			var n int64
			return n, tx.Model(&AdminRole{}).Where("role = ? AND principal_kind = ?", RoleOperator, PrincipalUser).Count(&n).Error
		}
		before, err := operators()
		if err != nil {
			return err
		}
		if err := change(tx, tid); err != nil {
			return err
		}
		after, err := operators()
		if err != nil {
			return err
		}
		if before > 0 && after == 0 {
			return ErrLastOperator
		}
		return nil
	}))
}

// replaceRoles gives, in tx, the principal kind/id exactly roles.
func (s *Store) replaceRoles(tx *gorm.DB, kind, id string, roles []AdminRole) error {
	if err := tx.Exec("DELETE FROM admin_roles WHERE principal_kind = ? AND principal_id = ?", kind, id).Error; err != nil {
		return err
	}
	now := s.now()
	for i := range roles {
		r := &roles[i]
		r.ID, r.PrincipalKind, r.PrincipalID, r.CreatedAt = newID(), kind, id, now
		if err := tx.Create(r).Error; err != nil {
			return err
		}
	}
	return nil
}

// ReplaceAdminUser gives the administrator userID, a user of the system
// tenant in ctx, exactly roles (their kind and id are set here) and
// scopes.
func (s *Store) ReplaceAdminUser(ctx context.Context, userID string, roles []AdminRole, scopes Strings) error {
	return s.adminChange(ctx, func(tx *gorm.DB, tid string) error {
		var n int64
		if err := tx.Table("users").Where("tenant_id = ? AND id = ?", tid, userID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := s.replaceRoles(tx, PrincipalUser, userID, roles); err != nil {
			return err
		}
		row := AdminUserScope{UserID: userID, Scopes: scopes, UpdatedAt: s.now()}
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "user_id"}}, DoUpdates: clause.AssignmentColumns([]string{"scopes", "updated_at"})}).
			Create(&row).Error
	})
}

// ReplaceAdminClient gives the management client clientID, a client of the
// system tenant in ctx, exactly roles (their kind and id are set here) and
// API grants (its scopes are its grant of the management API).
func (s *Store) ReplaceAdminClient(ctx context.Context, clientID string, roles []AdminRole, grants []ClientGrant) error {
	return s.adminChange(ctx, func(tx *gorm.DB, tid string) error {
		if err := s.setClientGrantRows(tx, tid, clientID, grants); err != nil {
			return err
		}
		return s.replaceRoles(tx, PrincipalClient, clientID, roles)
	})
}

// DeleteAdminUser deletes the administrator userID, a user of the system
// tenant in ctx: their roles, scopes and console sessions, and the user
// with their sessions and tokens at the system tenant.
func (s *Store) DeleteAdminUser(ctx context.Context, userID string) error {
	return s.adminChange(ctx, func(tx *gorm.DB, tid string) error {
		if err := deleteUserRows(tx, tid, userID, s.now()); err != nil {
			return err
		}
		for _, stmt := range []string{
			"DELETE FROM admin_roles WHERE principal_kind = '" + PrincipalUser + "' AND principal_id = ?",
			"DELETE FROM admin_user_scopes WHERE user_id = ?",
			"DELETE FROM console_sessions WHERE user_id = ?",
		} {
			if err := tx.Exec(stmt, userID).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteAdminClient deletes the management client clientID, a client of
// the system tenant in ctx: its roles, and the client with its secret,
// grants and tokens (which at once stop being active on every node, since
// every use of an access token reads its record).
func (s *Store) DeleteAdminClient(ctx context.Context, clientID string) error {
	return s.adminChange(ctx, func(tx *gorm.DB, tid string) error {
		if err := s.deleteClientRows(tx, tid, clientID); err != nil {
			return err
		}
		return tx.Exec("DELETE FROM admin_roles WHERE principal_kind = ? AND principal_id = ?", PrincipalClient, clientID).Error
	})
}
