package tenants

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// ConsentFor returns what user granted client in the tenant of ctx, or
// ErrNotFound.
func (s *Store) ConsentFor(ctx context.Context, userID, clientID string) (*Consent, error) {
	q, _, err := s.scoped(ctx, "consents")
	if err != nil {
		return nil, err
	}
	var c Consent
	return &c, first(q.Where("user_id = ? AND client_id = ?", userID, clientID), &c)
}

// GrantConsent adds scopes (per audience) to what user granted client, on
// the consent page: the consent is explicit from then on.
func (s *Store) GrantConsent(ctx context.Context, userID, clientID string, add ScopeSet) (*Consent, error) {
	return s.grantConsent(ctx, userID, clientID, add, false)
}

// GrantImplicitConsent adds scopes to what user granted client without
// being asked (a client whose consent is ConsentSkip): a new consent is
// implicit, an explicit one stays explicit.
func (s *Store) GrantImplicitConsent(ctx context.Context, userID, clientID string, add ScopeSet) (*Consent, error) {
	return s.grantConsent(ctx, userID, clientID, add, true)
}

func (s *Store) grantConsent(ctx context.Context, userID, clientID string, add ScopeSet, implicit bool) (*Consent, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out Consent
	grant := func(tx *gorm.DB) error {
		out = Consent{}
		err := first(s.forUpdate(tx.Where("tenant_id = ? AND user_id = ? AND client_id = ?", tid, userID, clientID)), &out)
		switch {
		case errors.Is(err, ErrNotFound):
			out = Consent{ID: newID(), TenantID: tid, UserID: userID, ClientID: clientID, Scopes: ScopeSet{}, Implicit: implicit, CreatedAt: now, UpdatedAt: now}
			for aud, scopes := range add {
				out.Scopes.Add(aud, scopes)
			}
			return tx.Create(&out).Error
		case err != nil:
			return err
		}
		if out.Scopes == nil {
			out.Scopes = ScopeSet{}
		}
		for aud, scopes := range add {
			out.Scopes.Add(aud, scopes)
		}
		out.UpdatedAt = now
		out.Implicit = out.Implicit && implicit
		return tx.Table("consents").Where("id = ?", out.ID).
			Updates(map[string]any{"scopes": out.Scopes, "implicit": out.Implicit, "updated_at": now}).Error
	}
	err = s.tx(ctx, grant)
	if errors.Is(mapErr(err), ErrAlreadyExists) {
		// A concurrent first grant (a consent form submitted twice)
		// created the row after this one looked: add to that row.
		err = s.tx(ctx, grant)
	}
	return &out, mapErr(err)
}

// ListConsents returns the consents a user gave in the tenant of ctx.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]Consent, error) {
	q, _, err := s.scoped(ctx, "consents")
	if err != nil {
		return nil, err
	}
	var cs []Consent
	return cs, mapErr(q.Where("user_id = ?", userID).Order("created_at").Find(&cs).Error)
}

// RevokeConsent deletes what user granted client, and revokes every token
// family of that user and client.
func (s *Store) RevokeConsent(ctx context.Context, userID, clientID string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM consents WHERE tenant_id = ? AND user_id = ? AND client_id = ?", tid, userID, clientID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		err := tx.Table("grants").
			Where("tenant_id = ? AND user_id = ? AND client_id = ? AND revoked_at IS NULL", tid, userID, clientID).
			Updates(map[string]any{"revoked_at": now, "revoked_reason": "consent revoked"}).Error
		if err != nil {
			return err
		}
		// As RevokeGrant does: a revoked family's refresh tokens are revoked
		// too, so that a rotation racing with this revocation loses.
		return tx.Table("refresh_tokens").
			Where("tenant_id = ? AND revoked_at IS NULL AND grant_id IN (?)", tid,
				tx.Table("grants").Select("id").Where("tenant_id = ? AND user_id = ? AND client_id = ?", tid, userID, clientID)).
			Update("revoked_at", now).Error
	}))
}
