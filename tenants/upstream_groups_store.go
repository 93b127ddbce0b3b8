package tenants

import (
	"context"
	"errors"
	"slices"

	"gorm.io/gorm"
)

// Upstream groups (issue 10): a SAML or OIDC connection asserts the
// groups a user is in upstream. The identity keeps the last ones asserted;
// an explicit mapping per connection (upstream group name → tenant group)
// makes group memberships that each sign-in through the connection keeps in
// step: added when the upstream asserts the group, removed when it no
// longer does. A sync touches only the memberships its connection made,
// never an admin's.

// ConnectionGroupMaps returns the group mappings of a connection of the
// tenant of ctx, ordered by upstream group and group name.
func (s *Store) ConnectionGroupMaps(ctx context.Context, connectionID string) ([]GroupMap, error) {
	q, _, err := s.scoped(ctx, "connection_group_maps")
	if err != nil {
		return nil, err
	}
	var ms []GroupMap
	err = q.Joins("JOIN user_groups ON user_groups.tenant_id = connection_group_maps.tenant_id AND user_groups.id = connection_group_maps.group_id").
		Where("connection_group_maps.connection_id = ?", connectionID).
		Order("connection_group_maps.upstream_group, user_groups.name").Find(&ms).Error
	return ms, mapErr(err)
}

// SetConnectionGroupMaps replaces the group mappings of a connection of
// the tenant of ctx. The connection and every group must be of that tenant
// (ErrNotFound otherwise: their foreign keys name rows by tenant and id).
// Memberships the connection made through a mapping that is gone stay
// until the user's next sign-in through it.
func (s *Store) SetConnectionGroupMaps(ctx context.Context, connectionID string, maps []GroupMap) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("connections").Where("tenant_id = ? AND id = ?", tid, connectionID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := tx.Exec("DELETE FROM connection_group_maps WHERE tenant_id = ? AND connection_id = ?", tid, connectionID).Error; err != nil {
			return err
		}
		for _, m := range maps {
			var g int64
			if err := tx.Table("user_groups").Where("tenant_id = ? AND id = ?", tid, m.GroupID).Count(&g).Error; err != nil {
				return err
			}
			if g == 0 {
				return ErrNotFound
			}
			row := GroupMap{TenantID: tid, ConnectionID: connectionID, UpstreamGroup: m.UpstreamGroup, GroupID: m.GroupID, CreatedAt: now}
			if err := tx.Create(&row).Error; err != nil {
				if errors.Is(mapErr(err), ErrAlreadyExists) {
					continue
				}
				return err
			}
		}
		return nil
	}))
}

// GroupSync is what a sign-in through a connection changed in its user's
// group memberships (group ids).
type GroupSync struct {
	Added, Removed []string
}

// SyncUpstreamGroups records on identity x (of the tenant of ctx) the
// groups its upstream asserted at this sign-in, and brings the user's
// memberships made by x's connection into step with the connection's
// mapping: a mapped group asserted makes the user a member (unless an
// admin made them one already: that membership stays the admin's), a
// membership the connection made whose group is no longer asserted (or no
// longer mapped) ends. Memberships an admin made are never touched.
func (s *Store) SyncUpstreamGroups(ctx context.Context, x *ExternalIdentity, groups []string) (*GroupSync, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := &GroupSync{}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("external_identities").Where("tenant_id = ? AND id = ?", tid, x.ID).Update("upstream_groups", Strings(groups))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		var maps []GroupMap
		if err := tx.Where("tenant_id = ? AND connection_id = ?", tid, x.ConnectionID).Find(&maps).Error; err != nil {
			return err
		}
		want := map[string]bool{}
		for _, m := range maps {
			if slices.Contains(groups, m.UpstreamGroup) {
				want[m.GroupID] = true
			}
		}
		var have []GroupMember
		if err := tx.Where("tenant_id = ? AND user_id = ?", tid, x.UserID).Find(&have).Error; err != nil {
			return err
		}
		member := map[string]bool{}
		for _, m := range have {
			member[m.GroupID] = true
			if m.ConnectionID == x.ConnectionID && !want[m.GroupID] {
				if err := tx.Exec("DELETE FROM group_members WHERE tenant_id = ? AND group_id = ? AND user_id = ? AND connection_id = ?",
					tid, m.GroupID, x.UserID, x.ConnectionID).Error; err != nil {
					return err
				}
				out.Removed = append(out.Removed, m.GroupID)
			}
		}
		for id := range want {
			if member[id] {
				continue
			}
			if err := tx.Create(&GroupMember{TenantID: tid, GroupID: id, UserID: x.UserID, ConnectionID: x.ConnectionID, CreatedAt: now}).Error; err != nil {
				return err
			}
			out.Added = append(out.Added, id)
		}
		slices.Sort(out.Added)
		slices.Sort(out.Removed)
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	x.UpstreamGroups = groups
	return out, nil
}

// PassedGroups returns the upstream groups of a user of the tenant of ctx
// that are passed through in the groups claim: those asserted at the last
// sign-in through each of the user's identities whose connection passes
// groups through (PassGroups) and that the connection maps to no tenant
// group; sorted, at most MaxClaimNames.
func (s *Store) PassedGroups(ctx context.Context, userID string) ([]string, error) {
	a, err := s.UserAccess(ctx, userID, AccessQuery{Passed: true})
	if err != nil {
		return nil, err
	}
	return ClaimNames(a.Passed), nil
}

// PassesGroups reports whether a connection of the tenant of ctx passes its
// unmapped upstream groups through (Connection.PassGroups): only then
// can a user's groups claim hold any.
func (s *Store) PassesGroups(ctx context.Context) (bool, error) {
	q, _, err := s.scoped(ctx, "connections")
	if err != nil {
		return false, err
	}
	var ids []string
	err = q.Where("pass_groups = ?", true).Limit(1).Pluck("id", &ids).Error
	return len(ids) > 0, mapErr(err)
}
