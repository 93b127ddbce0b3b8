package api

import (
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
	"github.com/gatehouse-id/gatehouse/views/email"
)

// Tags group the routes by resource in the OpenAPI document.
const (
	tagTenants      = "Tenants"
	tagApplications = "Applications"
	tagAPIs         = "APIs"
	tagUsers        = "Users"
	tagRoles        = "Roles"
	tagGroups       = "Groups"
	tagClaimRules   = "Claim rules"
	tagKeys         = "Keys"
	tagConnections  = "Connections"
	tagWebhooks     = "Webhooks"
	tagSAMLApps     = "SAML applications"
	tagRegistration = "Client registration"
	tagStrings      = "Strings"
	tagDomains      = "Custom domains"
	tagEmail        = "Email templates"
	tagAudit        = "Audit"
	tagAdmins       = "Administrators"
	tagAdminClients = "Management clients"
)

const (
	read  = admin.ScopeTenantsRead
	write = admin.ScopeTenantsWrite
	audit = admin.ScopeAuditRead
)

// deleteNote is said of every DELETE.
const deleteNote = "Answers 204 when it deleted the resource. A resource that does not exist answers 404 — " +
	"whether it never existed, belongs to another tenant or was deleted already: repeating a DELETE " +
	"changes nothing more, so the method is idempotent in effect (RFC 9110 §9.2.2) though the repeated answer is 404."

// roleRefNote and groupRefNote are said of every route that names a role
// or a group in its path.
const (
	roleRefNote  = "The role is named by its id or its name."
	groupRefNote = "The group is named by its id or its name."
)

// whoMayNote is said of every route of administrators and management
// clients.
const whoMayNote = "An operator sees and changes every one. A tenant admin sees only those whose every grant is within the tenants they " +
	"administer themselves, and may only narrow them (fewer tenants, fewer scopes) or delete them; any other answers 404, as one that does not exist. " +
	"Nobody grants a role, a tenant or a scope they do not hold (403). A change counts from the principal's next request."

// Query parameters.
var (
	pLimit = Param{Name: "limit", Description: "page size, 1 to 200 (default 50)",
		Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": defaultLimit}}
	pAfter  = Param{Name: "after", Description: "opaque cursor: the next of the previous page", Schema: str()}
	paged   = []Param{pLimit, pAfter}
	pFilter = []Param{
		{Name: "action", Description: "action, or a prefix of it such as client.", Schema: str()},
		{Name: "actor", Description: "id of the actor (a user id or client_id)", Schema: str()},
		{Name: "target", Description: "id of the target (user id, client_id, API id, kid...)", Schema: str()},
		{Name: "client", Description: "client_id the event is about (tokens issued, revoked or replayed; consents)", Schema: str()},
		{Name: "outcome", Description: "success, failure, denied or error", Schema: map[string]any{"type": "string", "enum": tenants.AuditOutcomes}},
		{Name: "ip", Description: "the address the request came from, as recorded", Schema: str()},
		{Name: "request_id", Description: "id of the request the event was written in: the reference an error page shows, the X-Request-ID of an answer (a refused authorization or token request: authorize.rejected, token.rejected)", Schema: str()},
		{Name: "since", Description: "events at or after this time (RFC 3339)", Schema: map[string]any{"type": "string", "format": "date-time"}},
		{Name: "until", Description: "events before this time (RFC 3339)", Schema: map[string]any{"type": "string", "format": "date-time"}},
	}
)

// reservedClaimsNote lists the claims no rule may set.
var reservedClaimsNote = strings.Join(claimrules.Reserved(), ", ")

// emailKindsNote lists the kinds of email.
var emailKindsNote = strings.Join(email.KindNames(), ", ")

func str() map[string]any { return map[string]any{"type": "string"} }

// Routes lists every endpoint of the API; Register mounts them and the
// OpenAPI document describes them.
func (h *Handler) Routes() []Route {
	return []Route{
		// Tenants.
		{Method: http.MethodGet, Path: "/tenants", Tag: tagTenants, Scope: read, Summary: "List the tenants you administer",
			Query: paged, Reply: list[*admin.Tenant]{}, handler: h.listTenants},
		{Method: http.MethodPost, Path: "/tenants", Tag: tagTenants, Scope: write, Summary: "Create a tenant (operators)",
			Description: "Creates the tenant, its issuer and its first signing key. Only operators create tenants: a tenant admin gets 403.",
			Status:      http.StatusCreated, Body: createTenantBody{}, Reply: admin.Tenant{}, handler: h.createTenant},
		{Method: http.MethodGet, Path: "/tenants/:slug", Tag: tagTenants, Scope: read, Summary: "Get a tenant and its settings",
			Reply: admin.Tenant{}, handler: h.getTenant},
		{Method: http.MethodPatch, Path: "/tenants/:slug", Tag: tagTenants, Scope: write, Summary: "Change a tenant's settings",
			Body: updateTenantBody{}, Reply: admin.Tenant{}, handler: h.updateTenant},
		{Method: http.MethodDelete, Path: "/tenants/:slug", Tag: tagTenants, Scope: write, Summary: "Delete a tenant and everything it owns (operators)",
			Description: "Deletes the tenant with its users, applications, APIs, keys and tokens. Only operators delete tenants. " + deleteNote,
			Status:      http.StatusNoContent, handler: h.deleteTenant},
		{Method: http.MethodGet, Path: "/tenants/:slug/export", Tag: tagTenants, Scope: read, Summary: "Export a tenant as one document",
			Description: "One JSON document (format gatehouse.tenant, version 1) with the tenant's settings and branding, applications (with the SHA-256 of their secrets), " +
				"APIs and scopes, roles, groups, connections and webhooks (their secrets sealed under this server's master key, so that only a server with the same key can import them). " +
				"Secrets need the tenants:write scope; omit_secrets=true leaves them out (and needs only tenants:read). users=true adds the users in the user export's format, " +
				"password_hashes=true their password hashes too (the users:export_hashes scope). Import it with POST /tenants/import.",
			Query: []Param{
				{Name: "omit_secrets", Description: "leave out secret hashes and sealed secrets (default false)", Schema: map[string]any{"type": "boolean"}},
				{Name: "users", Description: "add the tenant's users (default false)", Schema: map[string]any{"type": "boolean"}},
				{Name: "password_hashes", Description: "with users, their password hashes (needs users:export_hashes)", Schema: map[string]any{"type": "boolean"}},
			},
			Reply: admin.TenantDocument{}, handler: h.exportTenant},
		{Method: http.MethodPost, Path: "/tenants/import", Tag: tagTenants, Scope: write, Summary: "Import a tenant from its document (operators)",
			Description: "Creates a new tenant from a document of GET /tenants/{slug}/export, at most 64 MiB: everything is checked first and written in one transaction, " +
				"so a document refused for any reason (400) leaves nothing behind. Every object gets an id of its own; the answer maps the document's ids to the new ones " +
				"where they changed. Applications keep their client_id and secret hash: a relying party needs only the new issuer. " +
				"Secrets the document left out are made anew and are in this answer only; sealed secrets of another server's master key are refused. Only operators import tenants.",
			Query:  []Param{{Name: "slug", Description: "slug of the new tenant (default: the document's)", Schema: str()}},
			Status: http.StatusCreated, Body: admin.TenantDocument{}, Reply: admin.TenantImportResult{}, handler: h.importTenant},
		{Method: http.MethodGet, Path: "/tenants/:slug/overview", Tag: tagTenants, Scope: read, Summary: "Counts and recent sign-ins of a tenant",
			Reply: admin.Overview{}, handler: h.overview},

		// Applications.
		{Method: http.MethodGet, Path: "/tenants/:slug/applications", Tag: tagApplications, Scope: read, Summary: "List the tenant's applications",
			Description: "In order of name. Secrets are never listed.",
			Query:       paged, Reply: list[*admin.Client]{}, handler: h.listClients},
		{Method: http.MethodPost, Path: "/tenants/:slug/applications", Tag: tagApplications, Scope: write, Summary: "Register an application",
			Description: "A confidential application (web, machine) gets a client_secret, in this answer only: it is stored as a hash and cannot be shown again.",
			Status:      http.StatusCreated, Body: createClientBody{}, Reply: admin.Client{}, handler: h.createClient},
		{Method: http.MethodGet, Path: "/tenants/:slug/applications/:client_id", Tag: tagApplications, Scope: read, Summary: "Get an application",
			Reply: admin.Client{}, handler: h.getClient},
		{Method: http.MethodPatch, Path: "/tenants/:slug/applications/:client_id", Tag: tagApplications, Scope: write, Summary: "Change an application",
			Body: updateClientBody{}, Reply: admin.Client{}, handler: h.updateClient},
		{Method: http.MethodDelete, Path: "/tenants/:slug/applications/:client_id", Tag: tagApplications, Scope: write, Summary: "Delete an application",
			Description: "Deletes the application with its grants, consents and tokens. " + deleteNote,
			Status:      http.StatusNoContent, handler: h.deleteClient},
		{Method: http.MethodPost, Path: "/tenants/:slug/applications/:client_id/secret", Tag: tagApplications, Scope: write, Summary: "Rotate an application's secret",
			Description: "Gives a confidential application a new client_secret, in this answer only. The previous secret keeps working for the grace period. The body may be left out.",
			Body:        rotateSecretBody{}, OptionalBody: true, Reply: admin.Client{}, handler: h.rotateSecret},
		{Method: http.MethodPut, Path: "/tenants/:slug/applications/:client_id/grants", Tag: tagApplications, Scope: write, Summary: "Replace the API scopes an application may request",
			Description: "The body lists, per API audience, the scopes the application may request; an API left out is no longer granted.",
			Body:        []grantBody{}, Reply: admin.Client{}, handler: h.setGrants},

		// APIs.
		{Method: http.MethodGet, Path: "/tenants/:slug/apis", Tag: tagAPIs, Scope: read, Summary: "List the tenant's APIs and their scopes",
			Description: "In order of audience.", Query: paged, Reply: list[*admin.API]{}, handler: h.listAPIs},
		{Method: http.MethodPost, Path: "/tenants/:slug/apis", Tag: tagAPIs, Scope: write, Summary: "Register an API (resource server)",
			Status: http.StatusCreated, Body: createAPIBody{}, Reply: admin.API{}, handler: h.createAPI},
		{Method: http.MethodGet, Path: "/tenants/:slug/apis/:id", Tag: tagAPIs, Scope: read, Summary: "Get an API",
			Reply: admin.API{}, handler: h.getAPI},
		{Method: http.MethodPatch, Path: "/tenants/:slug/apis/:id", Tag: tagAPIs, Scope: write, Summary: "Change an API: its name, scopes, RBAC and token claims",
			Body: updateAPIBody{}, Reply: admin.API{}, handler: h.updateAPI},
		{Method: http.MethodDelete, Path: "/tenants/:slug/apis/:id", Tag: tagAPIs, Scope: write, Summary: "Delete an API",
			Description: "Applications lose their grants of it. " + deleteNote,
			Status:      http.StatusNoContent, handler: h.deleteAPI},

		// Users.
		{Method: http.MethodGet, Path: "/tenants/:slug/users", Tag: tagUsers, Scope: read, Summary: "List or search the tenant's users",
			Description: "In order of email address. With metadata, the users whose user_metadata or app_metadata has the key (with value, that value).",
			Query: append([]Param{{Name: "q", Description: "part of the email address or name", Schema: str()},
				{Name: "metadata", Description: "user_metadata.KEY or app_metadata.KEY (a top-level key of letters, digits, _ and -); not with q", Schema: str()},
				{Name: "value", Description: "with metadata: the key's value (a string, or a number or boolean as JSON writes it)", Schema: str()}}, paged...),
			Reply: list[*admin.User]{}, handler: h.listUsers},
		{Method: http.MethodPost, Path: "/tenants/:slug/users", Tag: tagUsers, Scope: write, Summary: "Create a user",
			Status: http.StatusCreated, Body: createUserBody{}, Reply: admin.User{}, handler: h.createUser},
		{Method: http.MethodPost, Path: "/tenants/:slug/users/invite", Tag: tagUsers, Scope: write, Summary: "Invite a user by email",
			Description: "Creates the user without a password and emails them a link to choose one (7 days, once); following it confirms the address. An address that has an account answers 409. Audited (user.created, user.invited).",
			Status:      http.StatusCreated, Body: inviteBody{}, Reply: admin.User{}, handler: h.inviteUser},
		{Method: http.MethodPost, Path: "/tenants/:slug/users/import", Tag: tagUsers, Scope: write, Summary: "Import users (NDJSON)",
			Description: "The body is one user a line (application/x-ndjson), of any length, read as it comes; each line at most 64 KiB. " +
				"password_hash is stored as given (bcrypt $2a$/$2b$/$2y$ of cost 10 to 14; argon2id or argon2i PHC; scrypt PHC; PBKDF2-SHA1/256/512 as PHC, passlib or Django's pbkdf2_sha256$ strings, " +
				"or Keycloak's credential object; Auth0's custom_password_hash object), verified at sign-in and re-hashed to argon2id then; an unknown format or a cost out of bounds refuses the line. " +
				"id keeps the user's id (and so their sub); identities link upstream identities at the tenant's connections (by name or id). roles and groups (names or ids of this tenant's, at most 100 each) are added to what the user holds; an import takes none away, and a name the tenant lacks refuses the line. " +
				"A user who exists (by id, else by email) is unchanged when the line says nothing new, updated when it does and update=true, refused otherwise: importing the same file twice changes nothing. " +
				"The answer is a report, a line per line of input ({line, status: created|updated|unchanged|refused, id, email, reason}), streamed, " +
				"ending with a line {\"summary\": {...}}; a report without its summary line is incomplete (run the import again: what was done is unchanged).",
			Query: []Param{{Name: "update", Description: "change existing users where the file differs (default false)", Schema: map[string]any{"type": "boolean"}}},
			Body:  admin.UserRecord{}, BodyType: "application/x-ndjson",
			Reply: admin.ImportResult{}, ReplyType: "application/x-ndjson", handler: h.importUsers},
		{Method: http.MethodPost, Path: "/tenants/:slug/users/import-jobs", Tag: tagUsers, Scope: write, Summary: "Import users in the background (NDJSON)",
			Description: "The import of POST /tenants/{slug}/users/import, as a job: the body is stored as it comes (a line too long is refused at once) and the answer, 202, is the job; " +
				"the nodes import it a chunk of 500 lines at a time, and when a node stops, another resumes after the last chunk done. Poll the job for its progress and the lines it refused.",
			Query:  []Param{{Name: "update", Description: "change existing users where the file differs (default false)", Schema: map[string]any{"type": "boolean"}}},
			Status: http.StatusAccepted, Body: admin.UserRecord{}, BodyType: "application/x-ndjson", Reply: admin.ImportJob{}, handler: h.startImportJob},
		{Method: http.MethodGet, Path: "/tenants/:slug/users/import-jobs/:id", Tag: tagUsers, Scope: read, Summary: "Get an import job",
			Description: "Its status (uploading, pending, done), its counts so far, and the first thousand lines it refused.",
			Reply:       admin.ImportJob{}, handler: h.getImportJob},
		{Method: http.MethodGet, Path: "/tenants/:slug/users/export", Tag: tagUsers, Scope: read, Summary: "Export users (NDJSON)",
			Description: "Every user of the tenant, in id order, one a line in the import's format (application/x-ndjson), streamed. A transfer that ends abruptly is incomplete. " +
				"password_hashes=true adds their password hashes: it needs the users:export_hashes scope, and is audited.",
			Query: []Param{{Name: "password_hashes", Description: "include password hashes (needs users:export_hashes)", Schema: map[string]any{"type": "boolean"}}},
			Reply: admin.UserRecord{}, ReplyType: "application/x-ndjson", handler: h.exportUsers},
		{Method: http.MethodGet, Path: "/tenants/:slug/users/:id", Tag: tagUsers, Scope: read, Summary: "Get a user",
			Reply: admin.User{}, handler: h.getUser},
		{Method: http.MethodPatch, Path: "/tenants/:slug/users/:id", Tag: tagUsers, Scope: write, Summary: "Change a user's profile",
			Body: updateUserBody{}, Reply: admin.User{}, handler: h.updateUser},
		{Method: http.MethodDelete, Path: "/tenants/:slug/users/:id", Tag: tagUsers, Scope: write, Summary: "Delete a user",
			Description: "Deletes the user with their sessions, consents and tokens. " + deleteNote,
			Status:      http.StatusNoContent, handler: h.deleteUser},
		{Method: http.MethodPost, Path: "/tenants/:slug/users/:id/disable", Tag: tagUsers, Scope: write, Summary: "Disable a user",
			Description: "The user can no longer sign in; their sessions end, their tokens are revoked and the password reset and change-of-address links sent to them stop working (for good: enabling the user again does not bring them back).",
			Reply:       admin.User{}, handler: h.disableUser},
		{Method: http.MethodPost, Path: "/tenants/:slug/users/:id/enable", Tag: tagUsers, Scope: write, Summary: "Enable a disabled user",
			Reply: admin.User{}, handler: h.enableUser},
		{Method: http.MethodPut, Path: "/tenants/:slug/users/:id/password", Tag: tagUsers, Scope: write, Summary: "Set a user's password",
			Description: "The user's sessions end, their tokens are revoked and the password reset and change-of-address links sent to them stop working.",
			Status:      http.StatusNoContent, Body: passwordBody{}, handler: h.setPassword},
		{Method: http.MethodGet, Path: "/tenants/:slug/users/:id/sessions", Tag: tagUsers, Scope: read, Summary: "List a user's active sessions",
			Description: "Newest first; not paginated. A session's id is a reference, not the session's key.",
			Reply:       list[*admin.Session]{}, handler: h.listSessions},
		{Method: http.MethodDelete, Path: "/tenants/:slug/users/:id/sessions/:session_id", Tag: tagUsers, Scope: write, Summary: "End one of a user's sessions",
			Description: deleteNote, Status: http.StatusNoContent, handler: h.revokeSession},
		{Method: http.MethodGet, Path: "/tenants/:slug/users/:id/factors", Tag: tagUsers, Scope: read, Summary: "List a user's second factors and passkeys",
			Description: "In the order they were added: type, name, created and last used; never a secret. Not paginated.",
			Reply:       list[*admin.Factor]{}, handler: listed(h, "id", h.svc.ListUserFactors)},
		{Method: http.MethodDelete, Path: "/tenants/:slug/users/:id/factors/:factor", Tag: tagUsers, Scope: write, Summary: "Remove a user's second factor or passkey",
			Description: "For a lost authenticator: where the tenant requires a second factor, the user enrols one again at their next sign-in. Audited (user.factor_removed). " + deleteNote,
			Status:      http.StatusNoContent, handler: unlinked(h, "id", "factor", h.svc.RemoveUserFactor)},
		{Method: http.MethodPost, Path: "/tenants/:slug/users/:id/password-reset", Tag: tagUsers, Scope: write, Summary: "Email a user a password reset link",
			Description: "The link the reset page sends, for a short while and once; the email goes in the background (202). A disabled user, or one without an address, answers 400. Audited (user.password_reset_sent).",
			Status:      http.StatusAccepted, Reply: resetSent{}, handler: h.sendPasswordReset},
		{Method: http.MethodPost, Path: "/tenants/:slug/users/:id/verification-email", Tag: tagUsers, Scope: write, Summary: "Email a user a link that confirms their address",
			Description: "The link the resend page sends, for 24 hours and once; the email goes in the background (202). A disabled user, one without an address or one whose address is verified answers 400. Audited (user.verification_sent).",
			Status:      http.StatusAccepted, Reply: resetSent{}, handler: h.sendVerification},
		{Method: http.MethodGet, Path: "/tenants/:slug/users/:id/identities", Tag: tagUsers, Scope: read, Summary: "List the upstream logins linked to a user",
			Description: "Social, OpenID Connect and SAML identities: connection, upstream email and subject, linked date. Not paginated.",
			Reply:       list[admin.Identity]{}, handler: listed(h, "id", h.svc.UserIdentities)},
		{Method: http.MethodDelete, Path: "/tenants/:slug/users/:id/identities/:identity", Tag: tagUsers, Scope: write, Summary: "Unlink an upstream login from a user",
			Description: "Refused (400) when it is the user's only way to sign in: no password and no other identity. Audited (user.identity_unlinked). " + deleteNote,
			Status:      http.StatusNoContent, handler: unlinked(h, "id", "identity", h.svc.UnlinkUserIdentity)},
		{Method: http.MethodGet, Path: "/tenants/:slug/users/:id/consents", Tag: tagUsers, Scope: read, Summary: "List the applications a user gave access to",
			Description: "Not paginated.", Reply: list[*admin.Consent]{}, handler: h.listConsents},
		{Method: http.MethodDelete, Path: "/tenants/:slug/users/:id/consents/:client_id", Tag: tagUsers, Scope: write, Summary: "Revoke a user's consent to an application",
			Description: "Revokes every token the application holds for the user; it must ask for consent again. " + deleteNote,
			Status:      http.StatusNoContent, handler: h.revokeConsent},

		// Roles and groups.
		{Method: http.MethodGet, Path: "/tenants/:slug/roles", Tag: tagRoles, Scope: read, Summary: "List the tenant's roles and their permissions",
			Description: "In order of name.", Query: paged, Reply: list[*admin.Role]{}, handler: h.listRoles},
		{Method: http.MethodPost, Path: "/tenants/:slug/roles", Tag: tagRoles, Scope: write, Summary: "Create a role",
			Description: "A role bundles permissions: scopes of the tenant's APIs. On an API with rbac on, a user's tokens carry only the scopes their roles hold " +
				"(intersected with what the application may request). Each permission must name an API of the tenant (its audience) and one of its scopes.",
			Status: http.StatusCreated, Body: createRoleBody{}, Reply: admin.Role{}, handler: h.createRole},
		{Method: http.MethodGet, Path: "/tenants/:slug/roles/:role", Tag: tagRoles, Scope: read, Summary: "Get a role",
			Description: roleRefNote, Reply: admin.Role{}, handler: fetched(h, "role", h.svc.GetRole)},
		{Method: http.MethodPatch, Path: "/tenants/:slug/roles/:role", Tag: tagRoles, Scope: write, Summary: "Rename a role or replace its permissions",
			Description: roleRefNote + " Its holders' next tokens (a refresh included) follow the change.",
			Body:        updateRoleBody{}, Reply: admin.Role{}, handler: h.updateRole},
		{Method: http.MethodDelete, Path: "/tenants/:slug/roles/:role", Tag: tagRoles, Scope: write, Summary: "Delete a role",
			Description: roleRefNote + " Every user and group loses it. " + deleteNote,
			Status:      http.StatusNoContent, handler: deleted(h, "role", h.svc.DeleteRole)},
		{Method: http.MethodGet, Path: "/tenants/:slug/users/:id/roles", Tag: tagRoles, Scope: read, Summary: "List a user's effective roles and where each comes from",
			Description: "The roles the user holds directly (direct) and through groups (groups), in order of name. Not paginated.",
			Reply:       list[*admin.EffectiveRole]{}, handler: listed(h, "id", h.svc.UserRoles)},
		{Method: http.MethodPost, Path: "/tenants/:slug/users/:id/roles", Tag: tagRoles, Scope: write, Summary: "Give a user a role",
			Description: "Names the role by id or name; giving one the user holds already changes nothing. Answers the user's effective roles. " +
				"A role or user of another tenant answers 404.",
			Body: roleRefBody{}, Reply: list[*admin.EffectiveRole]{}, handler: linked[*admin.EffectiveRole, roleRefBody](h, "id", h.svc.AddUserRole)},
		{Method: http.MethodDelete, Path: "/tenants/:slug/users/:id/roles/:role", Tag: tagRoles, Scope: write, Summary: "Take a role from a user",
			Description: roleRefNote + " Takes the role the user holds directly; one held through a group stays. It is gone from the user's next token (a refresh included). " + deleteNote,
			Status:      http.StatusNoContent, handler: unlinked(h, "id", "role", h.svc.RemoveUserRole)},
		{Method: http.MethodGet, Path: "/tenants/:slug/users/:id/groups", Tag: tagGroups, Scope: read, Summary: "List the groups a user is a member of",
			Description: "In order of name. Not paginated.", Reply: list[*admin.Group]{}, handler: listed(h, "id", h.svc.UserGroups)},
		{Method: http.MethodGet, Path: "/tenants/:slug/groups", Tag: tagGroups, Scope: read, Summary: "List the tenant's groups",
			Description: "In order of name.", Query: paged, Reply: list[*admin.Group]{}, handler: h.listGroups},
		{Method: http.MethodPost, Path: "/tenants/:slug/groups", Tag: tagGroups, Scope: write, Summary: "Create a group",
			Description: "A group's members hold its roles.",
			Status:      http.StatusCreated, Body: createGroupBody{}, Reply: admin.Group{}, handler: h.createGroup},
		{Method: http.MethodGet, Path: "/tenants/:slug/groups/:id", Tag: tagGroups, Scope: read, Summary: "Get a group",
			Description: groupRefNote, Reply: admin.Group{}, handler: fetched(h, "id", h.svc.GetGroup)},
		{Method: http.MethodPatch, Path: "/tenants/:slug/groups/:id", Tag: tagGroups, Scope: write, Summary: "Rename a group",
			Description: groupRefNote, Body: updateGroupBody{}, Reply: admin.Group{}, handler: h.updateGroup},
		{Method: http.MethodDelete, Path: "/tenants/:slug/groups/:id", Tag: tagGroups, Scope: write, Summary: "Delete a group",
			Description: groupRefNote + " Its members lose its roles. " + deleteNote,
			Status:      http.StatusNoContent, handler: deleted(h, "id", h.svc.DeleteGroup)},
		{Method: http.MethodGet, Path: "/tenants/:slug/groups/:id/members", Tag: tagGroups, Scope: read, Summary: "List a group's members",
			Description: groupRefNote + " In order of email address. Not paginated.", Reply: list[*admin.User]{}, handler: listed(h, "id", h.svc.GroupMembers)},
		{Method: http.MethodPost, Path: "/tenants/:slug/groups/:id/members", Tag: tagGroups, Scope: write, Summary: "Add a member to a group",
			Description: groupRefNote + " Adding a member twice changes nothing. Answers the group's members. A user of another tenant answers 404.",
			Body:        memberBody{}, Reply: list[*admin.User]{}, handler: linked[*admin.User, memberBody](h, "id", h.svc.AddGroupMember)},
		{Method: http.MethodDelete, Path: "/tenants/:slug/groups/:id/members/:user", Tag: tagGroups, Scope: write, Summary: "Remove a member from a group",
			Description: groupRefNote + " " + deleteNote, Status: http.StatusNoContent, handler: unlinked(h, "id", "user", h.svc.RemoveGroupMember)},
		{Method: http.MethodGet, Path: "/tenants/:slug/groups/:id/roles", Tag: tagGroups, Scope: read, Summary: "List a group's roles",
			Description: groupRefNote + " In order of name. Not paginated.", Reply: list[*admin.Role]{}, handler: listed(h, "id", h.svc.GroupRoles)},
		{Method: http.MethodPost, Path: "/tenants/:slug/groups/:id/roles", Tag: tagGroups, Scope: write, Summary: "Give a group a role",
			Description: groupRefNote + " Names the role by id or name. Answers the group's roles. A role of another tenant answers 404.",
			Body:        roleRefBody{}, Reply: list[*admin.Role]{}, handler: linked[*admin.Role, roleRefBody](h, "id", h.svc.AddGroupRole)},
		{Method: http.MethodDelete, Path: "/tenants/:slug/groups/:id/roles/:role", Tag: tagGroups, Scope: write, Summary: "Take a role from a group",
			Description: groupRefNote + " " + roleRefNote + " " + deleteNote, Status: http.StatusNoContent, handler: unlinked(h, "id", "role", h.svc.RemoveGroupRole)},

		// Claim rules.
		{Method: http.MethodGet, Path: "/tenants/:slug/claim-rules", Tag: tagClaimRules, Scope: read, Summary: "List the tenant's claim rules",
			Description: "In the order they run (by position). Not paginated: a tenant has at most 50.", Reply: list[*admin.ClaimRule]{}, handler: h.listClaimRules},
		{Method: http.MethodPost, Path: "/tenants/:slug/claim-rules", Tag: tagClaimRules, Scope: write, Summary: "Create a claim rule",
			Description: "The condition and every claim's expression are type-checked (CEL) first: a rule that does not check, or sets a reserved claim (" + reservedClaimsNote + "), " +
				"answers 400 naming the field (condition, deny, id_token.<claim>, access_token.<claim>). The next token follows it.",
			Status: http.StatusCreated, Body: createClaimRuleBody{}, Reply: admin.ClaimRule{}, handler: h.createClaimRule},
		{Method: http.MethodGet, Path: "/tenants/:slug/claim-rules/:id", Tag: tagClaimRules, Scope: read, Summary: "Get a claim rule",
			Reply: admin.ClaimRule{}, handler: fetched(h, "id", h.svc.GetClaimRule)},
		{Method: http.MethodPatch, Path: "/tenants/:slug/claim-rules/:id", Tag: tagClaimRules, Scope: write, Summary: "Change, reorder, enable or disable a claim rule",
			Description: "The result is checked as a new rule is.", Body: updateClaimRuleBody{}, Reply: admin.ClaimRule{}, handler: h.updateClaimRule},
		{Method: http.MethodDelete, Path: "/tenants/:slug/claim-rules/:id", Tag: tagClaimRules, Scope: write, Summary: "Delete a claim rule",
			Description: deleteNote, Status: http.StatusNoContent, handler: deleted(h, "id", h.svc.DeleteClaimRule)},
		{Method: http.MethodPost, Path: "/tenants/:slug/claim-rules/preview", Tag: tagClaimRules, Scope: write, Summary: "Preview what the claim rules do for a user and a client",
			Description: "Runs the tenant's enabled rules (or the draft rules of the body) for the user and client as a code exchange would, issuing and recording nothing (it needs tenants:write, as it runs drafts): " +
				"the claims added to each token, or the deny rule that stops the sign-in (denied), or the rule that fails at run time (failed). A user or client of another tenant answers 404.",
			Body: previewClaimsBody{}, Reply: admin.Preview{}, handler: h.previewClaims},

		// Keys.
		{Method: http.MethodGet, Path: "/tenants/:slug/keys", Tag: tagKeys, Scope: read, Summary: "List the tenant's signing keys",
			Description: "Newest first; not paginated. Private keys never leave the server.",
			Reply:       list[*admin.Key]{}, handler: h.listKeys},
		{Method: http.MethodPost, Path: "/tenants/:slug/keys/rotate", Tag: tagKeys, Scope: write, Summary: "Rotate one of the tenant's signing keys",
			Description: "The new key is published in the JWKS at once and signs once relying parties' cached JWKS know it (after the JWKS cache lifetime plus a minute), unless now is true; " +
				"the previous key stays in the JWKS until the tokens it signed expire. The body is optional: none rotates the RS256 key.",
			Body: rotateKeyBody{}, Reply: admin.Key{}, handler: h.rotateKey},
		{Method: http.MethodGet, Path: "/tenants/:slug/keys/rotation", Tag: tagKeys, Scope: read, Summary: "Get the tenant's key rotation schedule",
			Reply: admin.KeyRotation{}, handler: h.getKeyRotation},
		{Method: http.MethodPut, Path: "/tenants/:slug/keys/rotation", Tag: tagKeys, Scope: write, Summary: "Set the tenant's key rotation schedule",
			Description: "Every key of the tenant rotates, with pre-publication, once its newest key of an algorithm is rotation_period old; 0 stops it.",
			Body:        keyRotationBody{}, Reply: admin.KeyRotation{}, handler: h.setKeyRotation},

		// Connections.
		{Method: http.MethodGet, Path: "/tenants/:slug/connections", Tag: tagConnections, Scope: read, Summary: "List the tenant's connections",
			Description: "In order of name. Secrets are never listed.", Query: paged, Reply: list[*admin.Connection]{}, handler: h.listConnections},
		{Method: http.MethodPost, Path: "/tenants/:slug/connections", Tag: tagConnections, Scope: write, Summary: "Add a connection (an upstream identity provider)",
			Description: "google, github, microsoft and oidc need the client_id and client_secret of an application registered at the provider, whose redirect URI is the answer's callback_url. " +
				"saml needs the IdP's metadata (metadata_xml or metadata_url); give the IdP's admin the answer's entity_id and acs_url, or metadata_url. " +
				"The configuration is checked before it is saved (a metadata_url is fetched, the metadata parsed). The client secret is stored encrypted and never shown again.",
			Status: http.StatusCreated, Body: createConnectionBody{}, Reply: admin.Connection{}, handler: h.createConnection},
		{Method: http.MethodGet, Path: "/tenants/:slug/connections/:id", Tag: tagConnections, Scope: read, Summary: "Get a connection",
			Reply: admin.Connection{}, handler: h.getConnection},
		{Method: http.MethodPatch, Path: "/tenants/:slug/connections/:id", Tag: tagConnections, Scope: write, Summary: "Change a connection",
			Description: "Fields left out keep their values; client_secret left out keeps the current secret. A connection's type cannot change.",
			Body:        updateConnectionBody{}, Reply: admin.Connection{}, handler: h.updateConnection},
		{Method: http.MethodGet, Path: "/tenants/:slug/connections/:id/group-mappings", Tag: tagConnections, Scope: read, Summary: "Get a connection's group mapping",
			Description: "Which upstream groups make a user a member of which of the tenant's groups, in order of upstream group.",
			Reply:       list[*admin.GroupMapping]{}, handler: h.getGroupMappings},
		{Method: http.MethodPut, Path: "/tenants/:slug/connections/:id/group-mappings", Tag: tagConnections, Scope: write, Summary: "Replace a connection's group mapping",
			Description: "At every sign-in through the connection, a user becomes a member of each group mapped from an upstream group the provider asserts, and stops being a member of a group the connection made them one of when it no longer does. " +
				"Memberships an admin made are never touched. A group of another tenant answers 404.",
			Body: groupMappingsBody{}, Reply: list[*admin.GroupMapping]{}, handler: h.setGroupMappings},
		{Method: http.MethodDelete, Path: "/tenants/:slug/connections/:id", Tag: tagConnections, Scope: write, Summary: "Delete a connection",
			Description: "Unlinks the identities it brought: their users stay, and sign in another way. " + deleteNote,
			Status:      http.StatusNoContent, handler: h.deleteConnection},

		// SAML applications (Gatehouse as the identity provider).
		{Method: http.MethodGet, Path: "/tenants/:slug/saml-apps", Tag: tagSAMLApps, Scope: read, Summary: "List the tenant's SAML applications",
			Description: "In order of name. Each carries the values to give its service provider: metadata_url (the IdP's metadata and entity ID) and sso_url.",
			Query:       paged, Reply: list[*admin.SAMLApp]{}, handler: h.listSAMLApps},
		{Method: http.MethodPost, Path: "/tenants/:slug/saml-apps", Tag: tagSAMLApps, Scope: write, Summary: "Add a SAML application (a service provider)",
			Description: "From the SP's metadata (metadata_xml or metadata_url) or from fields (entity_id and acs at least). The answer's metadata_url is the IdP metadata to give the SP.",
			Status:      http.StatusCreated, Body: samlAppBody{}, Reply: admin.SAMLApp{}, handler: h.createSAMLApp},
		{Method: http.MethodGet, Path: "/tenants/:slug/saml-apps/:id", Tag: tagSAMLApps, Scope: read, Summary: "Get a SAML application",
			Reply: admin.SAMLApp{}, handler: h.getSAMLApp},
		{Method: http.MethodPatch, Path: "/tenants/:slug/saml-apps/:id", Tag: tagSAMLApps, Scope: write, Summary: "Change a SAML application",
			Description: "A field left out keeps its value; metadata given again replaces what metadata gave.",
			Body:        samlAppBody{}, Reply: admin.SAMLApp{}, handler: h.updateSAMLApp},
		{Method: http.MethodDelete, Path: "/tenants/:slug/saml-apps/:id", Tag: tagSAMLApps, Scope: write, Summary: "Delete a SAML application",
			Description: deleteNote, Status: http.StatusNoContent, handler: h.deleteSAMLApp},
		// Webhooks.
		{Method: http.MethodGet, Path: "/tenants/:slug/webhooks", Tag: tagWebhooks, Scope: read, Summary: "List the tenant's webhook endpoints",
			Description: "Secrets are never listed.", Query: paged, Reply: list[*admin.Webhook]{}, handler: h.listWebhooks},
		{Method: http.MethodPost, Path: "/tenants/:slug/webhooks", Tag: tagWebhooks, Scope: write, Summary: "Add a webhook endpoint",
			Description: "Events of the chosen types are POSTed to the URL as the Standard Webhooks specification says (webhook-id, webhook-timestamp, " +
				"webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>). The signing secret (whsec_...) is in this answer only: it is stored encrypted and never shown again.",
			Status: http.StatusCreated, Body: createWebhookBody{}, Reply: admin.Webhook{}, handler: h.createWebhook},
		{Method: http.MethodGet, Path: "/tenants/:slug/webhooks/:id", Tag: tagWebhooks, Scope: read, Summary: "Get a webhook endpoint",
			Reply: admin.Webhook{}, handler: h.getWebhook},
		{Method: http.MethodPatch, Path: "/tenants/:slug/webhooks/:id", Tag: tagWebhooks, Scope: write, Summary: "Change a webhook endpoint",
			Description: "Fields left out keep their values. Enabling an endpoint Gatehouse disabled (after a day of failures) resumes its waiting deliveries.",
			Body:        updateWebhookBody{}, Reply: admin.Webhook{}, handler: h.updateWebhook},
		{Method: http.MethodDelete, Path: "/tenants/:slug/webhooks/:id", Tag: tagWebhooks, Scope: write, Summary: "Delete a webhook endpoint",
			Description: "Deletes the endpoint with its deliveries and their log. " + deleteNote,
			Status:      http.StatusNoContent, handler: h.deleteWebhook},
		{Method: http.MethodPost, Path: "/tenants/:slug/webhooks/:id/rotate-secret", Tag: tagWebhooks, Scope: write, Summary: "Rotate a webhook endpoint's signing secret",
			Description: "The new secret is in this answer only. For the next 24 hours deliveries carry two signatures, by the new secret and the previous one, so that the receiver may switch at any time within it.",
			Reply:       admin.Webhook{}, handler: h.rotateWebhookSecret},
		{Method: http.MethodGet, Path: "/tenants/:slug/webhooks/:id/deliveries", Tag: tagWebhooks, Scope: read, Summary: "List a webhook endpoint's deliveries and their log",
			Description: "Newest first, each with its attempts (status code or error, never the answer's body). Pass a page's next as before to get the following page.",
			Query:       []Param{pLimit, {Name: "before", Description: "opaque cursor: the next of the previous page", Schema: str()}},
			Reply:       list[*admin.WebhookDelivery]{}, handler: h.listWebhookDeliveries},
		{Method: http.MethodPost, Path: "/tenants/:slug/webhooks/:id/deliveries/:delivery/redeliver", Tag: tagWebhooks, Scope: write, Summary: "Send a delivery again",
			Description: "The delivery is due again at once, whatever became of it, with the same webhook-id (receivers that deduplicate may recognise it).",
			Status:      http.StatusAccepted, Reply: admin.WebhookDelivery{}, handler: h.redeliverWebhook},

		// Initial access tokens of dynamic client registration.
		{Method: http.MethodGet, Path: "/tenants/:slug/initial-access-tokens", Tag: tagRegistration, Scope: read, Summary: "List the tenant's initial access tokens",
			Description: "Those unexpired with a use left, newest first. Tokens themselves are never listed.", Query: paged,
			Reply: list[*admin.InitialAccessToken]{}, handler: h.listInitialAccessTokens},
		{Method: http.MethodPost, Path: "/tenants/:slug/initial-access-tokens", Tag: tagRegistration, Scope: write, Summary: "Create an initial access token",
			Description: "With the tenant's client_registration set to token, a client registers itself at the tenant's /oauth/register (RFC 7591) with this token as Bearer. " +
				"The token is in this answer only: it is stored as a hash.",
			Status: http.StatusCreated, Body: createInitialAccessTokenBody{}, Reply: admin.InitialAccessToken{}, handler: h.createInitialAccessToken},
		{Method: http.MethodDelete, Path: "/tenants/:slug/initial-access-tokens/:id", Tag: tagRegistration, Scope: write, Summary: "Delete an initial access token",
			Description: "It registers nothing more; clients it registered stay. " + deleteNote,
			Status:      http.StatusNoContent, handler: h.deleteInitialAccessToken},
		// The tenant's own wording of the pages and email.
		{Method: http.MethodGet, Path: "/tenants/:slug/strings", Tag: tagStrings, Scope: read, Summary: "List the tenant's own wording",
			Description: "Every message of the catalogs (views/i18n/locales) the tenant rewords, per language, with the catalog's words it replaces.",
			Reply:       list[*admin.TenantString]{}, handler: h.listStrings},
		{Method: http.MethodPut, Path: "/tenants/:slug/strings/:locale/:message", Tag: tagStrings, Scope: write, Summary: "Reword a message in a language",
			Description: "The tenant's pages and email in that language say text instead of the catalog's words: its own consent wording, say " +
				"(PUT /tenants/acme/strings/de/consent.heading). The language is one of ui_locales_supported, the message one of the English catalog's; " +
				"text may name only the variables the message has ({{.App}}), and nothing else in it is read as a template. At most 1000 per tenant.",
			Body: setStringBody{}, Reply: admin.TenantString{}, handler: h.setString},
		{Method: http.MethodDelete, Path: "/tenants/:slug/strings/:locale/:message", Tag: tagStrings, Scope: write, Summary: "Show the catalog's words again",
			Description: deleteNote, Status: http.StatusNoContent, handler: h.deleteString},
		// Custom domains.
		{Method: http.MethodGet, Path: "/tenants/:slug/domains", Tag: tagDomains, Scope: read, Summary: "List the tenant's custom domains",
			Description: "Each with its state, the issuer relying parties configure for it, and the DNS records that serve and prove it.",
			Reply:       list[*admin.Domain]{}, handler: h.listDomains},
		{Method: http.MethodPost, Path: "/tenants/:slug/domains", Tag: tagDomains, Scope: write, Summary: "Add a custom domain",
			Description: "Claims the host (login.acme.com) for the tenant, unverified: create the DNS records the answer lists (a CNAME to the apex host, " +
				"a TXT record _gatehouse-challenge.<domain> with the value given), then verify it. It serves nothing before. A host is one tenant's at most: " +
				"one held by any tenant is refused (409), except an unverified claim older than a week, which lapses. The apex and hosts under it are tenant hosts (400); " +
				"an internationalized name is given as its A-label (xn--...). At most 20 per tenant.",
			Status: http.StatusCreated, Body: addDomainBody{}, Reply: admin.Domain{}, handler: h.addDomain},
		{Method: http.MethodGet, Path: "/tenants/:slug/domains/:domain", Tag: tagDomains, Scope: read, Summary: "Get a custom domain",
			Reply: admin.Domain{}, handler: h.getDomain},
		{Method: http.MethodPost, Path: "/tenants/:slug/domains/:domain/verify", Tag: tagDomains, Scope: write, Summary: "Verify a custom domain",
			Description: "Gatehouse looks up the TXT record _gatehouse-challenge.<domain> (through GATEHOUSE_DNS_RESOLVER when set): when it holds the domain's value, " +
				"the domain is verified and every node serves the tenant at it from then on, with the issuer https://<domain>. Otherwise 400, saying what DNS answered. " +
				"A verified domain stays verified.",
			Reply: admin.Domain{}, handler: h.verifyDomain},
		{Method: http.MethodDelete, Path: "/tenants/:slug/domains/:domain", Tag: tagDomains, Scope: write, Summary: "Remove a custom domain",
			Description: "The tenant is no longer served at the host, on every node, and the host is free for any tenant. Tokens issued there stop being accepted, " +
				"as the issuer they name is no longer this tenant's. " + deleteNote,
			Status: http.StatusNoContent, handler: h.removeDomain},

		// The tenant's own email templates.
		{Method: http.MethodGet, Path: "/tenants/:slug/email-templates", Tag: tagEmail, Scope: read, Summary: "List the tenant's own email templates",
			Description: "Every kind and language the tenant has its own template of; the others send the built-in email.",
			Reply:       list[*admin.EmailTemplate]{}, handler: h.listEmailTemplates},
		{Method: http.MethodGet, Path: "/tenants/:slug/email-templates/:kind/:locale", Tag: tagEmail, Scope: read, Summary: "Get the template of a kind of email in a language",
			Description: "The tenant's own (custom true), or the built-in email written as a template to start from (custom false), with the variables the kind offers. " +
				"Kinds: " + emailKindsNote + ". A kind or language that does not exist answers 404.",
			Reply: admin.EmailTemplate{}, handler: h.getEmailTemplate},
		{Method: http.MethodPut, Path: "/tenants/:slug/email-templates/:kind/:locale", Tag: tagEmail, Scope: write, Summary: "Set the tenant's template of a kind of email in a language",
			Description: "The tenant's users who read that language get this email instead of the built-in one. The template language has named variables only " +
				"({{user.name}}, {{link}}: the kind's variables, see GET), no logic and no calls; a variable the kind does not offer is refused (400, naming the part). " +
				"Values are HTML-escaped in html, which is the content below the tenant's logo in its branded layout.",
			Body: emailTemplateBody{}, Reply: admin.EmailTemplate{}, handler: h.setEmailTemplate},
		{Method: http.MethodDelete, Path: "/tenants/:slug/email-templates/:kind/:locale", Tag: tagEmail, Scope: write, Summary: "Send the built-in email again",
			Description: deleteNote, Status: http.StatusNoContent, handler: h.deleteEmailTemplate},
		{Method: http.MethodPost, Path: "/tenants/:slug/email-templates/:kind/:locale/preview", Tag: tagEmail, Scope: write, Summary: "Preview a template with sample values",
			Description: "The email as a user would receive it, composed from the body (checked as PUT checks it, and not saved) with each variable's sample value. " +
				"The html is a whole document: show it only sandboxed.",
			Body: emailTemplateBody{}, Reply: admin.EmailPreview{}, handler: h.previewEmailTemplate},

		// Administrators and management clients.
		{Method: http.MethodGet, Path: "/administrators", Tag: tagAdmins, Scope: read, Summary: "List the administrators you may see",
			Description: "Administrators sign in to the console. Oldest first. " + whoMayNote,
			Query:       paged, Reply: list[*admin.Admin]{}, handler: h.listAdmins},
		{Method: http.MethodGet, Path: "/administrators/:id", Tag: tagAdmins, Scope: read, Summary: "Get an administrator",
			Description: whoMayNote, Reply: admin.Admin{}, handler: h.getAdmin},
		{Method: http.MethodPatch, Path: "/administrators/:id", Tag: tagAdmins, Scope: write, Summary: "Change what an administrator may do",
			Description: "Make them an operator or a tenant admin, name their tenants, set their scopes. The last operator cannot be made a tenant admin (409). " + whoMayNote,
			Body:        updateAccessBody{}, Reply: admin.Admin{}, handler: h.updateAdmin},
		{Method: http.MethodDelete, Path: "/administrators/:id", Tag: tagAdmins, Scope: write, Summary: "Delete an administrator",
			Description: "Deletes their account at the system tenant: their console sessions end and their tokens stop working at once. The last operator cannot be deleted (409). " +
				whoMayNote + " " + deleteNote,
			Status: http.StatusNoContent, handler: h.deleteAdmin},
		{Method: http.MethodGet, Path: "/management-clients", Tag: tagAdminClients, Scope: read, Summary: "List the management clients you may see",
			Description: "Management clients get this API's tokens with client credentials. In order of client_id. Secrets are never listed. " + whoMayNote,
			Query:       paged, Reply: list[*admin.AdminClient]{}, handler: h.listAdminClients},
		{Method: http.MethodGet, Path: "/management-clients/:client_id", Tag: tagAdminClients, Scope: read, Summary: "Get a management client",
			Description: whoMayNote, Reply: admin.AdminClient{}, handler: h.getAdminClient},
		{Method: http.MethodPatch, Path: "/management-clients/:client_id", Tag: tagAdminClients, Scope: write, Summary: "Change what a management client may do",
			Description: "Make it an operator or a tenant admin, name its tenants, set its scopes: its tokens carry no more from their next use on. " + whoMayNote,
			Body:        updateAccessBody{}, Reply: admin.AdminClient{}, handler: h.updateAdminClient},
		{Method: http.MethodDelete, Path: "/management-clients/:client_id", Tag: tagAdminClients, Scope: write, Summary: "Revoke a management client",
			Description: "Deletes the client with its secret: its tokens stop working at once, on every node (introspection answers active: false). " +
				whoMayNote + " " + deleteNote,
			Status: http.StatusNoContent, handler: h.deleteAdminClient},

		// Audit.
		{Method: http.MethodGet, Path: "/tenants/:slug/audit", Tag: tagAudit, Scope: audit, Summary: "Read the tenant's audit log",
			Description: "Newest first. Pass a page's next as before to get the following page.",
			Query: append(append([]Param{}, pFilter...), pLimit,
				Param{Name: "before", Description: "opaque cursor: the next of the previous page", Schema: str()}),
			Reply: list[*admin.AuditEvent]{}, handler: h.listAudit},
		{Method: http.MethodGet, Path: "/tenants/:slug/audit/export", Tag: tagAudit, Scope: audit, Summary: "Export the tenant's audit log",
			Description: "Every matching event, newest first, one JSON object per line (application/x-ndjson), streamed. A transfer that ends abruptly is incomplete.",
			Query:       pFilter, Reply: admin.AuditEvent{}, ReplyType: "application/x-ndjson", handler: h.exportAudit},
	}
}
