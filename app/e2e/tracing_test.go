package e2e

import (
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it keeps every span a node
// exports to it.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
			http.NotFound(w, req)
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		var msg collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &msg)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the spans received once cond holds of them (20 s at most).
func (r *otlpReceiver) wait(t *testing.T, what string, cond func([]*tracepb.Span) bool) []*tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		spans := append([]*tracepb.Span(nil), r.spans...)
		r.mu.Unlock()
		if cond(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("never received %s; got %d spans: %s", what, len(spans), spanNames(spans))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func spanNames(spans []*tracepb.Span) string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

func spanAttr(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key != key {
			continue
		}
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			return v.StringValue
		case *commonpb.AnyValue_IntValue:
			return strconv.FormatInt(v.IntValue, 10)
		}
	}
	return ""
}

// TestTracing: with an OTLP endpoint in the standard variables a node
// exports a server span per request, named by route pattern, with the
// database statements it ran as children in the same trace; an error page
// names its trace; and no span carries the client's secret, the token it
// got, or the request's form or query.
func TestTracing(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	rcv := newOTLPReceiver(t)
	node := spawnNode(t, e, "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.srv.URL, "OTEL_BSP_SCHEDULE_DELAY=50", "OTEL_SERVICE_NAME=gatehouse-e2e")
	client := node.client()
	_, port, _ := net.SplitHostPort(node.addr)

	req, _ := http.NewRequest(http.MethodPost, "http://acme.localhost:"+port+"/oauth/token?probe=query-secret",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.worker.ClientID, f.worker.ClientSecret)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}

	isToken := func(s *tracepb.Span) bool {
		return s.Kind == tracepb.Span_SPAN_KIND_SERVER && spanAttr(s, "http.route") == "/oauth/token"
	}
	spans := rcv.wait(t, "the token request's span and its statements", func(spans []*tracepb.Span) bool {
		for _, s := range spans {
			if isToken(s) {
				for _, c := range spans {
					if string(c.TraceId) == string(s.TraceId) && c.Kind == tracepb.Span_SPAN_KIND_CLIENT && spanAttr(c, "db.system.name") != "" {
						return true
					}
				}
			}
		}
		return false
	})
	for _, s := range spans {
		if isToken(s) {
			if s.Name != "POST /oauth/token" || spanAttr(s, "http.response.status_code") != "200" || spanAttr(s, "http.request.method") != "POST" {
				t.Errorf("token span %q: status %q, method %q", s.Name, spanAttr(s, "http.response.status_code"), spanAttr(s, "http.request.method"))
			}
		}
		text := s.Name
		for _, kv := range s.Attributes {
			text += " " + kv.Key + "=" + kv.Value.String()
		}
		for _, secret := range []string{f.worker.ClientSecret, tok.AccessToken, "query-secret", "client_credentials"} {
			if strings.Contains(text, secret) {
				t.Errorf("span %q carries %q", s.Name, secret)
			}
		}
	}

	// An error page names its trace, which the node exported.
	resp, err = client.Get("http://acme.localhost:" + port + "/authorize?response_type=code")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`trace ([0-9a-f]{32})`).FindSubmatch(page)
	if resp.StatusCode != http.StatusBadRequest || m == nil {
		t.Fatalf("error page: %d, no trace id in\n%s", resp.StatusCode, page)
	}
	traceID, _ := hex.DecodeString(string(m[1]))
	rcv.wait(t, "the error page's trace", func(spans []*tracepb.Span) bool {
		for _, s := range spans {
			if string(s.TraceId) == string(traceID) && s.Kind == tracepb.Span_SPAN_KIND_SERVER && spanAttr(s, "http.response.status_code") == "400" {
				return true
			}
		}
		return false
	})
}
