package tenants

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Store is Gatehouse's storage: one implementation over GORM for PostgreSQL
// and SQLite. Methods on tenant-owned data act on the tenant carried by ctx.
type Store struct {
	db      *gorm.DB
	dialect string
	dsn     string // for connections of its own (LISTEN)
	now     func() time.Time
	// audits groups concurrent AppendAuditGrouped calls into one insert.
	audits *auditGroup
	// observeAudit, if set, hears of every audit event written.
	observeAudit func(action, outcome string)
}

// ObserveAudit makes fn hear of every audit event the store writes, by
// action and outcome, once its insert succeeded (the metrics count sign-ins,
// throttle locks, MFA and federation outcomes this way). Set it before the
// store is used; fn must be cheap and safe for concurrent use.
func (s *Store) ObserveAudit(fn func(action, outcome string)) { s.observeAudit = fn }

// SetClock replaces the store's clock, for tests of expiry.
func (s *Store) SetClock(now func() time.Time) { s.now = func() time.Time { return now().UTC() } }

// Now returns the store's current time (UTC).
func (s *Store) Now() time.Time { return s.now() }

// tenantID returns the id of the tenant carried by ctx.
func tenantID(ctx context.Context) (string, error) {
	t, ok := FromContext(ctx)
	if !ok || t.ID == "" {
		return "", ErrNoTenant
	}
	return t.ID, nil
}

// scoped is the one place tenant scoping happens: it returns a query bound to
// ctx and restricted to the tenant carried by ctx, with an explicit column
// condition (never a struct condition, whose zero values match every row).
func (s *Store) scoped(ctx context.Context, table string) (*gorm.DB, string, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.conn(ctx).Table(table).Where(table+".tenant_id = ?", tid), tid, nil
}

// tx runs fn in a transaction on ctx: inside Atomically, a nested one (a
// savepoint) of its transaction.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.conn(ctx).Transaction(fn)
}

// txKey carries the transaction of Atomically in a context.
type txKey struct{}

// conn is the database a method on ctx talks to: the transaction of
// Atomically when ctx carries one, else the store's pool.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// InTransaction reports whether ctx carries the transaction of Atomically.
func InTransaction(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// Atomically runs fn in one database transaction: every method of the
// store called with the context fn gets writes in it, so that either all
// of what fn did exists afterwards or, when fn returns an error (or
// panics), none of it does. Calls inside fn must use its context, and
// nothing inside fn may wait for another connection's write (SQLite has
// one writer). A nested Atomically joins the outer transaction.
func (s *Store) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if InTransaction(ctx) {
		return fn(ctx)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

// bumpRevision marks the tenant's cached configuration stale on every node.
func bumpRevision(tx *gorm.DB, tenantID string, now time.Time) error {
	_, err := updateTenant(tx, tenantID, now, nil)
	return err
}

// updateTenant is the one place a tenant's row changes: it saves fields (may
// be nil) and bumps the revision, so that every node drops what it cached of
// the tenant. It reports whether the tenant exists.
func updateTenant(tx *gorm.DB, tenantID string, now time.Time, fields map[string]any) (bool, error) {
	cols := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		cols[k] = v
	}
	cols["revision"] = gorm.Expr("revision + 1")
	cols["updated_at"] = now
	res := tx.Table("tenants").Where("id = ?", tenantID).Updates(cols)
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	return true, recordChange(tx, tenantID, now)
}

// ChangesChannel is the PostgreSQL NOTIFY channel a change of a tenant is
// announced on (payload: the tenant's id), at the commit of its transaction.
const ChangesChannel = "gatehouse_tenant_changes"

// changesLockID serializes the writers of tenant_changes on PostgreSQL, so
// that seqs commit in order and a reader that saw seq n never later finds
// a smaller one ("gatefeed" in ASCII, truncated).
const changesLockID = 0x6761746566

// recordChange appends a row to the change feed in tx (and on PostgreSQL
// announces it): every node that cached the tenant drops it.
func recordChange(tx *gorm.DB, tenantID string, now time.Time) error {
	pg := tx.Dialector.Name() == DialectPostgres
	if pg {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", changesLockID).Error; err != nil {
			return err
		}
	}
	if err := tx.Exec("INSERT INTO tenant_changes (tenant_id, changed_at) VALUES (?, ?)", tenantID, now.UTC()).Error; err != nil {
		return err
	}
	if pg {
		return tx.Exec("SELECT pg_notify(?, ?)", ChangesChannel, tenantID).Error
	}
	return nil
}

// NewID returns a random, time-ordered identifier for a row.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

func newID() string { return NewID() }

// NewRandomID returns a fully random identifier, for ids that travel in URLs.
func NewRandomID() string { return uuid.NewString() }

// mapErr turns GORM's errors into the package's.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return ErrAlreadyExists
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return ErrNotFound
	}
	return err
}

// first loads one row into dst, mapping "no row" to ErrNotFound.
func first(q *gorm.DB, dst any) error {
	return mapErr(q.Limit(1).Take(dst).Error)
}

// forUpdate locks the selected rows on PostgreSQL; SQLite serializes writers
// (transactions begin IMMEDIATE) so it needs no row lock.
func (s *Store) forUpdate(q *gorm.DB) *gorm.DB {
	if s.dialect == DialectPostgres {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}
