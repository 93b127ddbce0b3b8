package tenants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects Gatehouse runs on.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Open connects to the database named by databaseURL: "postgres://..." (or
// "postgresql://...") for PostgreSQL, "sqlite:PATH" or a plain file path for
// the embedded SQLite. It does not migrate; see package migrations.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	dialect, dsn, err := parseDatabaseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger:                                   logger.Discard,
		SkipDefaultTransaction:                   true,
		DisableForeignKeyConstraintWhenMigrating: true,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
		TranslateError:                           true,
	}
	var db *gorm.DB
	switch dialect {
	case DialectPostgres:
		// The store's statements go through retryReads, which sends a
		// read again once when its connection drops.
		var pgCfg *pgx.ConnConfig
		if pgCfg, err = pgx.ParseConfig(dsn); err != nil {
			return nil, fmt.Errorf("database URL: %w", err)
		}
		db, err = gorm.Open(postgres.New(postgres.Config{Conn: &retryReads{db: stdlib.OpenDB(*pgCfg)}}), cfg)
	case DialectSQLite:
		db, err = gorm.Open(sqlite.Open(dsn), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if dialect == DialectSQLite {
		if err := registerUTC(db); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
		// One writer at a time is all SQLite allows; a small pool keeps
		// readers concurrent under WAL while busy_timeout queues writers.
		sqlDB.SetMaxOpenConns(4)
	} else {
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	s := &Store{db: db, dialect: dialect, dsn: dsn, now: func() time.Time { return time.Now().UTC() }}
	s.audits = &auditGroup{store: s}
	return s, nil
}

func parseDatabaseURL(raw string) (dialect, dsn string, err error) {
	switch {
	case raw == "":
		return "", "", errors.New("database URL is empty")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "", "", fmt.Errorf("database URL: %w", err)
		}
		return DialectPostgres, raw, nil
	case strings.Contains(raw, "://") && !strings.HasPrefix(raw, "sqlite:"):
		return "", "", fmt.Errorf("database URL %q: want postgres://... or sqlite:PATH", redact(raw))
	}
	path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite://"), "sqlite:")
	query := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" {
		return "", "", errors.New("database URL: sqlite needs a file path")
	}
	if path != ":memory:" {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return "", "", fmt.Errorf("create database folder: %w", err)
			}
		}
	}
	params := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if query != "" {
		params += "&" + query
	}
	return DialectSQLite, "file:" + path + "?" + params, nil
}

// redact hides the password of a database URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Use adds a GORM plugin to every statement of the store (tracing).
func (s *Store) Use(p gorm.Plugin) error { return s.db.Use(p) }

// SQLDB returns the underlying connection pool, for migrations.
func (s *Store) SQLDB() (*sql.DB, error) { return s.db.DB() }

// Dialect returns DialectPostgres or DialectSQLite.
func (s *Store) Dialect() string { return s.dialect }

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}
