package tenants

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// retryReads is the store's connection pool on PostgreSQL, and the one
// place a statement is tried again: a read-only query that fails because
// its connection dropped (the server restarted, a proxy or the network
// reset it) is sent once more, on another connection, so that a blip
// costs a reader nothing.
//
// Only what may be sent twice is: a statement outside a transaction (a
// transaction runs on a *sql.Tx that BeginTx hands out, never through
// retryReads) that readOnly accepts. Writes (ExecContext, an INSERT ...
// RETURNING), a timeout, a refused connection and a query whose context
// ended are never retried. database/sql itself already retries a
// statement the driver could not send at all (driver.ErrBadConn); this
// covers the one sent and then cut before its answer.
type retryReads struct {
	db *sql.DB
	// retried, if set, hears of every read sent again (Store.ObserveReadRetries).
	retried func()
}

var (
	_ gorm.ConnPool       = (*retryReads)(nil)
	_ gorm.TxBeginner     = (*retryReads)(nil)
	_ gorm.GetDBConnector = (*retryReads)(nil)
)

// PrepareContext implements gorm.ConnPool.
func (p *retryReads) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

// ExecContext implements gorm.ConnPool; a write is never sent twice.
func (p *retryReads) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, query, args...)
}

// QueryContext implements gorm.ConnPool.
func (p *retryReads) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := p.db.QueryContext(ctx, query, args...)
	if err != nil && p.retry(ctx, query, err) {
		return p.db.QueryContext(ctx, query, args...)
	}
	return rows, err
}

// QueryRowContext implements gorm.ConnPool.
func (p *retryReads) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	row := p.db.QueryRowContext(ctx, query, args...)
	if err := row.Err(); err != nil && p.retry(ctx, query, err) {
		return p.db.QueryRowContext(ctx, query, args...)
	}
	return row
}

// BeginTx implements gorm.TxBeginner: the statements of a transaction go
// to the *sql.Tx, so none of them is retried.
func (p *retryReads) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return p.db.BeginTx(ctx, opts)
}

// GetDBConn implements gorm.GetDBConnector (Store.SQLDB).
func (p *retryReads) GetDBConn() (*sql.DB, error) { return p.db, nil }

// retry reports whether query, which failed with err, is to be sent again.
func (p *retryReads) retry(ctx context.Context, query string, err error) bool {
	if ctx.Err() != nil || !droppedConnection(err) || !readOnly(query) {
		return false
	}
	if p.retried != nil {
		p.retried()
	}
	return true
}

// ObserveReadRetries makes fn hear of every read the store sends again
// after its connection dropped (PostgreSQL; SQLite connections do not
// drop). Set it before the store is used; fn must be cheap and safe for
// concurrent use.
func (s *Store) ObserveReadRetries(fn func()) {
	if p, ok := s.db.ConnPool.(*retryReads); ok {
		p.retried = fn
	}
}

// droppedConnection reports whether err says that a connection which was
// open broke (reset, closed, the server shut it down), as opposed to a
// database that is slow (a timeout: trying again only adds load), one that
// refuses connections (it is down: the caller answers 503), or a query
// that was wrong.
func droppedConnection(err error) bool {
	if !Unavailable(err) {
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &netErr) && netErr.Timeout():
		return false
	}
	return true
}

// sideEffects are the functions a SELECT of ours may call that change
// something; a statement naming one is not read-only.
var sideEffects = []string{"nextval(", "setval(", "pg_notify(", "pg_advisory", "set_config(", "pg_terminate", "pg_cancel"}

// readOnly reports whether query only reads: a single SELECT (no WITH,
// whose parts may write), with no row lock, no INTO and none of
// sideEffects. It errs on the side of no: a statement it refuses is
// simply not retried.
func readOnly(query string) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	if !strings.HasPrefix(q, "select") || len(q) > len("select") && !isSpace(q[len("select")]) {
		return false
	}
	if strings.Contains(strings.TrimSuffix(q, ";"), ";") {
		return false
	}
	for _, word := range []string{" for update", " for no key update", " for share", " for key share", " into "} {
		if strings.Contains(strings.Join(strings.Fields(q), " "), word) {
			return false
		}
	}
	for _, fn := range sideEffects {
		if strings.Contains(q, fn) {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }
