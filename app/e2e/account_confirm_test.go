package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

// TestAccountConfirmsOncePerChange: the account page of a session that
// signed in a while ago has no password fields in its forms; a sensitive
// change sent without one is answered with one "Confirm it's you" page
// that carries the change as it was sent, and refuses a wrong password;
// the right one makes the change.
func TestAccountConfirmsOncePerChange(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		a := e.browser()
		p := f.accountPage(a)
		f.staleSession(t, a)
		p = a.get(f.issuer + "/account")
		if strings.Contains(p.body, `name="confirm"`) {
			t.Fatalf("the account page asks for a password in its forms:\n%s", p.body)
		}
		csrf := field(t, csrfField, p.body)
		q := f.accountPost(a, csrf, "/account/email", url.Values{"email": {"ann.new@acme.test"}})
		if q.status != http.StatusBadRequest || !strings.Contains(q.body, `id="confirm-change"`) || !strings.Contains(q.body, `action="/account/email"`) ||
			strings.Contains(q.body, `role="alert"`) {
			t.Fatalf("the change without confirmation: %d\n%s", q.status, q.body)
		}
		carried := url.Values{}
		for _, m := range hiddenField.FindAllStringSubmatch(between(q.body, `id="confirm-change"`, "</form>"), -1) {
			if m[1] != "csrf_token" {
				carried.Add(m[1], m[2])
			}
		}
		if carried.Get("email") != "ann.new@acme.test" || len(carried) != 1 {
			t.Fatalf("the confirmation carries %v", carried)
		}
		wrong := url.Values{"confirm": {"not my password"}}
		for k, v := range carried {
			wrong[k] = v
		}
		if q := f.accountPost(a, csrf, "/account/email", wrong); q.status != http.StatusBadRequest || !strings.Contains(q.body, `role="alert"`) {
			t.Fatalf("a wrong password: %d\n%s", q.status, q.body)
		}
		right := url.Values{"confirm": {f.password}}
		for k, v := range carried {
			right[k] = v
		}
		if q := f.accountPost(a, csrf, "/account/email", right); q.status >= 400 {
			t.Fatalf("the right password: %d\n%s", q.status, q.body)
		}
		if msg := smtp.next("ann.new@acme.test"); !strings.Contains(msg.Subject, "new email") {
			t.Fatalf("mail to the new address: %q", msg.Subject)
		}
	})
}
