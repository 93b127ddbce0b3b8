package tenants

import (
	"context"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// AppendAudit writes an event to the audit log of the tenant it names
// (ev.TenantID, or the tenant in ctx when empty). The log is append-only:
// the store has no way to change or delete an event. The address, user
// agent and request id the event leaves empty are those of the request in
// ctx ([WithOrigin]).
func (s *Store) AppendAudit(ctx context.Context, ev *AuditEvent) error {
	if err := s.prepareAudit(ctx, ev); err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error { return s.insertAudits(tx, s.now(), []*AuditEvent{ev}) }))
}

// prepareAudits prepares events to be written in a transaction of the
// tenant tid.
func (s *Store) prepareAudits(ctx context.Context, tid string, events []*AuditEvent) error {
	for _, ev := range events {
		ev.TenantID = tid
		if err := s.prepareAudit(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// prepareAudit fills what an event to append leaves empty.
func (s *Store) prepareAudit(ctx context.Context, ev *AuditEvent) error {
	if o, ok := OriginFrom(ctx); ok {
		if ev.IPAddress == "" {
			ev.IPAddress = o.IP
		}
		if ev.UserAgent == "" {
			ev.UserAgent = o.UserAgent
		}
		if ev.RequestID == "" {
			ev.RequestID = o.RequestID
		}
	}
	ev.UserAgent = Truncate(ev.UserAgent, 256)
	ev.IPAddress = Truncate(ev.IPAddress, 64)
	ev.Reason = Truncate(ev.Reason, 1024)
	if ev.TenantID == "" {
		tid, err := tenantID(ctx)
		if err != nil {
			return err
		}
		ev.TenantID = tid
	}
	if ev.ID == "" {
		ev.ID = newID()
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = s.now()
	}
	if ev.Outcome == "" {
		ev.Outcome = "success"
	}
	return nil
}

// AuditFilter narrows a listing of the audit log.
type AuditFilter struct {
	Action   string // exact prefix: "client." matches client.created, client.deleted...
	ActorID  string
	TargetID string
	ClientID string
	// Outcome is success or failure; IPAddress the request's origin.
	Outcome   string
	IPAddress string
	// RequestID is the id of the request the event was written in: the
	// reference an error page shows, an answer's X-Request-ID.
	RequestID string
	Since     time.Time
	Until     time.Time
	// Before is the id of the last event of the previous page.
	Before string
	Limit  int
}

// ListAudit returns the newest events of the tenant in ctx that match f,
// newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	q, _, err := s.scoped(ctx, "audit_events")
	if err != nil {
		return nil, err
	}
	if f.Action != "" {
		// An exact prefix: LIKE ignores case on SQLite but not on PostgreSQL.
		q = q.Where("substr(action, 1, ?) = ?", utf8.RuneCountInString(f.Action), f.Action)
	}
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if f.ClientID != "" {
		q = q.Where("client_id = ?", f.ClientID)
	}
	if f.RequestID != "" {
		q = q.Where("request_id = ?", f.RequestID)
	}
	if f.Outcome != "" {
		q = q.Where("outcome = ?", f.Outcome)
	}
	if f.IPAddress != "" {
		q = q.Where("ip_address = ?", f.IPAddress)
	}
	if !f.Since.IsZero() {
		q = q.Where("occurred_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("occurred_at < ?", f.Until.UTC())
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var evs []AuditEvent
	return evs, mapErr(q.Order("id DESC").Limit(f.Limit).Find(&evs).Error)
}

// escapeLike escapes the wildcards of a LIKE pattern ('\' is the escape
// character of both dialects' default).
func escapeLike(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}
