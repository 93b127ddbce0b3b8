package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestConsoleEmailPreviewInChromium: in a real browser, the email editor's
// preview frame shows the built-in email, and typing in the editor
// previews the draft a moment later (console.js posts the form to the
// sandboxed frame), the sample values in place and a script of the draft
// shown as text.
func TestConsoleEmailPreviewInChromium(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	e.fixture("acme")
	hb, _ := e.consoleAs(t, "ops@example.test", "")
	// Sandboxed frames stay in the page's process, where the test reads
	// them (Chromium isolates them in a process of their own by default).
	b := newConsoleBrowser(t, false, chromedp.Flag("disable-features", "IsolateSandboxedIframes"))
	// The console session of the signed-in Go browser, handed to Chromium.
	u := mustURL(e.base)
	for _, c := range hb.client.Jar.Cookies(u) {
		if _, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: e.base}); err != nil {
			t.Fatalf("set cookie %s: %v", c.Name, err)
		}
	}
	b.open(e.base+"/admin/t/acme/emails/reset?locale=de", "Password reset", "Preview")
	frameText := func() string {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`iframe[name="email-preview"]`)))
		if err != nil || len(nodes) == 0 {
			return ""
		}
		txt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"), chromedp.FromNode(nodes[0])))
		if err != nil {
			return ""
		}
		return txt
	}
	waitFrame := func(what string, want ...string) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			txt := frameText()
			ok := txt != ""
			for _, w := range want {
				ok = ok && strings.Contains(txt, w)
			}
			if ok {
				return txt
			}
			if time.Now().After(deadline) {
				t.Fatalf("preview frame: %s: want %q, have:\n%s", what, want, txt)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFrame("the built-in email", "Subject:", "token=SAMPLE")
	b.do("type a draft",
		chromedp.SendKeys(chromedp.CSS("#f-subject"), " Hallo {{user.name}} <script>x</script>"))
	waitFrame("the draft, live", "Hallo Ann Example <script>x</script>")
}
