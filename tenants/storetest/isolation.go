package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Natural keys every world uses, so that a lookup by one of them that
// forgets the tenant finds the other tenant's row.
const (
	sharedEmail    = "ada@example.com"
	sharedClientID = "web-app"
	sharedAudience = "https://api.example.com"
	// Every world has a connection of this name to an upstream with this
	// issuer, its user linked there under this subject, and this SAML
	// assertion id recorded.
	sharedConnectionName = "Corporate SSO"
	sharedIssuer         = "https://idp.example.com"
	sharedSubject        = "248289761001"
	sharedAssertionID    = "_assertion-1"
	// Every world's user has a WebAuthn credential of this id, and a
	// recovery code of this hash.
	sharedCredentialID = "Y3JlZGVudGlhbC0x"
	sharedRecoveryHash = "recovery-code-1"
	// Every world has a role and a group of these names: its user holds
	// the role directly and through the group.
	sharedRoleName  = "admin"
	sharedGroupName = "staff"
	// Every world rewords this message of the catalogs.
	sharedMessageID = "consent.heading"
	// Every world has a claim rule of this name.
	sharedRuleName = "plan claim"
)

// world is one tenant with a row of every kind, as the suite wrote them.
type world struct {
	ctx    context.Context
	job    *tenants.ImportJob // made by importJob when an operation needs it
	tenant *tenants.Tenant

	user     *tenants.User   // email sharedEmail, logged in once
	api      *tenants.API    // audience sharedAudience
	client   *tenants.Client // client_id sharedClientID
	internal *tenants.Client // made by Gatehouse for itself: not listed
	consent  *tenants.Consent
	session  *tenants.Session
	audit    *tenants.AuditEvent
	// private is a key no other world uses: the email, client_id and
	// audience of rows only this world has.
	private string

	connection *tenants.Connection       // named sharedConnectionName
	identity   *tenants.ExternalIdentity // user's, (sharedIssuer, sharedSubject) at connection
	unproven   *tenants.ExternalIdentity // user's, linked while the address was unproven
	state      *tenants.FederationState  // a login at connection in progress

	fresh    *tenants.AuthRequest // nobody logged in yet
	authed   *tenants.AuthRequest // logged in, no code yet
	coded    *tenants.AuthRequest // code issued, not redeemed
	intent   *tenants.AuthRequest // a sign-in intent of the account pages, signed in to
	codeHash string
	redeemed *tenants.AuthRequest
	grant    *tenants.Grant
	refresh  *tenants.RefreshToken
	// Access tokens, which are not stored: what the store knows of them
	// is the revocation list and their family.
	access         accessToken // of grant
	machine        accessToken // client credentials, no family
	revoked        accessToken // of grant, on the revocation list
	revokedMachine accessToken // client credentials, on the revocation list

	token    *tenants.UserToken // user's email verification link, unused
	reset    *tenants.UserToken // user's password reset link, unused
	totp     *tenants.MFAFactor // user's
	webauthn *tenants.MFAFactor // user's, credential id sharedCredentialID
	step     *tenants.LoginStep // user's MFA step of the login authed

	device         *tenants.DeviceAuthorization // pending, user code sharedUserCode
	privateDevice  *tenants.DeviceAuthorization // pending, user code privateUserCode
	approvedDevice *tenants.DeviceAuthorization // approved by user, not redeemed
	webhook        *tenants.WebhookEndpoint     // subscribed to every event
	delivery       *tenants.WebhookDelivery     // of audit, to webhook
	role           *tenants.Role                // named sharedRoleName: write on api; user's, group's
	group          *tenants.Group               // named sharedGroupName: user is a member
	samlApp        *tenants.SAMLApp             // entity ID sharedSAMLEntityID
	samlRequest    *tenants.SAMLRequest         // for samlApp, waiting
	initialToken   *tenants.InitialAccessToken  // hash privateInitialHash
	registered     *tenants.Client              // registered itself, client id "reg-"+private
	rule           *tenants.ClaimRule           // named sharedRuleName
	domain         *tenants.Domain              // host privateDomain, verified
}

// privateDomain is the custom domain only this world has (a host is one
// tenant's at most), verified; privatePending is one it claimed only.
func (w *world) privateDomain() string  { return "login." + w.private + ".example.org" }
func (w *world) privatePending() string { return "sso." + w.private + ".example.org" }

// privateInitialHash and privateRegistrationHash are the hashes of the
// world's initial access token and of its registered client's
// registration access token.
func (w *world) privateInitialHash() string      { return "iat-" + w.private }
func (w *world) privateRegistrationHash() string { return "rat-" + w.private }

// pushedID is the id of the world's pushed authorization request, of its
// client sharedClientID.
func (w *world) pushedID() string { return "par-" + w.private }

// importJob returns the world's import job, pending, of one chunk,
// making it the first time.
func (w *world) importJob(s *tenants.Store) *tenants.ImportJob {
	if w.job != nil {
		return w.job
	}
	j := &tenants.ImportJob{Kind: "users"}
	err := errors.Join(s.CreateImportJob(w.ctx, j),
		s.AddImportChunk(w.ctx, &tenants.ImportJobChunk{JobID: j.ID, Seq: 0, FirstLine: 1, Data: "1\t{\"email\":\"job@example.com\"}\n"},
			[]tenants.ImportJobRefusal{{Line: 2, Reason: "line too long"}}),
		s.SealImportJob(w.ctx, j.ID, 1, 2, 1))
	if err != nil {
		panic(err)
	}
	w.job = j
	return j
}

func (w *world) privateEmail() string    { return w.private + "@example.com" }
func (w *world) privateClientID() string { return "app-" + w.private }
func (w *world) privateAudience() string { return "https://" + w.private + ".example.com" }

// privateConnectionName, privateSubject and privateAssertionID name a
// connection, an upstream subject and a SAML assertion id only this world
// has; federatedEmail and federatedSubject, the user a first login through
// the connection made.
func (w *world) privateConnectionName() string { return "SSO " + w.private }
func (w *world) privateSubject() string        { return "sub-" + w.private }
func (w *world) privateAssertionID() string    { return "_" + w.private }
func (w *world) federatedEmail() string        { return "fed-" + w.private + "@example.com" }
func (w *world) federatedSubject() string      { return "fed-" + w.private }

// privateCredentialID and privateRecoveryHash name a WebAuthn credential
// and a recovery code only this world has.
func (w *world) privateCredentialID() string { return "cred-" + w.private }
func (w *world) privateRecoveryHash() string { return "recovery-" + w.private }

// seedWorld creates a tenant and a row of every kind in it.
func seedWorld(t testing.TB, s *tenants.Store, prefix string) *world {
	t.Helper()
	ctx, tn := newTenant(t, s, prefix)
	w := &world{ctx: ctx, tenant: tn, private: suffix()}
	w.user = mustUser(t, ctx, s, sharedEmail)
	w.user.AppMetadata = `{"plan":"gold","world":"` + w.private + `"}`
	must(t, "set user metadata", s.UpdateUserProfile(ctx, w.user))
	if err := s.RecordLogin(ctx, w.user.ID, s.Now(), ""); err != nil {
		t.Fatalf("record login: %v", err)
	}
	privateUser := mustUser(t, ctx, s, w.privateEmail())
	w.api = mustAPI(t, ctx, s, sharedAudience, "read", "write")
	mustAPI(t, ctx, s, w.privateAudience(), "read")
	w.client = mustClient(t, ctx, s, sharedClientID, tenants.ClientGrant{APIID: w.api.ID, Scopes: tenants.Strings{"read"}})
	mustClient(t, ctx, s, w.privateClientID(), tenants.ClientGrant{APIID: w.api.ID, Scopes: tenants.Strings{"write"}})
	if err := s.CreatePushedRequest(ctx, &tenants.PushedRequest{ID: w.pushedID(), ClientID: sharedClientID, Params: "{}", ExpiresAt: s.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	w.internal = mustInternalClient(t, ctx, s, "try-"+w.private)
	w.connection = mustConnection(t, ctx, s, sharedConnectionName)
	mustConnection(t, ctx, s, w.privateConnectionName())
	w.identity = mustExternalIdentity(t, ctx, s, w.user.ID, w.connection.ID, sharedSubject)
	if err := s.TouchExternalIdentity(ctx, w.identity.ID, s.Now()); err != nil {
		t.Fatalf("touch external identity: %v", err)
	}
	mustExternalIdentity(t, ctx, s, privateUser.ID, w.connection.ID, w.privateSubject())
	w.unproven = newExternalIdentity(w.user.ID, w.connection.ID, "unproven-"+sharedSubject)
	w.unproven.LinkedUnproven = true
	if err := s.CreateExternalIdentity(ctx, w.unproven); err != nil {
		t.Fatalf("create unproven identity: %v", err)
	}
	if err := s.CreateFederatedUser(ctx, &tenants.User{Email: w.federatedEmail()}, newExternalIdentity("", w.connection.ID, w.federatedSubject())); err != nil {
		t.Fatalf("create federated user: %v", err)
	}
	w.state = mustFederationState(t, ctx, s, w.connection.ID, 10*time.Minute)
	mustSAMLAssertion(t, ctx, s, w.connection.ID, sharedAssertionID, s.Now().Add(time.Hour))
	mustSAMLAssertion(t, ctx, s, w.connection.ID, w.privateAssertionID(), s.Now().Add(time.Hour))
	w.consent = mustConsent(t, ctx, s, w.user.ID, sharedClientID, tenants.ScopeSet{"": {"openid"}, sharedAudience: {"read"}})
	w.session = mustSession(t, ctx, s, w.user.ID, time.Hour)
	w.fresh = mustAuthRequest(t, ctx, s, sharedClientID)
	w.authed = mustAuthenticated(t, ctx, s, sharedClientID, w.user.ID)
	w.coded, w.codeHash = mustCode(t, ctx, s, sharedClientID, w.user.ID)
	w.intent = mustIntent(t, ctx, s, w.user.ID)
	var issue tenants.Issue
	w.redeemed, issue = mustRedeemed(t, ctx, s, sharedClientID, w.user.ID)
	w.grant, w.refresh = issue.Grant, issue.Refresh
	w.access = familyToken(s, w.grant)
	w.machine = machineToken(s, sharedClientID, time.Hour)
	w.revoked = mustRevoke(t, ctx, s, familyToken(s, w.grant))
	w.revokedMachine = mustRevoke(t, ctx, s, machineToken(s, sharedClientID, time.Hour))
	w.token = mustUserToken(t, ctx, s, w.user.ID, tenants.TokenVerifyEmail, time.Hour)
	w.reset = mustUserToken(t, ctx, s, w.user.ID, tenants.TokenResetPassword, time.Hour)
	w.totp = mustFactor(t, ctx, s, newTOTPFactor(w.user.ID))
	w.webauthn = mustFactor(t, ctx, s, newWebAuthnFactor(w.user.ID, sharedCredentialID))
	mustFactor(t, ctx, s, newWebAuthnFactor(privateUser.ID, w.privateCredentialID()))
	mustRecoveryCodes(t, ctx, s, w.user.ID, sharedRecoveryHash, w.privateRecoveryHash())
	w.step = mustLoginStep(t, ctx, s, w.user.ID, w.authed.ID, 10*time.Minute)
	w.device = mustDevice(t, ctx, s, sharedClientID, sharedUserCode, 10*time.Minute)
	w.privateDevice = mustDevice(t, ctx, s, sharedClientID, w.privateUserCode(), 10*time.Minute)
	w.approvedDevice = mustApprovedDevice(t, ctx, s, sharedClientID, "A"+w.private, w.user.ID)
	if err := s.RotateSigningKey(ctx, newKey(), s.Now().Add(time.Hour)); err != nil {
		t.Fatalf("rotate signing key: %v", err)
	}
	w.webhook = mustWebhook(t, ctx, s, tenants.WebhookAllEvents)
	w.role = mustRole(t, ctx, s, sharedRoleName, tenants.Permission{Audience: sharedAudience, Scope: "write"})
	mustRole(t, ctx, s, "role-"+w.private, tenants.Permission{Audience: sharedAudience, Scope: "read"})
	w.group = mustGroup(t, ctx, s, sharedGroupName)
	mustGroup(t, ctx, s, "group-"+w.private)
	must(t, "add user role", s.AddUserRole(ctx, w.user.ID, w.role.ID))
	must(t, "add group member", s.AddGroupMember(ctx, w.group.ID, w.user.ID))
	must(t, "add group role", s.AddGroupRole(ctx, w.group.ID, w.role.ID))
	// Every world rewords the consent heading in German (the same key),
	// and a message of its own in French.
	must(t, "tenant string", s.SetTenantString(ctx, &tenants.TenantString{Locale: "de", MessageID: sharedMessageID, Text: "Zustimmung " + w.private}))
	must(t, "private tenant string", s.SetTenantString(ctx, &tenants.TenantString{Locale: "fr", MessageID: "msg." + w.private, Text: "Texte " + w.private}))
	must(t, "user locale", s.SetUserLocale(ctx, w.user.ID, "de"))
	// Every world has its own German reset email, and a French one of
	// its own kind.
	must(t, "email template", s.SetEmailTemplate(ctx, &tenants.EmailTemplate{Kind: "reset", Locale: "de", Subject: "Neu " + w.private, Text: "Text " + w.private}))
	must(t, "private email template", s.SetEmailTemplate(ctx, &tenants.EmailTemplate{Kind: "kind-" + w.private, Locale: "fr", Subject: "S " + w.private, Text: "T"}))
	w.rule = &tenants.ClaimRule{Name: sharedRuleName, Enabled: true, IDTokenClaims: tenants.StringMap{"plan": "'gold'"}}
	must(t, "create claim rule", s.CreateClaimRule(ctx, w.rule))
	w.audit = mustAudit(t, ctx, s, &tenants.AuditEvent{Action: "client.created", ActorID: "operator", TargetType: "client", TargetID: sharedClientID})
	w.delivery = mustDelivery(t, ctx, s, w.webhook.ID, w.audit.ID)
	w.samlApp = mustSAMLApp(t, ctx, s, sharedSAMLEntityID)
	mustSAMLApp(t, ctx, s, "https://sp.example.com/"+w.private)
	w.samlRequest = mustSAMLRequest(t, ctx, s, w.samlApp.ID)
	must(t, "record SAML participant", s.RecordSAMLParticipant(ctx, &tenants.SAMLParticipant{AppID: w.samlApp.ID, UserID: w.user.ID,
		SID: sharedSAMLSID, NameID: sharedSAMLNameID, NameIDFormat: tenants.NameIDEmail, SessionIndex: "si", ExpiresAt: s.Now().Add(time.Hour)}))
	must(t, "use SAML message", s.UseSAMLMessage(ctx, w.samlApp.ID, sharedSAMLMessageID, s.Now().Add(time.Hour)))
	// The shared client listens for back-channel logouts: the world's
	// session has a family of it, and an ended session left a delivery.
	w.client.BackchannelLogoutURI = "https://" + w.private + ".example.com/logout"
	must(t, "listen for logouts", s.UpdateClient(ctx, w.client))
	mustSIDFamily(t, ctx, s, sharedClientID, w.user.ID, tenants.SessionSID(w.session))
	ended := mustSession(t, ctx, s, w.user.ID, time.Hour)
	mustSIDFamily(t, ctx, s, sharedClientID, w.user.ID, tenants.SessionSID(ended))
	must(t, "sign out", s.LogoutSession(ctx, ended.ID))
	w.initialToken = &tenants.InitialAccessToken{TokenHash: w.privateInitialHash(), Name: "ci", UsesLeft: 5, ExpiresAt: s.Now().Add(time.Hour)}
	must(t, "initial access token", s.CreateInitialAccessToken(ctx, w.initialToken))
	w.registered = newClient("reg-" + w.private)
	w.registered.RegistrationTokenHash = w.privateRegistrationHash()
	must(t, "register client", s.RegisterClient(ctx, w.registered, "", nil))
	w.domain = &tenants.Domain{Host: w.privateDomain(), Challenge: "challenge-" + w.private}
	must(t, "claim domain", s.CreateDomain(ctx, w.domain))
	must(t, "verify domain", s.MarkDomainVerified(ctx, w.domain.Host))
	must(t, "claim pending domain", s.CreateDomain(ctx, &tenants.Domain{Host: w.privatePending(), Challenge: "pending-" + w.private}))
	return w
}

// snapshot is everything the tenant of a world holds, read through the
// store as that tenant and by plain SQL, as JSON per kind of row.
type snapshot map[string]string

func (w *world) snapshot(t testing.TB, s *tenants.Store) snapshot {
	t.Helper()
	snap := snapshot{}
	add := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("snapshot %s: %v", name, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("snapshot %s: %v", name, err)
		}
		snap[name] = string(b)
	}
	ctx := w.ctx
	add("row counts", tenantRows(t, s, w.tenant.ID), nil)
	tn, err := s.TenantByID(ctx, w.tenant.ID)
	add("tenant", tn, err)
	users, err := s.ListUsers(ctx, 1000)
	add("users", users, err)
	strs, err := s.ListTenantStrings(ctx)
	add("tenant strings", strs, err)
	ets, err := s.ListEmailTemplates(ctx)
	add("email templates", ets, err)
	clients, err := s.ListClients(ctx)
	add("clients", clients, err)
	internal, err := s.ClientByClientID(ctx, w.internal.ClientID)
	add("internal client", internal, err)
	for _, c := range clients {
		gs, err := s.ClientGrants(ctx, c.ClientID)
		add("client grants of "+c.ClientID, gs, err)
	}
	apis, err := s.ListAPIs(ctx)
	add("APIs", apis, err)
	consents, err := s.ListConsents(ctx, w.user.ID)
	add("consents", consents, err)
	sessions, err := s.ListSessions(ctx, w.user.ID)
	add("sessions", sessions, err)
	for name, ar := range map[string]*tenants.AuthRequest{"fresh": w.fresh, "authed": w.authed, "coded": w.coded, "redeemed": w.redeemed, "intent": w.intent} {
		got, err := s.AuthRequestByID(ctx, ar.ID)
		add("auth request "+name, got, err)
	}
	g, err := s.GrantByID(ctx, w.grant.ID)
	add("grant", g, err)
	for name, tok := range map[string]accessToken{"access token": w.access, "machine token": w.machine, "revoked token": w.revoked, "revoked machine token": w.revokedMachine} {
		st, err := tok.status(ctx, s)
		add("status of "+name, st, err)
	}
	add("revoked token rows", sqlRows(t, s, "SELECT * FROM revoked_tokens WHERE tenant_id = ? ORDER BY jti", w.tenant.ID), nil)
	rt, _, err := s.RefreshTokenByHash(ctx, w.refresh.TokenHash)
	add("refresh token", rt, err)
	keys, err := s.ListSigningKeys(ctx)
	add("signing keys", keys, err)
	events, err := s.ListAudit(ctx, tenants.AuditFilter{Limit: 1000})
	add("audit events", events, err)
	add("audit event rows", countRows(t, s, "audit_events", "tenant_id", w.tenant.ID), nil)
	conns, err := s.ListConnections(ctx)
	add("connections", conns, err)
	for _, c := range conns {
		got, err := s.ConnectionByID(ctx, c.ID)
		add("connection "+c.Name, got, err)
	}
	for _, u := range users {
		xs, err := s.ListExternalIdentities(ctx, u.ID)
		add("external identities of "+u.Email, xs, err)
		fs, err := s.ListFactors(ctx, u.ID)
		add("factors of "+u.Email, fs, err)
		n, err := s.CountRecoveryCodes(ctx, u.ID)
		add("recovery codes of "+u.Email, n, err)
	}
	x, err := s.ExternalIdentity(ctx, w.connection.ID, sharedIssuer, sharedSubject)
	add("external identity", x, err)
	// The store reads a federation state only to spend it, and SAML
	// assertion ids not at all: plain SQL it is.
	add("federation state rows", sqlRows(t, s, "SELECT * FROM federation_states WHERE tenant_id = ? ORDER BY id", w.tenant.ID), nil)
	add("SAML assertion rows", sqlRows(t, s, "SELECT * FROM saml_assertions WHERE tenant_id = ? ORDER BY connection_id, assertion_id", w.tenant.ID), nil)
	for name, tok := range map[string]*tenants.UserToken{"verification": w.token, "reset": w.reset} {
		got, err := s.UserTokenValid(ctx, tok.ID, tok.Purpose)
		add("user token "+name, got, err)
	}
	f, err := s.FactorByCredentialID(ctx, sharedCredentialID)
	add("factor by credential id", f, err)
	st, err := s.LoginStepByID(ctx, w.step.ID)
	add("login step", st, err)
	// Used links and codes the store reads no more: plain SQL.
	add("user token rows", sqlRows(t, s, "SELECT * FROM user_tokens WHERE tenant_id = ? ORDER BY id", w.tenant.ID), nil)
	add("recovery code rows", sqlRows(t, s, "SELECT * FROM recovery_codes WHERE tenant_id = ? ORDER BY id", w.tenant.ID), nil)
	add("login step rows", sqlRows(t, s, "SELECT * FROM login_steps WHERE tenant_id = ? ORDER BY id", w.tenant.ID), nil)
	for name, d := range map[string]*tenants.DeviceAuthorization{"pending": w.device, "private": w.privateDevice, "approved": w.approvedDevice} {
		got, err := s.DeviceAuthorizationByID(ctx, d.ID)
		add("device authorization "+name, got, err)
	}
	add("device authorization rows", sqlRows(t, s, "SELECT * FROM device_authorizations WHERE tenant_id = ? ORDER BY id", w.tenant.ID), nil)
	hook, err := s.WebhookByID(ctx, w.webhook.ID)
	add("webhook", hook, err)
	add("webhook delivery rows", sqlRows(t, s, "SELECT * FROM webhook_deliveries WHERE tenant_id = ? ORDER BY id", w.tenant.ID), nil)
	samlApps, err := s.ListSAMLApps(ctx)
	add("SAML apps", samlApps, err)
	domains, err := s.ListDomains(ctx)
	add("custom domains", domains, err)
	add("SAML request rows", sqlRows(t, s, "SELECT * FROM saml_requests WHERE tenant_id = ? ORDER BY id", w.tenant.ID), nil)
	add("initial access token rows", sqlRows(t, s, "SELECT * FROM initial_access_tokens WHERE tenant_id = ? ORDER BY id", w.tenant.ID), nil)
	add("logout delivery rows", sqlRows(t, s, "SELECT * FROM logout_deliveries WHERE tenant_id = ? ORDER BY id", w.tenant.ID), nil)
	roles, err := s.ListRoles(ctx)
	add("roles", roles, err)
	rules, err := s.ListClaimRules(ctx)
	add("claim rules", rules, err)
	groups, err := s.ListGroups(ctx)
	add("groups", groups, err)
	for _, g := range groups {
		ms, err := s.ListGroupMembers(ctx, g.ID)
		add("members of "+g.Name, ms, err)
		rs, err := s.GroupRoles(ctx, g.ID)
		add("roles of "+g.Name, rs, err)
	}
	for _, u := range users {
		eff, err := s.EffectiveRoles(ctx, u.ID)
		add("effective roles of "+u.Email, eff, err)
	}
	for _, table := range []string{"role_permissions", "user_roles", "group_members", "group_roles"} {
		add(table+" rows", sqlRows(t, s, "SELECT * FROM "+table+" WHERE tenant_id = ? ORDER BY created_at, "+map[string]string{
			"role_permissions": "role_id, api_id, scope", "user_roles": "user_id, role_id",
			"group_members": "group_id, user_id", "group_roles": "group_id, role_id"}[table], w.tenant.ID), nil)
	}
	return snap
}

// unchanged fails t for every kind of row that differs between before and
// after.
func unchanged(t testing.TB, before, after snapshot) {
	t.Helper()
	for name, b := range before {
		if a := after[name]; a != b {
			t.Errorf("%s changed:\nbefore %s\nafter  %s", name, b, a)
		}
	}
	for name, a := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s appeared: %s", name, a)
		}
	}
}

// errVisible is what an operation of the isolation table returns when it
// saw a row of another tenant than its own.
var errVisible = errors.New("a row of another tenant is visible")

// tenantOp is one call of a tenant-scoped method on the rows of world a.
type tenantOp struct {
	// name is the method, optionally followed by "/" and a variant.
	name string
	call func(ctx context.Context) error
	// fromOther is what call returns when ctx carries the tenant of world
	// b: a lookup does not find a's row, a compare-and-swap does not
	// swap, an update or delete changes nothing of a.
	fromOther error
}

// tenantOps returns a call of every tenant-scoped method of the store
// aimed at the rows of world a, in an order where a call from b's tenant
// does not spoil the calls after it: lookups, then updates of a's rows,
// then writes by the natural keys both worlds share.
func tenantOps(s *tenants.Store, a, b *world) []tenantOp {
	// notMine checks a row a lookup or list returned: it must be of the
	// tenant in ctx, not a's nor any other's.
	notMine := func(ctx context.Context, tenantID string) error {
		if t, ok := tenants.FromContext(ctx); !ok || tenantID != t.ID {
			return errVisible
		}
		return nil
	}
	// noneOf checks what a token status says of a's family and
	// revocation list: nothing.
	noneOf := func(st *tenants.TokenStatus) error {
		if st.Revoked || st.GrantFound || st.GrantRevoked || st.GrantClientID != "" || st.GrantUserID != "" {
			return fmt.Errorf("%w: %+v", errVisible, *st)
		}
		return nil
	}
	none := func(n int) error {
		if n > 0 {
			return errVisible
		}
		return nil
	}
	// sameCount checks a count against the scoped listing of the same
	// rows: a count that forgets the tenant counts a's rows too.
	sameCount := func(counted int64, listed int) error {
		if counted != int64(listed) {
			return fmt.Errorf("%w: counted %d rows, listed %d", errVisible, counted, listed)
		}
		return nil
	}
	later := s.Now().Add(time.Minute)
	exp := s.Now().Add(time.Hour)
	return []tenantOp{
		// Lookups and lists.
		{"UserByID", func(ctx context.Context) error { _, err := s.UserByID(ctx, a.user.ID); return err }, tenants.ErrNotFound},
		{"UserByEmail/shared email", func(ctx context.Context) error {
			u, err := s.UserByEmail(ctx, sharedEmail)
			if err != nil {
				return err
			}
			return notMine(ctx, u.TenantID)
		}, nil},
		{"UserByEmail/private email", func(ctx context.Context) error { _, err := s.UserByEmail(ctx, a.privateEmail()); return err }, tenants.ErrNotFound},
		{"ListUsers", func(ctx context.Context) error {
			us, err := s.ListUsers(ctx, 1000)
			for _, u := range us {
				err = errors.Join(err, notMine(ctx, u.TenantID))
			}
			return err
		}, nil},
		{"ClientByClientID/shared client", func(ctx context.Context) error {
			c, err := s.ClientByClientID(ctx, sharedClientID)
			if err != nil {
				return err
			}
			return notMine(ctx, c.TenantID)
		}, nil},
		{"ClientByClientID/private client", func(ctx context.Context) error {
			_, err := s.ClientByClientID(ctx, a.privateClientID())
			return err
		}, tenants.ErrNotFound},
		{"ListClients", func(ctx context.Context) error {
			cs, err := s.ListClients(ctx)
			for _, c := range cs {
				err = errors.Join(err, notMine(ctx, c.TenantID))
			}
			return err
		}, nil},
		{"ClientGrants/shared client", func(ctx context.Context) error {
			gs, err := s.ClientGrants(ctx, sharedClientID)
			for _, g := range gs {
				err = errors.Join(err, notMine(ctx, g.TenantID))
			}
			return err
		}, nil},
		{"ClientGrants/private client", func(ctx context.Context) error {
			gs, err := s.ClientGrants(ctx, a.privateClientID())
			return errors.Join(err, none(len(gs)))
		}, nil},
		{"APIByAudience/shared audience", func(ctx context.Context) error {
			api, err := s.APIByAudience(ctx, sharedAudience)
			if err != nil {
				return err
			}
			err = notMine(ctx, api.TenantID)
			for _, sc := range api.Scopes {
				err = errors.Join(err, notMine(ctx, sc.TenantID))
			}
			return err
		}, nil},
		{"APIByAudience/private audience", func(ctx context.Context) error {
			_, err := s.APIByAudience(ctx, a.privateAudience())
			return err
		}, tenants.ErrNotFound},
		{"APIByID", func(ctx context.Context) error { _, err := s.APIByID(ctx, a.api.ID); return err }, tenants.ErrNotFound},
		{"ListAPIs", func(ctx context.Context) error {
			as, err := s.ListAPIs(ctx)
			for _, api := range as {
				err = errors.Join(err, notMine(ctx, api.TenantID))
				for _, sc := range api.Scopes {
					err = errors.Join(err, notMine(ctx, sc.TenantID))
				}
			}
			return err
		}, nil},
		{"ConsentFor", func(ctx context.Context) error {
			_, err := s.ConsentFor(ctx, a.user.ID, sharedClientID)
			return err
		}, tenants.ErrNotFound},
		{"ListConsents", func(ctx context.Context) error {
			cs, err := s.ListConsents(ctx, a.user.ID)
			return errors.Join(err, none(len(cs)))
		}, nil},
		{"SessionByID", func(ctx context.Context) error { _, err := s.SessionByID(ctx, a.session.ID); return err }, tenants.ErrNotFound},
		{"ListSessions", func(ctx context.Context) error {
			ss, err := s.ListSessions(ctx, a.user.ID)
			return errors.Join(err, none(len(ss)))
		}, nil},
		{"AuthRequestByID", func(ctx context.Context) error {
			_, err := s.AuthRequestByID(ctx, a.fresh.ID)
			return err
		}, tenants.ErrNotFound},
		{"AuthRequestByCodeHash", func(ctx context.Context) error {
			_, err := s.AuthRequestByCodeHash(ctx, a.codeHash)
			return err
		}, tenants.ErrNotFound},
		// Another tenant's family and revocations are not seen: its client
		// of the same client_id is b's own.
		{"AccessTokenStatus/family token", func(ctx context.Context) error {
			st, err := a.access.status(ctx, s)
			if err != nil {
				return err
			}
			return noneOf(st)
		}, nil},
		{"AccessTokenStatus/revoked family token", func(ctx context.Context) error {
			st, err := a.revoked.status(ctx, s)
			if err != nil {
				return err
			}
			return noneOf(st)
		}, nil},
		{"AccessTokenStatus/revoked machine token", func(ctx context.Context) error {
			st, err := a.revokedMachine.status(ctx, s)
			if err != nil {
				return err
			}
			return noneOf(st)
		}, nil},
		{"AccessTokenStatus/private client", func(ctx context.Context) error {
			st, err := machineToken(s, a.privateClientID(), time.Hour).status(ctx, s)
			if err != nil {
				return err
			}
			if st.ClientExists {
				return errVisible
			}
			return noneOf(st)
		}, nil},
		{"RefreshTokenByHash", func(ctx context.Context) error {
			_, _, err := s.RefreshTokenByHash(ctx, a.refresh.TokenHash)
			return err
		}, tenants.ErrNotFound},
		{"GrantByID", func(ctx context.Context) error { _, err := s.GrantByID(ctx, a.grant.ID); return err }, tenants.ErrNotFound},
		{"SigningKeys", func(ctx context.Context) error {
			ks, err := s.SigningKeys(ctx)
			for _, k := range ks {
				err = errors.Join(err, notMine(ctx, k.TenantID))
			}
			return err
		}, nil},
		{"ListSigningKeys", func(ctx context.Context) error {
			ks, err := s.ListSigningKeys(ctx)
			for _, k := range ks {
				err = errors.Join(err, notMine(ctx, k.TenantID))
			}
			return err
		}, nil},
		{"SearchUsers/shared email", func(ctx context.Context) error {
			p, err := s.SearchUsers(ctx, sharedEmail, "", 200)
			if err != nil {
				return err
			}
			for _, u := range p.Users {
				err = errors.Join(err, notMine(ctx, u.TenantID))
			}
			return err
		}, nil},
		{"SearchUsers/private email", func(ctx context.Context) error {
			p, err := s.SearchUsers(ctx, a.private, "", 200)
			if err != nil {
				return err
			}
			return none(len(p.Users))
		}, nil},
		{"CountUsers", func(ctx context.Context) error {
			n, err := s.CountUsers(ctx)
			if err != nil {
				return err
			}
			us, err := s.ListUsers(ctx, 1000)
			return errors.Join(err, sameCount(n, len(us)))
		}, nil},
		{"RecentLogins", func(ctx context.Context) error {
			us, err := s.RecentLogins(ctx, 1000)
			for _, u := range us {
				err = errors.Join(err, notMine(ctx, u.TenantID))
			}
			return err
		}, nil},
		{"ClientByClientID/internal client", func(ctx context.Context) error {
			_, err := s.ClientByClientID(ctx, a.internal.ClientID)
			return err
		}, tenants.ErrNotFound},
		{"CountClients", func(ctx context.Context) error {
			n, err := s.CountClients(ctx)
			if err != nil {
				return err
			}
			cs, err := s.ListClients(ctx)
			return errors.Join(err, sameCount(n, len(cs)))
		}, nil},
		{"CountAPIs", func(ctx context.Context) error {
			n, err := s.CountAPIs(ctx)
			if err != nil {
				return err
			}
			as, err := s.ListAPIs(ctx)
			return errors.Join(err, sameCount(n, len(as)))
		}, nil},
		{"ListAudit", func(ctx context.Context) error {
			evs, err := s.ListAudit(ctx, tenants.AuditFilter{TargetID: sharedClientID, Limit: 1000})
			for _, ev := range evs {
				err = errors.Join(err, notMine(ctx, ev.TenantID))
			}
			return err
		}, nil},
		{"ConnectionByID", func(ctx context.Context) error {
			_, err := s.ConnectionByID(ctx, a.connection.ID)
			return err
		}, tenants.ErrNotFound},
		{"ListConnections", func(ctx context.Context) error {
			cs, err := s.ListConnections(ctx)
			for _, c := range cs {
				err = errors.Join(err, notMine(ctx, c.TenantID))
			}
			return err
		}, nil},
		{"ExternalIdentity", func(ctx context.Context) error {
			_, err := s.ExternalIdentity(ctx, a.connection.ID, sharedIssuer, sharedSubject)
			return err
		}, tenants.ErrNotFound},
		{"ExternalIdentity/private subject", func(ctx context.Context) error {
			_, err := s.ExternalIdentity(ctx, a.connection.ID, sharedIssuer, a.privateSubject())
			return err
		}, tenants.ErrNotFound},
		// a's import job, made for the occasion: b sees, changes and
		// runs none of it.
		{"ImportJobByID", func(ctx context.Context) error {
			_, err := s.ImportJobByID(ctx, a.importJob(s).ID)
			return err
		}, tenants.ErrNotFound},
		{"ImportJobRefusals", func(ctx context.Context) error {
			rs, err := s.ImportJobRefusals(ctx, a.importJob(s).ID, 100)
			return errors.Join(err, none(len(rs)))
		}, nil},
		{"ImportJobChunkAt", func(ctx context.Context) error {
			_, err := s.ImportJobChunkAt(ctx, a.importJob(s).ID, 0)
			return err
		}, tenants.ErrNotFound},
		{"AddImportChunk", func(ctx context.Context) error {
			return s.AddImportChunk(ctx, &tenants.ImportJobChunk{JobID: a.importJob(s).ID, Seq: 9, Data: "1\t{}\n"}, nil)
		}, tenants.ErrNotFound},
		{"SealImportJob", func(ctx context.Context) error {
			return s.SealImportJob(ctx, a.importJob(s).ID, 1, 1, 0)
		}, tenants.ErrNotFound},
		{"ImportJobStep", func(ctx context.Context) error {
			_, err := s.ImportJobStep(ctx, a.importJob(s).ID, 0, nil, nil, time.Minute)
			return err
		}, tenants.ErrNotFound},
		{"CreateImportJob", func(ctx context.Context) error {
			return s.CreateImportJob(ctx, &tenants.ImportJob{Kind: "users"})
		}, nil},
		{"IdentitiesOfUsers", func(ctx context.Context) error {
			xs, err := s.IdentitiesOfUsers(ctx, []string{a.user.ID})
			return errors.Join(err, none(len(xs)))
		}, nil},
		{"RoleAndGroupIDsOfUsers", func(ctx context.Context) error {
			roles, groups, err := s.RoleAndGroupIDsOfUsers(ctx, []string{a.user.ID})
			return errors.Join(err, none(len(roles)+len(groups)))
		}, nil},
		// (client_ids are unique per tenant only: b may have a "web-app" of
		// its own, which is its to name.)
		{"AuditNames", func(ctx context.Context) error {
			names, err := s.AuditNames(ctx, map[string][]string{"user": {a.user.ID}, "api": {a.api.ID}})
			return errors.Join(err, none(len(names["user"])+len(names["api"])))
		}, nil},
		// The activity counts only the tenant's own: the same as its own
		// rows, read through the scoped listings.
		{"TenantActivity", func(ctx context.Context) error {
			act, err := s.TenantActivity(ctx, 30)
			if err != nil {
				return err
			}
			us, err := s.RecentLogins(ctx, 1000)
			if err != nil {
				return err
			}
			evs, err := s.ListAudit(ctx, tenants.AuditFilter{Action: "login.", Since: act.Days[0].Day, Limit: 1000})
			if err != nil {
				return err
			}
			var want, got int64
			for _, e := range evs {
				if e.Action == "login.succeeded" || e.Action == "login.failed" || e.Action == "login.throttled" {
					want++
				}
			}
			for _, d := range act.Days {
				got += d.Succeeded + d.Failed
			}
			return errors.Join(sameCount(act.ActiveUsers, len(us)), sameCount(got, int(want)))
		}, nil},
		{"UsersAfter", func(ctx context.Context) error {
			us, err := s.UsersAfter(ctx, "", 1000)
			for _, u := range us {
				err = errors.Join(err, notMine(ctx, u.TenantID))
			}
			return err
		}, nil},
		// An import names a's user by id: refused, as an id that is not
		// available, without a word of a; by a's private email: a new
		// user of b's own; by the shared email: b's user.
		{"ImportUsers/id of the other tenant", func(ctx context.Context) error {
			out, err := s.ImportUsers(ctx, []tenants.ImportUser{{Line: 1, ID: a.user.ID, Email: "imported-" + suffix() + "@example.com", Name: "Hijack"}}, true)
			if err != nil {
				return err
			}
			if out[0].Status != tenants.ImportRefused || out[0].Reason != "id: not available" {
				return fmt.Errorf("%w: %+v", errVisible, out[0])
			}
			return nil
		}, nil},
		{"ImportUsers/shared email", func(ctx context.Context) error {
			out, err := s.ImportUsers(ctx, []tenants.ImportUser{{Line: 1, Email: sharedEmail, Name: "Imported", PasswordHash: "$2b$10$" + strings.Repeat("a", 53)}}, true)
			if err != nil {
				return err
			}
			if out[0].Status != tenants.ImportUpdated || out[0].UserID != b.user.ID {
				return fmt.Errorf("%w: %+v", errVisible, out[0])
			}
			return nil
		}, nil},
		{"ImportUsers/private email", func(ctx context.Context) error {
			out, err := s.ImportUsers(ctx, []tenants.ImportUser{{Line: 1, Email: "import-" + a.privateEmail()}}, false)
			if err != nil {
				return err
			}
			if out[0].Status != tenants.ImportCreated || out[0].UserID == a.user.ID {
				return fmt.Errorf("%w: %+v", errVisible, out[0])
			}
			return nil
		}, nil},
		{"ImportUsers/connection of the other tenant", func(ctx context.Context) error {
			_, err := s.ImportUsers(ctx, []tenants.ImportUser{{Line: 1, Email: "imported-" + suffix() + "@example.com",
				Identities: []tenants.ImportIdentity{{ConnectionID: a.connection.ID, Issuer: sharedIssuer, Subject: "sub-" + suffix()}}}}, false)
			return err
		}, tenants.ErrNotFound},
		{"ListExternalIdentities", func(ctx context.Context) error {
			xs, err := s.ListExternalIdentities(ctx, a.user.ID)
			return errors.Join(err, none(len(xs)))
		}, nil},
		{"UserTokenValid", func(ctx context.Context) error {
			_, err := s.UserTokenValid(ctx, a.token.ID, a.token.Purpose)
			return err
		}, tenants.ErrNotFound},
		{"ListFactors", func(ctx context.Context) error {
			fs, err := s.ListFactors(ctx, a.user.ID)
			return errors.Join(err, none(len(fs)))
		}, nil},
		{"FactorByCredentialID/shared credential id", func(ctx context.Context) error {
			f, err := s.FactorByCredentialID(ctx, sharedCredentialID)
			if err != nil {
				return err
			}
			return notMine(ctx, f.TenantID)
		}, nil},
		{"FactorByCredentialID/private credential id", func(ctx context.Context) error {
			_, err := s.FactorByCredentialID(ctx, a.privateCredentialID())
			return err
		}, tenants.ErrNotFound},
		{"CountRecoveryCodes", func(ctx context.Context) error {
			n, err := s.CountRecoveryCodes(ctx, a.user.ID)
			return errors.Join(err, none(int(n)))
		}, nil},
		{"LoginStepByID", func(ctx context.Context) error { _, err := s.LoginStepByID(ctx, a.step.ID); return err }, tenants.ErrNotFound},
		{"RoleByID", func(ctx context.Context) error { _, err := s.RoleByID(ctx, a.role.ID); return err }, tenants.ErrNotFound},
		{"RoleByName/shared name", func(ctx context.Context) error {
			r, err := s.RoleByName(ctx, sharedRoleName)
			if err != nil {
				return err
			}
			return notMine(ctx, r.TenantID)
		}, nil},
		{"RoleByName/private name", func(ctx context.Context) error { _, err := s.RoleByName(ctx, "role-"+a.private); return err }, tenants.ErrNotFound},
		{"ListRoles", func(ctx context.Context) error {
			rs, err := s.ListRoles(ctx)
			for _, r := range rs {
				err = errors.Join(err, notMine(ctx, r.TenantID))
				for _, p := range r.Permissions {
					if p.Audience != sharedAudience {
						err = errors.Join(err, errVisible)
					}
				}
			}
			return err
		}, nil},
		{"GroupByID", func(ctx context.Context) error { _, err := s.GroupByID(ctx, a.group.ID); return err }, tenants.ErrNotFound},
		{"SearchUsersByMetadata/private value", func(ctx context.Context) error {
			p, err := s.SearchUsersByMetadata(ctx, tenants.ColumnAppMetadata, "world", a.private, "", 50)
			if err != nil {
				return err
			}
			return none(len(p.Users))
		}, nil},
		{"SearchUsersByMetadata/shared key", func(ctx context.Context) error {
			p, err := s.SearchUsersByMetadata(ctx, tenants.ColumnAppMetadata, "plan", "gold", "", 50)
			if err != nil {
				return err
			}
			for _, u := range p.Users {
				err = errors.Join(err, notMine(ctx, u.TenantID))
			}
			return err
		}, nil},
		{"RoleAndGroupIDsOfUsers", func(ctx context.Context) error {
			roles, groups, err := s.RoleAndGroupIDsOfUsers(ctx, []string{a.user.ID})
			return errors.Join(err, none(len(roles)+len(groups)))
		}, nil},
		{"ClaimRuleByID", func(ctx context.Context) error { _, err := s.ClaimRuleByID(ctx, a.rule.ID); return err }, tenants.ErrNotFound},
		{"ListClaimRules", func(ctx context.Context) error {
			rs, err := s.ListClaimRules(ctx)
			for _, r := range rs {
				err = errors.Join(err, notMine(ctx, r.TenantID))
			}
			return err
		}, nil},
		{"UpdateClaimRule", func(ctx context.Context) error {
			return s.UpdateClaimRule(ctx, &tenants.ClaimRule{ID: a.rule.ID, Name: "hijack", Deny: "no"})
		}, tenants.ErrNotFound},
		{"DeleteClaimRule", func(ctx context.Context) error { return s.DeleteClaimRule(ctx, a.rule.ID) }, tenants.ErrNotFound},
		{"GroupByName/shared name", func(ctx context.Context) error {
			g, err := s.GroupByName(ctx, sharedGroupName)
			if err != nil {
				return err
			}
			return notMine(ctx, g.TenantID)
		}, nil},
		{"GroupByName/private name", func(ctx context.Context) error { _, err := s.GroupByName(ctx, "group-"+a.private); return err }, tenants.ErrNotFound},
		{"ListGroups", func(ctx context.Context) error {
			gs, err := s.ListGroups(ctx)
			for _, g := range gs {
				err = errors.Join(err, notMine(ctx, g.TenantID))
			}
			return err
		}, nil},
		{"ListGroupMembers", func(ctx context.Context) error {
			us, err := s.ListGroupMembers(ctx, a.group.ID)
			return errors.Join(err, none(len(us)))
		}, nil},
		{"GroupRoles", func(ctx context.Context) error {
			rs, err := s.GroupRoles(ctx, a.group.ID)
			return errors.Join(err, none(len(rs)))
		}, nil},
		{"EffectiveRoles", func(ctx context.Context) error {
			rs, err := s.EffectiveRoles(ctx, a.user.ID)
			return errors.Join(err, none(len(rs)))
		}, nil},
		{"UserGroups", func(ctx context.Context) error {
			gs, err := s.UserGroups(ctx, a.user.ID)
			return errors.Join(err, none(len(gs)))
		}, nil},
		{"UserPermissions", func(ctx context.Context) error {
			ps, err := s.UserPermissions(ctx, a.user.ID, sharedAudience)
			return errors.Join(err, none(len(ps)))
		}, nil},
		{"ConnectionGroupMaps", func(ctx context.Context) error {
			ms, err := s.ConnectionGroupMaps(ctx, a.connection.ID)
			return errors.Join(err, none(len(ms)))
		}, nil},
		{"UserAccess", func(ctx context.Context) error {
			ua, err := s.UserAccess(ctx, a.user.ID, tenants.AccessQuery{Roles: true, Groups: true, Passed: true, PermissionsOf: sharedAudience})
			if err != nil {
				return err
			}
			return none(len(ua.Roles) + len(ua.Groups) + len(ua.Passed) + len(ua.Permissions))
		}, nil},
		{"PassesGroups", func(ctx context.Context) error {
			passes, err := s.PassesGroups(ctx)
			if err != nil {
				return err
			}
			cs, err := s.ListConnections(ctx)
			own := false
			for _, c := range cs {
				own = own || c.PassGroups
			}
			if passes != own {
				return errors.Join(err, fmt.Errorf("passes groups = %v, but the tenant's own connections say %v", passes, own))
			}
			return err
		}, nil},
		{"PassedGroups", func(ctx context.Context) error {
			gs, err := s.PassedGroups(ctx, a.user.ID)
			return errors.Join(err, none(len(gs)))
		}, nil},
		{"SetConnectionGroupMaps/a's connection", func(ctx context.Context) error {
			return s.SetConnectionGroupMaps(ctx, a.connection.ID, nil)
		}, tenants.ErrNotFound},
		{"SetConnectionGroupMaps/a's group", func(ctx context.Context) error {
			return s.SetConnectionGroupMaps(ctx, b.connection.ID, []tenants.GroupMap{{UpstreamGroup: "eng", GroupID: a.group.ID}})
		}, tenants.ErrNotFound},
		{"SyncUpstreamGroups", func(ctx context.Context) error {
			x := *a.identity
			_, err := s.SyncUpstreamGroups(ctx, &x, []string{"eng"})
			return err
		}, tenants.ErrNotFound},

		// Updates, revocations, deletions and compare-and-swaps of a's rows.
		{"RecordLogin", func(ctx context.Context) error {
			return s.RecordLogin(ctx, a.user.ID, later, "$argon2id$new")
		}, tenants.ErrNotFound},
		{"RotateClientSecret/private client", func(ctx context.Context) error {
			return s.RotateClientSecret(ctx, a.privateClientID(), randomHash(), nil, &exp)
		}, tenants.ErrNotFound},
		{"DeleteClient/private client", func(ctx context.Context) error {
			return s.DeleteClient(ctx, a.privateClientID())
		}, tenants.ErrNotFound},
		{"GrantConsent/private client", func(ctx context.Context) error {
			_, err := s.GrantConsent(ctx, a.user.ID, a.privateClientID(), tenants.ScopeSet{"": {"email"}})
			return err
		}, tenants.ErrNotFound},
		{"GrantImplicitConsent/other tenant's user", func(ctx context.Context) error {
			_, err := s.GrantImplicitConsent(ctx, a.user.ID, sharedClientID, tenants.ScopeSet{"": {"email"}})
			return err
		}, tenants.ErrNotFound},
		{"RevokeConsent", func(ctx context.Context) error {
			return s.RevokeConsent(ctx, a.user.ID, sharedClientID)
		}, tenants.ErrNotFound},
		{"TouchSession", func(ctx context.Context) error { return s.TouchSession(ctx, a.session.ID, later) }, nil},
		{"DeleteSession", func(ctx context.Context) error { return s.DeleteSession(ctx, a.session.ID) }, nil},
		{"CreateInitialAccessToken/own", func(ctx context.Context) error {
			rt := &tenants.InitialAccessToken{TokenHash: randomHash(), UsesLeft: 1, ExpiresAt: later}
			if err := s.CreateInitialAccessToken(ctx, rt); err != nil {
				return err
			}
			return notMine(ctx, rt.TenantID)
		}, nil},
		{"ListInitialAccessTokens", func(ctx context.Context) error {
			ts, err := s.ListInitialAccessTokens(ctx)
			for _, x := range ts {
				if x.ID == a.initialToken.ID {
					return errors.New("listed another tenant's initial access token")
				}
			}
			return err
		}, nil},
		{"DeleteInitialAccessToken", func(ctx context.Context) error { return s.DeleteInitialAccessToken(ctx, a.initialToken.ID) }, tenants.ErrNotFound},
		{"RegisterClient", func(ctx context.Context) error {
			return s.RegisterClient(ctx, newClient("reg-"+tenants.NewRandomID()), a.privateInitialHash(), nil)
		}, tenants.ErrNotFound},
		{"RegisterClient/open", func(ctx context.Context) error {
			c := newClient("reg-" + tenants.NewRandomID())
			if err := s.RegisterClient(ctx, c, "", nil); err != nil {
				return err
			}
			return notMine(ctx, c.TenantID)
		}, nil},
		{"RegisteredClient", func(ctx context.Context) error {
			_, err := s.RegisteredClient(ctx, a.registered.ClientID, a.privateRegistrationHash())
			return err
		}, tenants.ErrNotFound},
		{"LogoutSession", func(ctx context.Context) error { return s.LogoutSession(ctx, a.session.ID) }, nil},
		{"ListLogoutDeliveries", func(ctx context.Context) error {
			ds, err := s.ListLogoutDeliveries(ctx, sharedClientID, 100)
			for _, d := range ds {
				if d.TenantID == a.tenant.ID {
					return errors.New("listed another tenant's logout delivery")
				}
			}
			return err
		}, nil},
		{"SetAuthenticated", func(ctx context.Context) error {
			return s.SetAuthenticated(ctx, a.fresh.ID, tenants.Authentication{UserID: b.user.ID, Time: later, AMR: []string{"pwd"}})
		}, tenants.ErrConflict},
		{"IssueCode", func(ctx context.Context) error {
			return s.IssueCode(ctx, a.authed.ID, randomHash(), exp)
		}, tenants.ErrConflict},
		{"RedeemCode", func(ctx context.Context) error {
			return s.RedeemCode(ctx, a.coded.ID, newIssue(s, sharedClientID, b.user.ID))
		}, tenants.ErrConflict},
		{"RedeemCodeMatching", func(ctx context.Context) error {
			issue := newIssue(s, sharedClientID, b.user.ID)
			m := tenants.CodeMatch{ClientID: sharedClientID, RedirectURI: a.coded.RedirectURI, Challenge: a.coded.CodeChallenge}
			_, _, err := s.RedeemCodeMatching(ctx, a.codeHash, issue.Grant.ID, m, func(context.Context, *tenants.AuthRequest, *tenants.User) (tenants.Issue, error) { return issue, nil })
			return err
		}, tenants.ErrConflict},
		{"BurnCode", func(ctx context.Context) error { return s.BurnCode(ctx, a.coded.ID) }, nil},
		{"CompleteIntent", func(ctx context.Context) error { return s.CompleteIntent(ctx, a.intent.ID) }, tenants.ErrConflict},
		// A revocation goes on b's own list (its client of the same
		// client_id), never on a's.
		{"RevokeAccessToken/family token", func(ctx context.Context) error { return a.access.revoke(ctx, s) }, nil},
		{"RevokeAccessToken/machine token", func(ctx context.Context) error { return a.machine.revoke(ctx, s) }, nil},
		{"RevokeAccessToken/private client", func(ctx context.Context) error {
			return machineToken(s, a.privateClientID(), time.Hour).revoke(ctx, s)
		}, tenants.ErrNotFound},
		{"RotateRefreshToken", func(ctx context.Context) error {
			return s.RotateRefreshToken(ctx, a.refresh.ID, refreshIssue(s, b.grant))
		}, tenants.ErrConflict},
		{"RevokeGrant", func(ctx context.Context) error { return s.RevokeGrant(ctx, a.grant.ID, "stolen") }, nil},
		{"UpdateUserProfile", func(ctx context.Context) error {
			return s.UpdateUserProfile(ctx, &tenants.User{ID: a.user.ID, Email: "hijack@example.com", Name: "Hijack"})
		}, tenants.ErrNotFound},
		{"SetUserDisabled/disable", func(ctx context.Context) error { return s.SetUserDisabled(ctx, a.user.ID, true) }, tenants.ErrNotFound},
		{"SetUserDisabled/enable", func(ctx context.Context) error { return s.SetUserDisabled(ctx, a.user.ID, false) }, tenants.ErrNotFound},
		{"DeleteUserSession", func(ctx context.Context) error {
			return s.DeleteUserSession(ctx, a.user.ID, a.session.ID)
		}, tenants.ErrNotFound},
		{"DeleteUserSession/own user", func(ctx context.Context) error {
			return s.DeleteUserSession(ctx, b.user.ID, a.session.ID)
		}, tenants.ErrNotFound},
		{"DeleteUser", func(ctx context.Context) error { return s.DeleteUser(ctx, a.user.ID) }, tenants.ErrNotFound},
		// The changes of an administrator's access act on the system
		// tenant's principals only: through any other tenant, a's user and
		// client are not found (and neither is b's own).
		{"ReplaceAdminUser", func(ctx context.Context) error {
			return s.ReplaceAdminUser(ctx, a.user.ID, []tenants.AdminRole{{Role: tenants.RoleOperator}}, tenants.Strings{"tenants:write"})
		}, tenants.ErrNotFound},
		{"ReplaceAdminUser/own user", func(ctx context.Context) error {
			return s.ReplaceAdminUser(ctx, b.user.ID, []tenants.AdminRole{{Role: tenants.RoleOperator}}, tenants.Strings{"tenants:write"})
		}, tenants.ErrNotFound},
		{"ReplaceAdminClient", func(ctx context.Context) error {
			return s.ReplaceAdminClient(ctx, a.client.ClientID, []tenants.AdminRole{{Role: tenants.RoleOperator}}, nil)
		}, tenants.ErrNotFound},
		{"DeleteAdminUser", func(ctx context.Context) error { return s.DeleteAdminUser(ctx, a.user.ID) }, tenants.ErrNotFound},
		{"DeleteAdminUser/own user", func(ctx context.Context) error { return s.DeleteAdminUser(ctx, b.user.ID) }, tenants.ErrNotFound},
		{"DeleteAdminClient", func(ctx context.Context) error { return s.DeleteAdminClient(ctx, a.client.ClientID) }, tenants.ErrNotFound},
		{"DeleteAdminClient/shared client", func(ctx context.Context) error { return s.DeleteAdminClient(ctx, sharedClientID) }, tenants.ErrNotFound},
		{"UpdateClient/private client", func(ctx context.Context) error {
			c := newClient(a.privateClientID())
			c.Name, c.RedirectURIs = "Hijack", tenants.Strings{"https://evil.example.com/cb"}
			return s.UpdateClient(ctx, c)
		}, tenants.ErrNotFound},
		{"UpdateClient/internal client", func(ctx context.Context) error {
			return s.UpdateClient(ctx, newClient(a.internal.ClientID))
		}, tenants.ErrNotFound},
		{"SetClientGrants/private client", func(ctx context.Context) error {
			return s.SetClientGrants(ctx, a.privateClientID(), []tenants.ClientGrant{{APIID: b.api.ID, Scopes: tenants.Strings{"read"}}})
		}, tenants.ErrNotFound},
		{"UpdateAPI", func(ctx context.Context) error {
			return s.UpdateAPI(ctx, &tenants.API{ID: a.api.ID, Name: "Hijack", Scopes: []tenants.Scope{{Name: "read"}}})
		}, tenants.ErrNotFound},
		{"DeleteAPI", func(ctx context.Context) error { return s.DeleteAPI(ctx, a.api.ID) }, tenants.ErrNotFound},
		{"UpdateConnection", func(ctx context.Context) error {
			c := newConnection("Hijack")
			c.ID, c.Issuer, c.ClientSecretSealed = a.connection.ID, "https://evil.example.com", nil
			return s.UpdateConnection(ctx, c)
		}, tenants.ErrNotFound},
		{"TouchExternalIdentity", func(ctx context.Context) error {
			return s.TouchExternalIdentity(ctx, a.identity.ID, later)
		}, nil},
		{"DeleteExternalIdentity", func(ctx context.Context) error {
			return s.DeleteExternalIdentity(ctx, a.user.ID, a.identity.ID)
		}, tenants.ErrNotFound},
		{"DeleteUnprovenIdentities", func(ctx context.Context) error {
			xs, err := s.DeleteUnprovenIdentities(ctx, a.user.ID)
			if err != nil {
				return err
			}
			return none(len(xs))
		}, nil},
		{"DeleteExternalIdentity/own user", func(ctx context.Context) error {
			return s.DeleteExternalIdentity(ctx, b.user.ID, a.identity.ID)
		}, tenants.ErrNotFound},
		{"UseFederationState", func(ctx context.Context) error {
			_, err := s.UseFederationState(ctx, a.state.ID)
			return err
		}, tenants.ErrNotFound},
		{"DeleteConnection", func(ctx context.Context) error { return s.DeleteConnection(ctx, a.connection.ID) }, tenants.ErrNotFound},
		{"UseUserToken", func(ctx context.Context) error {
			_, err := s.UseUserToken(ctx, a.token.ID, a.token.Purpose)
			return err
		}, tenants.ErrNotFound},
		{"ChangePassword", func(ctx context.Context) error {
			return s.ChangePassword(ctx, a.user.ID, "$argon2id$hijack")
		}, tenants.ErrNotFound},
		{"SetEmail", func(ctx context.Context) error {
			return s.SetEmail(ctx, a.user.ID, "hijack@example.com", true)
		}, tenants.ErrNotFound},
		{"UseFactor/TOTP", func(ctx context.Context) error { return s.UseFactor(ctx, a.totp.ID, "") }, tenants.ErrNotFound},
		{"SwapFactorCredential", func(ctx context.Context) error {
			return s.SwapFactorCredential(ctx, a.totp.ID, a.totp.Credential, `{"last_step":1}`)
		}, tenants.ErrConflict},
		{"UseFactor/WebAuthn", func(ctx context.Context) error {
			return s.UseFactor(ctx, a.webauthn.ID, `{"id":"hijack","signCount":99}`)
		}, tenants.ErrNotFound},
		{"DeleteFactor", func(ctx context.Context) error { return s.DeleteFactor(ctx, a.user.ID, a.totp.ID) }, tenants.ErrNotFound},
		{"DeleteFactor/own user", func(ctx context.Context) error {
			return s.DeleteFactor(ctx, b.user.ID, a.webauthn.ID)
		}, tenants.ErrNotFound},
		{"ReplaceRecoveryCodes", func(ctx context.Context) error {
			return s.ReplaceRecoveryCodes(ctx, a.user.ID, []string{sharedRecoveryHash, randomHash()})
		}, tenants.ErrNotFound},
		{"UseRecoveryCode", func(ctx context.Context) error {
			return s.UseRecoveryCode(ctx, a.user.ID, sharedRecoveryHash)
		}, tenants.ErrNotFound},
		{"UseRecoveryCode/own user", func(ctx context.Context) error {
			return s.UseRecoveryCode(ctx, b.user.ID, a.privateRecoveryHash())
		}, tenants.ErrNotFound},
		{"UseRecoveryCodeMadeBefore", func(ctx context.Context) error {
			return s.UseRecoveryCodeMadeBefore(ctx, a.user.ID, sharedRecoveryHash, s.Now().Add(time.Hour))
		}, tenants.ErrNotFound},
		{"UseLoginStep", func(ctx context.Context) error { _, err := s.UseLoginStep(ctx, a.step.ID); return err }, tenants.ErrNotFound},
		{"DeviceAuthorizationByUserCode/shared code", func(ctx context.Context) error {
			d, err := s.DeviceAuthorizationByUserCode(ctx, sharedUserCode)
			if err != nil {
				return err
			}
			return notMine(ctx, d.TenantID)
		}, nil},
		{"DeviceAuthorizationByUserCode/private code", func(ctx context.Context) error {
			_, err := s.DeviceAuthorizationByUserCode(ctx, a.privateUserCode())
			return err
		}, tenants.ErrNotFound},
		{"DeviceAuthorizationByID", func(ctx context.Context) error {
			_, err := s.DeviceAuthorizationByID(ctx, a.device.ID)
			return err
		}, tenants.ErrNotFound},
		{"DeviceAuthorizationByCodeHash", func(ctx context.Context) error {
			_, err := s.DeviceAuthorizationByCodeHash(ctx, a.device.DeviceCodeHash)
			return err
		}, tenants.ErrNotFound},
		{"PollDeviceAuthorization", func(ctx context.Context) error {
			_, _, err := s.PollDeviceAuthorization(ctx, a.device.ID, 5*time.Second)
			return err
		}, tenants.ErrNotFound},
		{"ApproveDeviceAuthorization", func(ctx context.Context) error {
			return s.ApproveDeviceAuthorization(ctx, a.device.ID, tenants.Authentication{UserID: b.user.ID, Time: s.Now()})
		}, tenants.ErrConflict},
		{"DenyDeviceAuthorization", func(ctx context.Context) error { return s.DenyDeviceAuthorization(ctx, a.privateDevice.ID) }, tenants.ErrConflict},
		{"RedeemDeviceAuthorization", func(ctx context.Context) error {
			return s.RedeemDeviceAuthorization(ctx, a.approvedDevice.ID, newIssue(s, sharedClientID, b.user.ID))
		}, tenants.ErrConflict},
		{"UpdateRole", func(ctx context.Context) error {
			return s.UpdateRole(ctx, &tenants.Role{ID: a.role.ID, Name: "hijack"})
		}, tenants.ErrNotFound},
		{"UpdateRole/permission on the other tenant's API", func(ctx context.Context) error {
			r := *b.role
			r.Permissions = []tenants.Permission{{Audience: a.privateAudience(), Scope: "read"}}
			var ve *tenants.ValidationError
			if err := s.UpdateRole(ctx, &r); !errors.As(err, &ve) {
				return fmt.Errorf("want a validation error, got %w", err)
			}
			return nil
		}, nil},
		{"DeleteRole", func(ctx context.Context) error { return s.DeleteRole(ctx, a.role.ID) }, tenants.ErrNotFound},
		{"UpdateGroup", func(ctx context.Context) error {
			return s.UpdateGroup(ctx, &tenants.Group{ID: a.group.ID, Name: "hijack"})
		}, tenants.ErrNotFound},
		{"DeleteGroup", func(ctx context.Context) error { return s.DeleteGroup(ctx, a.group.ID) }, tenants.ErrNotFound},
		{"RemoveUserRole", func(ctx context.Context) error { return s.RemoveUserRole(ctx, a.user.ID, a.role.ID) }, tenants.ErrNotFound},
		{"RemoveGroupMember", func(ctx context.Context) error { return s.RemoveGroupMember(ctx, a.group.ID, a.user.ID) }, tenants.ErrNotFound},
		{"RemoveGroupRole", func(ctx context.Context) error { return s.RemoveGroupRole(ctx, a.group.ID, a.role.ID) }, tenants.ErrNotFound},
		// Links between a row of b and a row of a are refused.
		{"AddUserRole/role of the other tenant", func(ctx context.Context) error { return s.AddUserRole(ctx, b.user.ID, a.role.ID) }, tenants.ErrNotFound},
		{"AddUserRole/user of the other tenant", func(ctx context.Context) error { return s.AddUserRole(ctx, a.user.ID, b.role.ID) }, tenants.ErrNotFound},
		{"AddGroupMember/group of the other tenant", func(ctx context.Context) error { return s.AddGroupMember(ctx, a.group.ID, b.user.ID) }, tenants.ErrNotFound},
		{"AddGroupMember/user of the other tenant", func(ctx context.Context) error { return s.AddGroupMember(ctx, b.group.ID, a.user.ID) }, tenants.ErrNotFound},
		{"AddGroupRole/group of the other tenant", func(ctx context.Context) error { return s.AddGroupRole(ctx, a.group.ID, b.role.ID) }, tenants.ErrNotFound},
		{"AddGroupRole/role of the other tenant", func(ctx context.Context) error { return s.AddGroupRole(ctx, b.group.ID, a.role.ID) }, tenants.ErrNotFound},
		{"CreateRole/permission on the other tenant's API", func(ctx context.Context) error {
			var ve *tenants.ValidationError
			err := s.CreateRole(ctx, &tenants.Role{Name: "r-" + suffix(), Permissions: []tenants.Permission{{Audience: a.privateAudience(), Scope: "read"}}})
			if !errors.As(err, &ve) {
				return fmt.Errorf("want a validation error, got %w", err)
			}
			return nil
		}, nil},
		{"CreateRole/taken id", func(ctx context.Context) error {
			return s.CreateRole(ctx, &tenants.Role{ID: a.role.ID, Name: "r-" + suffix()})
		}, tenants.ErrAlreadyExists},
		{"CreateGroup/taken id", func(ctx context.Context) error {
			return s.CreateGroup(ctx, &tenants.Group{ID: a.group.ID, Name: "g-" + suffix()})
		}, tenants.ErrAlreadyExists},

		// Writes that name a's rows: a client of another tenant cannot be
		// used, an id already taken cannot be overwritten.
		{"CreateDeviceAuthorization/private client", func(ctx context.Context) error {
			return s.CreateDeviceAuthorization(ctx, newDevice(s, a.privateClientID(), "X"+suffix(), time.Minute))
		}, tenants.ErrNotFound},
		{"CreateDeviceAuthorization/taken id", func(ctx context.Context) error {
			d := newDevice(s, sharedClientID, "X"+suffix(), time.Minute)
			d.ID = a.device.ID
			return s.CreateDeviceAuthorization(ctx, d)
		}, tenants.ErrAlreadyExists},
		{"CreateDeviceAuthorization/taken code hash", func(ctx context.Context) error {
			d := newDevice(s, sharedClientID, "X"+suffix(), time.Minute)
			d.DeviceCodeHash = a.device.DeviceCodeHash
			return s.CreateDeviceAuthorization(ctx, d)
		}, tenants.ErrAlreadyExists},
		{"CreateAuthRequest/private client", func(ctx context.Context) error {
			return s.CreateAuthRequest(ctx, newAuthRequest(s, a.privateClientID()))
		}, tenants.ErrNotFound},
		// The event of a token for a client of a: refused, as the token.
		{"AppendAuditGrouped/private client", func(ctx context.Context) error {
			return s.AppendAuditGrouped(ctx, &tenants.AuditEvent{Action: "token.issued", ClientID: a.privateClientID()})
		}, tenants.ErrNotFound},
		{"CreateSession/taken id", func(ctx context.Context) error {
			sess := newSession(s, b.user.ID, time.Hour)
			sess.ID = a.session.ID
			return s.CreateSession(ctx, sess)
		}, tenants.ErrAlreadyExists},
		{"SetClientGrants/API of the other tenant", func(ctx context.Context) error {
			return s.SetClientGrants(ctx, sharedClientID, []tenants.ClientGrant{{APIID: a.api.ID, Scopes: tenants.Strings{"write"}}})
		}, tenants.ErrNotFound},
		{"CreateConnection/taken id", func(ctx context.Context) error {
			c := newConnection("SSO " + suffix())
			c.ID = a.connection.ID
			return s.CreateConnection(ctx, c)
		}, tenants.ErrAlreadyExists},
		{"CreateExternalIdentity/connection of the other tenant", func(ctx context.Context) error {
			return s.CreateExternalIdentity(ctx, newExternalIdentity(b.user.ID, a.connection.ID, "sub-"+suffix()))
		}, tenants.ErrNotFound},
		{"CreateExternalIdentity/user of the other tenant", func(ctx context.Context) error {
			return s.CreateExternalIdentity(ctx, newExternalIdentity(a.user.ID, b.connection.ID, "sub-"+suffix()))
		}, tenants.ErrNotFound},
		{"CreateExternalIdentity/taken id", func(ctx context.Context) error {
			x := newExternalIdentity(b.user.ID, b.connection.ID, "sub-"+suffix())
			x.ID = a.identity.ID
			return s.CreateExternalIdentity(ctx, x)
		}, tenants.ErrAlreadyExists},
		{"CreateFederatedUser/connection of the other tenant", func(ctx context.Context) error {
			return s.CreateFederatedUser(ctx, &tenants.User{Email: "fed-" + suffix() + "@example.com"}, newExternalIdentity("", a.connection.ID, "sub-"+suffix()))
		}, tenants.ErrNotFound},
		{"CreateFederationState/connection of the other tenant", func(ctx context.Context) error {
			return s.CreateFederationState(ctx, newFederationState(s, a.connection.ID, time.Hour))
		}, tenants.ErrNotFound},
		{"CreateFederationState/taken id", func(ctx context.Context) error {
			st := newFederationState(s, b.connection.ID, time.Hour)
			st.ID = a.state.ID
			return s.CreateFederationState(ctx, st)
		}, tenants.ErrAlreadyExists},
		{"RecordSAMLAssertion/connection of the other tenant", func(ctx context.Context) error {
			return s.RecordSAMLAssertion(ctx, a.connection.ID, "_"+suffix(), exp)
		}, tenants.ErrNotFound},
		{"UseClientAssertion/client of the other tenant", func(ctx context.Context) error {
			return s.UseClientAssertion(ctx, a.privateClientID(), "jti-"+suffix(), exp)
		}, tenants.ErrNotFound},
		{"CreatePushedRequest/client of the other tenant", func(ctx context.Context) error {
			return s.CreatePushedRequest(ctx, &tenants.PushedRequest{ID: "par-" + suffix(), ClientID: a.privateClientID(), Params: "{}", ExpiresAt: exp})
		}, tenants.ErrNotFound},
		{"UsePushedRequest/request of the other tenant", func(ctx context.Context) error {
			_, err := s.UsePushedRequest(ctx, a.pushedID(), sharedClientID)
			return err
		}, tenants.ErrNotFound},
		{"CreateUserToken/user of the other tenant", func(ctx context.Context) error {
			return s.CreateUserToken(ctx, newUserToken(s, a.user.ID, tenants.TokenResetPassword, time.Hour))
		}, tenants.ErrNotFound},
		{"CreateUserToken/taken id", func(ctx context.Context) error {
			tok := newUserToken(s, b.user.ID, tenants.TokenChangeEmail, time.Hour)
			tok.ID = a.token.ID
			return s.CreateUserToken(ctx, tok)
		}, tenants.ErrAlreadyExists},
		{"CreateFactor/user of the other tenant", func(ctx context.Context) error {
			return s.CreateFactor(ctx, newWebAuthnFactor(a.user.ID, "cred-"+suffix()))
		}, tenants.ErrNotFound},
		{"CreateFactor/taken id", func(ctx context.Context) error {
			f := newTOTPFactor(b.user.ID)
			f.ID = a.totp.ID
			return s.CreateFactor(ctx, f)
		}, tenants.ErrAlreadyExists},
		{"CreateLoginStep/taken id", func(ctx context.Context) error {
			st := newLoginStep(s, b.user.ID, b.authed.ID, time.Hour)
			st.ID = a.step.ID
			return s.CreateLoginStep(ctx, st)
		}, tenants.ErrAlreadyExists},

		// Writes by natural keys a holds too: they act on b's tenant only.
		{"CreateUser/private email", func(ctx context.Context) error {
			return s.CreateUser(ctx, &tenants.User{Email: a.privateEmail()})
		}, nil},
		{"CreateAPI/private audience", func(ctx context.Context) error {
			return s.CreateAPI(ctx, &tenants.API{Name: "theirs", Audience: a.privateAudience(), Scopes: []tenants.Scope{{Name: "read"}}})
		}, nil},
		{"CreateClient/private client", func(ctx context.Context) error {
			return s.CreateClient(ctx, newClient(a.privateClientID()), []tenants.ClientGrant{{APIID: b.api.ID, Scopes: tenants.Strings{"read"}}})
		}, nil},
		{"CreateAuthRequest/shared client", func(ctx context.Context) error {
			return s.CreateAuthRequest(ctx, newAuthRequest(s, sharedClientID))
		}, nil},
		{"CreateDeviceAuthorization/private code", func(ctx context.Context) error {
			return s.CreateDeviceAuthorization(ctx, newDevice(s, sharedClientID, a.privateUserCode(), time.Minute))
		}, nil},
		{"CreateSession/new id", func(ctx context.Context) error {
			return s.CreateSession(ctx, newSession(s, b.user.ID, time.Hour))
		}, nil},
		{"GrantConsent/shared client", func(ctx context.Context) error {
			_, err := s.GrantConsent(ctx, b.user.ID, sharedClientID, tenants.ScopeSet{"": {"email"}})
			return err
		}, nil},
		{"GrantImplicitConsent/shared client", func(ctx context.Context) error {
			_, err := s.GrantImplicitConsent(ctx, b.user.ID, sharedClientID, tenants.ScopeSet{"": {"profile"}})
			return err
		}, nil},
		{"RotateClientSecret/shared client", func(ctx context.Context) error {
			return s.RotateClientSecret(ctx, sharedClientID, randomHash(), nil, nil)
		}, nil},
		{"RotateSigningKey", func(ctx context.Context) error { return s.RotateSigningKey(ctx, newKey(), exp) }, nil},
		{"RolloverSigningKey", func(ctx context.Context) error {
			_, err := s.RolloverSigningKey(ctx, newKey(), tenants.KeyRotation{Publish: time.Hour, Retain: time.Hour})
			return err
		}, nil},
		{"RolloverSigningKey/scheduled", func(ctx context.Context) error {
			_, err := s.RolloverSigningKey(ctx, newAlgKey(tenants.AlgES256), tenants.KeyRotation{Publish: time.Hour, Retain: time.Hour, Every: time.Nanosecond})
			return err
		}, nil},
		{"AddSigningKey", func(ctx context.Context) error {
			_, err := s.AddSigningKey(ctx, newAlgKey(tenants.AlgEdDSA))
			return err
		}, nil},
		{"SetKeyRotationPeriod", func(ctx context.Context) error { return s.SetKeyRotationPeriod(ctx, 24*time.Hour) }, nil},
		{"UpdateTenantSettings", func(ctx context.Context) error {
			return s.UpdateTenantSettings(ctx, &tenants.Tenant{DisplayName: "Renamed", AccessTokenTTLSeconds: 60, IDTokenTTLSeconds: 60, RefreshTokenTTLSeconds: 60, SessionTTLSeconds: 60})
		}, nil},
		{"UpdateUserProfile/shared email", func(ctx context.Context) error {
			return s.UpdateUserProfile(ctx, &tenants.User{ID: b.user.ID, Email: strings.ToUpper(sharedEmail), Name: "Renamed"})
		}, nil},
		{"UpdateClient/shared client", func(ctx context.Context) error {
			c := newClient(sharedClientID)
			c.Name, c.RedirectURIs = "Renamed", tenants.Strings{"https://renamed.example.com/cb"}
			return s.UpdateClient(ctx, c)
		}, nil},
		{"SetClientGrants/shared client", func(ctx context.Context) error {
			return s.SetClientGrants(ctx, sharedClientID, []tenants.ClientGrant{{APIID: b.api.ID, Scopes: tenants.Strings{"read", "write"}}})
		}, nil},
		// Prunes "write" from b's grants of its API; a's grants of the API
		// with the same audience keep it.
		{"UpdateAPI/own API", func(ctx context.Context) error {
			return s.UpdateAPI(ctx, &tenants.API{ID: b.api.ID, Name: "Renamed", Scopes: []tenants.Scope{{Name: "read"}}})
		}, nil},
		{"CreateConnection/private name", func(ctx context.Context) error {
			return s.CreateConnection(ctx, newConnection(a.privateConnectionName()))
		}, nil},
		{"UpdateConnection/own connection", func(ctx context.Context) error {
			c := newConnection(sharedConnectionName)
			c.ID, c.Enabled, c.Domains = b.connection.ID, false, tenants.Strings{"example.net"}
			return s.UpdateConnection(ctx, c)
		}, nil},
		{"CreateExternalIdentity/private subject", func(ctx context.Context) error {
			return s.CreateExternalIdentity(ctx, newExternalIdentity(b.user.ID, b.connection.ID, a.privateSubject()))
		}, nil},
		{"CreateFederatedUser/private email", func(ctx context.Context) error {
			return s.CreateFederatedUser(ctx, &tenants.User{Email: a.federatedEmail()}, newExternalIdentity("", b.connection.ID, a.federatedSubject()))
		}, nil},
		{"TouchExternalIdentity/own identity", func(ctx context.Context) error {
			return s.TouchExternalIdentity(ctx, b.identity.ID, later)
		}, nil},
		{"CreateFederationState/new id", func(ctx context.Context) error {
			return s.CreateFederationState(ctx, newFederationState(s, b.connection.ID, time.Hour))
		}, nil},
		{"UseFederationState/own state", func(ctx context.Context) error {
			st, err := s.UseFederationState(ctx, b.state.ID)
			if err != nil {
				return err
			}
			return notMine(ctx, st.TenantID)
		}, nil},
		{"RecordSAMLAssertion/private assertion id", func(ctx context.Context) error {
			return s.RecordSAMLAssertion(ctx, b.connection.ID, a.privateAssertionID(), exp)
		}, nil},
		{"UseDPoPProof/a key and jti of its own", func(ctx context.Context) error {
			return s.UseDPoPProof(ctx, "jkt-"+suffix(), "jti-"+suffix(), exp)
		}, nil},
		{"UseClientAssertion/shared client", func(ctx context.Context) error {
			return s.UseClientAssertion(ctx, sharedClientID, sharedAssertionID, exp)
		}, nil},
		{"CreatePushedRequest/shared client", func(ctx context.Context) error {
			return s.CreatePushedRequest(ctx, &tenants.PushedRequest{ID: "par-" + suffix(), ClientID: sharedClientID, Params: "{}", ExpiresAt: exp})
		}, nil},
		{"UsePushedRequest/own request", func(ctx context.Context) error {
			r, err := s.UsePushedRequest(ctx, b.pushedID(), sharedClientID)
			if err != nil {
				return err
			}
			return notMine(ctx, r.TenantID)
		}, nil},
		{"DeleteExternalIdentity/own identity", func(ctx context.Context) error {
			return s.DeleteExternalIdentity(ctx, b.user.ID, b.identity.ID)
		}, nil},
		// b's own links, factors, codes and steps: a's of the same
		// purpose, credential id or hash stay as they are.
		{"UseUserToken/own token", func(ctx context.Context) error {
			tok, err := s.UseUserToken(ctx, b.token.ID, b.token.Purpose)
			if err != nil {
				return err
			}
			return notMine(ctx, tok.TenantID)
		}, nil},
		{"CreateUserToken/own user", func(ctx context.Context) error {
			return s.CreateUserToken(ctx, newUserToken(s, b.user.ID, tenants.TokenResetPassword, time.Hour))
		}, nil},
		{"ChangePassword/own user", func(ctx context.Context) error {
			return s.ChangePassword(ctx, b.user.ID, "$argon2id$changed")
		}, nil},
		{"SetEmail/shared email", func(ctx context.Context) error {
			return s.SetEmail(ctx, b.user.ID, strings.ToUpper(sharedEmail), false)
		}, nil},
		{"CreateFactor/private credential id", func(ctx context.Context) error {
			return s.CreateFactor(ctx, newWebAuthnFactor(b.user.ID, a.privateCredentialID()))
		}, nil},
		{"UseFactor/own factor", func(ctx context.Context) error {
			return s.UseFactor(ctx, b.webauthn.ID, `{"id":"`+sharedCredentialID+`","signCount":1}`)
		}, nil},
		{"ReplaceRecoveryCodes/own user", func(ctx context.Context) error {
			return s.ReplaceRecoveryCodes(ctx, b.user.ID, []string{sharedRecoveryHash, a.privateRecoveryHash()})
		}, nil},
		{"UseRecoveryCode/shared code", func(ctx context.Context) error {
			return s.UseRecoveryCode(ctx, b.user.ID, sharedRecoveryHash)
		}, nil},
		{"CreateRole/private name", func(ctx context.Context) error {
			return s.CreateRole(ctx, &tenants.Role{Name: "role-" + a.private, Permissions: []tenants.Permission{{Audience: sharedAudience, Scope: "read"}}})
		}, nil},
		{"CreateClaimRule/taken id", func(ctx context.Context) error {
			return s.CreateClaimRule(ctx, &tenants.ClaimRule{ID: a.rule.ID, Name: "r-" + suffix(), Deny: "no"})
		}, tenants.ErrAlreadyExists},
		{"CreateClaimRule/shared name", func(ctx context.Context) error {
			return s.CreateClaimRule(ctx, &tenants.ClaimRule{Name: sharedRuleName + " 2", Deny: "no"})
		}, nil},
		{"UpdateClaimRule/own rule", func(ctx context.Context) error {
			return s.UpdateClaimRule(ctx, &tenants.ClaimRule{ID: b.rule.ID, Name: sharedRuleName, Position: 5, Deny: "no"})
		}, nil},
		{"CreateGroup/private name", func(ctx context.Context) error {
			return s.CreateGroup(ctx, &tenants.Group{Name: "group-" + a.private})
		}, nil},
		{"UpdateRole/own role", func(ctx context.Context) error {
			return s.UpdateRole(ctx, &tenants.Role{ID: b.role.ID, Name: sharedRoleName, Permissions: []tenants.Permission{{Audience: sharedAudience, Scope: "read"}}})
		}, nil},
		{"UpdateGroup/own group", func(ctx context.Context) error {
			return s.UpdateGroup(ctx, &tenants.Group{ID: b.group.ID, Name: sharedGroupName, Description: "renamed"})
		}, nil},
		{"AddUserRole/own", func(ctx context.Context) error { return s.AddUserRole(ctx, b.user.ID, b.role.ID) }, nil},
		{"AddGroupMember/own", func(ctx context.Context) error { return s.AddGroupMember(ctx, b.group.ID, b.user.ID) }, nil},
		{"AddGroupRole/own", func(ctx context.Context) error { return s.AddGroupRole(ctx, b.group.ID, b.role.ID) }, nil},
		{"RemoveUserRole/own", func(ctx context.Context) error { return s.RemoveUserRole(ctx, b.user.ID, b.role.ID) }, nil},
		{"RemoveGroupRole/own", func(ctx context.Context) error { return s.RemoveGroupRole(ctx, b.group.ID, b.role.ID) }, nil},
		{"RemoveGroupMember/own", func(ctx context.Context) error { return s.RemoveGroupMember(ctx, b.group.ID, b.user.ID) }, nil},
		{"DeleteRole/own role", func(ctx context.Context) error { return s.DeleteRole(ctx, b.role.ID) }, nil},
		{"DeleteGroup/own group", func(ctx context.Context) error { return s.DeleteGroup(ctx, b.group.ID) }, nil},
		{"CreateLoginStep/new id", func(ctx context.Context) error {
			return s.CreateLoginStep(ctx, newLoginStep(s, b.user.ID, b.authed.ID, time.Hour))
		}, nil},
		{"UseLoginStep/own step", func(ctx context.Context) error {
			st, err := s.UseLoginStep(ctx, b.step.ID)
			if err != nil {
				return err
			}
			return notMine(ctx, st.TenantID)
		}, nil},
		{"DeleteFactor/own factor", func(ctx context.Context) error { return s.DeleteFactor(ctx, b.user.ID, b.totp.ID) }, nil},
		{"WebhookByID", func(ctx context.Context) error { _, err := s.WebhookByID(ctx, a.webhook.ID); return err }, tenants.ErrNotFound},
		{"ListWebhooks", func(ctx context.Context) error {
			ws, err := s.ListWebhooks(ctx)
			for _, w := range ws {
				if err := notMine(ctx, w.TenantID); err != nil {
					return err
				}
			}
			return err
		}, nil},
		{"CreateWebhook/own", func(ctx context.Context) error {
			w := newWebhook(tenants.WebhookAllEvents)
			if err := s.CreateWebhook(ctx, w); err != nil {
				return err
			}
			return notMine(ctx, w.TenantID)
		}, nil},
		{"UpdateWebhook", func(ctx context.Context) error {
			w := *a.webhook
			w.URL, w.Enabled = "https://evil.example.com/hook", false
			return s.UpdateWebhook(ctx, &w)
		}, tenants.ErrNotFound},
		{"ListWebhookDeliveries", func(ctx context.Context) error {
			_, err := s.ListWebhookDeliveries(ctx, a.webhook.ID, "", 100)
			return err
		}, tenants.ErrNotFound},
		{"ListWebhookAttempts", func(ctx context.Context) error {
			as, err := s.ListWebhookAttempts(ctx, a.webhook.ID, a.delivery.ID)
			if err != nil {
				return err
			}
			return none(len(as))
		}, nil},
		{"RedeliverWebhook", func(ctx context.Context) error {
			_, err := s.RedeliverWebhook(ctx, a.webhook.ID, a.delivery.ID)
			return err
		}, tenants.ErrNotFound},
		{"RedeliverWebhook/own endpoint", func(ctx context.Context) error {
			_, err := s.RedeliverWebhook(ctx, b.webhook.ID, a.delivery.ID)
			return err
		}, tenants.ErrNotFound},
		{"DeleteWebhook", func(ctx context.Context) error { return s.DeleteWebhook(ctx, a.webhook.ID) }, tenants.ErrNotFound},
		// a's wording: b reads only its own, and changes only its own.
		{"TenantStrings", func(ctx context.Context) error {
			for _, lang := range []string{"de", "fr"} {
				m, err := s.TenantStrings(ctx, lang)
				if err != nil {
					return err
				}
				for id, text := range m {
					if strings.Contains(text, a.private) || id == "msg."+a.private {
						return fmt.Errorf("b reads a's wording %s=%q", id, text)
					}
				}
			}
			return nil
		}, nil},
		{"ListTenantStrings", func(ctx context.Context) error {
			ss, err := s.ListTenantStrings(ctx)
			for _, x := range ss {
				err = errors.Join(err, notMine(ctx, x.TenantID))
			}
			return err
		}, nil},
		{"SetTenantString", func(ctx context.Context) error {
			return s.SetTenantString(ctx, &tenants.TenantString{Locale: "de", MessageID: sharedMessageID, Text: "Überschrieben"})
		}, nil},
		{"DeleteTenantString", func(ctx context.Context) error { return s.DeleteTenantString(ctx, "fr", "msg."+a.private) }, tenants.ErrNotFound},
		{"DeleteTenantString/shared message", func(ctx context.Context) error { return s.DeleteTenantString(ctx, "de", sharedMessageID) }, nil},
		// a's custom domains: a host is one tenant's, so b can neither
		// claim, see, verify nor remove a's.
		{"CreateDomain", func(ctx context.Context) error {
			return s.CreateDomain(ctx, &tenants.Domain{Host: a.privateDomain(), Challenge: "hijack"})
		}, tenants.ErrAlreadyExists},
		{"CreateDomain/a's pending claim", func(ctx context.Context) error {
			return s.CreateDomain(ctx, &tenants.Domain{Host: a.privatePending(), Challenge: "hijack"})
		}, tenants.ErrAlreadyExists},
		{"ListDomains", func(ctx context.Context) error {
			ds, err := s.ListDomains(ctx)
			for _, x := range ds {
				err = errors.Join(err, notMine(ctx, x.TenantID))
			}
			return err
		}, nil},
		{"DomainByHost", func(ctx context.Context) error { _, err := s.DomainByHost(ctx, a.privateDomain()); return err }, tenants.ErrNotFound},
		{"MarkDomainVerified", func(ctx context.Context) error { return s.MarkDomainVerified(ctx, a.privatePending()) }, tenants.ErrNotFound},
		{"DeleteDomain", func(ctx context.Context) error { return s.DeleteDomain(ctx, a.privateDomain()) }, tenants.ErrNotFound},
		{"SetUserLocale", func(ctx context.Context) error { return s.SetUserLocale(ctx, a.user.ID, "ja") }, tenants.ErrNotFound},
		// a's email templates: b reads and changes only its own, even of
		// the same kind and language.
		{"EmailTemplate", func(ctx context.Context) error { _, err := s.EmailTemplate(ctx, "kind-"+a.private, "fr"); return err }, tenants.ErrNotFound},
		{"EmailTemplate/shared kind", func(ctx context.Context) error {
			et, err := s.EmailTemplate(ctx, "reset", "de")
			if err != nil {
				return err
			}
			if strings.Contains(et.Subject, a.private) {
				return fmt.Errorf("b reads a's template %q", et.Subject)
			}
			return notMine(ctx, et.TenantID)
		}, nil},
		{"ListEmailTemplates", func(ctx context.Context) error {
			ets, err := s.ListEmailTemplates(ctx)
			for _, x := range ets {
				err = errors.Join(err, notMine(ctx, x.TenantID))
			}
			return err
		}, nil},
		{"SetEmailTemplate", func(ctx context.Context) error {
			return s.SetEmailTemplate(ctx, &tenants.EmailTemplate{Kind: "reset", Locale: "de", Subject: "Überschrieben", Text: "x"})
		}, nil},
		{"DeleteEmailTemplate", func(ctx context.Context) error { return s.DeleteEmailTemplate(ctx, "kind-"+a.private, "fr") }, tenants.ErrNotFound},
		{"DeleteEmailTemplate/shared kind", func(ctx context.Context) error { return s.DeleteEmailTemplate(ctx, "reset", "de") }, nil},
		{"SAMLAppByID", func(ctx context.Context) error { _, err := s.SAMLAppByID(ctx, a.samlApp.ID); return err }, tenants.ErrNotFound},
		{"SAMLAppByEntityID", func(ctx context.Context) error {
			got, err := s.SAMLAppByEntityID(ctx, sharedSAMLEntityID)
			if err != nil {
				return err
			}
			return notMine(ctx, got.TenantID)
		}, nil},
		{"ListSAMLApps", func(ctx context.Context) error {
			as, err := s.ListSAMLApps(ctx)
			for _, x := range as {
				if err := notMine(ctx, x.TenantID); err != nil {
					return err
				}
			}
			return err
		}, nil},
		{"CreateSAMLApp/own", func(ctx context.Context) error {
			x := newSAMLApp("https://sp.example.com/new-" + suffix())
			if err := s.CreateSAMLApp(ctx, x); err != nil {
				return err
			}
			return notMine(ctx, x.TenantID)
		}, nil},
		{"UpdateSAMLApp", func(ctx context.Context) error {
			x := *a.samlApp
			x.ACS = tenants.SAMLEndpoints{{URL: "https://evil.example.com/acs", Binding: tenants.BindingHTTPPost}}
			return s.UpdateSAMLApp(ctx, &x)
		}, tenants.ErrNotFound},
		{"CreateSAMLRequest", func(ctx context.Context) error { return s.CreateSAMLRequest(ctx, newSAMLRequest(s, a.samlApp.ID)) }, tenants.ErrNotFound},
		{"SAMLRequestByID", func(ctx context.Context) error { _, err := s.SAMLRequestByID(ctx, a.samlRequest.ID); return err }, tenants.ErrNotFound},
		{"ClaimSAMLRequest", func(ctx context.Context) error { return s.ClaimSAMLRequest(ctx, a.samlRequest.ID, randomHash()) }, tenants.ErrConflict},
		{"SpendSAMLRequest", func(ctx context.Context) error { return s.SpendSAMLRequest(ctx, a.samlRequest.ID) }, tenants.ErrConflict},
		{"DeleteSAMLApp", func(ctx context.Context) error { return s.DeleteSAMLApp(ctx, a.samlApp.ID) }, tenants.ErrNotFound},
		{"RecordSAMLParticipant", func(ctx context.Context) error {
			return s.RecordSAMLParticipant(ctx, &tenants.SAMLParticipant{AppID: a.samlApp.ID, UserID: a.user.ID, SID: sharedSAMLSID,
				NameID: "x@example.com", ExpiresAt: s.Now().Add(time.Hour)})
		}, tenants.ErrNotFound},
		{"SAMLParticipants", func(ctx context.Context) error {
			ps, err := s.SAMLParticipants(ctx, sharedSAMLSID)
			for _, x := range ps {
				if err := notMine(ctx, x.TenantID); err != nil {
					return err
				}
			}
			return err
		}, nil},
		{"SAMLParticipantsByNameID", func(ctx context.Context) error {
			ps, err := s.SAMLParticipantsByNameID(ctx, a.samlApp.ID, sharedSAMLNameID)
			if err == nil && len(ps) > 0 {
				return errors.New("another tenant's participants are visible")
			}
			return err
		}, nil},
		{"DeleteSAMLParticipants", func(ctx context.Context) error { return s.DeleteSAMLParticipants(ctx, sharedSAMLSID) }, nil},
		{"UseSAMLMessage", func(ctx context.Context) error {
			return s.UseSAMLMessage(ctx, a.samlApp.ID, sharedSAMLMessageID, s.Now().Add(time.Hour))
		}, tenants.ErrNotFound},
		{"AppendAudit", func(ctx context.Context) error {
			return s.AppendAudit(ctx, &tenants.AuditEvent{Action: "client.updated", TargetType: "client", TargetID: sharedClientID})
		}, nil},
		{"AppendAuditGrouped", func(ctx context.Context) error {
			return s.AppendAuditGrouped(ctx, &tenants.AuditEvent{Action: "token.issued", TargetType: "client", TargetID: sharedClientID})
		}, nil},
		{"SetUserDisabled/own user", func(ctx context.Context) error { return s.SetUserDisabled(ctx, b.user.ID, true) }, nil},
		{"DeleteUser/own user", func(ctx context.Context) error { return s.DeleteUser(ctx, b.user.ID) }, nil},
		{"DeleteAPI/own API", func(ctx context.Context) error { return s.DeleteAPI(ctx, b.api.ID) }, nil},
		{"DeleteClient/shared client", func(ctx context.Context) error { return s.DeleteClient(ctx, sharedClientID) }, nil},
		{"DeleteConnection/own connection", func(ctx context.Context) error { return s.DeleteConnection(ctx, b.connection.ID) }, nil},
		{"DeleteTenant", func(ctx context.Context) error { return s.DeleteTenant(ctx) }, nil},
	}
}

// unscopedMethods are the store's methods that act on no tenant's rows, or
// on every tenant's: infrastructure, tenant lookups, maintenance, and the
// administration of Gatehouse itself (roles, console sessions, setup links).
var unscopedMethods = []string{
	// Atomically runs other methods in one transaction; they scope themselves.
	"Atomically",
	"Close", "Dialect", "FlushAudit", "Now", "Ping", "SQLDB", "SetClock", "Use", "ObserveAudit", "ObserveReadRetries", "VerifySchema",
	"CreateTenant", "ImportTenant", "ListTenants", "TenantByHost", "TenantByDomain", "TenantByID", "TenantBySlug",
	// The change feed, across tenants.
	"TenantChangesHead", "TenantChangesSince", "PruneTenantChanges", "ListenTenantChanges",
	"DeleteExpired", "BindDeployment",
	// Scheduled key rotation finds its work across tenants, then rotates
	// each tenant's keys in that tenant (RolloverSigningKey).
	"DueKeyRotations",
	"SystemTenant", "CreateAdminRole", "AdminRoles", "CountOperators", "ListAdminRoles", "AdminUserScopes",
	"CreateConsoleSession", "ConsoleSessionByID", "SetConsoleTryState", "DeleteConsoleSession",
	"CreateSetupToken", "SetupTokenValid", "UseSetupToken",
	// Throttling counters, whose keys name their tenant themselves, and
	// the development outbox, the operators'.
	"Throttles", "RecordFailure", "TakeTurn", "RefundFailure", "ResetThrottle", "AppendOutbox", "ListOutbox",
	// The webhook dispatcher drains every tenant's outbox; each delivery
	// names its tenant, and its lease keeps it to one node.
	"ClaimWebhookDeliveries", "ReleaseWebhookDeliveries", "CompleteWebhookDelivery", "PruneWebhookDeliveries",
	// So does it the logout outbox.
	"ClaimLogoutDeliveries", "ReleaseLogoutDeliveries", "CompleteLogoutDelivery", "PruneLogoutDeliveries",
	// Import jobs are found across tenants, then run in their tenant.
	"ClaimImportJob",
}

// testTenantOpsCoverAllMethods keeps the isolation table complete: a new
// store method is either tenant-scoped, and then needs a row in it, or
// listed in unscopedMethods.
func testTenantOpsCoverAllMethods(t *testing.T, s *tenants.Store) {
	covered := map[string]bool{}
	for _, op := range tenantOps(s, &world{}, &world{}) {
		name, _, _ := strings.Cut(op.name, "/")
		covered[name] = true
	}
	typ := reflect.TypeOf(s)
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if !covered[name] && !slices.Contains(unscopedMethods, name) {
			t.Errorf("method %s is neither in the tenant isolation table nor listed as unscoped", name)
		}
		if covered[name] && slices.Contains(unscopedMethods, name) {
			t.Errorf("method %s is listed as unscoped but is in the tenant isolation table", name)
		}
	}
	for _, name := range unscopedMethods {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("unscoped method %s does not exist", name)
		}
	}
}

// testNoTenant calls every tenant-scoped method with contexts that carry no
// usable tenant: each must fail with ErrNoTenant and change nothing.
func testNoTenant(t *testing.T, s *tenants.Store) {
	a := seedWorld(t, s, "notenant-a")
	b := seedWorld(t, s, "notenant-b")
	beforeA, beforeB := a.snapshot(t, s), b.snapshot(t, s)
	contexts := []struct {
		name string
		ctx  context.Context
	}{
		{"no tenant", context.Background()},
		{"nil tenant", tenants.WithTenant(context.Background(), nil)},
		{"tenant without id", tenants.WithTenant(context.Background(), &tenants.Tenant{Slug: a.tenant.Slug, Host: a.tenant.Host})},
	}
	for _, c := range contexts {
		for _, op := range tenantOps(s, a, b) {
			if err := op.call(c.ctx); !errors.Is(err, tenants.ErrNoTenant) {
				t.Errorf("%s, %s: err = %v, want %v", c.name, op.name, err, tenants.ErrNoTenant)
			}
		}
	}
	unchanged(t, beforeA, a.snapshot(t, s))
	unchanged(t, beforeB, b.snapshot(t, s))
}

// testTenantIsolation calls every tenant-scoped method as tenant b on the
// rows of tenant a: b can neither see, change nor use them. b holds rows
// with the same emails, client ids and audiences as a, so that a query
// that forgets the tenant finds a's row and fails.
func testTenantIsolation(t *testing.T, s *tenants.Store) {
	a := seedWorld(t, s, "isolation-a")
	b := seedWorld(t, s, "isolation-b")
	before := a.snapshot(t, s)
	for _, op := range tenantOps(s, a, b) {
		if err := op.call(b.ctx); !errors.Is(err, op.fromOther) {
			t.Errorf("%s as the other tenant: err = %v, want %v", op.name, err, op.fromOther)
		}
	}
	unchanged(t, before, a.snapshot(t, s))
}
