package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/migrations"
)

// readyTimeout bounds the database checks of one readiness probe: a probe
// that hangs on a dead database is as bad as one that fails.
const readyTimeout = time.Second

// livez answers whether the process serves at all: it touches nothing, so
// that a database outage never gets a node restarted.
func (s *Server) livez(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers whether the node should get traffic: its database
// answers within readyTimeout, the schema is at this binary's version, the
// node bootstrapped (the system tenant is in its cache) and it is not
// shutting down. A 503 names the failed checks, never their errors.
func (s *Server) readyz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	if failed := s.readiness(c.Request().Context()); len(failed) > 0 {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "failed": strings.Join(failed, ",")})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readiness returns the names of the readiness checks that fail.
func (s *Server) readiness(ctx context.Context) []string {
	var failed []string
	if s.draining.Load() {
		failed = append(failed, "shutdown")
	}
	if !s.warm.Load() {
		failed = append(failed, "caches")
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return append(failed, "database")
	}
	if !s.schemaCurrent(ctx) {
		failed = append(failed, "migrations")
	}
	return failed
}

// schemaCurrent reports whether every migration of this binary is applied.
// Migrations are never undone, so once true it is remembered.
func (s *Server) schemaCurrent(ctx context.Context) bool {
	if s.schemaOK.Load() {
		return true
	}
	db, err := s.store.SQLDB()
	if err != nil {
		return false
	}
	pending, err := migrations.Pending(ctx, db, s.store.Dialect())
	if err != nil || len(pending) > 0 {
		return false
	}
	s.schemaOK.Store(true)
	return true
}
