package admin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/mail"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/webhook"
)

// Service manages tenants and what they own, for a principal carried by the
// context ([WithPrincipal]). Methods on tenant-owned data act on the tenant
// carried by the context, which only [Service.Tenant] puts there after
// checking that the principal administers it.
type Service struct {
	fed      *federation.Service
	store    *tenants.Store
	keys     *keyring.Keyring
	hasher   *password.Hasher
	common   *password.Common
	baseURL  *url.URL
	onChange func(tenantID string)
	// trySecret returns the secret of a tenant's Try it client; nil
	// where there is no console (the CLI).
	trySecret func(tenantID string) string
	// webhookSealer and upstream seal webhook secrets and check webhook
	// URLs; nil where webhooks cannot be managed.
	webhookSealer *webhook.Sealer
	upstream      *upstream.Client
	// secrets seals the secrets of client_secret_jwt applications; nil
	// where none can be made.
	secrets *secret.Box
	// ruleEnv is the CEL environment claim rules are checked in, made once.
	ruleEnv func() (*claimrules.Env, error)
	// mail sends a user the account pages' emails; nil where no email
	// is sent (the CLI).
	// resolver looks up the TXT records that prove custom domains.
	resolver Resolver
	// mail sends administrators their test emails; nil where no email is
	// sent.
	mail mail.Sender
	// userMail sends users the account pages' emails an administrator asks
	// for (reset, verification, invitation); nil where none is sent.
	userMail UserMail
}

// Config configures a Service.
type Config struct {
	// BaseURL is the apex URL; tenant acme is served at acme.<apex host>.
	BaseURL *url.URL
	// OnChange, if set, is called after every change to a tenant's cached
	// configuration (tenant settings, clients, APIs, keys), with its id.
	OnChange func(tenantID string)
	// Federation checks and seals upstream connections; nil means
	// connections cannot be managed.
	Federation *federation.Service
	// Common is the list of common passwords new passwords are checked
	// against; nil checks only their length.
	Common *password.Common
	// TrySecret returns the client secret of the Try it client of the
	// tenant with an id (TrySecret with the master key's box); nil means
	// Try it is not offered (the CLI has no console).
	TrySecret func(tenantID string) string
	// Webhooks seals webhook signing secrets and Upstream (the guarded
	// client that delivers them) checks their URLs; either nil means
	// webhooks cannot be managed.
	Webhooks *webhook.Sealer
	Upstream *upstream.Client
	// Secrets is the master key's box, which seals the secrets of
	// client_secret_jwt applications (tenants.SealClientSecret); nil means
	// such applications cannot be made.
	Secrets *secret.Box
	// Resolver looks up the TXT records that prove custom domains; nil is
	// the system's resolver (NewResolver).
	Resolver Resolver
	// Mail, if set, sends an administrator the test email of a template
	// (to their own address).
	Mail mail.Sender
	// UserMail, if set, sends a user the account pages' emails (a reset
	// link, a verification link, an invitation); without it an
	// administrator cannot send one.
	UserMail UserMail
}

// New returns a Service.
func New(cfg Config, store *tenants.Store, keys *keyring.Keyring, hasher *password.Hasher) *Service {
	on := cfg.OnChange
	if on == nil {
		on = func(string) {}
	}
	svc := &Service{fed: cfg.Federation, store: store, keys: keys, hasher: hasher, common: cfg.Common, baseURL: cfg.BaseURL, onChange: on,
		trySecret: cfg.TrySecret, webhookSealer: cfg.Webhooks, upstream: cfg.Upstream, secrets: cfg.Secrets, ruleEnv: sync.OnceValues(claimrules.NewEnv),
		resolver: cfg.Resolver, mail: cfg.Mail, userMail: cfg.UserMail}
	if svc.resolver == nil {
		svc.resolver = NewResolver("")
	}
	return svc
}

// principal returns the principal in ctx.
func principal(ctx context.Context) (*Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	return p, nil
}

// Tenant is the one place a principal's access to a tenant is decided. It
// returns ctx carrying the tenant with slug, for the tenant-scoped methods.
// A tenant the principal does not administer (or the system tenant) is
// reported exactly like one that does not exist: tenants.ErrNotFound.
func (s *Service) Tenant(ctx context.Context, slug string) (context.Context, *tenants.Tenant, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !p.HasScope(ScopeTenantsRead) && !p.HasScope(ScopeAuditRead) {
		return nil, nil, ErrForbidden
	}
	t, err := s.store.TenantBySlug(ctx, slug)
	if errors.Is(err, tenants.ErrNotFound) || err == nil && t.System {
		return nil, nil, fmt.Errorf("tenant %q: %w", slug, tenants.ErrNotFound)
	}
	if err != nil {
		return nil, nil, err
	}
	if !p.Reaches(t.ID) {
		s.auditDenied(ctx, t, "not an administrator of this tenant")
		return nil, nil, fmt.Errorf("tenant %q: %w", slug, tenants.ErrNotFound)
	}
	return tenants.WithTenant(ctx, t), t, nil
}

// WithTenant is Tenant for the CLI: it acts as the CLI principal.
func (s *Service) WithTenant(ctx context.Context, slug string) (context.Context, *tenants.Tenant, error) {
	if _, ok := PrincipalFrom(ctx); !ok {
		ctx = WithPrincipal(ctx, CLI())
	}
	return s.Tenant(ctx, slug)
}

// require checks that the principal in ctx has scope, and returns the tenant
// in ctx (put there by Tenant).
func (s *Service) require(ctx context.Context, scope string) (*tenants.Tenant, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	t, ok := tenants.FromContext(ctx)
	if !ok || !p.Reaches(t.ID) {
		return nil, tenants.ErrNotFound
	}
	if !p.HasScope(scope) {
		return nil, ErrForbidden
	}
	return t, nil
}

// changed tells the caches of this node that t's configuration changed.
func (s *Service) changed(t *tenants.Tenant) { s.onChange(t.ID) }
