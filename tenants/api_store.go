package tenants

import (
	"context"
	"slices"

	"gorm.io/gorm"
)

// CreateAPI stores a new API and its scopes in the tenant of ctx.
func (s *Store) CreateAPI(ctx context.Context, a *API) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if a.ID == "" {
		a.ID = newID()
	}
	a.TenantID = tid
	a.CreatedAt, a.UpdatedAt = now, now
	scopes := a.Scopes
	a.Scopes = nil
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(a).Error; err != nil {
			return err
		}
		for i := range scopes {
			sc := &scopes[i]
			sc.ID, sc.TenantID, sc.APIID, sc.CreatedAt = newID(), tid, a.ID, now
			if err := tx.Create(sc).Error; err != nil {
				return err
			}
		}
		return bumpRevision(tx, tid, now)
	})
	a.Scopes = scopes
	return mapErr(err)
}

// APIByAudience returns the API with audience, and its scopes, in the tenant of ctx.
func (s *Store) APIByAudience(ctx context.Context, audience string) (*API, error) {
	q, _, err := s.scoped(ctx, "apis")
	if err != nil {
		return nil, err
	}
	var a API
	if err := first(q.Where("audience = ?", audience), &a); err != nil {
		return nil, err
	}
	return &a, s.loadScopes(ctx, []*API{&a})
}

// APIByID returns the API with id, and its scopes, in the tenant of ctx.
func (s *Store) APIByID(ctx context.Context, id string) (*API, error) {
	q, _, err := s.scoped(ctx, "apis")
	if err != nil {
		return nil, err
	}
	var a API
	if err := first(q.Where("id = ?", id), &a); err != nil {
		return nil, err
	}
	return &a, s.loadScopes(ctx, []*API{&a})
}

// ListAPIs returns the APIs of the tenant of ctx with their scopes, ordered by audience.
func (s *Store) ListAPIs(ctx context.Context) ([]API, error) {
	q, _, err := s.scoped(ctx, "apis")
	if err != nil {
		return nil, err
	}
	var as []API
	if err := q.Order("audience").Find(&as).Error; err != nil {
		return nil, mapErr(err)
	}
	ptrs := make([]*API, len(as))
	for i := range as {
		ptrs[i] = &as[i]
	}
	return as, s.loadScopes(ctx, ptrs)
}

func (s *Store) loadScopes(ctx context.Context, apis []*API) error {
	if len(apis) == 0 {
		return nil
	}
	ids := make([]string, len(apis))
	byID := make(map[string]*API, len(apis))
	for i, a := range apis {
		ids[i] = a.ID
		byID[a.ID] = a
		a.Scopes = nil
	}
	q, _, err := s.scoped(ctx, "api_scopes")
	if err != nil {
		return err
	}
	var scopes []Scope
	if err := q.Where("api_id IN ?", ids).Order("name").Find(&scopes).Error; err != nil {
		return mapErr(err)
	}
	for _, sc := range scopes {
		byID[sc.APIID].Scopes = append(byID[sc.APIID].Scopes, sc)
	}
	return nil
}

// UpdateAPI saves an API's name, algorithm and RBAC settings and replaces
// its scopes. A scope that is removed is also removed from every client's
// grant of the API and from every role.
func (s *Store) UpdateAPI(ctx context.Context, a *API) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("apis").Where("tenant_id = ? AND id = ?", tid, a.ID).Updates(map[string]any{"name": a.Name, "signing_alg": a.SigningAlg, "rbac": a.RBAC, "token_claims": a.TokenClaims,
			"resource_server_client_id": a.ResourceServerClientID, "registration_scopes": a.RegistrationScopes, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := tx.Exec("DELETE FROM api_scopes WHERE tenant_id = ? AND api_id = ?", tid, a.ID).Error; err != nil {
			return err
		}
		names := make([]string, 0, len(a.Scopes))
		for i := range a.Scopes {
			sc := &a.Scopes[i]
			sc.ID, sc.TenantID, sc.APIID, sc.CreatedAt = newID(), tid, a.ID, now
			if err := tx.Create(sc).Error; err != nil {
				return err
			}
			names = append(names, sc.Name)
		}
		if err := prunePermissions(tx, tid, a.ID, names); err != nil {
			return err
		}
		var grants []ClientGrant
		if err := tx.Where("tenant_id = ? AND api_id = ?", tid, a.ID).Find(&grants).Error; err != nil {
			return err
		}
		for _, g := range grants {
			kept := Strings{}
			for _, sc := range g.Scopes {
				if slices.Contains(names, sc) {
					kept = append(kept, sc)
				}
			}
			if len(kept) != len(g.Scopes) {
				if err := tx.Table("client_grants").Where("id = ?", g.ID).Update("scopes", kept).Error; err != nil {
					return err
				}
			}
		}
		return bumpRevision(tx, tid, now)
	}))
}

// DeleteAPI deletes an API, its scopes, every client's grant of it and
// every role's permissions on it.
func (s *Store) DeleteAPI(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		for _, table := range []string{"client_grants", "role_permissions", "api_scopes"} {
			if err := tx.Exec("DELETE FROM "+table+" WHERE tenant_id = ? AND api_id = ?", tid, id).Error; err != nil {
				return err
			}
		}
		res := tx.Exec("DELETE FROM apis WHERE tenant_id = ? AND id = ?", tid, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpRevision(tx, tid, s.now())
	}))
}

// CountAPIs returns how many APIs the tenant in ctx has.
func (s *Store) CountAPIs(ctx context.Context) (int64, error) {
	q, _, err := s.scoped(ctx, "apis")
	if err != nil {
		return 0, err
	}
	var n int64
	return n, mapErr(q.Count(&n).Error)
}
