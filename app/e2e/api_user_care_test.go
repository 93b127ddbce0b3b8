package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestAPIUserIdentitiesVerificationAndInvite: the management API lists a
// user's linked identities and unlinks one, sends a verification email
// and invites a user by email, as the console does.
func TestAPIUserIdentitiesVerificationAndInvite(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		base := "/tenants/" + f.slug
		user := base + "/users/" + f.userID
		conn := e.addConnection(t, f, "GitHub")
		x := &tenants.ExternalIdentity{UserID: f.userID, ConnectionID: conn.ID, Issuer: "https://github.com", Subject: "gh-77"}
		if err := e.store.CreateExternalIdentity(tenants.WithTenant(context.Background(), f.tenant), x); err != nil {
			t.Fatal(err)
		}
		xs := op.items(t, user+"/identities")
		if len(xs) != 1 || xs[0]["subject"] != "gh-77" || xs[0]["connection"] != "GitHub" {
			t.Fatalf("identities: %v", xs)
		}
		op.must(t, http.StatusNoContent, http.MethodDelete, user+"/identities/"+x.ID, nil)
		op.must(t, http.StatusNotFound, http.MethodDelete, user+"/identities/"+x.ID, nil)
		if xs := op.items(t, user+"/identities"); len(xs) != 0 {
			t.Fatalf("after unlink: %v", xs)
		}
		op.must(t, http.StatusAccepted, http.MethodPost, user+"/verification-email", nil)
		if msg := smtp.next(f.email); msg.Subject != "Confirm your email address" {
			t.Fatalf("verification subject %q", msg.Subject)
		}
		u := op.must(t, http.StatusCreated, http.MethodPost, base+"/users/invite", map[string]any{"email": "invitee@acme.test"})
		if u["email"] != "invitee@acme.test" || u["email_verified"] != false {
			t.Fatalf("invited: %v", u)
		}
		if msg := smtp.next("invitee@acme.test"); !strings.Contains(msg.Subject, "invited") {
			t.Fatalf("invitation subject %q", msg.Subject)
		}
		op.must(t, http.StatusConflict, http.MethodPost, base+"/users/invite", map[string]any{"email": "invitee@acme.test"})
		op.must(t, http.StatusBadRequest, http.MethodPost, base+"/users/invite", map[string]any{"email": "not an address"})
	})
}
