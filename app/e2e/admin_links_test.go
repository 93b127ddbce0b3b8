package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// TestAdminChangesSpendTheUsersLinks sends a user a password reset link
// (from the reset page, by email) and a change-of-address link, then has
// an administrator set the user's password or disable them, through each
// surface — the management API, the console and the CLI. Afterwards both
// links answer "This link has expired" and change nothing, as README
// promises for any password change.
func TestAdminChangesSpendTheUsersLinks(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		tctx := tenants.WithTenant(t.Context(), f.tenant)
		api := e.managementClient(t, "", admin.ScopeTenantsWrite)
		con, csrf := e.consoleAs(t, "ops@example.test", "")
		const next = "a password set by an admin"
		changes := []struct {
			name   string
			change func(t *testing.T, id, email string)
		}{
			{"API sets the password", func(t *testing.T, id, _ string) {
				api.must(t, http.StatusNoContent, http.MethodPut, "/tenants/acme/users/"+id+"/password", map[string]any{"password": next})
			}},
			// Disabling spends the links for good: enabling the user again
			// does not bring them back.
			{"API disables the user", func(t *testing.T, id, _ string) {
				api.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/users/"+id+"/disable", nil)
				api.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/users/"+id+"/enable", nil)
			}},
			{"console sets the password", func(t *testing.T, id, _ string) {
				p := con.post(e.base+"/admin/t/acme/users/"+id+"/password", url.Values{"csrf_token": {csrf}, "password": {next}})
				if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "done=password-set") {
					t.Fatalf("console: %d %s", p.status, p.location)
				}
			}},
			{"console disables the user", func(t *testing.T, id, _ string) {
				p := con.post(e.base+"/admin/t/acme/users/"+id+"/disable", url.Values{"csrf_token": {csrf}})
				if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "done=user-disabled") {
					t.Fatalf("console: %d %s", p.status, p.location)
				}
				if p := con.post(e.base+"/admin/t/acme/users/"+id+"/enable", url.Values{"csrf_token": {csrf}}); p.status != http.StatusSeeOther {
					t.Fatalf("console: %d %s", p.status, p.location)
				}
			}},
			{"CLI sets the password", func(t *testing.T, _, email string) {
				e.cliOK(t, next+"\n", "user", "set-password", "--tenant", "acme", "--email", email, "--password-stdin")
			}},
			{"CLI disables the user", func(t *testing.T, _, email string) {
				if u := e.cliOK(t, "", "user", "disable", "--tenant", "acme", "--email", email); u["disabled"] != true {
					t.Fatalf("CLI: %v", u)
				}
				if u := e.cliOK(t, "", "user", "enable", "--tenant", "acme", "--email", email); u["disabled"] == true {
					t.Fatalf("CLI: %v", u)
				}
			}},
		}
		for i, c := range changes {
			t.Run(c.name, func(t *testing.T) {
				email := fmt.Sprintf("user%d@acme.test", i)
				u, err := e.srv.Admin().CreateUser(f.adminCtx(), admin.CreateUserInput{Email: email, Password: testPassword, EmailVerified: true})
				if err != nil {
					t.Fatal(err)
				}
				// A reset link, as the reset page sends it; a change of
				// address waiting for its link.
				if p := f.requestReset(e.browser(), email); p.status != http.StatusOK {
					t.Fatalf("reset request: %d", p.status)
				}
				reset := smtp.next(email).link(t, "/reset/confirm")
				if p := e.browser().get(reset); p.status != http.StatusOK || !strings.Contains(p.body, `name="token"`) {
					t.Fatalf("the reset link before the change: %d\n%s", p.status, p.body)
				}
				token := secret.Token(32)
				if err := e.store.CreateUserToken(tctx, &tenants.UserToken{ID: secret.Hash(token), UserID: u.ID, Purpose: tenants.TokenChangeEmail,
					Email: "new-" + email, ExpiresAt: time.Now().Add(30 * time.Minute)}); err != nil {
					t.Fatal(err)
				}
				move := f.issuer + "/account/email/confirm?token=" + url.QueryEscape(token)

				c.change(t, u.ID, email)

				for _, l := range []struct{ what, link string }{{"reset", reset}, {"change-of-address", move}} {
					if p := e.browser().get(l.link); p.status != http.StatusBadRequest || !strings.Contains(p.body, "This link has expired") {
						t.Errorf("the %s link after the change: %d", l.what, p.status)
					}
				}
				if got := f.user(t, email); got.Email != email || got.PasswordHash == "" {
					t.Fatalf("the account changed: %+v", got)
				}
				if p := f.setPassword(e.browser(), reset, "the attacker's own password"); p.status != http.StatusBadRequest {
					t.Fatalf("setting a password with the reset link: %d", p.status)
				}
			})
		}
	})
}
