package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// insertAudits is the one place audit events are written: it inserts
// events in tx and, in the same transaction, a delivery of each to every
// enabled webhook endpoint of its tenant that subscribes to its type, so
// that an audited action and the deliveries announcing it commit (or fail)
// together.
//
// The store's audit observer (the metrics) hears of each event once its
// insert succeeded.
func (s *Store) insertAudits(tx *gorm.DB, now time.Time, events []*AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	if err := tx.Create(events).Error; err != nil {
		return err
	}
	if err := enqueueWebhooks(tx, now, events); err != nil {
		return err
	}
	if s.observeAudit != nil {
		for _, ev := range events {
			s.observeAudit(ev.Action, ev.Outcome)
		}
	}
	return nil
}

// enqueueWebhooks writes the deliveries of events in tx: one query for the
// endpoints of the tenants concerned, one insert.
func enqueueWebhooks(tx *gorm.DB, now time.Time, events []*AuditEvent) error {
	var tids []string
	for _, ev := range events {
		if _, ok := WebhookEventType(ev.Action); ok && !contains(tids, ev.TenantID) {
			tids = append(tids, ev.TenantID)
		}
	}
	if len(tids) == 0 {
		return nil
	}
	var eps []struct {
		ID, TenantID, Slug string
		Events             Strings
	}
	err := tx.Table("webhook_endpoints").Select("webhook_endpoints.id, webhook_endpoints.tenant_id, webhook_endpoints.events, tenants.slug").
		Joins("JOIN tenants ON tenants.id = webhook_endpoints.tenant_id").
		Where("webhook_endpoints.enabled AND webhook_endpoints.tenant_id IN ?", tids).Scan(&eps).Error
	if err != nil || len(eps) == 0 {
		return err
	}
	var ds []*WebhookDelivery
	for _, ev := range events {
		typ, ok := WebhookEventType(ev.Action)
		if !ok {
			continue
		}
		for _, ep := range eps {
			w := WebhookEndpoint{Events: ep.Events}
			if ep.TenantID != ev.TenantID || !w.Subscribes(typ) {
				continue
			}
			ds = append(ds, &WebhookDelivery{ID: newID(), TenantID: ev.TenantID, EndpointID: ep.ID, EventID: ev.ID, EventType: typ,
				Payload: WebhookPayload(ev, typ, ep.Slug), NextAttemptAt: now, Status: DeliveryPending, CreatedAt: now, UpdatedAt: now})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return tx.Create(ds).Error
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// CreateWebhook adds an endpoint to the tenant in ctx.
func (s *Store) CreateWebhook(ctx context.Context, w *WebhookEndpoint) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if w.ID == "" {
		w.ID = NewRandomID()
	}
	now := s.now()
	w.TenantID, w.CreatedAt, w.UpdatedAt = tid, now, now
	w.SecretSealed, w.PreviousSecretSealed = nonNilBytes(w.SecretSealed), nonNilBytes(w.PreviousSecretSealed)
	if w.Events == nil {
		w.Events = Strings{}
	}
	return mapErr(s.conn(ctx).Create(w).Error)
}

// WebhookByID returns the endpoint with id of the tenant in ctx.
func (s *Store) WebhookByID(ctx context.Context, id string) (*WebhookEndpoint, error) {
	q, _, err := s.scoped(ctx, "webhook_endpoints")
	if err != nil {
		return nil, err
	}
	var w WebhookEndpoint
	return &w, first(q.Where("id = ?", id), &w)
}

// ListWebhooks returns the endpoints of the tenant in ctx, oldest first.
func (s *Store) ListWebhooks(ctx context.Context) ([]WebhookEndpoint, error) {
	q, _, err := s.scoped(ctx, "webhook_endpoints")
	if err != nil {
		return nil, err
	}
	var ws []WebhookEndpoint
	return ws, mapErr(q.Order("created_at, id").Find(&ws).Error)
}

// UpdateWebhook saves what may change of an endpoint of the tenant in ctx:
// its URL, events, state and secrets. Enabling an endpoint forgets its
// failures.
func (s *Store) UpdateWebhook(ctx context.Context, w *WebhookEndpoint) error {
	q, _, err := s.scoped(ctx, "webhook_endpoints")
	if err != nil {
		return err
	}
	w.UpdatedAt = s.now()
	cols := map[string]any{
		"url": w.URL, "events": w.Events, "enabled": w.Enabled, "secret_sealed": nonNilBytes(w.SecretSealed),
		"previous_secret_sealed": nonNilBytes(w.PreviousSecretSealed), "previous_secret_until": w.PreviousSecretUntil,
		"disabled_reason": w.DisabledReason, "updated_at": w.UpdatedAt,
	}
	if w.Enabled {
		// Only a disabled endpoint forgets its failures: a change to an
		// enabled one (its events, its secret) keeps its streak, which the
		// dispatcher may be extending meanwhile.
		w.DisabledReason = ""
		cols["failing_since"], cols["disabled_reason"] = gorm.Expr("CASE WHEN enabled THEN failing_since ELSE NULL END"), ""
	}
	res := q.Where("id = ?", w.ID).Updates(cols)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteWebhook deletes an endpoint of the tenant in ctx with its
// deliveries and their log.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM webhook_attempts WHERE tenant_id = ? AND endpoint_id = ?", tid, id).Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ?", tid, id).Error; err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?", tid, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	}))
}

// ListWebhookDeliveries returns the newest deliveries to an endpoint of the
// tenant in ctx, newest first, before the delivery with id before (""
// from the newest). An endpoint of no tenant in ctx is ErrNotFound.
func (s *Store) ListWebhookDeliveries(ctx context.Context, endpointID, before string, limit int) ([]WebhookDelivery, error) {
	if _, err := s.WebhookByID(ctx, endpointID); err != nil {
		return nil, err
	}
	q, _, err := s.scoped(ctx, "webhook_deliveries")
	if err != nil {
		return nil, err
	}
	q = q.Where("endpoint_id = ?", endpointID)
	if before != "" {
		q = q.Where("id < ?", before)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var ds []WebhookDelivery
	return ds, mapErr(q.Order("id DESC").Limit(limit).Find(&ds).Error)
}

// ListWebhookAttempts returns the attempts at a delivery of an endpoint of
// the tenant in ctx, oldest first.
func (s *Store) ListWebhookAttempts(ctx context.Context, endpointID, deliveryID string) ([]WebhookAttempt, error) {
	q, _, err := s.scoped(ctx, "webhook_attempts")
	if err != nil {
		return nil, err
	}
	var as []WebhookAttempt
	return as, mapErr(q.Where("endpoint_id = ? AND delivery_id = ?", endpointID, deliveryID).Order("id").Find(&as).Error)
}

// RedeliverWebhook makes a delivery to an endpoint of the tenant in ctx due
// again now, whatever became of it, with the same event id: a receiver
// that already handled it may recognise it.
func (s *Store) RedeliverWebhook(ctx context.Context, endpointID, deliveryID string) (*WebhookDelivery, error) {
	q, _, err := s.scoped(ctx, "webhook_deliveries")
	if err != nil {
		return nil, err
	}
	now := s.now()
	res := q.Where("endpoint_id = ? AND id = ?", endpointID, deliveryID).Updates(map[string]any{
		"status": DeliveryPending, "next_attempt_at": now, "claim_token": "", "claimed_until": nil, "updated_at": now})
	if res.Error != nil {
		return nil, mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	q, _, _ = s.scoped(ctx, "webhook_deliveries")
	var d WebhookDelivery
	return &d, first(q.Where("id = ?", deliveryID), &d)
}

// ClaimedDelivery is a delivery a node claimed, with where it goes.
type ClaimedDelivery struct {
	WebhookDelivery
	URL                  string
	SecretSealed         []byte
	PreviousSecretSealed []byte
	PreviousSecretUntil  *time.Time
}

// ClaimWebhookDeliveries claims up to limit due deliveries of enabled
// endpoints, of every tenant, for lease: until it ends no other claim
// returns them. On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED,
// so that nodes claiming at once take different rows; SQLite serializes
// writers. token names the claim (CompleteWebhookDelivery needs it).
// It is the dispatcher's, and not tenant-scoped.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, token string, lease time.Duration, limit int) ([]ClaimedDelivery, error) {
	now := s.now()
	// A read first: an empty outbox, the usual case, costs no write
	// transaction (on SQLite, no write lock every poll of every node).
	due := "SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id " +
		"WHERE d.status = ? AND d.next_attempt_at <= ? AND (d.claimed_until IS NULL OR d.claimed_until < ?) AND e.enabled " +
		"ORDER BY d.next_attempt_at LIMIT ?"
	var found []string
	if err := s.conn(ctx).Raw(due, DeliveryPending, now, now, 1).Scan(&found).Error; err != nil || len(found) == 0 {
		return nil, mapErr(err)
	}
	var out []ClaimedDelivery
	err := s.tx(ctx, func(tx *gorm.DB) error {
		pick := due
		if s.dialect == DialectPostgres {
			pick += " FOR UPDATE OF d SKIP LOCKED"
		}
		var ids []string
		if err := tx.Raw(pick, DeliveryPending, now, now, limit).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		until := now.Add(lease)
		if err := tx.Table("webhook_deliveries").Where("id IN ?", ids).
			Updates(map[string]any{"claim_token": token, "claimed_until": until}).Error; err != nil {
			return err
		}
		return tx.Table("webhook_deliveries d").
			Select("d.*, e.url, e.secret_sealed, e.previous_secret_sealed, e.previous_secret_until").
			Joins("JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id").
			Where("d.id IN ? AND d.claim_token = ?", ids, token).Order("d.next_attempt_at").Scan(&out).Error
	})
	return out, mapErr(err)
}

// ReleaseWebhookDeliveries gives back what the claim token holds and was
// not sent, for another node (or this one) to claim at once.
func (s *Store) ReleaseWebhookDeliveries(ctx context.Context, token string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return mapErr(s.conn(ctx).Table("webhook_deliveries").Where("claim_token = ? AND id IN ?", token, ids).
		Updates(map[string]any{"claim_token": "", "claimed_until": nil}).Error)
}

// WebhookResult is the outcome of one attempt at a claimed delivery.
type WebhookResult struct {
	Delivery *ClaimedDelivery
	Token    string
	// OK says the endpoint answered 2xx.
	OK         bool
	StatusCode int
	Error      string
	Took       time.Duration
	// NextAttempt is when to try again after a failure; zero gives up
	// (the delivery fails).
	NextAttempt time.Time
	// DisableAfter is how long an endpoint may fail without a success
	// before it is disabled.
	DisableAfter time.Duration
}

// CompleteWebhookDelivery records an attempt at a claimed delivery, in one
// transaction: the log row, the delivery's new state, and the endpoint's
// failure streak. An endpoint failing for longer than DisableAfter is
// disabled, with an audit event (webhook.disabled) in its tenant's log.
// A claim that lapsed and was taken by another node records the attempt
// but leaves the delivery to that node. It reports whether the endpoint
// was disabled. It is the dispatcher's, and not tenant-scoped.
func (s *Store) CompleteWebhookDelivery(ctx context.Context, r WebhookResult) (disabled bool, err error) {
	d := r.Delivery
	now := s.now()
	err = s.tx(ctx, func(tx *gorm.DB) error {
		disabled = false
		att := &WebhookAttempt{ID: newID(), TenantID: d.TenantID, EndpointID: d.EndpointID, DeliveryID: d.ID, AttemptedAt: now,
			StatusCode: r.StatusCode, Error: Truncate(r.Error, 512), DurationMS: r.Took.Milliseconds()}
		if err := tx.Create(att).Error; err != nil {
			return err
		}
		cols := map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_status_code": r.StatusCode, "last_error": att.Error,
			"claim_token": "", "claimed_until": nil, "updated_at": now}
		switch {
		case r.OK:
			cols["status"], cols["delivered_at"] = DeliveryDelivered, now
		case r.NextAttempt.IsZero():
			cols["status"] = DeliveryFailed
		default:
			cols["next_attempt_at"] = r.NextAttempt
		}
		res := tx.Table("webhook_deliveries").Where("tenant_id = ? AND id = ? AND claim_token = ?", d.TenantID, d.ID, r.Token).Updates(cols)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		ep := tx.Table("webhook_endpoints").Where("tenant_id = ? AND id = ?", d.TenantID, d.EndpointID)
		if r.OK {
			return ep.Where("failing_since IS NOT NULL").Update("failing_since", nil).Error
		}
		if err := ep.Where("failing_since IS NULL").Update("failing_since", now).Error; err != nil {
			return err
		}
		res = tx.Table("webhook_endpoints").
			Where("tenant_id = ? AND id = ? AND enabled AND failing_since < ?", d.TenantID, d.EndpointID, now.Add(-r.DisableAfter)).
			Updates(map[string]any{"enabled": false, "disabled_reason": "deliveries failed for " + r.DisableAfter.String(), "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		disabled = true
		ev := &AuditEvent{ID: newID(), TenantID: d.TenantID, OccurredAt: now, ActorKind: "system", ActorID: "gatehouse", Action: ActionWebhookDisabled,
			TargetType: "webhook", TargetID: d.EndpointID, Outcome: "success", Reason: "deliveries failed for " + r.DisableAfter.String()}
		return s.insertAudits(tx, now, []*AuditEvent{ev})
	})
	return disabled, mapErr(err)
}

// PruneWebhookDeliveries deletes, across tenants, deliveries finished
// (delivered or failed) before cutoff, with their log.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		old := "SELECT id FROM webhook_deliveries WHERE status <> ? AND updated_at < ?"
		if err := tx.Exec("DELETE FROM webhook_attempts WHERE delivery_id IN ("+old+")", DeliveryPending, cutoff).Error; err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM webhook_deliveries WHERE status <> ? AND updated_at < ?", DeliveryPending, cutoff)
		n = res.RowsAffected
		return res.Error
	})
	return n, mapErr(err)
}
