package admin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/webhook"
)

// WebhookSecretOverlap is how long the previous signing secret of an
// endpoint keeps signing deliveries after a rotation: receivers switch to
// the new one within it without rejecting a delivery.
const WebhookSecretOverlap = 24 * time.Hour

// Bounds of an endpoint.
const (
	maxWebhookURL    = 2048
	maxWebhookEvents = 64
	maxWebhooks      = 20
)

// Webhook is the public view of a webhook endpoint. Secret is set only in
// the answer that creates or rotates it.
type Webhook struct {
	ID                    string     `json:"id"`
	URL                   string     `json:"url"`
	Events                []string   `json:"events"`
	Enabled               bool       `json:"enabled"`
	Secret                string     `json:"secret,omitempty" doc:"the signing secret (whsec_...), in the answer that creates or rotates it only"`
	PreviousSecretExpires *time.Time `json:"previous_secret_expires_at,omitempty" doc:"until when the previous secret signs deliveries too, after a rotation"`
	FailingSince          *time.Time `json:"failing_since,omitempty" doc:"when deliveries started failing without a success since"`
	DisabledReason        string     `json:"disabled_reason,omitempty" doc:"why Gatehouse disabled the endpoint (after a day of failures)"`
	CreatedAt             time.Time  `json:"created_at"`
	UpdatedAt             time.Time  `json:"updated_at"`
}

// WebhookDelivery is a delivery of an event to an endpoint, with its log.
type WebhookDelivery struct {
	ID             string           `json:"id"`
	EventID        string           `json:"event_id" doc:"the event's id: the payload's id and the webhook-id header"`
	EventType      string           `json:"event_type"`
	Status         string           `json:"status" doc:"pending, delivered or failed"`
	Attempts       int              `json:"attempts"`
	NextAttemptAt  *time.Time       `json:"next_attempt_at,omitempty"`
	LastStatusCode int              `json:"last_status_code,omitempty"`
	LastError      string           `json:"last_error,omitempty"`
	Payload        string           `json:"payload" doc:"the JSON body sent"`
	CreatedAt      time.Time        `json:"created_at"`
	DeliveredAt    *time.Time       `json:"delivered_at,omitempty"`
	Log            []WebhookAttempt `json:"log"`
}

// WebhookAttempt is one attempt at a delivery.
type WebhookAttempt struct {
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// WebhookInput is a new or changed endpoint; on update a nil field stays.
type WebhookInput struct {
	URL     *string
	Events  []string
	Enabled *bool
}

func (s *Service) webhooks() (*webhook.Sealer, error) {
	if s.webhookSealer == nil || s.upstream == nil {
		return nil, errors.New("webhooks are not available in this build")
	}
	return s.webhookSealer, nil
}

// ListWebhooks returns the webhook endpoints of the tenant in ctx.
func (s *Service) ListWebhooks(ctx context.Context) ([]*Webhook, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	ws, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Webhook, len(ws))
	for i := range ws {
		out[i] = webhookView(&ws[i], "")
	}
	return out, nil
}

// GetWebhook returns an endpoint of the tenant in ctx.
func (s *Service) GetWebhook(ctx context.Context, id string) (*Webhook, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	w, err := s.store.WebhookByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return webhookView(w, ""), nil
}

// CreateWebhook adds an endpoint to the tenant in ctx; the answer holds its
// signing secret, which is never shown again.
func (s *Service) CreateWebhook(ctx context.Context, in WebhookInput) (*Webhook, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	sealer, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	if in.URL == nil {
		return nil, tenants.Invalid("url", "is required")
	}
	if in.Events == nil {
		return nil, tenants.Invalid("events", "is required: the event types to deliver, or [\"*\"] for all")
	}
	existing, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	if len(existing) >= maxWebhooks {
		return nil, tenants.Invalid("url", "a tenant has at most %d webhook endpoints", maxWebhooks)
	}
	w := &tenants.WebhookEndpoint{ID: tenants.NewRandomID(), Enabled: true}
	if err := s.applyWebhook(ctx, w, in); err != nil {
		return nil, err
	}
	whsec := webhook.NewSecret()
	w.SecretSealed = sealer.Seal(t.ID, w.ID, whsec)
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return nil, err
	}
	v := webhookView(w, "")
	if err := s.audit(ctx, t, tenants.ActionWebhookCreated, "webhook", w.ID, nil, v); err != nil {
		return nil, err
	}
	return webhookView(w, whsec), nil
}

// UpdateWebhook changes an endpoint of the tenant in ctx. Enabling it again
// forgets its failures.
func (s *Service) UpdateWebhook(ctx context.Context, id string, in WebhookInput) (*Webhook, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if _, err := s.webhooks(); err != nil {
		return nil, err
	}
	w, err := s.store.WebhookByID(ctx, id)
	if err != nil {
		return nil, err
	}
	before := webhookView(w, "")
	if err := s.applyWebhook(ctx, w, in); err != nil {
		return nil, err
	}
	if in.Enabled != nil && !*in.Enabled {
		w.DisabledReason = ""
	}
	if err := s.store.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	v := webhookView(w, "")
	return v, s.audit(ctx, t, tenants.ActionWebhookUpdated, "webhook", w.ID, before, v)
}

// RotateWebhookSecret gives an endpoint of the tenant in ctx a new signing
// secret, in the answer only; the current one keeps signing deliveries
// (alongside) for WebhookSecretOverlap.
func (s *Service) RotateWebhookSecret(ctx context.Context, id string) (*Webhook, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	sealer, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	w, err := s.store.WebhookByID(ctx, id)
	if err != nil {
		return nil, err
	}
	cur, err := sealer.Open(t.ID, w.ID, w.SecretSealed)
	if err != nil {
		return nil, err
	}
	whsec := webhook.NewSecret()
	until := s.store.Now().Add(WebhookSecretOverlap)
	w.PreviousSecretSealed, w.PreviousSecretUntil = sealer.Seal(t.ID, w.ID, cur), &until
	w.SecretSealed = sealer.Seal(t.ID, w.ID, whsec)
	if err := s.store.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, t, tenants.ActionWebhookSecretRotated, "webhook", w.ID, nil, webhookView(w, "")); err != nil {
		return nil, err
	}
	return webhookView(w, whsec), nil
}

// DeleteWebhook deletes an endpoint of the tenant in ctx with its
// deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, id string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	w, err := s.store.WebhookByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	return s.audit(ctx, t, tenants.ActionWebhookDeleted, "webhook", id, webhookView(w, ""), nil)
}

// WebhookDeliveries returns the newest deliveries to an endpoint of the
// tenant in ctx, with their log, newest first; before is the id of the
// last delivery of the previous page ("" for the first).
func (s *Service) WebhookDeliveries(ctx context.Context, id, before string, limit int) ([]*WebhookDelivery, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	ds, err := s.store.ListWebhookDeliveries(ctx, id, before, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*WebhookDelivery, len(ds))
	for i := range ds {
		as, err := s.store.ListWebhookAttempts(ctx, id, ds[i].ID)
		if err != nil {
			return nil, err
		}
		out[i] = deliveryView(&ds[i], as)
	}
	return out, nil
}

// RedeliverWebhook sends a delivery to an endpoint of the tenant in ctx
// again, as soon as the dispatcher gets to it, with the same event id.
func (s *Service) RedeliverWebhook(ctx context.Context, id, deliveryID string) (*WebhookDelivery, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	d, err := s.store.RedeliverWebhook(ctx, id, deliveryID)
	if err != nil {
		return nil, err
	}
	as, err := s.store.ListWebhookAttempts(ctx, id, deliveryID)
	if err != nil {
		return nil, err
	}
	after := map[string]string{"delivery": d.ID, "event_id": d.EventID, "event_type": d.EventType}
	return deliveryView(d, as), s.audit(ctx, t, tenants.ActionWebhookRedelivered, "webhook", id, nil, after)
}

// applyWebhook validates in and applies it to w.
func (s *Service) applyWebhook(ctx context.Context, w *tenants.WebhookEndpoint, in WebhookInput) error {
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if u == "" || len(u) > maxWebhookURL {
			return tenants.Invalid("url", "must be an https URL of at most %d characters", maxWebhookURL)
		}
		if _, err := s.upstream.CheckPushURL(ctx, u); err != nil {
			return tenants.Invalid("url", "must be an https URL (without a user name or password) of a host this server sends to; "+
				"http, loopback and private addresses only for hosts in GATEHOUSE_UPSTREAM_ALLOW_HOSTS")
		}
		w.URL = u
	}
	if in.Events != nil {
		evs, err := webhookEvents(in.Events)
		if err != nil {
			return err
		}
		w.Events = evs
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
	}
	return nil
}

// webhookEvents validates a list of event types: known ones or "*", at
// least one, deduplicated.
func webhookEvents(in []string) (tenants.Strings, error) {
	if len(in) == 0 {
		return nil, tenants.Invalid("events", "must name at least one event type, or \"*\" for all")
	}
	if len(in) > maxWebhookEvents {
		return nil, tenants.Invalid("events", "must name at most %d event types", maxWebhookEvents)
	}
	known := tenants.WebhookEventTypes()
	out := tenants.Strings{}
	for _, e := range in {
		e = strings.TrimSpace(e)
		if e != tenants.WebhookAllEvents && !slices.Contains(known, e) {
			return nil, tenants.Invalid("events", "unknown event type %q (known: %s, or *)", tenants.Truncate(e, 64), strings.Join(known, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func webhookView(w *tenants.WebhookEndpoint, whsec string) *Webhook {
	v := &Webhook{ID: w.ID, URL: w.URL, Events: append([]string{}, w.Events...), Enabled: w.Enabled, Secret: whsec,
		FailingSince: w.FailingSince, DisabledReason: w.DisabledReason, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if w.PreviousSecretUntil != nil && len(w.PreviousSecretSealed) > 0 {
		v.PreviousSecretExpires = w.PreviousSecretUntil
	}
	return v
}

func deliveryView(d *tenants.WebhookDelivery, as []tenants.WebhookAttempt) *WebhookDelivery {
	v := &WebhookDelivery{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Status: d.Status, Attempts: d.Attempts,
		LastStatusCode: d.LastStatusCode, LastError: d.LastError, Payload: d.Payload, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt,
		Log: make([]WebhookAttempt, len(as))}
	if d.Status == tenants.DeliveryPending {
		next := d.NextAttemptAt
		v.NextAttemptAt = &next
	}
	for i, a := range as {
		v.Log[i] = WebhookAttempt{At: a.AttemptedAt, StatusCode: a.StatusCode, Error: a.Error, DurationMS: a.DurationMS}
	}
	return v
}
