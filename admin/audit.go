package admin

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Audit actions written by the management services.
const (
	ActionTenantCreated      = "tenant.created"
	ActionTenantUpdated      = "tenant.updated"
	ActionTenantDeleted      = "tenant.deleted"
	ActionClientCreated      = "client.created"
	ActionClientUpdated      = "client.updated"
	ActionClientDeleted      = "client.deleted"
	ActionClientSecret       = "client.secret_rotated"
	ActionClientGrants       = "client.grants_changed"
	ActionAPICreated         = "api.created"
	ActionAPIUpdated         = "api.updated"
	ActionAPIDeleted         = "api.deleted"
	ActionUserCreated        = "user.created"
	ActionUserUpdated        = "user.updated"
	ActionUserDisabled       = "user.disabled"
	ActionUserEnabled        = "user.enabled"
	ActionUserPassword       = "user.password_set"
	ActionUserDeleted        = "user.deleted"
	ActionUsersImported      = "users.imported"
	ActionUsersImportStarted = "users.import_started"
	// ActionUsersExportedHashes is an export of users with their
	// password hashes.
	ActionUsersExportedHashes = "users.exported_hashes"
	ActionSessionRevoked      = "session.revoked"
	ActionConsentRevoked      = "consent.revoked"
	ActionKeyRotated          = "key.rotated"
	ActionKeyRotationSet      = "key.rotation_set"
	ActionAdminCreated        = "admin.created"
	ActionAdminUpdated        = "admin.updated"
	ActionAdminDeleted        = "admin.deleted"
	ActionAdminClientMade     = "admin.client_created"
	ActionAdminClientUpdated  = "admin.client_updated"
	ActionAdminClientDeleted  = "admin.client_deleted"
	ActionCrossTenantDenied   = "admin.access_denied"
)

// audit appends an event to the log of tenant t for the principal in ctx.
// before and after are view models (never rows: rows carry secret hashes).
// A failure to write is logged, and returned: an action whose audit event
// cannot be written reports an error.
func (s *Service) audit(ctx context.Context, t *tenants.Tenant, action, targetType, targetID string, before, after any) error {
	ev := &tenants.AuditEvent{
		TenantID:   t.ID,
		Action:     action,
		TargetType: targetType,
		TargetID:   targetID,
		Before:     marshal(before),
		After:      marshal(after),
	}
	if p, ok := PrincipalFrom(ctx); ok {
		ev.ActorKind, ev.ActorID, ev.ActorName = p.Kind, p.ID, p.Name
	}
	if err := s.store.AppendAudit(ctx, ev); err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "write audit event", "action", action, "err", err)
		return err
	}
	return nil
}

// auditDenied records an attempt to reach a tenant the principal does not
// administer, in the log of that tenant.
func (s *Service) auditDenied(ctx context.Context, t *tenants.Tenant, reason string) {
	p, _ := PrincipalFrom(ctx)
	s.appendDenied(ctx, p, &tenants.AuditEvent{TenantID: t.ID, Action: ActionCrossTenantDenied, TargetType: "tenant", TargetID: t.ID,
		Outcome: "denied", Reason: reason})
}

// appendDenied records a denied attempt ev of principal p (nil: unknown).
// A failure to write is logged: the attempt is refused either way.
func (s *Service) appendDenied(ctx context.Context, p *Principal, ev *tenants.AuditEvent) {
	if p != nil {
		ev.ActorKind, ev.ActorID, ev.ActorName = p.Kind, p.ID, p.Name
	}
	if err := s.store.AppendAudit(ctx, ev); err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "write audit event", "action", ev.Action, "err", err)
	}
}

func marshal(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// AuditFilter narrows a listing of a tenant's audit log.
type AuditFilter = tenants.AuditFilter

// AuditPages reads every event of the tenant in ctx that f matches, newest
// first, a page of f.Limit at a time, and gives each page to page: the
// first before anything else is read, so that a refusal comes before an
// answer has begun.
func (s *Service) AuditPages(ctx context.Context, f AuditFilter, page func([]*AuditEvent) error) error {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	for {
		evs, err := s.AuditLog(ctx, f)
		if err != nil {
			return err
		}
		if err := page(evs); err != nil {
			return err
		}
		if len(evs) < f.Limit {
			return nil
		}
		f.Before = evs[len(evs)-1].ID
	}
}

// AuditNames returns what people call the objects the events name — a
// user's email, an application's, API's, role's or group's name — by
// kind ("user", "client", ...) and id, for showing beside the ids.
func (s *Service) AuditNames(ctx context.Context, evs []*AuditEvent) (map[string]map[string]string, error) {
	if _, err := s.require(ctx, ScopeAuditRead); err != nil {
		return nil, err
	}
	ids := map[string][]string{}
	add := func(kind, id string) {
		if id != "" && !slices.Contains(ids[kind], id) {
			ids[kind] = append(ids[kind], id)
		}
	}
	for _, e := range evs {
		add(e.TargetType, e.TargetID)
		add("client", e.ClientID)
	}
	return s.store.AuditNames(ctx, ids)
}

// AuditLog returns events of the tenant in ctx, newest first.
func (s *Service) AuditLog(ctx context.Context, f AuditFilter) ([]*AuditEvent, error) {
	if _, err := s.require(ctx, ScopeAuditRead); err != nil {
		return nil, err
	}
	evs, err := s.store.ListAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]*AuditEvent, len(evs))
	for i := range evs {
		out[i] = auditView(&evs[i])
	}
	return out, nil
}
