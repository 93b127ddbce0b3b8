package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// The fixtures below write through the store, failing the test on error, so
// that each subtest reads as the operation it is about.

// suffix returns a short random string that makes slugs, hosts and other
// natural keys unique within a shared database.
func suffix() string {
	return strings.ReplaceAll(tenants.NewRandomID(), "-", "")[:12]
}

// randomHash returns the hash of a fresh random secret, as codes, refresh
// tokens, session ids and client secrets are stored.
func randomHash() string { return secret.Hash(secret.Token(32)) }

// newTenant creates a tenant with a unique slug that starts with prefix and
// returns a context carrying it.
func newTenant(t testing.TB, s *tenants.Store, prefix string) (context.Context, *tenants.Tenant) {
	t.Helper()
	tn := MustTenant(t, s, prefix+"-"+suffix())
	return tenants.WithTenant(context.Background(), tn), tn
}

func mustUser(t testing.TB, ctx context.Context, s *tenants.Store, email string) *tenants.User {
	t.Helper()
	u := &tenants.User{
		Email: email, EmailVerified: true, Name: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
	}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func mustAPI(t testing.TB, ctx context.Context, s *tenants.Store, audience string, scopes ...string) *tenants.API {
	t.Helper()
	a := &tenants.API{Name: "API " + audience, Audience: audience}
	for _, sc := range scopes {
		a.Scopes = append(a.Scopes, tenants.Scope{Name: sc, Description: "May " + sc})
	}
	if err := s.CreateAPI(ctx, a); err != nil {
		t.Fatalf("create API %s: %v", audience, err)
	}
	return a
}

func newClient(clientID string) *tenants.Client {
	return &tenants.Client{
		ClientID:                clientID,
		Name:                    clientID,
		ApplicationType:         tenants.AppTypeWeb,
		TokenEndpointAuthMethod: tenants.AuthMethodBasic,
		SecretHash:              randomHash(),
		RedirectURIs:            tenants.Strings{"https://app.example.com/callback"},
		PostLogoutRedirectURIs:  tenants.Strings{"https://app.example.com/"},
		GrantTypes:              tenants.Strings{tenants.GrantAuthorizationCode, tenants.GrantRefreshToken},
	}
}

func mustClient(t testing.TB, ctx context.Context, s *tenants.Store, clientID string, grants ...tenants.ClientGrant) *tenants.Client {
	t.Helper()
	c := newClient(clientID)
	if err := s.CreateClient(ctx, c, grants); err != nil {
		t.Fatalf("create client %s: %v", clientID, err)
	}
	return c
}

// mustInternalClient creates a client Gatehouse makes for itself, as the
// console's "Try it" client is.
func mustInternalClient(t testing.TB, ctx context.Context, s *tenants.Store, clientID string) *tenants.Client {
	t.Helper()
	c := newClient(clientID)
	c.Internal = true
	if err := s.CreateClient(ctx, c, nil); err != nil {
		t.Fatalf("create internal client %s: %v", clientID, err)
	}
	return c
}

// mustAudit appends ev to the audit log of its tenant, or of the tenant in
// ctx.
func mustAudit(t testing.TB, ctx context.Context, s *tenants.Store, ev *tenants.AuditEvent) *tenants.AuditEvent {
	t.Helper()
	if err := s.AppendAudit(ctx, ev); err != nil {
		t.Fatalf("append audit event %s: %v", ev.Action, err)
	}
	return ev
}

func mustConsent(t testing.TB, ctx context.Context, s *tenants.Store, userID, clientID string, scopes tenants.ScopeSet) *tenants.Consent {
	t.Helper()
	c, err := s.GrantConsent(ctx, userID, clientID, scopes)
	if err != nil {
		t.Fatalf("grant consent: %v", err)
	}
	return c
}

func newSession(s *tenants.Store, userID string, ttl time.Duration) *tenants.Session {
	now := s.Now()
	return &tenants.Session{
		ID: randomHash(), UserID: userID, AuthTime: now, AMR: tenants.Strings{"pwd"},
		IPAddress: "192.0.2.1", UserAgent: "storetest", ExpiresAt: now.Add(ttl),
	}
}

func mustSession(t testing.TB, ctx context.Context, s *tenants.Store, userID string, ttl time.Duration) *tenants.Session {
	t.Helper()
	sess := newSession(s, userID, ttl)
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("create session: %v", err)
	}
	return sess
}

func newAuthRequest(s *tenants.Store, clientID string) *tenants.AuthRequest {
	maxAge := int64(300)
	return &tenants.AuthRequest{
		ClientID:            clientID,
		RedirectURI:         "https://app.example.com/callback",
		State:               "state-" + suffix(),
		Nonce:               "nonce-" + suffix(),
		Scopes:              tenants.Strings{"openid", "profile", "offline_access"},
		Audience:            "https://api.example.com",
		ResponseMode:        "query",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Prompt:              tenants.Strings{"login"},
		MaxAge:              &maxAge,
		LoginHint:           "ada@example.com",
		BrowserHash:         randomHash(),
		ExpiresAt:           s.Now().Add(10 * time.Minute),
	}
}

// mustAuthRequest creates an authorization request nobody has logged in to.
func mustAuthRequest(t testing.TB, ctx context.Context, s *tenants.Store, clientID string) *tenants.AuthRequest {
	t.Helper()
	ar := newAuthRequest(s, clientID)
	if err := s.CreateAuthRequest(ctx, ar); err != nil {
		t.Fatalf("create auth request: %v", err)
	}
	return ar
}

// mustAuthenticated creates an authorization request userID logged in to.
func mustAuthenticated(t testing.TB, ctx context.Context, s *tenants.Store, clientID, userID string) *tenants.AuthRequest {
	t.Helper()
	ar := mustAuthRequest(t, ctx, s, clientID)
	if err := s.SetAuthenticated(ctx, ar.ID, tenants.Authentication{UserID: userID, Time: s.Now(), AMR: []string{"pwd"}}); err != nil {
		t.Fatalf("set authenticated: %v", err)
	}
	return ar
}

// mustIntent creates a sign-in intent of the account pages that userID
// signed in to.
func mustIntent(t testing.TB, ctx context.Context, s *tenants.Store, userID string) *tenants.AuthRequest {
	t.Helper()
	ar := &tenants.AuthRequest{Intent: tenants.IntentAccount, ReturnTo: "/account", BrowserHash: randomHash(), ExpiresAt: s.Now().Add(10 * time.Minute)}
	if err := s.CreateAuthRequest(ctx, ar); err != nil {
		t.Fatalf("create intent: %v", err)
	}
	if err := s.SetAuthenticated(ctx, ar.ID, tenants.Authentication{UserID: userID, Time: s.Now(), AMR: []string{"pwd"}}); err != nil {
		t.Fatalf("set authenticated: %v", err)
	}
	return ar
}

// mustCode creates an authorization request with an issued, unredeemed
// code, and returns the code's hash.
func mustCode(t testing.TB, ctx context.Context, s *tenants.Store, clientID, userID string) (*tenants.AuthRequest, string) {
	t.Helper()
	ar := mustAuthenticated(t, ctx, s, clientID, userID)
	h := randomHash()
	if err := s.IssueCode(ctx, ar.ID, h, s.Now().Add(time.Minute)); err != nil {
		t.Fatalf("issue code: %v", err)
	}
	return ar, h
}

// newIssue returns what a code exchange writes: a new family with a
// refresh token and the audit event of the issue, every id fresh.
func newIssue(s *tenants.Store, clientID, userID string) tenants.Issue {
	now := s.Now()
	g := &tenants.Grant{
		ID: tenants.NewID(), ClientID: clientID, UserID: userID,
		Scopes: tenants.Strings{"openid", "offline_access"}, Audience: "https://api.example.com",
		AuthTime: now, AMR: tenants.Strings{"pwd"}, ExpiresAt: now.Add(24 * time.Hour),
	}
	return tenants.Issue{Grant: g, Refresh: newRefresh(g), Events: issueEvents(g)}
}

// refreshIssue returns what a refresh writes: a refresh token of the
// family g and the audit event of the issue.
func refreshIssue(s *tenants.Store, g *tenants.Grant) tenants.Issue {
	return tenants.Issue{Refresh: newRefresh(g), Events: issueEvents(g)}
}

// issueEvents returns the audit events of an issue in the family g, as the
// token endpoint writes them.
func issueEvents(g *tenants.Grant) []*tenants.AuditEvent {
	return []*tenants.AuditEvent{{
		ActorKind: "user", ActorID: g.UserID, Action: "token.issued",
		TargetType: "grant", TargetID: g.ID, ClientID: g.ClientID,
	}}
}

func newRefresh(g *tenants.Grant) *tenants.RefreshToken {
	return &tenants.RefreshToken{TokenHash: randomHash(), GrantID: g.ID, ClientID: g.ClientID, UserID: g.UserID, ExpiresAt: g.ExpiresAt}
}

// mustRedeemed creates an authorization request whose code was redeemed,
// and returns what the redemption wrote.
func mustRedeemed(t testing.TB, ctx context.Context, s *tenants.Store, clientID, userID string) (*tenants.AuthRequest, tenants.Issue) {
	t.Helper()
	ar, _ := mustCode(t, ctx, s, clientID, userID)
	issue := newIssue(s, clientID, userID)
	if err := s.RedeemCode(ctx, ar.ID, issue); err != nil {
		t.Fatalf("redeem code: %v", err)
	}
	return ar, issue
}

// accessToken is what the store knows of an issued JWT access token:
// access tokens are not stored, so only what the token itself says and the
// store is asked about. A family token's jti names its family.
type accessToken struct {
	jti, clientID, subject string
	grantID                string // "" for a client's own token
	expiresAt              time.Time
}

// familyToken returns an access token of the family g, its jti
// g.ID + "." + random as the token endpoint mints it.
func familyToken(s *tenants.Store, g *tenants.Grant) accessToken {
	return accessToken{
		jti: g.ID + "." + strings.ReplaceAll(tenants.NewRandomID(), "-", ""), clientID: g.ClientID, subject: g.UserID,
		grantID: g.ID, expiresAt: s.Now().Add(time.Hour),
	}
}

// machineToken returns a client-credentials access token of clientID: no
// family.
func machineToken(s *tenants.Store, clientID string, ttl time.Duration) accessToken {
	return accessToken{jti: tenants.NewRandomID(), clientID: clientID, subject: clientID, expiresAt: s.Now().Add(ttl)}
}

// revoke puts the token on the revocation list of the tenant in ctx.
func (a accessToken) revoke(ctx context.Context, s *tenants.Store) error {
	return s.RevokeAccessToken(ctx, a.jti, a.clientID, a.expiresAt)
}

// status asks the tenant in ctx what it says of the token.
func (a accessToken) status(ctx context.Context, s *tenants.Store) (*tenants.TokenStatus, error) {
	return s.AccessTokenStatus(ctx, a.jti, a.clientID, a.grantID)
}

func mustRevoke(t testing.TB, ctx context.Context, s *tenants.Store, a accessToken) accessToken {
	t.Helper()
	if err := a.revoke(ctx, s); err != nil {
		t.Fatalf("revoke access token: %v", err)
	}
	return a
}

func mustStatus(t testing.TB, ctx context.Context, s *tenants.Store, a accessToken) *tenants.TokenStatus {
	t.Helper()
	st, err := a.status(ctx, s)
	if err != nil {
		t.Fatalf("access token status: %v", err)
	}
	return st
}

// usable reports whether st lets the token a be used, judged as the
// provider judges it: not revoked, its client there, and a family token's
// family there, live, and of the token's client and subject.
func (a accessToken) usable(st *tenants.TokenStatus) bool {
	if st.Revoked || !st.ClientExists {
		return false
	}
	if a.grantID == "" {
		return true
	}
	return st.GrantFound && !st.GrantRevoked && st.GrantClientID == a.clientID && st.GrantUserID == a.subject
}

// newConnection returns an OpenID Connect connection named name, with
// every setting filled in.
func newConnection(name string) *tenants.Connection {
	return &tenants.Connection{
		Type: tenants.ConnectionOIDC, Name: name, Enabled: true, Domains: tenants.Strings{"example.com", "example.org"},
		ClientID: "gatehouse-" + suffix(), ClientSecretSealed: []byte("sealed-secret-" + suffix()), Issuer: sharedIssuer,
		TrustEmail: true, Provisioning: tenants.ProvisionCreate, Config: `{"scopes":["openid","email"]}`, SPKeySealed: []byte("sealed-key-" + suffix()),
	}
}

func mustConnection(t testing.TB, ctx context.Context, s *tenants.Store, name string) *tenants.Connection {
	t.Helper()
	c := newConnection(name)
	if err := s.CreateConnection(ctx, c); err != nil {
		t.Fatalf("create connection %s: %v", name, err)
	}
	return c
}

func newExternalIdentity(userID, connectionID, subject string) *tenants.ExternalIdentity {
	return &tenants.ExternalIdentity{UserID: userID, ConnectionID: connectionID, Issuer: sharedIssuer, Subject: subject, Email: "upstream-" + subject + "@example.com"}
}

// mustExternalIdentity links the upstream identity (sharedIssuer, subject)
// at connectionID to userID.
func mustExternalIdentity(t testing.TB, ctx context.Context, s *tenants.Store, userID, connectionID, subject string) *tenants.ExternalIdentity {
	t.Helper()
	x := newExternalIdentity(userID, connectionID, subject)
	if err := s.CreateExternalIdentity(ctx, x); err != nil {
		t.Fatalf("create external identity %s: %v", subject, err)
	}
	return x
}

// newFederationState returns a login at connectionID in progress, every
// field filled in, its id the hash of a fresh state.
func newFederationState(s *tenants.Store, connectionID string, ttl time.Duration) *tenants.FederationState {
	return &tenants.FederationState{
		ID: randomHash(), ConnectionID: connectionID, AuthRequestID: tenants.NewRandomID(), BrowserHash: randomHash(),
		Purpose: tenants.FederationLogin, UserID: tenants.NewID(), Nonce: "nonce-" + suffix(), PKCEVerifier: "verifier-" + suffix(),
		RequestID: "_" + suffix(), Identity: `{"subject":"` + suffix() + `"}`, ExpiresAt: s.Now().Add(ttl),
	}
}

func mustFederationState(t testing.TB, ctx context.Context, s *tenants.Store, connectionID string, ttl time.Duration) *tenants.FederationState {
	t.Helper()
	st := newFederationState(s, connectionID, ttl)
	if err := s.CreateFederationState(ctx, st); err != nil {
		t.Fatalf("create federation state: %v", err)
	}
	return st
}

func mustSAMLAssertion(t testing.TB, ctx context.Context, s *tenants.Store, connectionID, assertionID string, expiresAt time.Time) {
	t.Helper()
	if err := s.RecordSAMLAssertion(ctx, connectionID, assertionID, expiresAt); err != nil {
		t.Fatalf("record SAML assertion %s: %v", assertionID, err)
	}
}

// newUserToken returns a single-use link for userID that lives ttl, its
// id the hash of a fresh token.
func newUserToken(s *tenants.Store, userID, purpose string, ttl time.Duration) *tenants.UserToken {
	return &tenants.UserToken{
		ID: randomHash(), UserID: userID, Purpose: purpose, Email: "sent-" + suffix() + "@example.com", ExpiresAt: s.Now().Add(ttl),
	}
}

func mustUserToken(t testing.TB, ctx context.Context, s *tenants.Store, userID, purpose string, ttl time.Duration) *tenants.UserToken {
	t.Helper()
	tok := newUserToken(s, userID, purpose, ttl)
	if err := s.CreateUserToken(ctx, tok); err != nil {
		t.Fatalf("create user token %s: %v", purpose, err)
	}
	return tok
}

// newTOTPFactor returns an unconfirmed TOTP factor of userID.
func newTOTPFactor(userID string) *tenants.MFAFactor {
	return &tenants.MFAFactor{UserID: userID, Type: tenants.FactorTOTP, Name: "Phone", SecretSealed: []byte("sealed-totp-" + suffix())}
}

// newWebAuthnFactor returns a WebAuthn credential of userID with
// credentialID.
func newWebAuthnFactor(userID, credentialID string) *tenants.MFAFactor {
	return &tenants.MFAFactor{
		UserID: userID, Type: tenants.FactorWebAuthn, Name: "Security key", CredentialID: credentialID,
		Credential: `{"id":"` + credentialID + `","signCount":0}`, Confirmed: true,
	}
}

func mustFactor(t testing.TB, ctx context.Context, s *tenants.Store, f *tenants.MFAFactor) *tenants.MFAFactor {
	t.Helper()
	if err := s.CreateFactor(ctx, f); err != nil {
		t.Fatalf("create %s factor: %v", f.Type, err)
	}
	return f
}

// mustRecoveryCodes gives userID the recovery codes with hashes, and no
// other.
func mustRecoveryCodes(t testing.TB, ctx context.Context, s *tenants.Store, userID string, hashes ...string) {
	t.Helper()
	if err := s.ReplaceRecoveryCodes(ctx, userID, hashes); err != nil {
		t.Fatalf("replace recovery codes: %v", err)
	}
}

// newLoginStep returns the MFA step of userID's login for authRequestID,
// every field filled in, its id the hash of a fresh token.
func newLoginStep(s *tenants.Store, userID, authRequestID string, ttl time.Duration) *tenants.LoginStep {
	return &tenants.LoginStep{
		ID: randomHash(), UserID: userID, AuthRequestID: authRequestID, BrowserHash: randomHash(),
		Purpose: tenants.StepMFA, Data: `{"amr":["pwd"],"n":"` + suffix() + `"}`, ExpiresAt: s.Now().Add(ttl),
	}
}

func mustLoginStep(t testing.TB, ctx context.Context, s *tenants.Store, userID, authRequestID string, ttl time.Duration) *tenants.LoginStep {
	t.Helper()
	st := newLoginStep(s, userID, authRequestID, ttl)
	if err := s.CreateLoginStep(ctx, st); err != nil {
		t.Fatalf("create login step: %v", err)
	}
	return st
}

func newKey() *tenants.SigningKey { return newAlgKey(tenants.AlgRS256) }

func newAlgKey(alg string) *tenants.SigningKey {
	return &tenants.SigningKey{Algorithm: alg, PublicJWK: `{"kid":"` + suffix() + `"}`, PrivateSealed: []byte("sealed-" + suffix())}
}

// clock is a time source for Store.SetClock that moves only when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// race calls fn(0) to fn(n-1) at once, each on its own goroutine, as
// requests racing each other do, and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// sameTime reports whether a and b are the same instant to the microsecond,
// the precision PostgreSQL keeps.
func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Microsecond && d < time.Microsecond
}

// samePtrTime reports whether a is set to the instant b.
func samePtrTime(a *time.Time, b time.Time) bool { return a != nil && sameTime(*a, b) }

// tenantTables are the tables that hold tenant-owned rows.
var tenantTables = []string{
	"signing_keys", "users", "clients", "apis", "api_scopes", "client_grants", "consents",
	"sessions", "auth_requests", "device_authorizations", "grants", "revoked_tokens", "refresh_tokens",
	"connections", "external_identities", "federation_states", "saml_assertions",
	"user_tokens", "mfa_factors", "recovery_codes", "login_steps",
	"roles", "role_permissions", "user_groups", "group_members", "group_roles", "user_roles",
	"tenant_strings", "email_templates",
}

// countRows returns the number of rows of table whose column equals value,
// read with plain SQL, past the store.
func countRows(t testing.TB, s *tenants.Store, table, column, value string) int {
	t.Helper()
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	ph := "?"
	if s.Dialect() == tenants.DialectPostgres {
		ph = "$1"
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM "+table+" WHERE "+column+" = "+ph, value).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// placeholders rewrites the ? placeholders of query for the store's
// dialect.
func placeholders(s *tenants.Store, query string) string {
	if s.Dialect() != tenants.DialectPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// countSQL runs a SELECT COUNT(*) query written with ? placeholders, past
// the store.
func countSQL(t testing.TB, s *tenants.Store, query string, args ...any) int {
	t.Helper()
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(placeholders(s, query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// sqlRows runs a query written with ? placeholders, past the store, and
// returns every row as its column values.
func sqlRows(t testing.TB, s *tenants.Store, query string, args ...any) [][]any {
	t.Helper()
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(placeholders(s, query), args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// tenantRows counts the rows of every tenant table that belong to tenantID.
func tenantRows(t testing.TB, s *tenants.Store, tenantID string) map[string]int {
	t.Helper()
	out := make(map[string]int, len(tenantTables)+1)
	out["tenants"] = countRows(t, s, "tenants", "id", tenantID)
	for _, table := range tenantTables {
		out[table] = countRows(t, s, table, "tenant_id", tenantID)
	}
	return out
}

// revision returns the revision of tenant id, or -1 when there is none.
func revision(t testing.TB, s *tenants.Store, id string) int64 {
	t.Helper()
	tn, err := s.TenantByID(context.Background(), id)
	if errors.Is(err, tenants.ErrNotFound) {
		return -1
	}
	if err != nil {
		t.Fatalf("tenant %s: %v", id, err)
	}
	return tn.Revision
}

func mustRole(t testing.TB, ctx context.Context, s *tenants.Store, name string, perms ...tenants.Permission) *tenants.Role {
	t.Helper()
	r := &tenants.Role{Name: name, Description: "Role " + name, Permissions: perms}
	if err := s.CreateRole(ctx, r); err != nil {
		t.Fatalf("create role %s: %v", name, err)
	}
	return r
}

func mustGroup(t testing.TB, ctx context.Context, s *tenants.Store, name string) *tenants.Group {
	t.Helper()
	g := &tenants.Group{Name: name, Description: "Group " + name}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
	return g
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
