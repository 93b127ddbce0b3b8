package e2e

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

var webhookSecretField = regexp.MustCompile(`id="webhook-secret">([^<]+)<`)

// TestConsoleWebhooks: an admin adds an endpoint in the console and sees
// its secret once, never in the list; a refused URL is a form error.
func TestConsoleWebhooks(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		list := e.base + "/admin/t/acme/webhooks"

		p := b.post(list, url.Values{"csrf_token": {csrf}, "url": {"http://127.0.0.1:9/in"}, "events": {"user.signed_in"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "https URL") {
			t.Fatalf("a loopback URL: %d\n%s", p.status, p.body)
		}
		p = b.postRedirected(e.base, list, url.Values{"csrf_token": {csrf}, "url": {"https://hooks.acme.test/in"}, "events": {"user.signed_in, user.created"}})
		if p.status != http.StatusOK || !strings.Contains(p.body, "you will not see it again") {
			t.Fatalf("add: %d\n%s", p.status, p.body)
		}
		if s := html.UnescapeString(field(t, webhookSecretField, p.body)); !strings.HasPrefix(s, "whsec_") {
			t.Fatalf("secret %q", s)
		}
		page := b.get(list)
		if page.status != http.StatusOK || !strings.Contains(page.body, "https://hooks.acme.test/in") || strings.Contains(page.body, "whsec_") {
			t.Fatalf("list: %d\n%s", page.status, page.body)
		}
	})
}

// TestConsoleWebhookLog: with the receiver allowed, the console shows a
// delivery in the endpoint's log, redelivers it, and notices an endpoint
// Gatehouse disabled.
func TestConsoleWebhookLog(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), withHooksHost())
	f := e.fixture("acme")
	rcv := newHookReceiver(t, e)
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	p := b.postRedirected(e.base, e.base+"/admin/t/acme/webhooks", url.Values{"csrf_token": {csrf}, "url": {rcv.url}, "events": {"user.signed_in"}})
	if p.status != http.StatusOK {
		t.Fatalf("add: %d\n%s", p.status, p.body)
	}
	whsec := html.UnescapeString(field(t, webhookSecretField, p.body))
	ws, _ := e.srv.Admin().ListWebhooks(f.adminCtx())
	if len(ws) != 1 {
		t.Fatalf("endpoints %v", ws)
	}
	hook := e.base + "/admin/t/acme/webhooks/" + ws[0].ID
	f.codeFlow(e.browser(), f.web, []string{"openid"})
	h := rcv.wait(0, "user.signed_in")
	if !verifyHook(h, whsec) {
		t.Fatal("the secret the console showed does not verify the delivery")
	}
	var ds []*admin.WebhookDelivery
	eventually(t, 5*time.Second, "the delivery recorded", func() bool {
		ds, _ = e.srv.Admin().WebhookDeliveries(f.adminCtx(), ws[0].ID, "", 10)
		return len(ds) == 1 && ds[0].Status == tenants.DeliveryDelivered
	})
	page := b.get(hook)
	if page.status != http.StatusOK || !strings.Contains(page.body, "user.signed_in") || !strings.Contains(page.body, h.id) ||
		!strings.Contains(page.body, tenants.DeliveryDelivered) {
		t.Fatalf("endpoint page: %d\n%s", page.status, page.body)
	}
	p = b.post(hook+"/deliveries/"+ds[0].ID+"/redeliver", url.Values{"csrf_token": {csrf}})
	if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "?done=webhook-redelivered") {
		t.Fatalf("redeliver: %d %s", p.status, p.location)
	}
	if page := b.get(e.base + p.location); !strings.Contains(page.body, "Delivery queued") {
		t.Fatalf("after redelivery:\n%s", page.body)
	}
	eventually(t, 10*time.Second, "the redelivery", func() bool { return len(rcv.of(h.id)) == 2 })

	// Rotation shows the new secret once.
	p = b.postRedirected(e.base, hook+"/rotate", url.Values{"csrf_token": {csrf}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "signs deliveries too until") {
		t.Fatalf("rotate: %d\n%s", p.status, p.body)
	}
	if s := html.UnescapeString(field(t, webhookSecretField, p.body)); s == whsec {
		t.Fatal("rotation kept the secret")
	}
	// Gatehouse disabled it: the list and the page say so.
	if err := e.store.UpdateWebhook(tenants.WithTenant(f.adminCtx(), f.tenant), &tenants.WebhookEndpoint{ID: ws[0].ID, URL: rcv.url,
		Events: tenants.Strings{"user.signed_in"}, DisabledReason: "deliveries failed for 24h0m0s"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{e.base + "/admin/t/acme/webhooks", hook} {
		if page := b.get(u); !strings.Contains(page.body, "deliveries failed for 24h0m0s") {
			t.Fatalf("%s does not say the endpoint was disabled:\n%s", u, page.body)
		}
	}
	p = b.post(hook+"/delete", url.Values{"csrf_token": {csrf}})
	if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "/admin/t/acme/webhooks?done=webhook-deleted") {
		t.Fatalf("delete: %d %s", p.status, p.location)
	}
	if page := b.get(hook); page.status != http.StatusNotFound {
		t.Fatalf("a deleted endpoint's page: %d", page.status)
	}
}
