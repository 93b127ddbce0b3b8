package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func recorded(t *testing.T) (*Tracing, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &Tracing{provider: tp, tracer: tp.Tracer(Name)}, exp
}

func TestEnabled(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
		{"service name alone", map[string]string{"OTEL_SERVICE_NAME": "gh"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Enabled(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("Enabled = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewRefusesProtocolsNotBuiltIn(t *testing.T) {
	for _, env := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "zipkin"},
	} {
		if tr, err := New(context.Background(), func(k string) string { return env[k] }, "test"); err == nil {
			_ = tr.Shutdown(context.Background())
			t.Errorf("%v: no error", env)
		}
	}
	if tr, err := New(context.Background(), func(string) string { return "" }, "test"); tr != nil || err != nil {
		t.Errorf("unconfigured: %v, %v; want nil, nil", tr, err)
	}
}

// TestTransportPropagates: an upstream fetch is a client span of the
// request's trace, and the upstream receives that span as traceparent;
// the URL's path and query are not in it.
func TestTransportPropagates(t *testing.T) {
	tr, exp := recorded(t)
	var got string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("traceparent") }))
	defer up.Close()
	ctx, parent := tr.Tracer().Start(context.Background(), "request")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, up.URL+"/.well-known/openid-configuration?secret=x", nil)
	resp, err := (&http.Client{Transport: tr.Transport(http.DefaultTransport)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want the fetch's and the request's", len(spans))
	}
	fetch := spans[0]
	want := "00-" + fetch.SpanContext.TraceID().String() + "-" + fetch.SpanContext.SpanID().String() + "-01"
	if got != want {
		t.Errorf("upstream got traceparent %q, want the fetch span's %q", got, want)
	}
	if fetch.Parent.SpanID() != parent.SpanContext().SpanID() || fetch.Name != "upstream GET" {
		t.Errorf("fetch span %q is not a child of the request", fetch.Name)
	}
	for _, kv := range fetch.Attributes {
		if v := kv.Value.Emit(); v == "x" || len(v) > 0 && (strings.Contains(v, "secret") || strings.Contains(v, "well-known")) {
			t.Errorf("fetch span attribute %s = %q", kv.Key, v)
		}
	}
	// Without tracing the transport is the one given.
	var none *Tracing
	if none.Transport(http.DefaultTransport) != http.DefaultTransport {
		t.Error("a nil Tracing wraps the transport")
	}
}

