package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// The lifecycle of Gatehouse's administrators (users of the system tenant)
// and management clients (its machine-to-machine clients): listing them,
// changing what they may do, revoking them. One service behind the CLI,
// the management API and the console. Who may do what:
//
//   - An operator sees every principal, changes any (operator or tenant
//     admin, which tenants, which scopes) and deletes any.
//   - A tenant admin sees only the principals whose every grant is within
//     the tenants they administer themselves (never an operator), and may
//     only narrow those (fewer tenants, fewer scopes) or delete them. Any
//     other principal is answered as one that does not exist.
//   - Nobody grants more than they hold: a change may add a role, a tenant
//     or a scope only if the one who makes it holds it (an operator whose
//     credentials lack audit:read cannot give audit:read).
//   - Gatehouse always keeps an operator who is a person: the last one can
//     be neither deleted nor made a tenant admin (tenants.ErrLastOperator).
//   - A change takes effect on the principal's next request: Authenticate
//     reads roles and scopes on every request, and a principal acts with
//     at most the scopes given here, whatever its token or console session
//     says. Deleting a principal ends its console sessions and tokens.
//
// Reading needs tenants:read, changing tenants:write. Every change is
// audited in the system tenant's log and in the log of every tenant the
// principal administered before or after it.

// access is what a principal may do: administer every tenant (operator)
// or some, with some scopes. Lists are sorted and unique.
type access struct {
	operator  bool
	tenantIDs []string
	scopes    []string
}

// accessOf reads a principal's roles and scopes.
func accessOf(roles []tenants.AdminRole, scopes []string) access {
	var a access
	for _, r := range roles {
		switch {
		case r.Role == tenants.RoleOperator:
			a.operator = true
		case r.Role == tenants.RoleTenantAdmin && r.TargetTenantID != nil:
			a.tenantIDs = append(a.tenantIDs, *r.TargetTenantID)
		}
	}
	a.tenantIDs = sortedSet(a.tenantIDs)
	a.scopes = sortedSet(scopes)
	return a
}

// roles are the role rows that give a.
func (a access) roles() []tenants.AdminRole {
	if a.operator {
		return []tenants.AdminRole{{Role: tenants.RoleOperator}}
	}
	out := make([]tenants.AdminRole, 0, len(a.tenantIDs))
	for _, id := range a.tenantIDs {
		out = append(out, tenants.AdminRole{Role: tenants.RoleTenantAdmin, TargetTenantID: &id})
	}
	return out
}

func sortedSet(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// canSee reports whether actor may see (and so narrow or delete) a
// principal with access target: an operator sees everyone; a tenant admin
// sees those whose every grant is within their own tenants.
func canSee(actor *Principal, target access) bool {
	if actor.Operator {
		return true
	}
	if target.operator || len(target.tenantIDs) == 0 {
		return false
	}
	for _, id := range target.tenantIDs {
		if !slices.Contains(actor.TenantIDs, id) {
			return false
		}
	}
	return true
}

// checkChange decides whether actor, who sees the principal, may change its
// access from before to after: after must be something (an operator, or
// the admin of a tenant, with a scope); a tenant admin may only narrow; and
// whatever the change adds, the actor must hold.
func checkChange(actor *Principal, before, after access) error {
	if !after.operator && len(after.tenantIDs) == 0 {
		return tenants.Invalid("tenants", "give at least one tenant, or make it an operator (to take everything away, delete it)")
	}
	if len(after.scopes) == 0 {
		return tenants.Invalid("scopes", "give at least one scope (%s)", strings.Join(AllScopes(), ", "))
	}
	if after.operator && !before.operator && !actor.Operator {
		return ErrForbidden
	}
	for _, id := range after.tenantIDs {
		if !slices.Contains(before.tenantIDs, id) && !before.operator && !actor.Operator {
			return ErrForbidden
		}
	}
	for _, sc := range after.scopes {
		if !slices.Contains(before.scopes, sc) && (!actor.Operator || !actor.HasScope(sc)) {
			return ErrForbidden
		}
	}
	return nil
}

// effectiveScopes are the scopes a principal acts with: those its token
// (or console session) carries that it still holds. tenants:write carries
// tenants:read, on either side.
func effectiveScopes(token, held []string) []string {
	has := func(set []string, s string) bool {
		return slices.Contains(set, s) || s == ScopeTenantsRead && slices.Contains(set, ScopeTenantsWrite)
	}
	out := []string{}
	for _, s := range AllScopes() {
		if has(token, s) && has(held, s) {
			out = append(out, s)
		}
	}
	return out
}

// normalizeScopes checks management scopes and returns them sorted, once
// each.
func normalizeScopes(field string, in []string) ([]string, error) {
	for _, sc := range in {
		if !slices.Contains(AllScopes(), sc) {
			return nil, tenants.Invalid(field, "unknown scope %q (%s)", sc, strings.Join(AllScopes(), ", "))
		}
	}
	return sortedSet(in), nil
}

// plausibleID reports whether id can name a principal at all: a value no
// id has (empty, long, not text) names nothing and never reaches the
// database.
func plausibleID(id string) bool {
	return id != "" && len(id) <= 256 && utf8.ValidString(id) && !strings.ContainsFunc(id, unicode.IsControl)
}

// UpdateAccessInput changes what a principal may do; a nil field is left
// as it is.
type UpdateAccessInput struct {
	// Operator, when set, makes the principal an operator (true) or a
	// tenant admin (false, of Tenants or of the tenants it has).
	Operator *bool
	// Tenants, when set, are the slugs of the tenants it administers as a
	// tenant admin.
	Tenants []string
	// Scopes, when set, are its management scopes.
	Scopes []string
}

// nextAccess applies in to before, resolving tenant slugs for actor: a
// tenant actor does not administer is answered as an unknown one.
func (s *Service) nextAccess(ctx context.Context, actor *Principal, before access, in UpdateAccessInput) (access, error) {
	next := access{operator: before.operator, tenantIDs: before.tenantIDs, scopes: before.scopes}
	if in.Operator != nil {
		next.operator = *in.Operator
		if next.operator {
			if len(in.Tenants) > 0 {
				return access{}, tenants.Invalid("tenants", "an operator administers every tenant: leave tenants out")
			}
			next.tenantIDs = nil
		}
	}
	if in.Tenants != nil {
		if next.operator {
			return access{}, tenants.Invalid("tenants", "an operator administers every tenant: make it a tenant admin to name its tenants")
		}
		ids := make([]string, 0, len(in.Tenants))
		for _, slug := range in.Tenants {
			t, err := s.store.TenantBySlug(ctx, slug)
			if err == nil && (t.System || !actor.Reaches(t.ID)) {
				err = tenants.ErrNotFound
			}
			if errors.Is(err, tenants.ErrNotFound) {
				return access{}, tenants.Invalid("tenants", "no tenant %q", slug)
			}
			if err != nil {
				return access{}, err
			}
			ids = append(ids, t.ID)
		}
		next.tenantIDs = sortedSet(ids)
	}
	if in.Scopes != nil {
		sc, err := normalizeScopes("scopes", in.Scopes)
		if err != nil {
			return access{}, err
		}
		next.scopes = sc
	}
	return next, checkChange(actor, before, next)
}

// principals is the one access decision of this file: the actor in ctx,
// with scope, and the system tenant where principals live.
func (s *Service) principals(ctx context.Context, scope string) (*Principal, context.Context, *tenants.Tenant, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if !p.HasScope(scope) {
		return nil, nil, nil, ErrForbidden
	}
	sys, err := s.store.SystemTenant(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("system tenant: %w", err)
	}
	return p, tenants.WithTenant(ctx, sys), sys, nil
}

// slugs maps tenant ids to slugs, for the views.
func (s *Service) slugs(ctx context.Context) (map[string]string, error) {
	ts, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ts))
	for _, t := range ts {
		out[t.ID] = t.Slug
	}
	return out, nil
}

func (a access) role() string {
	if a.operator {
		return tenants.RoleOperator
	}
	return tenants.RoleTenantAdmin
}

func (a access) slugs(names map[string]string) []string {
	out := make([]string, 0, len(a.tenantIDs))
	for _, id := range a.tenantIDs {
		if slug, ok := names[id]; ok {
			out = append(out, slug)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Service) adminView(u *tenants.User, a access, names map[string]string) *Admin {
	return &Admin{User: userView(u), Role: a.role(), Slugs: a.slugs(names), Scopes: nonNil(a.scopes), Login: s.baseURL.String() + ConsolePath}
}

func (s *Service) adminClientView(sys *tenants.Tenant, c *tenants.Client, a access, names map[string]string) *AdminClient {
	return &AdminClient{ClientID: c.ClientID, Name: c.Name, Role: a.role(), Slugs: a.slugs(names), Scopes: nonNil(a.scopes),
		TokenURL: sys.Issuer + "/oauth/token", Audience: s.APIAudience()}
}

// loadAdmin returns the administrator id (a user of the system tenant with
// a role) and what they may do.
func (s *Service) loadAdmin(sctx context.Context, id string) (*tenants.User, access, error) {
	if !plausibleID(id) {
		return nil, access{}, tenants.ErrNotFound
	}
	roles, err := s.store.AdminRoles(sctx, tenants.PrincipalUser, id)
	if err != nil {
		return nil, access{}, err
	}
	if len(roles) == 0 {
		return nil, access{}, tenants.ErrNotFound
	}
	u, err := s.store.UserByID(sctx, id)
	if err != nil {
		return nil, access{}, err
	}
	scopes, err := s.store.AdminUserScopes(sctx, id)
	if err != nil && !errors.Is(err, tenants.ErrNotFound) {
		return nil, access{}, err
	}
	return u, accessOf(roles, scopes), nil
}

// managementGrant returns the scopes the client clientID of the system
// tenant in sctx is granted on the management API (none: nil).
func (s *Service) managementGrant(sctx context.Context, clientID string) ([]string, string, error) {
	api, err := s.store.APIByAudience(sctx, s.APIAudience())
	if err != nil {
		return nil, "", fmt.Errorf("management API: %w", err)
	}
	gs, err := s.store.ClientGrants(sctx, clientID)
	if err != nil {
		return nil, "", err
	}
	for _, g := range gs {
		if g.APIID == api.ID {
			return g.Scopes, api.ID, nil
		}
	}
	return nil, api.ID, nil
}

// loadAdminClient returns the management client clientID (a client of the
// system tenant with a role) and what it may do.
func (s *Service) loadAdminClient(sctx context.Context, clientID string) (*tenants.Client, access, error) {
	if !plausibleID(clientID) {
		return nil, access{}, tenants.ErrNotFound
	}
	roles, err := s.store.AdminRoles(sctx, tenants.PrincipalClient, clientID)
	if err != nil {
		return nil, access{}, err
	}
	if len(roles) == 0 {
		return nil, access{}, tenants.ErrNotFound
	}
	c, err := s.store.ClientByClientID(sctx, clientID)
	if err != nil {
		return nil, access{}, err
	}
	scopes, _, err := s.managementGrant(sctx, clientID)
	if err != nil {
		return nil, access{}, err
	}
	return c, accessOf(roles, scopes), nil
}

// seen returns tenants.ErrNotFound, and records the attempt, when actor may
// not see a principal: it is answered exactly as one that does not exist.
func (s *Service) seen(ctx context.Context, actor *Principal, sys *tenants.Tenant, kind, id string, a access) error {
	if canSee(actor, a) {
		return nil
	}
	for _, tid := range append([]string{sys.ID}, a.tenantIDs...) {
		ev := &tenants.AuditEvent{TenantID: tid, Action: ActionCrossTenantDenied, TargetType: kind, TargetID: id, Outcome: "denied",
			Reason: "not an administrator of every tenant of this principal"}
		s.appendDenied(ctx, actor, ev)
	}
	return tenants.ErrNotFound
}

// auditAccess records a change of a principal's access in the system
// tenant's log and in the log of every tenant it administered before or
// after.
func (s *Service) auditAccess(ctx context.Context, sys *tenants.Tenant, action, kind, id string, was, now access, before, after any) error {
	ids := sortedSet(append(append([]string{}, was.tenantIDs...), now.tenantIDs...))
	for _, tid := range append([]string{sys.ID}, ids...) {
		if err := s.audit(ctx, &tenants.Tenant{ID: tid}, action, kind, id, before, after); err != nil {
			return err
		}
	}
	return nil
}

// ListAdmins returns the administrators the principal in ctx may see, in
// order of email address.
func (s *Service) ListAdmins(ctx context.Context) ([]*Admin, error) {
	actor, sctx, _, err := s.principals(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	rs, err := s.store.ListAdminRoles(ctx)
	if err != nil {
		return nil, err
	}
	names, err := s.slugs(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Admin{}
	for _, id := range principalIDs(rs, tenants.PrincipalUser) {
		u, a, err := s.loadAdmin(sctx, id)
		if errors.Is(err, tenants.ErrNotFound) { // a role of no user
			continue
		}
		if err != nil {
			return nil, err
		}
		if canSee(actor, a) {
			out = append(out, s.adminView(u, a, names))
		}
	}
	slices.SortFunc(out, func(a, b *Admin) int { return strings.Compare(a.User.Email, b.User.Email) })
	return out, nil
}

// principalIDs returns the ids of the principals of kind that rs name,
// once each.
func principalIDs(rs []tenants.AdminRole, kind string) []string {
	var out []string
	for _, r := range rs {
		if r.PrincipalKind == kind && (len(out) == 0 || out[len(out)-1] != r.PrincipalID) {
			out = append(out, r.PrincipalID)
		}
	}
	return out
}

// GetAdmin returns the administrator with user id.
func (s *Service) GetAdmin(ctx context.Context, id string) (*Admin, error) {
	actor, sctx, sys, err := s.principals(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	u, a, err := s.loadAdmin(sctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.seen(ctx, actor, sys, KindUser, id, a); err != nil {
		return nil, err
	}
	names, err := s.slugs(ctx)
	if err != nil {
		return nil, err
	}
	return s.adminView(u, a, names), nil
}

// AdminByEmail returns the administrator with email (case-insensitive).
func (s *Service) AdminByEmail(ctx context.Context, email string) (*Admin, error) {
	_, sctx, _, err := s.principals(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	if ValidateEmail(strings.TrimSpace(email)) != nil {
		return nil, fmt.Errorf("administrator %q: %w", email, tenants.ErrNotFound)
	}
	u, err := s.store.UserByEmail(sctx, email)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, fmt.Errorf("administrator %q: %w", email, err)
	}
	if err != nil {
		return nil, err
	}
	a, err := s.GetAdmin(ctx, u.ID)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, fmt.Errorf("administrator %q: %w", email, err)
	}
	return a, err
}

// UpdateAdmin changes what the administrator with user id may do.
func (s *Service) UpdateAdmin(ctx context.Context, id string, in UpdateAccessInput) (*Admin, error) {
	actor, sctx, sys, err := s.principals(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	u, was, err := s.loadAdmin(sctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.seen(ctx, actor, sys, KindUser, id, was); err != nil {
		return nil, err
	}
	now, err := s.nextAccess(ctx, actor, was, in)
	if err != nil {
		return nil, err
	}
	if err := s.store.ReplaceAdminUser(sctx, id, now.roles(), now.scopes); err != nil {
		return nil, err
	}
	names, err := s.slugs(ctx)
	if err != nil {
		return nil, err
	}
	before, after := s.adminView(u, was, names), s.adminView(u, now, names)
	return after, s.auditAccess(ctx, sys, ActionAdminUpdated, KindUser, id, was, now, before, after)
}

// DeleteAdmin deletes the administrator with user id: their roles, their
// account at the system tenant, and with it their console sessions and
// tokens.
func (s *Service) DeleteAdmin(ctx context.Context, id string) error {
	actor, sctx, sys, err := s.principals(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	u, was, err := s.loadAdmin(sctx, id)
	if err != nil {
		return err
	}
	if err := s.seen(ctx, actor, sys, KindUser, id, was); err != nil {
		return err
	}
	if err := s.store.DeleteAdminUser(sctx, id); err != nil {
		return err
	}
	names, err := s.slugs(ctx)
	if err != nil {
		return err
	}
	return s.auditAccess(ctx, sys, ActionAdminDeleted, KindUser, id, was, access{}, s.adminView(u, was, names), nil)
}

// ListAdminClients returns the management clients the principal in ctx may
// see, in order of name.
func (s *Service) ListAdminClients(ctx context.Context) ([]*AdminClient, error) {
	actor, sctx, sys, err := s.principals(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	rs, err := s.store.ListAdminRoles(ctx)
	if err != nil {
		return nil, err
	}
	names, err := s.slugs(ctx)
	if err != nil {
		return nil, err
	}
	out := []*AdminClient{}
	for _, id := range principalIDs(rs, tenants.PrincipalClient) {
		c, a, err := s.loadAdminClient(sctx, id)
		if errors.Is(err, tenants.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if canSee(actor, a) {
			out = append(out, s.adminClientView(sys, c, a, names))
		}
	}
	slices.SortFunc(out, func(a, b *AdminClient) int {
		return strings.Compare(a.Name+"\x00"+a.ClientID, b.Name+"\x00"+b.ClientID)
	})
	return out, nil
}

// GetAdminClient returns the management client clientID.
func (s *Service) GetAdminClient(ctx context.Context, clientID string) (*AdminClient, error) {
	actor, sctx, sys, err := s.principals(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	c, a, err := s.loadAdminClient(sctx, clientID)
	if err != nil {
		return nil, err
	}
	if err := s.seen(ctx, actor, sys, KindClient, clientID, a); err != nil {
		return nil, err
	}
	names, err := s.slugs(ctx)
	if err != nil {
		return nil, err
	}
	return s.adminClientView(sys, c, a, names), nil
}

// UpdateAdminClient changes what the management client clientID may do:
// its scopes are its grant of the management API, which it can no longer
// exceed from its next request on.
func (s *Service) UpdateAdminClient(ctx context.Context, clientID string, in UpdateAccessInput) (*AdminClient, error) {
	actor, sctx, sys, err := s.principals(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	c, was, err := s.loadAdminClient(sctx, clientID)
	if err != nil {
		return nil, err
	}
	if err := s.seen(ctx, actor, sys, KindClient, clientID, was); err != nil {
		return nil, err
	}
	now, err := s.nextAccess(ctx, actor, was, in)
	if err != nil {
		return nil, err
	}
	_, apiID, err := s.managementGrant(sctx, clientID)
	if err != nil {
		return nil, err
	}
	if err := s.store.ReplaceAdminClient(sctx, clientID, now.roles(), []tenants.ClientGrant{{APIID: apiID, Scopes: now.scopes}}); err != nil {
		return nil, err
	}
	s.changed(sys)
	names, err := s.slugs(ctx)
	if err != nil {
		return nil, err
	}
	before, after := s.adminClientView(sys, c, was, names), s.adminClientView(sys, c, now, names)
	return after, s.auditAccess(ctx, sys, ActionAdminClientUpdated, KindClient, clientID, was, now, before, after)
}

// DeleteAdminClient revokes the management client clientID: its roles, its
// secret and its tokens, which stop working at once on every node.
func (s *Service) DeleteAdminClient(ctx context.Context, clientID string) error {
	actor, sctx, sys, err := s.principals(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	c, was, err := s.loadAdminClient(sctx, clientID)
	if err != nil {
		return err
	}
	if err := s.seen(ctx, actor, sys, KindClient, clientID, was); err != nil {
		return err
	}
	if err := s.store.DeleteAdminClient(sctx, clientID); err != nil {
		return err
	}
	s.changed(sys)
	names, err := s.slugs(ctx)
	if err != nil {
		return err
	}
	return s.auditAccess(ctx, sys, ActionAdminClientDeleted, KindClient, clientID, was, access{}, s.adminClientView(sys, c, was, names), nil)
}
