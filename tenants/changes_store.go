package tenants

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// TenantChange is one row of the change feed: the tenant whose cached
// configuration changed (or which was deleted).
type TenantChange struct {
	Seq       int64
	TenantID  string
	ChangedAt time.Time
}

// TenantChangesHead returns the seq of the newest change (0: none yet): a
// node starting with an empty cache reads the changes after it.
func (s *Store) TenantChangesHead(ctx context.Context) (int64, error) {
	var head int64
	err := s.conn(ctx).Raw("SELECT COALESCE(MAX(seq), 0) FROM tenant_changes").Scan(&head).Error
	return head, mapErr(err)
}

// TenantChangesSince returns up to limit changes after seq after, oldest
// first: a cheap query whatever the tenant count. behind reports that
// changes after after were pruned before this node read them: what it
// cached may be stale in ways the feed no longer says.
func (s *Store) TenantChangesSince(ctx context.Context, after int64, limit int) (changes []TenantChange, behind bool, err error) {
	err = s.conn(ctx).Raw("SELECT seq, tenant_id, changed_at FROM tenant_changes WHERE seq > ? ORDER BY seq LIMIT ?", after, limit).
		Scan(&changes).Error
	if err != nil {
		return nil, false, mapErr(err)
	}
	if len(changes) == 0 || changes[0].Seq == after+1 {
		return changes, false, nil
	}
	// A gap: rolled back transactions leave some on PostgreSQL, pruning
	// others. Pruning deletes a prefix of the feed and keeps the newest
	// row, so if a row at or before after is still there, nothing after
	// it was pruned.
	var kept []int64
	if err := s.conn(ctx).Raw("SELECT seq FROM tenant_changes WHERE seq <= ? ORDER BY seq DESC LIMIT 1", after).Scan(&kept).Error; err != nil {
		return nil, false, mapErr(err)
	}
	return changes, len(kept) == 0, nil
}

// PruneTenantChanges deletes the changes made before before: the oldest
// rows up to the first one made since, but always keeping the newest (so
// that a node can tell it fell behind). Any node may run it, any number of
// times.
func (s *Store) PruneTenantChanges(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Exec(`DELETE FROM tenant_changes WHERE seq < COALESCE(
		(SELECT MIN(seq) FROM tenant_changes WHERE changed_at >= ?),
		(SELECT MAX(seq) FROM tenant_changes))`, before.UTC())
	return res.RowsAffected, mapErr(res.Error)
}

// ErrNoNotify is returned by ListenTenantChanges on a database without
// notifications (SQLite): poll instead.
var ErrNoNotify = errors.New("tenants: the database has no change notifications")

// ListenTenantChanges listens on PostgreSQL for changes of tenants on its
// own connection until ctx ends, reconnecting with backoff. It calls
// wake on every notification, and after every (re)connection so that what
// was announced while it was away is caught up; connected(false) when it
// loses the connection, connected(true) when it has one again.
func (s *Store) ListenTenantChanges(ctx context.Context, wake func(), connected func(bool)) error {
	if s.dialect != DialectPostgres {
		return ErrNoNotify
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, wake, func() { connected(true); backoff = 100 * time.Millisecond })
		connected(false)
		if ctx.Err() != nil {
			break
		}
		slog.WarnContext(ctx, "tenant change notifications lost; polling until reconnected", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	return ctx.Err()
}

func (s *Store) listenOnce(ctx context.Context, wake, up func()) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+ChangesChannel); err != nil {
		return err
	}
	up()
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}
