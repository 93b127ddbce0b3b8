package tenants

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

// CreateTenant stores a new tenant together with its first signing key, in
// one transaction: a tenant never exists without a key.
func (s *Store) CreateTenant(ctx context.Context, t *Tenant, key *SigningKey) error {
	now := s.now()
	if t.ID == "" {
		t.ID = newID()
	}
	t.Host = strings.ToLower(t.Host)
	t.CreatedAt, t.UpdatedAt, t.Revision = now, now, 1
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		key.TenantID = t.ID
		if key.ID == "" {
			key.ID = newID()
		}
		key.CreatedAt = now
		if err := tx.Create(key).Error; err != nil {
			return err
		}
		// Other nodes may remember the host as unknown.
		return recordChange(tx, t.ID, now)
	}))
}

// TenantBySlug returns the tenant with slug.
func (s *Store) TenantBySlug(ctx context.Context, slug string) (*Tenant, error) {
	var t Tenant
	return &t, first(s.conn(ctx).Where("slug = ?", strings.ToLower(slug)), &t)
}

// TenantByHost returns the tenant served at host (lower-case, no port).
func (s *Store) TenantByHost(ctx context.Context, host string) (*Tenant, error) {
	var t Tenant
	return &t, first(s.conn(ctx).Where("host = ?", strings.ToLower(host)), &t)
}

// TenantByID returns the tenant with id.
func (s *Store) TenantByID(ctx context.Context, id string) (*Tenant, error) {
	var t Tenant
	return &t, first(s.conn(ctx).Where("id = ?", id), &t)
}

// ListTenants returns every tenant but the system tenant, ordered by slug.
func (s *Store) ListTenants(ctx context.Context) ([]Tenant, error) {
	var ts []Tenant
	return ts, mapErr(s.conn(ctx).Where("system = ?", false).Order("slug").Find(&ts).Error)
}

// UpdateTenantSettings saves the display name, branding, allowed grant types
// and lifetimes of the tenant in ctx and bumps its revision.
func (s *Store) UpdateTenantSettings(ctx context.Context, t *Tenant) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		ok, err := updateTenant(tx, tid, now, map[string]any{
			"display_name":                          t.DisplayName,
			"logo_url":                              t.LogoURL,
			"accent_color":                          t.AccentColor,
			"grant_types":                           t.GrantTypes,
			"signup_mode":                           t.SignupMode,
			"signup_domains":                        t.SignupDomains,
			"password_min_length":                   t.PasswordMinLength,
			"mfa_policy":                            t.MFAPolicy,
			"email_from_name":                       t.EmailFromName,
			"default_locale":                        t.DefaultLocale,
			"email_reply_to":                        t.EmailReplyTo,
			"access_token_ttl":                      t.AccessTokenTTLSeconds,
			"id_token_ttl":                          t.IDTokenTTLSeconds,
			"refresh_token_ttl":                     t.RefreshTokenTTLSeconds,
			"session_ttl":                           t.SessionTTLSeconds,
			"require_pushed_authorization_requests": t.RequirePushedAuthorizationRequests,
			"token_exchange_impersonation":          t.TokenExchangeImpersonation,
			"client_registration":                   t.Registration(),
			"user_metadata_fields":                  t.UserMetadataFields,
		})
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		return nil
	}))
}

// DeleteTenant deletes the tenant in ctx and everything it owns, except its
// audit log, which outlives it.
func (s *Store) DeleteTenant(ctx context.Context) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		// Children first, so that the delete works with or without
		// ON DELETE CASCADE being honoured by the connection.
		for _, table := range tenantTables {
			if err := tx.Exec("DELETE FROM "+table+" WHERE tenant_id = ?", tid).Error; err != nil {
				return err
			}
		}
		res := tx.Exec("DELETE FROM tenants WHERE id = ?", tid)
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		if res.Error != nil {
			return res.Error
		}
		return recordChange(tx, tid, s.now())
	}))
}

// tenantTables lists tenant-owned tables, children before parents.
var tenantTables = []string{
	"webhook_attempts", "webhook_deliveries", "webhook_endpoints", "logout_deliveries", "initial_access_tokens", "claim_rules",
	"saml_messages", "saml_participants", "saml_requests", "saml_apps",
	"saml_assertions", "federation_states", "external_identities",
	"user_tokens", "mfa_factors", "recovery_codes", "login_steps",
	"refresh_tokens", "revoked_tokens", "client_assertions", "dpop_proofs", "pushed_requests", "grants", "auth_requests", "device_authorizations", "sessions",
	"role_permissions", "group_roles", "group_members", "user_roles", "roles", "user_groups",
	"consents", "client_grants", "api_scopes", "apis", "clients", "users", "connections", "signing_keys",
	"tenant_strings", "email_templates", "tenant_domains",
}
