package admin

import (
	"context"
	"encoding/json"
	"log/slog"

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
		slog.ErrorContext(ctx, "write audit event", "action", action, "err", err)
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
		slog.ErrorContext(ctx, "write audit event", "action", ev.Action, "err", err)
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
