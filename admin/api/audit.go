package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// auditFilter reads the filters of an audit listing: ?action= (a prefix,
// such as client.), ?actor=, ?target=, ?client=, ?outcome=, ?ip=,
// ?request_id= (the reference of an error page or answer), ?since= and
// ?until= (RFC 3339).
func auditFilter(c echo.Context) (admin.AuditFilter, error) {
	var f admin.AuditFilter
	var err error
	if f.Action, err = query(c, "action", 100); err != nil {
		return f, err
	}
	if f.ActorID, err = query(c, "actor", 256); err != nil {
		return f, err
	}
	if f.TargetID, err = query(c, "target", 256); err != nil {
		return f, err
	}
	if f.ClientID, err = query(c, "client", 256); err != nil {
		return f, err
	}
	if f.RequestID, err = query(c, "request_id", 256); err != nil {
		return f, err
	}
	if f.Outcome, err = query(c, "outcome", 20); err != nil {
		return f, err
	}
	if f.Outcome != "" && !slices.Contains(tenants.AuditOutcomes, f.Outcome) {
		return f, badRequest("outcome", "must be one of "+strings.Join(tenants.AuditOutcomes, ", "))
	}
	if f.IPAddress, err = query(c, "ip", 64); err != nil {
		return f, err
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := c.QueryParam(p.name)
		if v == "" {
			continue
		}
		if *p.dst, err = time.Parse(time.RFC3339, v); err != nil {
			return f, badRequest(p.name, "must be a time in RFC 3339 form, such as 2025-01-31T09:00:00Z")
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, badRequest("until", "must be after since")
	}
	return f, nil
}

// errClientGone stops an export whose caller went away.
var errClientGone = errors.New("the client went away")

// listAudit answers a page of the tenant's audit log, newest first; next
// is the ?before= of the following page.
func (h *Handler) listAudit(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	n, err := limit(c)
	if err != nil {
		return err
	}
	if f.Before, err = cursor(c, "before"); err != nil {
		return err
	}
	f.Limit = n + 1
	evs, err := h.svc.AuditLog(ctx, f)
	if err != nil {
		return err
	}
	page := items(evs)
	if len(evs) > n {
		page.Items = evs[:n]
		page.Next = encodeCursor(evs[n-1].ID)
	}
	return c.JSON(http.StatusOK, page)
}

// exportPage is how many events the export reads at a time.
const exportPage = 500

// exportAudit streams every event matching the filters, newest first, as
// JSON lines (application/x-ndjson), reading the log a page at a time so
// that a long log is never held in memory.
func (h *Handler) exportAudit(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	f.Limit = exportPage
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
				return errClientGone
			}
		}
		res.Flush()
		return nil
	})
	switch {
	case err == nil || errors.Is(err, errClientGone):
		return nil
	case enc == nil:
		return err // nothing written yet: a problem document
	default:
		// The answer has begun: abort it, so that the caller sees a
		// broken transfer rather than a complete-looking short export.
		tenants.Logger(ctx).ErrorContext(ctx, "audit export", "tenant", t.Slug, "err", err)
		panic(http.ErrAbortHandler)
	}
}
