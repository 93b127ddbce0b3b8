package admin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// CreateTenantInput is what a new tenant needs.
type CreateTenantInput struct {
	Slug string
	Name string
}

// CreateTenant creates a tenant, its issuer and its first signing key. Only
// operators create tenants.
func (s *Service) CreateTenant(ctx context.Context, in CreateTenantInput) (*Tenant, error) {
	if _, ok := PrincipalFrom(ctx); !ok {
		ctx = WithPrincipal(ctx, CLI())
	}
	p, _ := PrincipalFrom(ctx)
	if !p.Operator || !p.HasScope(ScopeTenantsWrite) {
		return nil, ErrForbidden
	}
	t, err := s.createTenant(ctx, in, false)
	if err != nil {
		return nil, err
	}
	v := tenantView(t)
	if err := s.audit(ctx, t, ActionTenantCreated, "tenant", t.ID, nil, v); err != nil {
		return nil, err
	}
	return v, nil
}

func (s *Service) createTenant(ctx context.Context, in CreateTenantInput, system bool) (*tenants.Tenant, error) {
	in.Slug = strings.TrimSpace(in.Slug)
	if !system {
		if err := ValidateSlug(in.Slug); err != nil {
			return nil, err
		}
	}
	if in.Name == "" {
		in.Name = in.Slug
	}
	if err := validateName("name", in.Name, 100); err != nil {
		return nil, err
	}
	t := &tenants.Tenant{
		ID:                     tenants.NewID(),
		Slug:                   in.Slug,
		DisplayName:            strings.TrimSpace(in.Name),
		Host:                   in.Slug + "." + s.baseURL.Hostname(),
		Issuer:                 s.baseURL.Scheme + "://" + in.Slug + "." + s.baseURL.Host,
		GrantTypes:             tenants.DefaultGrantTypes(),
		System:                 system,
		SignupMode:             tenants.SignupOff,
		PasswordMinLength:      12,
		MFAPolicy:              tenants.MFAOptional,
		AccessTokenTTLSeconds:  int64(tenants.DefaultAccessTokenTTL.Seconds()),
		IDTokenTTLSeconds:      int64(tenants.DefaultIDTokenTTL.Seconds()),
		RefreshTokenTTLSeconds: int64(tenants.DefaultRefreshTokenTTL.Seconds()),
		SessionTTLSeconds:      int64(tenants.DefaultSessionTTL.Seconds()),
	}
	key, err := s.keys.Generate(t.ID, jose.RS256)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateTenant(ctx, t, key); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("tenant %q: %w", in.Slug, err)
		}
		return nil, err
	}
	s.changed(t)
	return t, nil
}

// ListTenants returns the tenants the principal administers.
func (s *Service) ListTenants(ctx context.Context) ([]*Tenant, error) {
	if _, ok := PrincipalFrom(ctx); !ok {
		ctx = WithPrincipal(ctx, CLI())
	}
	p, _ := PrincipalFrom(ctx)
	if !p.HasScope(ScopeTenantsRead) {
		return nil, ErrForbidden
	}
	ts, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Tenant{}
	for i := range ts {
		if p.Reaches(ts[i].ID) {
			out = append(out, tenantView(&ts[i]))
		}
	}
	return out, nil
}

// GetTenant returns the tenant in ctx.
func (s *Service) GetTenant(ctx context.Context) (*Tenant, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	return tenantView(t), nil
}

// TenantSettings are the settings of a tenant an admin can change. A nil
// field is left as it is.
type TenantSettings struct {
	Name                 *string
	LogoURL              *string
	AccentColor          *string
	GrantTypes           []string
	AccessTokenLifetime  *time.Duration
	IDTokenLifetime      *time.Duration
	RefreshTokenLifetime *time.Duration
	SessionLifetime      *time.Duration
	// SignupMode is off, open or domains (SignupDomains only).
	SignupMode    *string
	SignupDomains []string
	// PasswordMinLength is the shortest password accepted (8 to 64).
	PasswordMinLength *int
	// MFAPolicy is off, optional or required.
	MFAPolicy *string
	// EmailFromName is the sender name of the tenant's email.
	EmailFromName *string
	// DefaultLocale is the language of the tenant's pages and email when a
	// request names none Gatehouse speaks ("" for English).
	DefaultLocale *string
	// EmailReplyTo is where answers to the tenant's email go ("": none).
	EmailReplyTo *string
	// RequirePushedAuthorizationRequests makes every client push its
	// authorization requests (RFC 9126) before /authorize.
	RequirePushedAuthorizationRequests *bool
	// TokenExchangeImpersonation lets token exchanges without an actor
	// token impersonate the subject (no act claim, RFC 8693 §1.1).
	TokenExchangeImpersonation *bool
	// ClientRegistration is who may register clients (RFC 7591): off,
	// token (with an initial access token) or open.
	ClientRegistration *string
	// UserMetadataFields, when set, replaces the user_metadata fields the
	// tenant's users may edit on the account page
	// (tenants.CheckMetadataFields).
	UserMetadataFields []tenants.MetadataField
}

var accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// UpdateTenant changes the settings of the tenant in ctx.
func (s *Service) UpdateTenant(ctx context.Context, in TenantSettings) (*Tenant, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	before := tenantView(t)
	next := *t
	if err := applySettings(&next, in); err != nil {
		return nil, err
	}
	if err := s.store.UpdateTenantSettings(ctx, &next); err != nil {
		return nil, err
	}
	s.changed(t)
	after := tenantView(&next)
	if err := s.audit(ctx, t, ActionTenantUpdated, "tenant", t.ID, before, after); err != nil {
		return nil, err
	}
	return after, nil
}

// applySettings validates in and sets it on next; a nil field is left as
// it is.
func applySettings(next *tenants.Tenant, in TenantSettings) error {
	if in.Name != nil {
		if err := validateName("name", *in.Name, 100); err != nil {
			return err
		}
		next.DisplayName = strings.TrimSpace(*in.Name)
	}
	if in.LogoURL != nil {
		v := strings.TrimSpace(*in.LogoURL)
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || u.Scheme != "https" || u.Host == "" || len(v) > 2000 {
				return tenants.Invalid("logo_url", "must be an https URL")
			}
		}
		next.LogoURL = v
	}
	if in.AccentColor != nil {
		v := strings.TrimSpace(*in.AccentColor)
		if v != "" && !accentPattern.MatchString(v) {
			return tenants.Invalid("accent_color", "must be a colour like #3b5bdb")
		}
		next.AccentColor = strings.ToLower(v)
	}
	if in.GrantTypes != nil {
		gts, err := tenantGrants(in.GrantTypes)
		if err != nil {
			return err
		}
		next.GrantTypes = gts
	}
	lifetimes := []struct {
		field    string
		v        *time.Duration
		min, max time.Duration
		dst      *int64
	}{
		{"access_token_lifetime", in.AccessTokenLifetime, time.Minute, 24 * time.Hour, &next.AccessTokenTTLSeconds},
		{"id_token_lifetime", in.IDTokenLifetime, time.Minute, 24 * time.Hour, &next.IDTokenTTLSeconds},
		{"refresh_token_lifetime", in.RefreshTokenLifetime, time.Hour, 365 * 24 * time.Hour, &next.RefreshTokenTTLSeconds},
		{"session_lifetime", in.SessionLifetime, 5 * time.Minute, 90 * 24 * time.Hour, &next.SessionTTLSeconds},
	}
	for _, l := range lifetimes {
		if l.v == nil {
			continue
		}
		if *l.v < l.min || *l.v > l.max {
			return tenants.Invalid(l.field, "must be between %s and %s", human(l.min), human(l.max))
		}
		*l.dst = int64(l.v.Seconds())
	}
	if in.SignupMode != nil {
		switch *in.SignupMode {
		case tenants.SignupOff, tenants.SignupOpen, tenants.SignupDomains:
			next.SignupMode = *in.SignupMode
		default:
			return tenants.Invalid("signup_mode", "must be off, open or domains")
		}
	}
	if in.SignupDomains != nil {
		domains := tenants.Strings{}
		for _, d := range in.SignupDomains {
			d = strings.ToLower(strings.TrimSpace(d))
			if d == "" {
				continue
			}
			if !domainPattern.MatchString(d) {
				return tenants.Invalid("signup_domains", "%q is not a domain name", d)
			}
			if !slices.Contains(domains, d) {
				domains = append(domains, d)
			}
		}
		next.SignupDomains = domains
	}
	if next.SignupMode == tenants.SignupDomains && len(next.SignupDomains) == 0 {
		return tenants.Invalid("signup_domains", "name at least one domain, or choose another sign-up mode")
	}
	if in.PasswordMinLength != nil {
		if *in.PasswordMinLength < 8 || *in.PasswordMinLength > 64 {
			return tenants.Invalid("password_min_length", "must be between 8 and 64")
		}
		next.PasswordMinLength = int64(*in.PasswordMinLength)
	}
	if in.MFAPolicy != nil {
		switch *in.MFAPolicy {
		case tenants.MFAOff, tenants.MFAOptional, tenants.MFARequired:
			next.MFAPolicy = *in.MFAPolicy
		default:
			return tenants.Invalid("mfa_policy", "must be off, optional or required")
		}
	}
	if in.EmailFromName != nil {
		v := strings.TrimSpace(*in.EmailFromName)
		if v != "" {
			if err := validateName("email_from_name", v, 100); err != nil {
				return err
			}
		}
		next.EmailFromName = v
	}
	if in.RequirePushedAuthorizationRequests != nil {
		next.RequirePushedAuthorizationRequests = *in.RequirePushedAuthorizationRequests
	}
	if in.TokenExchangeImpersonation != nil {
		next.TokenExchangeImpersonation = *in.TokenExchangeImpersonation
	}
	if in.UserMetadataFields != nil {
		fs, err := tenants.CheckMetadataFields(in.UserMetadataFields)
		if err != nil {
			return err
		}
		next.UserMetadataFields = fs
	}
	if in.ClientRegistration != nil {
		if !slices.Contains(tenants.RegistrationModes(), *in.ClientRegistration) {
			return tenants.Invalid("client_registration", "must be off, token or open")
		}
		if next.System && *in.ClientRegistration != tenants.RegistrationOff {
			return tenants.Invalid("client_registration", "the system tenant takes no registrations")
		}
		next.ClientRegistration = *in.ClientRegistration
	}
	if in.EmailReplyTo != nil {
		v := strings.TrimSpace(*in.EmailReplyTo)
		if v != "" {
			addr, ok := tenants.PlainEmail(v)
			if !ok {
				return tenants.Invalid("email_reply_to", "must be an email address")
			}
			v = addr
		}
		next.EmailReplyTo = v
	}
	if in.DefaultLocale != nil {
		v := strings.TrimSpace(*in.DefaultLocale)
		if v != "" && i18n.Builtin().Canonical(v) != v {
			return tenants.Invalid("default_locale", "must be one of %s", strings.Join(i18n.Builtin().Supported(), ", "))
		}
		next.DefaultLocale = v
	}
	return nil
}

func human(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	default:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
}

// DeleteTenant deletes the tenant in ctx and everything it owns; confirm
// must repeat its slug. Only operators delete tenants.
func (s *Service) DeleteTenant(ctx context.Context, confirm string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	if p, _ := PrincipalFrom(ctx); !p.Operator {
		return ErrForbidden
	}
	if confirm != t.Slug {
		return tenants.Invalid("confirm", "type the tenant's slug, %s, to delete it", t.Slug)
	}
	before := tenantView(t)
	if err := s.store.DeleteTenant(ctx); err != nil {
		return err
	}
	s.changed(t)
	return s.audit(ctx, t, ActionTenantDeleted, "tenant", t.ID, before, nil)
}

// Overview is what the console shows first for a tenant.
type Overview struct {
	Tenant       *Tenant `json:"tenant"`
	Users        int64   `json:"users"`
	Applications int64   `json:"applications"`
	APIs         int64   `json:"apis"`
	Connections  int64   `json:"connections"`
	RecentLogins []*User `json:"recent_sign_ins"`
	// SignIns are the last 14 UTC days' sign-ins, oldest first.
	SignIns []DaySignIns `json:"sign_ins"`
	// ActiveUsers signed in within 30 days; MFAUsers have a second factor.
	ActiveUsers  int64 `json:"active_users"`
	MFAUsers     int64 `json:"mfa_users"`
	EverSignedIn bool  `json:"ever_signed_in"`
}

// DaySignIns counts one UTC day's sign-ins by outcome.
type DaySignIns struct {
	Day       string `json:"day" doc:"the UTC day, YYYY-MM-DD"`
	Succeeded int64  `json:"succeeded"`
	Failed    int64  `json:"failed" doc:"refused: a wrong password or code, a lock, a rule"`
}

// overviewDays is how many days the overview's sign-ins cover.
const overviewDays = 14

// Overview returns counts and recent sign-ins of the tenant in ctx.
func (s *Service) Overview(ctx context.Context) (*Overview, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	o := &Overview{Tenant: tenantView(t), RecentLogins: []*User{}}
	if o.Users, err = s.store.CountUsers(ctx); err != nil {
		return nil, err
	}
	if o.Applications, err = s.store.CountClients(ctx); err != nil {
		return nil, err
	}
	if o.APIs, err = s.store.CountAPIs(ctx); err != nil {
		return nil, err
	}
	conns, err := s.store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	o.Connections = int64(len(conns))
	act, err := s.store.TenantActivity(ctx, overviewDays)
	if err != nil {
		return nil, err
	}
	o.ActiveUsers, o.MFAUsers, o.EverSignedIn = act.ActiveUsers, act.MFAUsers, act.EverSignedIn
	for _, d := range act.Days {
		o.SignIns = append(o.SignIns, DaySignIns{Day: d.Day.Format("2006-01-02"), Succeeded: d.Succeeded, Failed: d.Failed})
	}
	recent, err := s.store.RecentLogins(ctx, 10)
	if err != nil {
		return nil, err
	}
	for i := range recent {
		o.RecentLogins = append(o.RecentLogins, userView(&recent[i]))
	}
	return o, nil
}
