package oidc

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Refused protocol requests of the audit log: "why did this sign-in
// fail?". Each event carries the request's id (from ctx, as every event
// does), which is the reference an error page shows and the X-Request-ID
// of an error answer, so that an admin given a reference finds the event
// (the management API's audit log takes request_id) and the server's log
// line (request_id).
const (
	auditAuthorizeRejected = "authorize.rejected"
	auditTokenRejected     = "token.rejected"
)

// interactionCodes are authorization errors that are answers, not
// failures: a silent request (prompt=none) told to show the user a page.
// Single-page apps ask that on every load; they are not audited.
var interactionCodes = map[string]bool{
	"login_required": true, "consent_required": true, "interaction_required": true, "account_selection_required": true,
}

// maxRejectedClientID bounds the client id a refused request names, as
// written to the audit log: anyone may send any.
const maxRejectedClientID = 128

// rejected audits err, the refusal of an authorization or token request
// (action) that named clientID, and logs it at info: the error code and
// what the client or the page was told (never the internal cause, which
// the error handler logs, nor a code, token, secret or assertion). Server
// errors are the error handler's to log, and refusals for load (429, 503)
// are not failures of the request. A failure to write is logged; the
// answer does not wait on it.
func (p *Provider) rejected(ctx context.Context, action, clientID string, err error) {
	e := httperr.As(err)
	if e == nil || e.Status >= http.StatusInternalServerError || e.RetryAfter > 0 || interactionCodes[e.Code] {
		return
	}
	if _, ok := tenants.FromContext(ctx); !ok {
		return
	}
	code := e.Code
	if code == "" {
		code = httperr.InvalidRequest
	}
	reason := code
	if e.Description != "" {
		reason += ": " + e.Description
	}
	clientID = tenants.Truncate(clientID, maxRejectedClientID)
	ev := &tenants.AuditEvent{Action: action, ActorKind: "client", ActorID: clientID, ActorName: clientID,
		TargetType: "client", TargetID: clientID, ClientID: clientID, Outcome: "failure", Reason: reason}
	if werr := p.store.AppendAudit(ctx, ev); werr != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "write audit event", "action", action, "err", werr)
	}
	ref := ""
	if o, ok := tenants.OriginFrom(ctx); ok {
		ref = o.RequestID
	}
	tenants.Logger(ctx).InfoContext(ctx, "request refused", "action", action, "client_id", clientID, "error", code, "status", e.Status, "reference", ref)
}

// requestClientID is the client a token request names: the user of its
// Basic credentials, else its client_id (a client assertion's client may
// send it too).
func requestClientID(r *http.Request, form url.Values) string {
	if user, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil {
			return id
		}
		return user
	}
	return form.Get("client_id")
}
