package tracing

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
)

// Middleware starts a server span for every request, named by its
// method and route pattern (never its path, which may hold ids, nor its
// query, which may hold codes). With t nil it does nothing.
func (t *Tracing) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	if t == nil {
		return next
	}
	return func(c echo.Context) error {
		req := c.Request()
		ctx, span := t.tracer.Start(req.Context(), "HTTP "+req.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", method(req.Method))))
		defer span.End()
		c.SetRequest(req.WithContext(ctx))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		span.SetName(method(req.Method) + " " + route)
		span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, strconv.Itoa(status))
		}
		return nil
	}
}

func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "_OTHER"
}

// Transport wraps an upstream transport: each fetch is a client span
// (host and method, never the URL's path or query) and carries the span's
// W3C trace context to the upstream. With t nil it returns rt.
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	if t == nil {
		return rt
	}
	return roundTripper{t: t, next: rt}
}

type roundTripper struct {
	t    *Tracing
	next http.RoundTripper
}

func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := r.t.tracer.Start(req.Context(), "upstream "+method(req.Method), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", method(req.Method)), attribute.String("server.address", req.URL.Hostname())))
	defer span.End()
	req = req.Clone(ctx)
	Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		span.SetStatus(codes.Error, "upstream request failed")
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, strconv.Itoa(resp.StatusCode))
	}
	return resp, nil
}

// GORM is a GORM plugin that makes a client span of every statement, named
// by its operation and table; the SQL and its parameters stay out.
func (t *Tracing) GORM(system string) gorm.Plugin { return gormPlugin{t: t, system: system} }

type gormPlugin struct {
	t      *Tracing
	system string
}

func (gormPlugin) Name() string { return "gatehouse:tracing" }

const spanKey = "gatehouse:span"

func (p gormPlugin) Initialize(db *gorm.DB) error {
	if p.t == nil {
		return nil
	}
	cb := db.Callback()
	for _, op := range []struct {
		name     string
		before   func(string, func(*gorm.DB)) error
		after    func(string, func(*gorm.DB)) error
		spanName string
	}{
		{"create", cb.Create().Before("gorm:create").Register, cb.Create().After("gorm:create").Register, "INSERT"},
		{"query", cb.Query().Before("gorm:query").Register, cb.Query().After("gorm:query").Register, "SELECT"},
		{"update", cb.Update().Before("gorm:update").Register, cb.Update().After("gorm:update").Register, "UPDATE"},
		{"delete", cb.Delete().Before("gorm:delete").Register, cb.Delete().After("gorm:delete").Register, "DELETE"},
		{"row", cb.Row().Before("gorm:row").Register, cb.Row().After("gorm:row").Register, "SELECT"},
		{"raw", cb.Raw().Before("gorm:raw").Register, cb.Raw().After("gorm:raw").Register, "SQL"},
	} {
		if err := op.before("gatehouse:trace_before_"+op.name, p.start(op.spanName)); err != nil {
			return err
		}
		if err := op.after("gatehouse:trace_after_"+op.name, p.end); err != nil {
			return err
		}
	}
	return nil
}

func (p gormPlugin) start(operation string) func(*gorm.DB) {
	return func(db *gorm.DB) {
		ctx := db.Statement.Context
		if !trace.SpanContextFromContext(ctx).IsValid() {
			return // a statement outside any request: no trace to join
		}
		name := operation
		attrs := []attribute.KeyValue{attribute.String("db.system.name", p.system), attribute.String("db.operation.name", operation)}
		if table := db.Statement.Table; table != "" {
			name += " " + table
			attrs = append(attrs, attribute.String("db.collection.name", table))
		}
		_, span := p.t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
		db.InstanceSet(spanKey, span)
	}
}

func (p gormPlugin) end(db *gorm.DB) {
	v, ok := db.InstanceGet(spanKey)
	if !ok {
		return
	}
	span := v.(trace.Span)
	if err := db.Error; err != nil && err != gorm.ErrRecordNotFound {
		span.SetStatus(codes.Error, "statement failed")
	}
	span.End()
}
