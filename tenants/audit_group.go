package tenants

import (
	"context"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// maxAuditGroup bounds the events one grouped insert writes.
const maxAuditGroup = 256

// auditGroup is group commit for audit events: concurrent appends are
// written by one multi-row INSERT, one commit for many events. Every caller
// returns only once the insert that holds its event committed (or failed),
// so an event is as durable as with AppendAudit; a caller that finds no
// insert running writes at once and waits for nobody.
type auditGroup struct {
	store *Store

	mu      sync.Mutex
	pending []*groupedAudit
	writing bool
}

type groupedAudit struct {
	ev   *AuditEvent
	done chan error
	// err is this event's own refusal (its client is gone).
	err error
}

// AppendAuditGrouped appends ev to the audit log of its tenant (of ctx, when
// ev names none) like AppendAudit, sharing the insert with the events other
// requests append at the same moment. It is the hot path's way to audit:
// under load, one commit carries many token events. An event that names a
// client (ClientID) is refused with ErrNotFound, and not written, when that
// client no longer exists: the token it records must not be issued (a node
// may still cache a client another node deleted). The batch checks its
// clients with one query. A caller whose ctx ends first gets ctx.Err(), and
// its event may still be written.
func (s *Store) AppendAuditGrouped(ctx context.Context, ev *AuditEvent) error {
	if InTransaction(ctx) {
		// The group's insert must not join (or wait for) the caller's
		// transaction: the event is written in it, alone.
		return s.AppendAudit(ctx, ev)
	}
	if err := s.prepareAudit(ctx, ev); err != nil {
		return err
	}
	g := s.audits
	item := &groupedAudit{ev: ev, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, item)
	lead := !g.writing
	g.writing = true
	g.mu.Unlock()
	if lead {
		// The request's deadline must not fail the events of others.
		g.write(context.WithoutCancel(ctx))
	}
	select {
	case err := <-item.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write inserts one batch of what is pending, which holds the leading
// caller's own event (nothing was pending when it took the lead); what
// arrived meanwhile is written by a goroutine that carries on until nothing
// is pending, so that the leading caller returns after its own commit.
func (g *auditGroup) write(ctx context.Context) {
	g.writeBatch(ctx)
	if g.more() {
		go func() {
			for {
				g.writeBatch(ctx)
				if !g.more() {
					return
				}
			}
		}()
	}
}

// more reports whether events are pending; if none are, the group stops
// writing and the next caller leads.
func (g *auditGroup) more() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) == 0 {
		g.writing = false
		return false
	}
	return true
}

func (g *auditGroup) writeBatch(ctx context.Context) {
	g.mu.Lock()
	n := min(len(g.pending), maxAuditGroup)
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()
	if n == 0 {
		return
	}
	err := g.store.tx(ctx, func(tx *gorm.DB) error {
		gone, err := missingClients(tx, batch)
		if err != nil {
			return err
		}
		events := make([]*AuditEvent, 0, n)
		for _, it := range batch {
			if gone[clientKey{it.ev.TenantID, it.ev.ClientID}] {
				it.err = ErrNotFound
				continue
			}
			events = append(events, it.ev)
		}
		if len(events) == 0 {
			return nil
		}
		return g.store.insertAudits(tx, g.store.now(), events)
	})
	if err != nil && n > 1 {
		// One bad event must not fail the others: write them one by one,
		// each with its own answer.
		for _, it := range batch {
			if it.err == nil {
				it.err = mapErr(g.store.tx(ctx, func(tx *gorm.DB) error {
					return g.store.insertAudits(tx, g.store.now(), []*AuditEvent{it.ev})
				}))
			}
			it.done <- it.err
		}
		return
	}
	err = mapErr(err)
	for _, it := range batch {
		if it.err != nil {
			it.done <- it.err
			continue
		}
		it.done <- err
	}
}

type clientKey struct{ tenantID, clientID string }

// missingClients returns the clients named by events of batch that do not
// exist, with one query.
func missingClients(tx *gorm.DB, batch []*groupedAudit) (map[clientKey]bool, error) {
	want := map[clientKey]bool{}
	var where []string
	var args []any
	for _, it := range batch {
		k := clientKey{it.ev.TenantID, it.ev.ClientID}
		if k.clientID == "" || want[k] {
			continue
		}
		want[k] = true
		where = append(where, "(tenant_id = ? AND client_id = ?)")
		args = append(args, k.tenantID, k.clientID)
	}
	if len(where) == 0 {
		return nil, nil
	}
	var found []struct{ TenantID, ClientID string }
	if err := tx.Raw("SELECT tenant_id, client_id FROM clients WHERE "+strings.Join(where, " OR "), args...).Scan(&found).Error; err != nil {
		return nil, err
	}
	for _, f := range found {
		delete(want, clientKey{f.TenantID, f.ClientID})
	}
	return want, nil
}

// FlushAudit waits until every audit event appended with AppendAuditGrouped
// is written (or failed), or ctx ends: a node calls it after its last
// request and before it closes the store, so that no event of a caller
// that stopped waiting is lost.
func (s *Store) FlushAudit(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		g := s.audits
		g.mu.Lock()
		idle := !g.writing && len(g.pending) == 0
		g.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
