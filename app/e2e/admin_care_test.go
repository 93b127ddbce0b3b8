package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestAdminCare: an administrator lists a user's second factors and
// passkeys (never a secret), removes one (then it is gone, and a second
// removal is 404), and sends the user a password reset email whose link
// sets a new password; each is audited.
func TestAdminCare(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		base := "/tenants/" + f.slug
		user := base + "/users/" + f.userID
		ctx := tenants.WithTenant(context.Background(), f.tenant)
		key := &tenants.MFAFactor{UserID: f.userID, Type: tenants.FactorWebAuthn, Name: "YubiKey", CredentialID: "cred-care", Credential: `{"secret":"no"}`, Confirmed: true}
		app := &tenants.MFAFactor{UserID: f.userID, Type: tenants.FactorTOTP, Name: "Phone", SecretSealed: []byte("sealed"), Confirmed: true}
		for _, fac := range []*tenants.MFAFactor{key, app} {
			if err := e.store.CreateFactor(ctx, fac); err != nil {
				t.Fatal(err)
			}
		}
		fs := op.items(t, user+"/factors")
		if len(fs) != 2 || fs[0]["name"] != "YubiKey" || fs[0]["type"] != "webauthn" || fs[1]["type"] != "totp" {
			t.Fatalf("factors: %v", fs)
		}
		status, _, raw := op.raw(t, http.MethodGet, user+"/factors", "", nil)
		if status != http.StatusOK || strings.Contains(string(raw), "secret") || strings.Contains(string(raw), "cred-care") {
			t.Fatalf("the factor list shows a secret: %s", raw)
		}
		op.must(t, http.StatusNoContent, http.MethodDelete, user+"/factors/"+key.ID, nil)
		if fs := op.items(t, user+"/factors"); len(fs) != 1 || fs[0]["id"] != app.ID {
			t.Fatalf("factors after removing one: %v", fs)
		}
		op.must(t, http.StatusNotFound, http.MethodDelete, user+"/factors/"+key.ID, nil)

		// A reset email; its link sets a new password.
		if got := op.must(t, http.StatusAccepted, http.MethodPost, user+"/password-reset", nil); got["sent"] != true {
			t.Fatalf("password-reset: %v", got)
		}
		msg := smtp.next(f.email)
		if msg.Subject != "Reset your password" {
			t.Fatalf("reset email: %q", msg.Subject)
		}
		b := e.browser()
		if q := f.setPassword(b, msg.link(t, "/reset/confirm"), "a brand new long password"); q.status != http.StatusOK || !strings.Contains(q.body, "Your password was changed") {
			t.Fatalf("reset from an admin's email: %d\n%s", q.status, q.body)
		}
		// A disabled user gets none.
		op.must(t, http.StatusOK, http.MethodPost, user+"/disable", nil)
		op.must(t, http.StatusBadRequest, http.MethodPost, user+"/password-reset", nil)

		for _, action := range []string{admin.ActionUserFactorRemoved, admin.ActionUserPasswordResetSent} {
			if evs := op.items(t, base+"/audit?action="+action); len(evs) != 1 {
				t.Errorf("%s events: %v", action, evs)
			}
		}
	})
}
