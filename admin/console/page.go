package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// pages lists the console's signed-in routes (besides the home page).
// Every tenant page has :slug, resolved by tenant(); the ids of what a
// tenant owns are :app (a client id), :api, :user, :session (a session
// reference), :client (the client of a consent) and :conn (a connection);
// :kind is the kind of application or connection to create.
func (h *Handler) pages() []route {
	return []route{
		{http.MethodGet, "/tenants/new", h.newTenant},
		{http.MethodGet, "/outbox", h.outbox},
		{http.MethodPost, "/tenants/new", h.createTenant},
		{http.MethodGet, "/t/:slug", h.overview},

		{http.MethodGet, "/t/:slug/applications", h.apps},
		{http.MethodGet, "/t/:slug/applications/new", h.newAppKinds},
		{http.MethodGet, "/t/:slug/applications/new/:kind", h.newApp},
		{http.MethodPost, "/t/:slug/applications/new/:kind", h.createApp},
		{http.MethodGet, "/t/:slug/applications/:app", h.app},
		{http.MethodPost, "/t/:slug/applications/:app", h.updateApp},
		{http.MethodPost, "/t/:slug/applications/:app/grants", h.updateAppGrants},
		{http.MethodGet, "/t/:slug/applications/:app/secret", h.appSecret},
		{http.MethodPost, "/t/:slug/applications/:app/secret", h.rotateSecret},
		{http.MethodPost, "/t/:slug/applications/:app/try", h.startTry},
		{http.MethodPost, "/t/:slug/applications/:app/delete", h.deleteApp},

		// Dynamic client registration: :iat is an initial access
		// token's id.
		{http.MethodGet, "/t/:slug/registration", h.registration},
		{http.MethodPost, "/t/:slug/registration/tokens", h.createInitialToken},
		{http.MethodPost, "/t/:slug/registration/tokens/:iat/delete", h.deleteInitialToken},

		{http.MethodGet, "/t/:slug/apis", h.apis},
		{http.MethodGet, "/t/:slug/apis/new", h.newAPI},
		{http.MethodPost, "/t/:slug/apis/new", h.createAPI},
		{http.MethodGet, "/t/:slug/apis/:api", h.api},
		{http.MethodPost, "/t/:slug/apis/:api", h.updateAPI},
		{http.MethodPost, "/t/:slug/apis/:api/scopes", h.addScope},
		{http.MethodPost, "/t/:slug/apis/:api/scopes/delete", h.removeScope},
		{http.MethodPost, "/t/:slug/apis/:api/access", h.updateAPIAccess},
		{http.MethodPost, "/t/:slug/apis/:api/delete", h.deleteAPI},

		{http.MethodGet, "/t/:slug/users", h.users},
		{http.MethodGet, "/t/:slug/users/new", h.newUser},
		{http.MethodPost, "/t/:slug/users/new", h.createUser},
		{http.MethodPost, "/t/:slug/users/invite", h.inviteUser},
		{http.MethodGet, "/t/:slug/users/:user", h.user},
		{http.MethodPost, "/t/:slug/users/:user", h.updateUser},
		{http.MethodPost, "/t/:slug/users/:user/metadata", h.updateUserMetadata},
		{http.MethodPost, "/t/:slug/users/:user/disable", h.disableUser},
		{http.MethodPost, "/t/:slug/users/:user/enable", h.enableUser},
		{http.MethodPost, "/t/:slug/users/:user/password", h.setPassword},
		{http.MethodPost, "/t/:slug/users/:user/delete", h.deleteUser},
		{http.MethodPost, "/t/:slug/users/:user/reset", h.sendUserReset},
		{http.MethodPost, "/t/:slug/users/:user/verification", h.sendUserVerification},
		{http.MethodPost, "/t/:slug/users/:user/identities/:identity/unlink", h.unlinkUserIdentity},
		{http.MethodPost, "/t/:slug/users/:user/sessions/:session/revoke", h.revokeSession},
		{http.MethodPost, "/t/:slug/users/:user/consents/:client/revoke", h.revokeConsent},
		{http.MethodPost, "/t/:slug/users/:user/roles", h.addUserRole},
		{http.MethodPost, "/t/:slug/users/:user/roles/:role/remove", h.removeUserRole},

		// Roles and groups: :role and :group are ids (or names).
		{http.MethodGet, "/t/:slug/roles", h.roles},
		{http.MethodPost, "/t/:slug/roles", h.createRole},
		{http.MethodGet, "/t/:slug/roles/:role", h.role},
		{http.MethodPost, "/t/:slug/roles/:role", h.updateRole},
		{http.MethodPost, "/t/:slug/roles/:role/permissions", h.updateRolePermissions},
		{http.MethodPost, "/t/:slug/roles/:role/delete", h.deleteRole},
		{http.MethodGet, "/t/:slug/groups", h.groups},
		{http.MethodPost, "/t/:slug/groups", h.createGroup},
		{http.MethodGet, "/t/:slug/groups/:group", h.group},
		{http.MethodPost, "/t/:slug/groups/:group", h.updateGroup},
		{http.MethodPost, "/t/:slug/groups/:group/members", h.addMember},
		{http.MethodPost, "/t/:slug/groups/:group/members/:user/remove", h.removeMember},
		{http.MethodPost, "/t/:slug/groups/:group/roles", h.addGroupRole},
		{http.MethodPost, "/t/:slug/groups/:group/roles/:role/remove", h.removeGroupRole},
		{http.MethodPost, "/t/:slug/groups/:group/delete", h.deleteGroup},

		{http.MethodGet, "/t/:slug/connections", h.connections},
		{http.MethodGet, "/t/:slug/connections/new", h.newConnectionKinds},
		{http.MethodGet, "/t/:slug/connections/new/:kind", h.newConnection},
		{http.MethodPost, "/t/:slug/connections/new/:kind", h.createConnection},
		{http.MethodGet, "/t/:slug/connections/:conn", h.connection},
		{http.MethodPost, "/t/:slug/connections/:conn", h.updateConnection},
		{http.MethodPost, "/t/:slug/connections/:conn/groups", h.updateConnectionGroups},
		{http.MethodPost, "/t/:slug/connections/:conn/delete", h.deleteConnection},

		{http.MethodGet, "/t/:slug/keys", h.keys},
		{http.MethodPost, "/t/:slug/keys/rotate", h.rotateKey},
		{http.MethodPost, "/t/:slug/keys/rotation", h.setKeyRotation},

		{http.MethodGet, "/t/:slug/webhooks", h.webhooks},
		{http.MethodPost, "/t/:slug/webhooks", h.createWebhook},
		{http.MethodGet, "/t/:slug/webhooks/:hook", h.webhook},
		{http.MethodPost, "/t/:slug/webhooks/:hook/enabled", h.setWebhookEnabled},
		{http.MethodGet, "/t/:slug/webhooks/:hook/secret", h.webhookSecret},
		{http.MethodPost, "/t/:slug/webhooks/:hook/rotate", h.rotateWebhookSecret},
		{http.MethodPost, "/t/:slug/webhooks/:hook/deliveries/:delivery/redeliver", h.redeliverWebhook},
		{http.MethodPost, "/t/:slug/webhooks/:hook/delete", h.deleteWebhook},
		{http.MethodGet, "/t/:slug/saml-apps", h.samlApps},
		{http.MethodPost, "/t/:slug/saml-apps", h.createSAMLApp},
		{http.MethodGet, "/t/:slug/saml-apps/:samlapp", h.samlApp},
		{http.MethodPost, "/t/:slug/saml-apps/:samlapp/enabled", h.setSAMLAppEnabled},
		{http.MethodPost, "/t/:slug/saml-apps/:samlapp/delete", h.deleteSAMLApp},

		{http.MethodGet, "/t/:slug/claim-rules", h.claimRules},
		{http.MethodPost, "/t/:slug/claim-rules", h.createClaimRule},
		{http.MethodPost, "/t/:slug/claim-rules/preview", h.previewClaimRules},
		{http.MethodPost, "/t/:slug/claim-rules/:rule/delete", h.deleteClaimRule},

		{http.MethodGet, "/t/:slug/audit", h.audit},
		{http.MethodGet, "/t/:slug/audit/export", h.auditExport},

		{http.MethodGet, "/t/:slug/strings", h.wording},
		{http.MethodPost, "/t/:slug/strings", h.setString},
		{http.MethodPost, "/t/:slug/strings/delete", h.deleteString},
		{http.MethodGet, "/t/:slug/domains", h.domains},
		{http.MethodPost, "/t/:slug/domains", h.addDomain},
		{http.MethodPost, "/t/:slug/domains/:domain/verify", h.verifyDomain},
		{http.MethodPost, "/t/:slug/domains/:domain/remove", h.removeDomain},
		// Email templates: :email is a kind of email (views/email), the
		// language is ?locale= or the form's.
		{http.MethodGet, "/t/:slug/emails", h.emailTemplates},
		{http.MethodGet, "/t/:slug/emails/:email", h.emailTemplate},
		{http.MethodPost, "/t/:slug/emails/:email", h.setEmailTemplate},
		{http.MethodPost, "/t/:slug/emails/:email/delete", h.deleteEmailTemplate},
		{http.MethodPost, "/t/:slug/emails/:email/test", h.sendTestEmail},
		{http.MethodGet, "/t/:slug/emails/:email/preview", h.previewEmail},
		{http.MethodPost, "/t/:slug/emails/:email/preview", h.previewEmail},
		{http.MethodGet, "/t/:slug/settings", h.settings},
		{http.MethodPost, "/t/:slug/settings", h.updateSettings},
		{http.MethodPost, "/t/:slug/delete", h.deleteTenant},

		// Administrators and management clients: :admin is a user id of
		// the system tenant, :mclient a management client's client_id.
		{http.MethodGet, "/administrators", h.principalsPage},
		{http.MethodGet, "/administrators/:admin", h.adminPage},
		{http.MethodPost, "/administrators/:admin", h.updateAdminAccess},
		{http.MethodPost, "/administrators/:admin/delete", h.deleteAdminAccess},
		{http.MethodGet, "/management-clients/:mclient", h.adminClientPage},
		{http.MethodPost, "/management-clients/:mclient", h.updateAdminClientAccess},
		{http.MethodPost, "/management-clients/:mclient/delete", h.deleteAdminClientAccess},

		// The end of a "Try it" login: its tenant comes from the state kept
		// in the console session, and is checked again.
		{http.MethodGet, "/try/callback", h.tryCallback},
	}
}

// page returns the frame of a signed-in page; tenant is nil outside a
// tenant.
func (h *Handler) page(c echo.Context, title, section string, tenant *tenants.Tenant) (vc.Page, error) {
	ctx := c.Request().Context()
	p, _ := admin.PrincipalFrom(ctx)
	sess := session(ctx)
	pg := vc.Page{Title: title, User: p.Name, Operator: p.Operator, CSRF: h.csrfToken(sess.ID), Section: section,
		Flash: flashText(c.QueryParam("done")), Outbox: h.cfg.Outbox && p.Operator}
	ts, err := h.svc.ListTenants(ctx)
	if err != nil {
		return pg, err
	}
	for _, t := range ts {
		pg.Tenants = append(pg.Tenants, vc.TenantLink{Slug: t.Slug, Name: t.Name})
	}
	if tenant != nil {
		pg.Current = &vc.TenantLink{Slug: tenant.Slug, Name: tenant.DisplayName}
	}
	return pg, nil
}

// tenant resolves the :slug of the path for the signed-in principal; a
// tenant it does not administer is "not found".
func (h *Handler) tenant(c echo.Context) (context.Context, *tenants.Tenant, error) {
	return h.svc.Tenant(c.Request().Context(), c.Param("slug"))
}

// flashes are the messages a redirect after a change may ask for: a fixed
// table, so that a link cannot make the console say anything else.
var flashes = map[string]string{
	"tenant-created":    "Tenant created.",
	"tenant-updated":    "Settings saved.",
	"domain-added":      "Domain added: create its DNS records, then verify it.",
	"domain-verified":   "Domain verified: the tenant is served there now.",
	"domain-removed":    "Domain removed: the tenant is no longer served there.",
	"tenant-deleted":    "Tenant deleted.",
	"app-updated":       "Application saved.",
	"app-deleted":       "Application deleted.",
	"grants-updated":    "API access saved.",
	"api-created":       "API created.",
	"api-updated":       "API saved.",
	"api-deleted":       "API deleted.",
	"user-created":      "User created.",
	"user-updated":      "User saved.",
	"user-disabled":     "User disabled: their sessions ended, their tokens were revoked and the links sent to them stopped working.",
	"user-enabled":      "User enabled.",
	"user-deleted":      "User deleted.",
	"password-set":      "Password set: the user's sessions ended, their tokens were revoked and the links sent to them stopped working.",
	"session-revoked":   "Session revoked.",
	"consent-revoked":   "Access revoked: the application's tokens for this user were revoked.",
	"key-rotated":       "New signing key published: it signs once relying parties' cached key sets know it. The previous key stays published until the tokens it signed expire.",
	"key-rotated-now":   "New signing key active. The previous key stays published until the tokens it signed expire.",
	"key-scheduled":     "Rotation schedule saved.",
	"setup-complete":    "Operator created. Sign in with it.",
	"secret-rotated":    "New secret created.",
	"redirects-saved":   "Redirect URIs saved.",
	"app-created":       "Application created.",
	"scope-saved":       "Scope saved.",
	"scope-removed":     "Scope removed: applications granted it lost it.",
	"access-updated":    "Access saved.",
	"user-invited":      "Invitation sent: the user chooses their password from the link in it.",
	"reset-sent":        "Password reset link sent.",
	"verification-sent": "Verification email sent.",
	"identity-unlinked": "Login unlinked: the user can no longer sign in with it.",
	"secret-gone":       "A secret is shown once only. If it was not copied, rotate it to get a new one.",

	"role-created":       "Role created: choose its permissions.",
	"role-updated":       "Role saved.",
	"role-deleted":       "Role deleted: its holders lose it from their next token.",
	"rule-created":       "Claim rule saved: the next token follows it.",
	"rule-deleted":       "Claim rule deleted.",
	"permissions-saved":  "Permissions saved: the role's holders get them from their next token.",
	"group-created":      "Group created.",
	"group-updated":      "Group saved.",
	"group-deleted":      "Group deleted: its members lose its roles from their next token.",
	"member-added":       "Member added.",
	"member-removed":     "Member removed.",
	"group-role-added":   "Role given to the group.",
	"group-role-removed": "Role taken from the group.",
	"user-role-added":    "Role given.",
	"user-role-removed":  "Role taken: it is gone from the user's next token.",

	"admin-updated":        "Access saved: it counts from the administrator's next request.",
	"admin-deleted":        "Administrator deleted: their console sessions and tokens ended.",
	"admin-client-updated": "Access saved: the client's tokens carry no more from their next use.",
	"admin-client-deleted": "Management client revoked: its secret and tokens stopped working.",

	"connection-created": "Connection created.",
	"connection-updated": "Connection saved.",
	"connection-deleted": "Connection deleted: the identities it brought were unlinked.",

	"webhook-updated":     "Endpoint saved.",
	"webhook-redelivered": "Delivery queued: it is sent again within seconds.",
	"webhook-deleted":     "Endpoint deleted with its delivery log.",

	"initial-token-deleted": "Initial access token deleted: it registers no more clients.",

	"email-saved":      "Email template saved: the tenant's users who read that language get it now.",
	"email-deleted":    "The built-in email is sent again in that language.",
	"email-test-sent":  "Test email sent to your address.",
	"string-saved":     "Wording saved: the tenant's pages say it in that language now.",
	"string-deleted":   "The pages say the catalog's words again.",
	"saml-app-created": "SAML application added: give the service provider the values below.",
	"saml-app-updated": "SAML application saved.",
	"saml-app-deleted": "SAML application deleted.",
}

func flashText(key string) string { return flashes[key] }

// fieldErrors turns a validation error into the form's field messages, or
// returns nil for any other error.
func fieldErrors(err error) map[string]string {
	var ve *tenants.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	field := ve.Field
	if field == "" {
		field = "form"
	}
	return map[string]string{field: ve.Message}
}
