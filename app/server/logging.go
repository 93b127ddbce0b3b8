package server

import (
	"context"
	"io"
	"log/slog"

	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/tracing"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// NewLogger returns the node's logger, writing to w in cfg's format from
// cfg's level. Every line logged with a request's context carries the
// request's id (request_id) and, on a tenant host, the tenant's slug
// (tenant), and with tracing on the trace's id (trace_id): requestID,
// resolveHost and the tracing middleware put them in the context.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler
	if cfg.LogFormat == config.LogJSON {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(requestHandler{h})
}

// requestHandler adds the request id and tenant of a record's context.
type requestHandler struct{ slog.Handler }

func (h requestHandler) Handle(ctx context.Context, r slog.Record) error {
	if o, ok := tenants.OriginFrom(ctx); ok && o.RequestID != "" {
		r.AddAttrs(slog.String("request_id", o.RequestID))
	}
	if t, ok := tenants.FromContext(ctx); ok {
		r.AddAttrs(slog.String("tenant", t.Slug))
	}
	if id := tracing.TraceID(ctx); id != "" {
		r.AddAttrs(slog.String("trace_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestHandler{h.Handler.WithAttrs(as)}
}

func (h requestHandler) WithGroup(name string) slog.Handler {
	return requestHandler{h.Handler.WithGroup(name)}
}
