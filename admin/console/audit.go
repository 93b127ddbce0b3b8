package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
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

// auditQuery is the audit page's filters as read from its query string.
type auditQuery struct {
	action, actor, client, outcome, ip, since, until string
}

func (q auditQuery) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"action": q.action, "actor": q.actor, "client": q.client, "outcome": q.outcome,
		"ip": q.ip, "since": q.since, "until": q.until} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// auditDay is how the page's date filters are written (an <input
// type=date>), read as UTC days.
const auditDay = "2006-01-02"

// readAuditQuery checks the filters; a value no event could match is a
// 404, as a bad id is elsewhere in the console.
func readAuditQuery(c echo.Context) (auditQuery, admin.AuditFilter, error) {
	q := auditQuery{action: strings.TrimSpace(c.QueryParam("action")), actor: strings.TrimSpace(c.QueryParam("actor")),
		client: strings.TrimSpace(c.QueryParam("client")), outcome: c.QueryParam("outcome"), ip: strings.TrimSpace(c.QueryParam("ip")),
		since: c.QueryParam("since"), until: c.QueryParam("until")}
	f := admin.AuditFilter{Action: q.action, ActorID: q.actor, ClientID: q.client, Outcome: q.outcome, IPAddress: q.ip}
	if len(q.action) > 100 || len(q.actor) > 200 || len(q.client) > 200 || len(q.ip) > 64 ||
		q.outcome != "" && !slices.Contains(tenants.AuditOutcomes, q.outcome) {
		return q, f, notFound()
	}
	var err error
	if q.since != "" {
		if f.Since, err = time.Parse(auditDay, q.since); err != nil {
			return q, f, notFound()
		}
	}
	if q.until != "" {
		if f.Until, err = time.Parse(auditDay, q.until); err != nil {
			return q, f, notFound()
		}
		f.Until = f.Until.AddDate(0, 0, 1) // the whole day
	}
	return q, f, nil
}

func (h *Handler) audit(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	q, f, err := readAuditQuery(c)
	if err != nil {
		return err
	}
	before, back := c.QueryParam("before"), backTrail(c)
	f.Before, f.Limit = before, pageSize+1
	evs, err := h.svc.AuditLog(ctx, f)
	if err != nil {
		return err
	}
	next := ""
	if len(evs) > pageSize {
		evs = evs[:pageSize]
		next = evs[pageSize-1].ID
	}
	names, err := h.svc.AuditNames(ctx, evs)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "Audit log", "audit", t)
	if err != nil {
		return err
	}
	filters := q.values()
	v := vc.AuditView{Page: pg, Action: q.action, Actor: q.actor, Client: q.client, IP: q.ip, Since: q.since, Until: q.until,
		Filtered: len(filters) > 0, Export: vc.TenantURL(t.Slug, "/audit/export") + "?" + filters.Encode()}
	v.Outcomes = append(v.Outcomes, vc.Option{Value: "", Label: "Any outcome"})
	for _, o := range tenants.AuditOutcomes {
		v.Outcomes = append(v.Outcomes, vc.Option{Value: o, Label: o, Selected: o == q.outcome})
	}
	known := false
	for _, o := range auditActions {
		o.Selected = o.Value == q.action
		known = known || o.Selected
		v.Actions = append(v.Actions, o)
	}
	if q.action != "" && !known {
		v.Actions = append(v.Actions, vc.Option{Value: q.action, Label: q.action + "*", Selected: true})
	}
	only := func(key, value string) string {
		w := q.values()
		w.Set(key, value)
		return vc.TenantURL(t.Slug, "/audit") + "?" + w.Encode()
	}
	for _, e := range evs {
		row := vc.AuditRow{Time: whenExact(e.Time), Action: e.Action, Actor: e.ActorName, Outcome: e.Outcome, Reason: e.Reason, IP: e.IPAddress,
			Reference: e.RequestID}
		if row.Actor == "" {
			row.Actor = e.ActorKind + " " + e.ActorID
		}
		if e.ActorID != "" && e.ActorID != q.actor {
			row.ActorLink = only("actor", e.ActorID)
		}
		if e.IPAddress != "" && e.IPAddress != q.ip {
			row.IPLink = only("ip", e.IPAddress)
		}
		if e.TargetType != "" {
			row.Target = e.TargetType + " " + e.TargetID
			row.TargetName = names[e.TargetType][e.TargetID]
		}
		if e.ClientID != "" && e.ClientID != e.TargetID {
			row.Client, row.ClientName = e.ClientID, names["client"][e.ClientID]
			if e.ClientID != q.client {
				row.ClientLink = only("client", e.ClientID)
			}
		}
		if section, ok := targetSections[e.TargetType]; ok && e.TargetID != "" && !strings.HasSuffix(e.Action, ".deleted") {
			row.TargetLink = vc.TenantURL(t.Slug, section+"/"+url.PathEscape(e.TargetID))
		}
		row.Changes = fieldChanges(e.Before, e.After)
		v.Rows = append(v.Rows, row)
	}
	v.Pager = pager(filters, vc.TenantURL(t.Slug, "/audit"), "before", before, back, next)
	return render(c, http.StatusOK, vc.Audit(v))
}

// auditExport downloads the events the page's filters match, every page
// of them, as NDJSON (the management API's export format).
func (h *Handler) auditExport(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	_, f, err := readAuditQuery(c)
	if err != nil {
		return err
	}
	res := c.Response()
	var enc *json.Encoder
	err = h.svc.AuditPages(ctx, f, func(evs []*admin.AuditEvent) error {
		if enc == nil {
			res.Header().Set(echo.HeaderContentType, "application/x-ndjson")
			res.Header().Set("Content-Disposition", `attachment; filename="audit-`+t.Slug+`.ndjson"`)
			res.WriteHeader(http.StatusOK)
			enc = json.NewEncoder(res)
		}
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				return errGone
			}
		}
		return nil
	})
	switch {
	case err == nil || errors.Is(err, errGone):
		return nil
	case enc == nil:
		return err
	default:
		tenants.Logger(ctx).ErrorContext(ctx, "console audit export", "tenant", t.Slug, "err", err)
		panic(http.ErrAbortHandler) // a broken transfer, not a short file
	}
}

var errGone = errors.New("the browser went away")

// maxFieldChanges bounds the fields one event shows.
const maxFieldChanges = 60

// fieldChanges compares an event's before and after views field by field:
// objects are walked to dotted paths (settings.mfa_policy), any other
// value (a list, a string) is one field shown as JSON; only fields that
// differ are listed, in path order.
func fieldChanges(before, after json.RawMessage) []vc.FieldChange {
	if len(before) == 0 && len(after) == 0 {
		return nil
	}
	b, a := map[string]string{}, map[string]string{}
	flatten("", before, b)
	flatten("", after, a)
	var paths []string
	for p := range b {
		paths = append(paths, p)
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []vc.FieldChange
	for _, p := range paths {
		was, wasOK := b[p]
		now, nowOK := a[p]
		if wasOK && nowOK && was == now {
			continue
		}
		if len(out) == maxFieldChanges {
			out = append(out, vc.FieldChange{Field: "…", Before: "", After: "more fields changed: export the event to see them all"})
			break
		}
		out = append(out, vc.FieldChange{Field: p, Before: was, After: now, Added: !wasOK, Removed: !nowOK})
	}
	return out
}

// flatten writes raw's fields into out by dotted path; a value that is
// not an object is one field at prefix.
func flatten(prefix string, raw json.RawMessage, out map[string]string) {
	if len(raw) == 0 {
		return
	}
	var obj map[string]json.RawMessage
	if raw[0] == '{' && json.Unmarshal(raw, &obj) == nil {
		for k, v := range obj {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, v, out)
		}
		if len(obj) > 0 || prefix == "" {
			return
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return
	}
	if prefix == "" {
		prefix = "value"
	}
	out[prefix] = buf.String()
}
