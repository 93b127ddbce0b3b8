package cli

import (
	"context"
	"errors"

	"github.com/gatehouse-id/gatehouse/admin"
)

// auditList prints the newest events of a tenant's audit log that match
// the filters: "why did this sign-in fail?" is auditList --request-id
// with the reference an error page showed.
func auditList(ctx context.Context, env Env, args []string) error {
	f := newFlags("audit list", env).withOutput()
	var slug string
	var filter admin.AuditFilter
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&filter.RequestID, "request-id", "", "the `REFERENCE` an error page showed, or an answer's X-Request-ID")
	f.StringVar(&filter.Action, "action", "", "an `ACTION`, or a prefix of it such as token.")
	f.StringVar(&filter.ClientID, "client-id", "", "client_id the events are about")
	f.StringVar(&filter.ActorID, "actor", "", "`ID` of the actor (a user id or client_id)")
	f.StringVar(&filter.TargetID, "target", "", "`ID` of the target (user id, client_id, API id, kid...)")
	f.IntVar(&filter.Limit, "limit", 50, "at most N events, 1 to 1000")
	if err := f.parse(args); err != nil {
		return err
	}
	if filter.Limit < 1 || filter.Limit > 1000 {
		return errors.New("audit list: --limit must be 1 to 1000")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	evs, err := rt.admin.AuditLog(tctx, filter)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "events", evs, "time", "action", "outcome", "client_id", "reason", "ip_address", "request_id")
}
