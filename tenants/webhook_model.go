package tenants

import "time"

// WebhookEndpoint is a URL a tenant's events are delivered to (Standard
// Webhooks). The signing secret is sealed under the master key; after a
// rotation the previous secret signs too until PreviousSecretUntil, so
// that receivers can switch without losing a delivery.
type WebhookEndpoint struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	URL      string `gorm:"column:url"`
	// Events are the event types delivered (WebhookEventTypes), or "*"
	// for every one.
	Events               Strings
	Enabled              bool
	SecretSealed         []byte
	PreviousSecretSealed []byte
	PreviousSecretUntil  *time.Time
	// FailingSince is when the endpoint's deliveries started failing
	// without a success since; nil while it answers.
	FailingSince *time.Time
	// DisabledReason says why Gatehouse disabled the endpoint ("" when it
	// is enabled or an administrator disabled it).
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Subscribes reports whether the endpoint wants events of type typ.
func (w *WebhookEndpoint) Subscribes(typ string) bool {
	return w.Events.Contains(typ) || w.Events.Contains(WebhookAllEvents)
}

// Statuses of a webhook delivery.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one event to deliver to one endpoint: a row of the
// outbox, written in the transaction of the audit event it announces.
type WebhookDelivery struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	EndpointID string
	// EventID is the audit event's id, the payload's id and the
	// webhook-id header: the same on every attempt.
	EventID        string
	EventType      string
	Payload        string
	Attempts       int
	NextAttemptAt  time.Time
	Status         string
	LastStatusCode int
	LastError      string
	// ClaimToken and ClaimedUntil are the lease of the node sending it.
	ClaimToken   string
	ClaimedUntil *time.Time
	DeliveredAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// WebhookAttempt is one attempt at a delivery: the delivery log. It keeps
// the answer's status, never its body.
type WebhookAttempt struct {
	ID          string `gorm:"primaryKey"`
	TenantID    string
	EndpointID  string
	DeliveryID  string
	AttemptedAt time.Time
	StatusCode  int
	Error       string
	DurationMS  int64 `gorm:"column:duration_ms"`
}
