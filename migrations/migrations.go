// Package migrations holds Gatehouse's versioned SQL schema, one folder per
// dialect, embedded in the binary, and applies it. `gatehouse migrate` and
// `gatehouse serve` run [Up]; nodes starting together take turns.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Migration is one versioned SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// List returns the migrations of dialect ("postgres" or "sqlite") in order.
func List(dialect string) ([]Migration, error) {
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migrations: bad file name %s/%s", dialect, name)
		}
		body, err := files.ReadFile(path.Join(dialect, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	// Versions are unique but may have gaps: migrations written side by
	// side land in any order, and each is applied once by its version.
	for i, m := range out {
		if m.Version < 1 || i > 0 && m.Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations: %s: version %d is taken or invalid", m.Name, m.Version)
		}
	}
	return out, nil
}

// lockID is the PostgreSQL advisory lock that serializes migrations of
// nodes starting at the same time ("gatehouse" in ASCII, truncated).
const lockID = 0x6761746568

// Up applies every migration of dialect that db has not seen yet, each in its
// own transaction, and returns the names of those it applied.
func Up(ctx context.Context, db *sql.DB, dialect string) ([]string, error) {
	ms, err := List(dialect)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dialect == "postgres" {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
			return nil, fmt.Errorf("migrations: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockID) //nolint:errcheck
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var applied []string
	for _, m := range ms {
		done, err := apply(ctx, conn, dialect, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

func apply(ctx context.Context, conn *sql.Conn, dialect string, m Migration) (bool, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck
	q := "SELECT COUNT(*) FROM schema_migrations WHERE version = ?"
	ins := "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"
	if dialect == "postgres" {
		q = "SELECT COUNT(*) FROM schema_migrations WHERE version = $1"
		ins = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)"
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, ins, m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Pending returns the names of the migrations of dialect that db has not
// applied: none when the schema is at this binary's version. A database
// that never saw a migration has them all pending.
func Pending(ctx context.Context, db *sql.DB, dialect string) ([]string, error) {
	ms, err := List(dialect)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var pending []string
	for _, m := range ms {
		if !applied[m.Version] {
			pending = append(pending, m.Name)
		}
	}
	return pending, nil
}
