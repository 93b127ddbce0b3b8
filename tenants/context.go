package tenants

import (
	"context"
	"log/slog"
)

type tenantKey struct{}

// WithTenant returns a context whose tenant-scoped store calls act on t.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// FromContext returns the tenant carried by ctx, if any.
func FromContext(ctx context.Context) (*Tenant, bool) {
	t, ok := ctx.Value(tenantKey{}).(*Tenant)
	return t, ok && t != nil
}

// Origin is where a request came from: the audit log's address, user
// agent and request id of every event written while serving it.
type Origin struct {
	IP        string
	UserAgent string
	RequestID string
}

type originKey struct{}

// WithOrigin returns a context that carries o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin carried by ctx, if any.
func OriginFrom(ctx context.Context) (Origin, bool) {
	o, ok := ctx.Value(originKey{}).(Origin)
	return o, ok
}

type loggerKey struct{}

// WithLogger returns a context whose work logs to l. The server puts its
// logger (NewLogger: the configured format and level, each line with the
// request's id and tenant) in the context of every request and of its
// background work, and the CLI in that of a command, so that code deep in
// a request logs where the node was told to, and no package reaches for
// slog's process-wide default.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the logger carried by ctx; without one (a unit test that
// set none), one that drops every line.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return discard
}

// discard is the logger of a context that carries none.
var discard = slog.New(slog.DiscardHandler)
