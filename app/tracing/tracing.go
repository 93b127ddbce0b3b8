// Package tracing is the node's OpenTelemetry tracing: a tracer provider
// configured by the standard OTEL_* environment variables and exporting
// over OTLP/HTTP, and the spans Gatehouse makes — one per HTTP request
// (named by route pattern), per database statement and per upstream
// fetch, the last carrying W3C trace context to the upstream.
//
// Tracing is off unless an OTLP endpoint is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and
// off again with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. A
// span never carries a token, code, secret, password, query string or SQL
// parameter: attributes are route patterns, methods, status codes, table
// names and upstream hosts.
package tracing

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Name is the instrumentation scope of Gatehouse's spans.
const Name = "github.com/gatehouse-id/gatehouse"

// Tracing is a node's tracer provider. The zero value and nil trace
// nothing.
type Tracing struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

// Getenv reads an environment variable (os.Getenv, or a test's map).
type Getenv func(string) string

// Enabled reports whether getenv configures tracing.
func Enabled(getenv Getenv) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// New starts tracing as getenv configures it, or returns nil when it does
// not. The exporter and sampler read the rest of the standard variables
// themselves (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, OTEL_TRACES_SAMPLER,
// OTEL_BSP_*, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES); only the
// http/protobuf protocol is built in.
func New(ctx context.Context, getenv Getenv, version string) (*Tracing, error) {
	if !Enabled(getenv) {
		return nil, nil
	}
	proto := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if proto != "" && proto != "http/protobuf" {
		return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported: use http/protobuf", proto)
	}
	if e := getenv("OTEL_TRACES_EXPORTER"); e != "" && e != "otlp" {
		return nil, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER %q is not supported: use otlp (or none)", e)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(serviceName(getenv)), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	if r, err := resource.New(ctx, resource.WithFromEnv()); err == nil {
		if merged, err := resource.Merge(res, r); err == nil {
			res = merged
		}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{provider: tp, tracer: tp.Tracer(Name)}, nil
}

func serviceName(getenv Getenv) string {
	if n := getenv("OTEL_SERVICE_NAME"); n != "" {
		return n
	}
	return "gatehouse"
}

// Tracer returns the tracer Gatehouse's spans come from: a no-op one when
// t is nil.
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil {
		return noop.NewTracerProvider().Tracer(Name)
	}
	return t.tracer
}

// On reports whether t traces.
func (t *Tracing) On() bool { return t != nil }

// Shutdown exports what is still batched and stops.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// propagator is W3C trace context (traceparent, tracestate), the one
// format Gatehouse sends upstream and reads from no one: a request's
// trace starts at Gatehouse, since a client's traceparent could be
// anything.
var propagator = propagation.TraceContext{}

// Inject writes ctx's span into h as W3C trace context.
func Inject(ctx context.Context, h propagation.TextMapCarrier) { propagator.Inject(ctx, h) }

// TraceID returns the id of ctx's trace, or "" when ctx has none.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}
