package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestConsoleOutbox shows operators the email a development node keeps
// instead of sending; a tenant admin, who must not read other tenants'
// mail, is refused.
func TestConsoleOutbox(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		if err := e.store.AppendOutbox(context.Background(), &tenants.OutboxMessage{TenantID: f.tenant.ID, Recipient: "bob@acme.test",
			Subject: "Verify your email", Body: "Open https://acme.localhost/verify?token=<abc> to verify."}); err != nil {
			t.Fatal(err)
		}
		op, _ := e.consoleAs(t, "ops@example.test", "")
		home := op.get(e.base + "/admin")
		if !strings.Contains(home.body, `href="/admin/outbox"`) {
			t.Fatalf("operator's console does not link the outbox:\n%s", home.body)
		}
		p := op.get(e.base + "/admin/outbox")
		if p.status != http.StatusOK || !strings.Contains(p.body, "Verify your email") || !strings.Contains(p.body, "bob@acme.test") ||
			!strings.Contains(p.body, "token=&lt;abc&gt;") || !strings.Contains(p.body, "<code>acme</code>") {
			t.Fatalf("outbox: %d\n%s", p.status, p.body)
		}
		anna, _ := e.consoleAs(t, "anna@acme.test", "acme")
		if p := anna.get(e.base + "/admin"); strings.Contains(p.body, `href="/admin/outbox"`) {
			t.Fatal("a tenant admin's console links the outbox")
		}
		if p := anna.get(e.base + "/admin/outbox"); p.status != http.StatusForbidden || strings.Contains(p.body, "bob@acme.test") {
			t.Fatalf("tenant admin reading the outbox: %d", p.status)
		}
	})
}
