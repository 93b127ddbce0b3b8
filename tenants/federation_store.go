package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CreateConnection stores a new connection in the tenant of ctx.
func (s *Store) CreateConnection(ctx context.Context, c *Connection) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if c.ID == "" {
		c.ID = newID()
	}
	c.TenantID, c.CreatedAt, c.UpdatedAt = tid, now, now
	c.ClientSecretSealed, c.SPKeySealed = nonNilBytes(c.ClientSecretSealed), nonNilBytes(c.SPKeySealed)
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		return bumpRevision(tx, tid, now)
	}))
}

// ConnectionByID returns the connection with id in the tenant of ctx.
func (s *Store) ConnectionByID(ctx context.Context, id string) (*Connection, error) {
	q, _, err := s.scoped(ctx, "connections")
	if err != nil {
		return nil, err
	}
	var c Connection
	return &c, first(q.Where("id = ?", id), &c)
}

// ListConnections returns the connections of the tenant in ctx, by name.
func (s *Store) ListConnections(ctx context.Context) ([]Connection, error) {
	q, _, err := s.scoped(ctx, "connections")
	if err != nil {
		return nil, err
	}
	var cs []Connection
	return cs, mapErr(q.Order("name").Find(&cs).Error)
}

// UpdateConnection saves a connection's settings (everything but its id,
// tenant and type).
func (s *Store) UpdateConnection(ctx context.Context, c *Connection) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("connections").Where("tenant_id = ? AND id = ?", tid, c.ID).Updates(map[string]any{
			"name": c.Name, "enabled": c.Enabled, "domains": c.Domains, "client_id": c.ClientID,
			"client_secret_sealed": nonNilBytes(c.ClientSecretSealed), "issuer": c.Issuer, "trust_email": c.TrustEmail, "provisioning": c.Provisioning,
			"config": c.Config, "sp_key_sealed": nonNilBytes(c.SPKeySealed), "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpRevision(tx, tid, now)
	}))
}

// DeleteConnection deletes a connection and the identities it brought.
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		for _, table := range []string{"external_identities", "federation_states", "saml_assertions"} {
			if err := tx.Exec("DELETE FROM "+table+" WHERE tenant_id = ? AND connection_id = ?", tid, id).Error; err != nil {
				return err
			}
		}
		res := tx.Exec("DELETE FROM connections WHERE tenant_id = ? AND id = ?", tid, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpRevision(tx, tid, s.now())
	}))
}

// CreateExternalIdentity links an upstream identity to a user.
func (s *Store) CreateExternalIdentity(ctx context.Context, x *ExternalIdentity) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if x.ID == "" {
		x.ID = newID()
	}
	x.TenantID, x.CreatedAt = tid, s.now()
	return mapErr(s.conn(ctx).Create(x).Error)
}

// ExternalIdentity returns the identity with (connection, issuer, subject)
// in the tenant of ctx.
func (s *Store) ExternalIdentity(ctx context.Context, connectionID, issuer, subject string) (*ExternalIdentity, error) {
	q, _, err := s.scoped(ctx, "external_identities")
	if err != nil {
		return nil, err
	}
	var x ExternalIdentity
	return &x, first(q.Where("connection_id = ? AND issuer = ? AND subject = ?", connectionID, issuer, subject), &x)
}

// ListExternalIdentities returns the identities linked to a user.
func (s *Store) ListExternalIdentities(ctx context.Context, userID string) ([]ExternalIdentity, error) {
	q, _, err := s.scoped(ctx, "external_identities")
	if err != nil {
		return nil, err
	}
	var xs []ExternalIdentity
	return xs, mapErr(q.Where("user_id = ?", userID).Order("created_at").Find(&xs).Error)
}

// TouchExternalIdentity records a login through an identity.
func (s *Store) TouchExternalIdentity(ctx context.Context, id string, at time.Time) error {
	q, _, err := s.scoped(ctx, "external_identities")
	if err != nil {
		return err
	}
	return mapErr(q.Where("id = ?", id).Update("last_login_at", at).Error)
}

// DeleteExternalIdentity unlinks an identity from a user.
func (s *Store) DeleteExternalIdentity(ctx context.Context, userID, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Exec("DELETE FROM external_identities WHERE tenant_id = ? AND user_id = ? AND id = ?", tid, userID, id)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}

// DeleteUnprovenIdentities unlinks, and returns, the identities of a user
// that were linked while the user's address was unproven.
func (s *Store) DeleteUnprovenIdentities(ctx context.Context, userID string) ([]ExternalIdentity, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var xs []ExternalIdentity
	err = s.conn(ctx).Clauses(clause.Returning{}).
		Where("tenant_id = ? AND user_id = ? AND linked_unproven", tid, userID).Delete(&xs).Error
	return xs, mapErr(err)
}

// CreateFederationState stores an upstream login in progress.
func (s *Store) CreateFederationState(ctx context.Context, st *FederationState) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	st.TenantID, st.CreatedAt = tid, s.now()
	return mapErr(s.conn(ctx).Create(st).Error)
}

// UseFederationState spends the unexpired, unused state with id (the hash of
// the state upstream sent back) and returns it; a second use, an expired
// state or another tenant's is ErrNotFound.
func (s *Store) UseFederationState(ctx context.Context, id string) (*FederationState, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var st FederationState
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("federation_states").Where("tenant_id = ? AND id = ? AND used_at IS NULL AND expires_at > ?", tid, id, now).
			Update("used_at", now)
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

// RecordSAMLAssertion remembers an assertion id until expiresAt; a second
// time is ErrAlreadyExists (a replay).
func (s *Store) RecordSAMLAssertion(ctx context.Context, connectionID, assertionID string, expiresAt time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.conn(ctx).Create(&SAMLAssertion{TenantID: tid, ConnectionID: connectionID, AssertionID: assertionID, ExpiresAt: expiresAt}).Error)
}

// nonNilBytes stores an absent secret as empty bytes (the columns are NOT
// NULL: absent and empty mean the same).
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateFederatedUser provisions a user and links the upstream identity that
// brought them, in one transaction.
func (s *Store) CreateFederatedUser(ctx context.Context, u *User, x *ExternalIdentity) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if u.ID == "" {
		u.ID = newID()
	}
	if x.ID == "" {
		x.ID = newID()
	}
	u.TenantID, u.EmailNormalized, u.CreatedAt, u.UpdatedAt = tid, NormalizeEmail(u.Email), now, now
	x.TenantID, x.UserID, x.CreatedAt = tid, u.ID, now
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		return tx.Create(x).Error
	}))
}
