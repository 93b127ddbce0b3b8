package tenants

import (
	"encoding/json"
	"slices"
	"time"
)

// WebhookAllEvents subscribes an endpoint to every event type.
const WebhookAllEvents = "*"

// webhookEvents is the one vocabulary of webhook events: the audit action
// each event type announces. An audit action not listed announces nothing
// (the management of administrators, cross-tenant attempts). Names follow
// the resources a tenant's developers know: users, applications (OAuth
// clients), APIs, connections, tokens, consents.
var webhookEvents = map[string]string{
	"user.created":                 "user.created",
	"signup.completed":             "user.created",
	"user.provisioned":             "user.created",
	"user.updated":                 "user.updated",
	"profile.updated":              "user.updated",
	"user.profile_refreshed":       "user.updated",
	"user.disabled":                "user.disabled",
	"user.enabled":                 "user.enabled",
	"user.deleted":                 "user.deleted",
	"user.password_set":            "user.password_changed",
	"password.changed":             "user.password_changed",
	"password.reset":               "user.password_reset",
	"email.verified":               "user.email_verified",
	"email.changed":                "user.email_changed",
	"login.succeeded":              "user.signed_in",
	"login.failed":                 "user.sign_in_failed",
	"login.throttled":              "user.sign_in_throttled",
	"mfa.enrolled":                 "user.mfa_enrolled",
	"mfa.removed":                  "user.mfa_removed",
	"mfa.failed":                   "user.mfa_failed",
	"identity.linked":              "user.identity_linked",
	"identity.unlinked":            "user.identity_unlinked",
	"session.revoked":              "session.revoked",
	"consent.granted":              "consent.granted",
	"consent.denied":               "consent.denied",
	"consent.revoked":              "consent.revoked",
	"token.issued":                 "token.issued",
	"token.revoked":                "token.revoked",
	"token.refresh_reused":         "token.refresh_reused",
	"token.code_replayed":          "token.code_replayed",
	"token.exchanged":              "token.exchanged",
	"client.created":               "application.created",
	"client.updated":               "application.updated",
	"client.deleted":               "application.deleted",
	"client.secret_rotated":        "application.secret_rotated",
	"client.grants_changed":        "application.grants_changed",
	"api.created":                  "api.created",
	"api.updated":                  "api.updated",
	"api.deleted":                  "api.deleted",
	"connection.created":           "connection.created",
	"connection.updated":           "connection.updated",
	"connection.deleted":           "connection.deleted",
	"connection.groups_mapped":     "connection.updated",
	"federation.rejected":          "federation.rejected",
	"key.rotated":                  "key.rotated",
	"tenant.updated":               "tenant.updated",
	ActionWebhookCreated:           "webhook.created",
	ActionWebhookUpdated:           "webhook.updated",
	ActionWebhookDeleted:           "webhook.deleted",
	ActionWebhookDisabled:          "webhook.disabled",
	ActionWebhookSecretRotated:     "webhook.secret_rotated",
	"user.provisioning_refused":    "user.provisioning_refused",
	"mfa.recovery_code_used":       "user.recovery_code_used",
	"mfa.recovery_codes_created":   "user.recovery_codes_created",
	"email.verification_requested": "user.email_verification_requested",
}

// Audit actions of webhooks. ActionWebhookDisabled is Gatehouse's own:
// an endpoint that failed for a day is disabled.
const (
	ActionWebhookCreated       = "webhook.created"
	ActionWebhookUpdated       = "webhook.updated"
	ActionWebhookDeleted       = "webhook.deleted"
	ActionWebhookSecretRotated = "webhook.secret_rotated"
	ActionWebhookDisabled      = "webhook.disabled"
	// ActionWebhookRedelivered announces nothing: a redelivery is not
	// news to the receiver it goes to.
	ActionWebhookRedelivered = "webhook.redelivered"
)

// WebhookEventType returns the event type that announces the audit action,
// and whether there is one.
func WebhookEventType(action string) (string, bool) {
	t, ok := webhookEvents[action]
	return t, ok
}

// WebhookEventTypes returns every event type, sorted.
func WebhookEventTypes() []string {
	var out []string
	for _, t := range webhookEvents {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// webhookPayload is the JSON body of a delivery.
type webhookPayload struct {
	Type      string      `json:"type"`
	ID        string      `json:"id"`
	Timestamp string      `json:"timestamp"`
	Tenant    string      `json:"tenant"`
	Data      webhookData `json:"data"`
}

// webhookData is what an event says: who did what to what, and how it
// ended. It is built from the audit event's identifying columns only:
// never its before/after views, address or user agent, and so never a
// secret or a token (the audit log holds none either).
type webhookData struct {
	Action    string         `json:"action"`
	Outcome   string         `json:"outcome,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	Actor     *webhookObject `json:"actor,omitempty"`
	Target    *webhookObject `json:"target,omitempty"`
	ClientID  string         `json:"client_id,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
}

type webhookObject struct {
	Type string `json:"type,omitempty"`
	ID   string `json:"id,omitempty"`
}

// WebhookPayload returns the body of the delivery of ev as event type typ
// for the tenant with slug.
func WebhookPayload(ev *AuditEvent, typ, slug string) string {
	p := webhookPayload{Type: typ, ID: ev.ID, Timestamp: ev.OccurredAt.UTC().Format(time.RFC3339Nano), Tenant: slug,
		Data: webhookData{Action: ev.Action, Outcome: ev.Outcome, Reason: ev.Reason, ClientID: ev.ClientID, RequestID: ev.RequestID}}
	if ev.ActorKind != "" || ev.ActorID != "" {
		p.Data.Actor = &webhookObject{Type: ev.ActorKind, ID: ev.ActorID}
	}
	if ev.TargetType != "" || ev.TargetID != "" {
		p.Data.Target = &webhookObject{Type: ev.TargetType, ID: ev.TargetID}
	}
	b, _ := json.Marshal(p) // strings only: cannot fail
	return string(b)
}

// WebhookEventActions returns the audit actions event type typ announces,
// sorted.
func WebhookEventActions(typ string) []string {
	var out []string
	for a, t := range webhookEvents {
		if t == typ {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}
