package tenants

import (
	"context"

	"gorm.io/gorm"
)

// CreateSAMLApp adds a SAML application to the tenant in ctx. Another
// application of the tenant with the same entity ID is ErrAlreadyExists.
func (s *Store) CreateSAMLApp(ctx context.Context, a *SAMLApp) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if a.ID == "" {
		a.ID = NewRandomID()
	}
	now := s.now()
	a.TenantID, a.CreatedAt, a.UpdatedAt = tid, now, now
	nonNilSAML(a)
	return mapErr(s.conn(ctx).Create(a).Error)
}

func nonNilSAML(a *SAMLApp) {
	if a.ACS == nil {
		a.ACS = SAMLEndpoints{}
	}
	if a.Attributes == nil {
		a.Attributes = SAMLAttributes{}
	}
	for _, p := range []*Strings{&a.SigningCerts, &a.AccessRoles, &a.AccessGroups} {
		if *p == nil {
			*p = Strings{}
		}
	}
}

// SAMLAppByID returns the SAML application id of the tenant in ctx.
func (s *Store) SAMLAppByID(ctx context.Context, id string) (*SAMLApp, error) {
	q, _, err := s.scoped(ctx, "saml_apps")
	if err != nil {
		return nil, err
	}
	var a SAMLApp
	return &a, first(q.Where("id = ?", id), &a)
}

// SAMLAppByEntityID returns the SAML application of the tenant in ctx whose
// SP has entityID.
func (s *Store) SAMLAppByEntityID(ctx context.Context, entityID string) (*SAMLApp, error) {
	q, _, err := s.scoped(ctx, "saml_apps")
	if err != nil {
		return nil, err
	}
	var a SAMLApp
	return &a, first(q.Where("entity_id = ?", entityID), &a)
}

// ListSAMLApps returns the SAML applications of the tenant in ctx, by name.
func (s *Store) ListSAMLApps(ctx context.Context) ([]SAMLApp, error) {
	q, _, err := s.scoped(ctx, "saml_apps")
	if err != nil {
		return nil, err
	}
	var as []SAMLApp
	return as, mapErr(q.Order("name, id").Find(&as).Error)
}

// UpdateSAMLApp saves every setting of a SAML application of the tenant in
// ctx (not its id, salt or creation time).
func (s *Store) UpdateSAMLApp(ctx context.Context, a *SAMLApp) error {
	q, _, err := s.scoped(ctx, "saml_apps")
	if err != nil {
		return err
	}
	nonNilSAML(a)
	a.UpdatedAt = s.now()
	res := q.Where("id = ?", a.ID).Updates(map[string]any{
		"name": a.Name, "entity_id": a.EntityID, "acs": a.ACS, "slo_url": a.SLOURL, "slo_binding": a.SLOBinding, "name_id_format": a.NameIDFormat,
		"name_id_source": a.NameIDSource, "attributes": a.Attributes, "sign_response": a.SignResponse, "sign_assertion": a.SignAssertion,
		"require_signed_requests": a.RequireSignedRequests, "signing_certs": a.SigningCerts, "encryption_cert": a.EncryptionCert,
		"encrypt_assertions": a.EncryptAssertions, "access": a.Access, "access_roles": a.AccessRoles, "access_groups": a.AccessGroups,
		"enabled": a.Enabled, "updated_at": a.UpdatedAt,
	})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteSAMLApp deletes a SAML application of the tenant in ctx and the
// requests waiting for it.
func (s *Store) DeleteSAMLApp(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		for _, table := range []string{"saml_requests", "saml_participants", "saml_messages"} {
			if err := tx.Exec("DELETE FROM "+table+" WHERE tenant_id = ? AND app_id = ?", tid, id).Error; err != nil {
				return err
			}
		}
		res := tx.Exec("DELETE FROM saml_apps WHERE tenant_id = ? AND id = ?", tid, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	}))
}

// CreateSAMLRequest stores a request waiting for sign-in in the tenant in
// ctx, for an application of that tenant.
func (s *Store) CreateSAMLRequest(ctx context.Context, r *SAMLRequest) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if _, err := s.SAMLAppByID(ctx, r.AppID); err != nil {
		return err
	}
	if r.ID == "" {
		r.ID = NewRandomID()
	}
	r.TenantID, r.CreatedAt = tid, s.now()
	if r.AuthnClasses == nil {
		r.AuthnClasses = Strings{}
	}
	return mapErr(s.conn(ctx).Create(r).Error)
}

// SAMLRequestByID returns the unexpired request id of the tenant in ctx,
// without spending it.
func (s *Store) SAMLRequestByID(ctx context.Context, id string) (*SAMLRequest, error) {
	q, _, err := s.scoped(ctx, "saml_requests")
	if err != nil {
		return nil, err
	}
	var r SAMLRequest
	return &r, first(q.Where("id = ? AND expires_at > ?", id, s.now()), &r)
}

// SpendSAMLRequest deletes the request id of the tenant in ctx, once: a
// second spend (or an unknown id) is ErrConflict, so that one request is
// answered with one assertion.
func (s *Store) SpendSAMLRequest(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Exec("DELETE FROM saml_requests WHERE tenant_id = ? AND id = ?", tid, id)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}

// ClaimSAMLRequest binds an unbound request of the tenant in ctx (one an
// SP POSTed cross-site, where the browser's cookies were not sent) to the
// browser whose cookie hashes to browserHash, once: a request bound
// already, to this browser or another, is ErrConflict.
func (s *Store) ClaimSAMLRequest(ctx context.Context, id, browserHash string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Exec("UPDATE saml_requests SET browser_hash = ? WHERE tenant_id = ? AND id = ? AND browser_hash = ''", browserHash, tid, id)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}
