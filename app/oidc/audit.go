package oidc

import (
	"context"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Token events of the audit log. The request's address, user agent and id
// come from ctx; never a token.
const (
	auditTokenIssued   = "token.issued"
	auditTokenRevoked  = "token.revoked"
	auditCodeReplayed  = "token.code_replayed"
	auditRefreshReused = "token.refresh_reused"
	// auditTokenExchanged: a token exchange (RFC 8693) issued a token; the
	// actor is the client, the target the subject.
	auditTokenExchanged = "token.exchanged"
	// auditAssertionReplayed: a client assertion's jti came back.
	auditAssertionReplayed = "token.assertion_replayed"
)

// audit writes a token event, about subject (a user id, or the client's
// own id for client credentials), to the log of the tenant in ctx. A
// failure is logged: the token endpoint's answer does not wait on it.
func (p *Provider) audit(ctx context.Context, action, clientID, subject, outcome, reason string) {
	ev := tokenEvent(action, clientID, subject, outcome, reason)
	if err := p.store.AppendAudit(ctx, ev); err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "write audit event", "action", action, "err", err)
	}
}

// tokenEvent is a token event about subject (a user id, or the client's own
// id for client credentials).
func tokenEvent(action, clientID, subject, outcome, reason string) *tenants.AuditEvent {
	targetType := "user"
	if subject == clientID {
		targetType = "client"
	}
	return &tenants.AuditEvent{Action: action, ActorKind: "client", ActorID: clientID, ActorName: clientID,
		TargetType: targetType, TargetID: subject, ClientID: clientID, Outcome: outcome, Reason: reason}
}
