package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAuditEventLabelsAreBounded: an action or outcome that is not one of
// the server's own shapes is counted as "other", never as a label value of
// its own.
func TestAuditEventLabelsAreBounded(t *testing.T) {
	m := New()
	m.AuditEvent("login.failed", "failure")
	m.AuditEvent("login.failed", "failure")
	m.AuditEvent("login.failed\nevil{x=\"1\"}", "success")
	m.AuditEvent(strings.Repeat("a", 200)+".b", "whatever the caller said")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`gatehouse_audit_events_total{action="login.failed",outcome="failure"} 2`,
		`gatehouse_audit_events_total{action="other",outcome="success"} 1`,
		`gatehouse_audit_events_total{action="other",outcome="other"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %s in\n%s", want, text)
		}
	}
	if strings.Contains(text, "evil") || strings.Contains(text, "whatever") {
		t.Error("a label value came from the caller")
	}
}

// TestDeliveriesCountedByOutbox: webhook and back-channel logout
// deliveries are two counters, each by outcome.
func TestDeliveriesCountedByOutbox(t *testing.T) {
	m := New()
	m.LogoutDelivery("delivered")
	m.LogoutDelivery("retry")
	m.LogoutDelivery("delivered")
	m.WebhookDelivery("failed")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`gatehouse_backchannel_logout_deliveries_total{outcome="delivered"} 2`,
		`gatehouse_backchannel_logout_deliveries_total{outcome="retry"} 1`,
		`gatehouse_webhook_deliveries_total{outcome="failed"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %s in\n%s", want, text)
		}
	}
	if strings.Contains(text, `gatehouse_webhook_deliveries_total{outcome="delivered"}`) {
		t.Error("a logout delivery was counted as a webhook delivery")
	}
}
