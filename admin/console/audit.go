package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// auditActions are the action prefixes the audit log can be filtered by.
var auditActions = []vc.Option{
	{Value: "login.", Label: "Sign-ins and failures (login.*)"},
	{Value: "mfa.", Label: "Second factors (mfa.*)"},
	{Value: "password.", Label: "Password changes and resets (password.*)"},
	{Value: "email.", Label: "Email verification and changes (email.*)"},
	{Value: "signup.", Label: "Sign-ups (signup.*)"},
	{Value: "token.", Label: "Tokens issued, revoked, replayed (token.*)"},
	{Value: "identity.", Label: "Linked identities (identity.*)"},
	{Value: "federation.", Label: "Rejected upstream sign-ins (federation.*)"},
	{Value: "connection.", Label: "Connections (connection.*)"},
	{Value: "tenant.", Label: "Tenant settings (tenant.*)"},
	{Value: "client.", Label: "Applications (client.*)"},
	{Value: "api.", Label: "APIs (api.*)"},
	{Value: "user.", Label: "Users (user.*)"},
	{Value: "session.", Label: "Sessions (session.*)"},
	{Value: "consent.", Label: "Consents (consent.*)"},
	{Value: "key.", Label: "Signing keys (key.*)"},
	{Value: "admin.", Label: "Administration and denied access (admin.*)"},
}

// targetSections are the console pages of the things audit events name.
var targetSections = map[string]string{"user": "/users", "client": "/applications", "api": "/apis", "connection": "/connections", "webhook": "/webhooks", "saml_app": "/saml-apps"}

func (h *Handler) audit(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	action, actor := strings.TrimSpace(c.QueryParam("action")), strings.TrimSpace(c.QueryParam("actor"))
	before, back := c.QueryParam("before"), backTrail(c)
	if len(action) > 100 || len(actor) > 200 {
		return notFound()
	}
	evs, err := h.svc.AuditLog(ctx, admin.AuditFilter{Action: action, ActorID: actor, Before: before, Limit: pageSize + 1})
	if err != nil {
		return err
	}
	next := ""
	if len(evs) > pageSize {
		evs = evs[:pageSize]
		next = evs[pageSize-1].ID
	}
	pg, err := h.page(c, "Audit log", "audit", t)
	if err != nil {
		return err
	}
	v := vc.AuditView{Page: pg, Action: action, Actor: actor, Filtered: action != "" || actor != ""}
	known := false
	for _, o := range auditActions {
		o.Selected = o.Value == action
		known = known || o.Selected
		v.Actions = append(v.Actions, o)
	}
	if action != "" && !known {
		v.Actions = append(v.Actions, vc.Option{Value: action, Label: action + "*", Selected: true})
	}
	for _, e := range evs {
		row := vc.AuditRow{Time: when(e.Time), Action: e.Action, Actor: e.ActorName, Outcome: e.Outcome, Reason: e.Reason, IP: e.IPAddress}
		if row.Actor == "" {
			row.Actor = e.ActorKind + " " + e.ActorID
		}
		if e.ActorID != "" && e.ActorID != actor {
			row.ActorLink = vc.TenantURL(t.Slug, "/audit") + "?" + url.Values{"actor": {e.ActorID}}.Encode()
		}
		if e.TargetType != "" {
			row.Target = e.TargetType + " " + e.TargetID
		}
		if e.ClientID != "" && e.ClientID != e.TargetID {
			row.Client = e.ClientID
		}
		if section, ok := targetSections[e.TargetType]; ok && e.TargetID != "" && !strings.HasSuffix(e.Action, ".deleted") {
			row.TargetLink = vc.TenantURL(t.Slug, section+"/"+url.PathEscape(e.TargetID))
		}
		row.Changes = changes(e.Before, e.After)
		row.HasChanges = row.Changes != ""
		v.Rows = append(v.Rows, row)
	}
	v.Pager = pager(url.Values{"action": {action}, "actor": {actor}}, vc.TenantURL(t.Slug, "/audit"), "before", before, back, next)
	return render(c, http.StatusOK, vc.Audit(v))
}

// changes shows an event's before and after views as indented JSON.
func changes(before, after json.RawMessage) string {
	var b strings.Builder
	for _, part := range []struct {
		label string
		raw   json.RawMessage
	}{{"before", before}, {"after", after}} {
		if len(part.raw) == 0 {
			continue
		}
		var buf bytes.Buffer
		if json.Indent(&buf, part.raw, "", "  ") != nil {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(part.label + ": " + buf.String())
	}
	return b.String()
}
