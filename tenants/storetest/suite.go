package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Run runs the conformance suite of the tenant store: one subtest per
// operation, each on tenants of its own. open returns a fresh, migrated
// store; Run opens one that most subtests share, in parallel, and one more
// for each subtest that moves the store's clock or deletes across tenants.
func Run(t *testing.T, open func(t *testing.T) *tenants.Store) {
	shared := open(t)
	tests := []struct {
		name string
		// own gives the subtest a store of its own: it sets the clock, or
		// acts on every tenant.
		own bool
		run func(t *testing.T, s *tenants.Store)
	}{
		{name: "Schema", run: testSchema},
		{name: "TenantOpsCoverAllMethods", run: testTenantOpsCoverAllMethods},
		{name: "NoTenant", run: testNoTenant},
		{name: "TenantIsolation", run: testTenantIsolation},
		{name: "Tenants", run: testTenants},
		{name: "EmailTemplates", run: testEmailTemplates},
		{name: "Atomically", run: testAtomically},
		{name: "UpdateTenantSettings", run: testUpdateTenantSettings},
		{name: "Uniqueness", run: testUniqueness},
		{name: "Users", run: testUsers},
		{name: "RecordLogin", run: testRecordLogin},
		{name: "SearchUsers", run: testSearchUsers},
		{name: "Counts", run: testCounts},
		{name: "UpdateUserProfile", run: testUpdateUserProfile},
		{name: "UserAccess", run: testUserAccess},
		{name: "AccessRevision", run: testAccessRevision},
		{name: "AccessRevisionRace", run: testAccessRevisionRace},
		{name: "DeleteUser", run: testDeleteUser},
		{name: "DeleteUserSession", run: testDeleteUserSession},
		{name: "Clients", run: testClients},
		{name: "RotateClientSecret", run: testRotateClientSecret},
		{name: "DeleteClient", run: testDeleteClient},
		{name: "UpdateClient", run: testUpdateClient},
		{name: "SetClientGrants", run: testSetClientGrants},
		{name: "ClientGrantExpiry", own: true, run: testClientGrantExpiry},
		{name: "APIs", run: testAPIs},
		{name: "UpdateAPI", run: testUpdateAPI},
		{name: "DeleteAPI", run: testDeleteAPI},
		{name: "Revisions", run: testRevisions},
		{name: "Consents", run: testConsents},
		{name: "GrantConsentConcurrently", run: testGrantConsentConcurrently},
		{name: "RevokeConsent", run: testRevokeConsent},
		{name: "Sessions", own: true, run: testSessions},
		{name: "AuthRequests", run: testAuthRequests},
		{name: "AuthRequestExpiry", own: true, run: testAuthRequestExpiry},
		{name: "RedeemCode", run: testRedeemCode},
		{name: "RedeemCodeConcurrently", run: testRedeemCodeConcurrently},
		{name: "RedeemCodeMatching", run: testRedeemCodeMatching},
		{name: "RedeemCodeMatchingConcurrently", run: testRedeemCodeMatchingConcurrently},
		{name: "IssueCodeConcurrently", run: testIssueCodeConcurrently},
		{name: "BurnCode", run: testBurnCode},
		{name: "DeviceAuthorizations", run: testDeviceAuthorizations},
		{name: "DevicePolling", own: true, run: testDevicePolling},
		{name: "PollDeviceConcurrently", run: testPollDeviceConcurrently},
		{name: "RedeemDeviceConcurrently", run: testRedeemDeviceConcurrently},
		{name: "DeviceExpiry", own: true, run: testDeviceExpiry},
		{name: "AccessTokens", run: testAccessTokens},
		{name: "IssueEvents", run: testIssueEvents},
		{name: "RefreshTokens", run: testRefreshTokens},
		{name: "RotateRefreshTokenConcurrently", run: testRotateRefreshTokenConcurrently},
		{name: "RevokeGrant", run: testRevokeGrant},
		{name: "DeleteExpired", own: true, run: testDeleteExpired},
		{name: "SigningKeys", own: true, run: testSigningKeys},
		{name: "RotateSigningKeyConcurrently", run: testRotateSigningKeyConcurrently},
		{name: "SigningKeysPerAlgorithm", run: testSigningKeysPerAlgorithm},
		{name: "AddSigningKeyConcurrently", run: testAddSigningKeyConcurrently},
		{name: "KeyPrePublication", own: true, run: testKeyPrePublication},
		{name: "ScheduledKeyRotation", own: true, run: testScheduledKeyRotation},
		{name: "TimeZones", own: true, run: testTimeZones},
		{name: "DeleteTenant", run: testDeleteTenant},
		{name: "BindDeployment", own: true, run: testBindDeployment},
		{name: "CrossTenantReferences", run: testCrossTenantReferences},
		{name: "SystemTenant", own: true, run: testSystemTenant},
		{name: "AdminRoles", own: true, run: testAdminRoles},
		{name: "AdminLifecycle", own: true, run: testAdminLifecycle},
		{name: "RemoveOperatorsConcurrently", own: true, run: testRemoveOperatorsConcurrently},
		{name: "ConsoleSessions", own: true, run: testConsoleSessions},
		{name: "SetupTokens", own: true, run: testSetupTokens},
		{name: "UseSetupTokenConcurrently", run: testUseSetupTokenConcurrently},
		{name: "Audit", run: testAudit},
		{name: "AppendAudit", run: testAppendAudit},
		{name: "AppendAuditGrouped", run: testAppendAuditGrouped},
		{name: "AppendAuditGroupedConcurrently", run: testAppendAuditGroupedConcurrently},
		{name: "AppendAuditGroupedCancelledLeader", own: true, run: testAppendAuditGroupedCancelledLeader},
		{name: "AppendAuditGroupedPartialFailure", own: true, run: testAppendAuditGroupedPartialFailure},
		{name: "Connections", run: testConnections},
		{name: "UpdateConnection", own: true, run: testUpdateConnection},
		{name: "DeleteConnection", run: testDeleteConnection},
		{name: "ExternalIdentities", own: true, run: testExternalIdentities},
		{name: "CreateFederatedUser", run: testCreateFederatedUser},
		{name: "FederationStates", own: true, run: testFederationStates},
		{name: "UseFederationStateConcurrently", run: testUseFederationStateConcurrently},
		{name: "SAMLAssertions", run: testSAMLAssertions},
		{name: "RecordSAMLAssertionConcurrently", run: testRecordSAMLAssertionConcurrently},
		{name: "ClientAssertions", run: testClientAssertions},
		{name: "DPoPProofs", run: testDPoPProofs},
		{name: "UseClientAssertionConcurrently", run: testUseClientAssertionConcurrently},
		{name: "PushedRequests", run: testPushedRequests},
		{name: "FederatedLogin", run: testFederatedLogin},
		{name: "UserTokens", own: true, run: testUserTokens},
		{name: "UseUserTokenConcurrently", run: testUseUserTokenConcurrently},
		{name: "ChangePassword", own: true, run: testChangePassword},
		{name: "SetEmail", run: testSetEmail},
		{name: "Factors", own: true, run: testFactors},
		{name: "RecoveryCodes", run: testRecoveryCodes},
		{name: "UseRecoveryCodeConcurrently", run: testUseRecoveryCodeConcurrently},
		{name: "LoginSteps", own: true, run: testLoginSteps},
		{name: "UseLoginStepConcurrently", run: testUseLoginStepConcurrently},
		{name: "Throttles", own: true, run: testThrottles},
		{name: "RecordFailureConcurrently", run: testRecordFailureConcurrently},
		{name: "Outbox", own: true, run: testOutbox},
		{name: "Webhooks", run: testWebhooks},
		{name: "WebhookEnqueue", run: testWebhookEnqueue},
		{name: "WebhookClaims", own: true, run: testWebhookClaims},
		{name: "SAMLApps", run: testSAMLApps},
		{name: "Domains", own: true, run: testDomains},
		{name: "ClaimDomainConcurrently", run: testClaimDomainConcurrently},
		{name: "SAMLParticipants", run: testSAMLParticipants},
		{name: "SAMLRequests", run: testSAMLRequests},
		{name: "BackchannelLogouts", own: true, run: testBackchannelLogouts},
		{name: "ACR", run: testACR},
		{name: "Roles", run: testRoles},
		{name: "EffectiveRoles", run: testEffectiveRoles},
		{name: "Groups", run: testGroups},
		{name: "UpstreamGroups", run: testUpstreamGroups},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := shared
			if tt.own {
				s = open(t)
			}
			tt.run(t, s)
		})
	}
}

func testSchema(t *testing.T, s *tenants.Store) {
	if err := s.VerifySchema(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func testTenants(t *testing.T, s *tenants.Store) {
	ctx := context.Background()
	slug := "tenants-" + suffix()
	before := MustTenant(t, s, "sorts-first-"+suffix())
	tn := &tenants.Tenant{
		Slug: slug, DisplayName: "Tenants", Host: strings.ToUpper(slug) + ".Example.COM", Issuer: "https://" + slug + ".example.com",
		AccessTokenTTLSeconds: 60, IDTokenTTLSeconds: 120, RefreshTokenTTLSeconds: 180, SessionTTLSeconds: 240,
	}
	key := newKey()
	if err := s.CreateTenant(ctx, tn, key); err != nil {
		t.Fatal(err)
	}
	if tn.ID == "" || tn.Revision != 1 || tn.CreatedAt.IsZero() {
		t.Errorf("CreateTenant left id %q, revision %d, created %v: want them set", tn.ID, tn.Revision, tn.CreatedAt)
	}
	host := slug + ".example.com"
	if tn.Host != host {
		t.Errorf("Host = %q, want it lower-cased to %q", tn.Host, host)
	}

	tests := []struct {
		name    string
		get     func() (*tenants.Tenant, error)
		wantErr error
	}{
		{"by slug", func() (*tenants.Tenant, error) { return s.TenantBySlug(ctx, slug) }, nil},
		{"by slug in upper case", func() (*tenants.Tenant, error) { return s.TenantBySlug(ctx, strings.ToUpper(slug)) }, nil},
		{"by host", func() (*tenants.Tenant, error) { return s.TenantByHost(ctx, host) }, nil},
		{"by host in upper case", func() (*tenants.Tenant, error) { return s.TenantByHost(ctx, strings.ToUpper(host)) }, nil},
		{"by id", func() (*tenants.Tenant, error) { return s.TenantByID(ctx, tn.ID) }, nil},
		{"unknown slug", func() (*tenants.Tenant, error) { return s.TenantBySlug(ctx, "nope-"+suffix()) }, tenants.ErrNotFound},
		{"unknown host", func() (*tenants.Tenant, error) { return s.TenantByHost(ctx, "nope-"+suffix()+".example.com") }, tenants.ErrNotFound},
		{"unknown id", func() (*tenants.Tenant, error) { return s.TenantByID(ctx, tenants.NewID()) }, tenants.ErrNotFound},
		{"empty slug", func() (*tenants.Tenant, error) { return s.TenantBySlug(ctx, "") }, tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.ID != tn.ID || got.Slug != slug || got.Host != host || got.Issuer != tn.Issuer || got.DisplayName != "Tenants" || got.Revision != 1 {
				t.Errorf("got %+v, want %+v", got, tn)
			}
			if got.AccessTokenTTL() != time.Minute || got.IDTokenTTL() != 2*time.Minute || got.RefreshTokenTTL() != 3*time.Minute || got.SessionTTL() != 4*time.Minute {
				t.Errorf("lifetimes %v %v %v %v, want 1m 2m 3m 4m", got.AccessTokenTTL(), got.IDTokenTTL(), got.RefreshTokenTTL(), got.SessionTTL())
			}
			if !sameTime(got.CreatedAt, tn.CreatedAt) {
				t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, tn.CreatedAt)
			}
		})
	}

	t.Run("ListTenants", func(t *testing.T) {
		ts, err := s.ListTenants(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range ts {
			if x.ID == tn.ID || x.ID == before.ID {
				got = append(got, x.Slug)
			}
		}
		if want := []string{before.Slug, slug}; !slices.Equal(got, want) {
			t.Errorf("ListTenants has %v of ours, want %v (by slug)", got, want)
		}
	})
	t.Run("revision", func(t *testing.T) {
		if got := revision(t, s, tn.ID); got != 1 {
			t.Errorf("revision = %d, want 1", got)
		}
	})
	t.Run("first signing key", func(t *testing.T) {
		ks, err := s.ListSigningKeys(tenants.WithTenant(ctx, tn))
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != 1 {
			t.Fatalf("got %d keys, want the one created with the tenant", len(ks))
		}
		k := ks[0]
		if k.ID != key.ID || k.TenantID != tn.ID || !k.Active() || k.Algorithm != "RS256" || k.PublicJWK != key.PublicJWK || string(k.PrivateSealed) != string(key.PrivateSealed) || k.ExpiresAt != nil {
			t.Errorf("got key %+v, want %+v", k, key)
		}
	})
}

func testUpdateTenantSettings(t *testing.T, s *tenants.Store) {
	ctx, a := newTenant(t, s, "settings-a")
	_, b := newTenant(t, s, "settings-b")
	grantTypes := tenants.Strings{tenants.GrantAuthorizationCode}
	domains := tenants.Strings{"example.com", "example.org"}
	err := s.UpdateTenantSettings(ctx, &tenants.Tenant{
		DisplayName: "Renamed", AccessTokenTTLSeconds: 1, IDTokenTTLSeconds: 2, RefreshTokenTTLSeconds: 3, SessionTTLSeconds: 4,
		LogoURL: "https://cdn.example.com/logo.svg", AccentColor: "#0a7cff", GrantTypes: grantTypes,
		SignupMode: tenants.SignupDomains, SignupDomains: domains, PasswordMinLength: 16, MFAPolicy: tenants.MFARequired, EmailFromName: "Renamed Accounts",
		DefaultLocale: "pt-BR", EmailReplyTo: "help@example.com",
		// Fields the settings do not include must be ignored.
		Slug: "hijack", Host: "hijack.example.com", Issuer: "https://hijack.example.com", Revision: 100, System: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TenantByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "Renamed" || got.AccessTokenTTLSeconds != 1 || got.IDTokenTTLSeconds != 2 || got.RefreshTokenTTLSeconds != 3 || got.SessionTTLSeconds != 4 ||
		got.LogoURL != "https://cdn.example.com/logo.svg" || got.AccentColor != "#0a7cff" || !slices.Equal(got.GrantTypes, grantTypes) ||
		got.SignupMode != tenants.SignupDomains || !slices.Equal(got.SignupDomains, domains) || got.PasswordMinLength != 16 ||
		got.MFAPolicy != tenants.MFARequired || got.EmailFromName != "Renamed Accounts" ||
		got.DefaultLocale != "pt-BR" || got.EmailReplyTo != "help@example.com" {
		t.Errorf("settings not saved: %+v", got)
	}
	if got.Slug != a.Slug || got.Host != a.Host || got.Issuer != a.Issuer || got.System {
		t.Errorf("slug, host, issuer or system changed: %+v", got)
	}
	if got.Revision != 2 {
		t.Errorf("revision = %d, want 2", got.Revision)
	}
	other, err := s.TenantByID(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if other.DisplayName != b.DisplayName || other.Revision != 1 || other.AccessTokenTTLSeconds != b.AccessTokenTTLSeconds ||
		other.LogoURL != "" || other.AccentColor != "" || !slices.Equal(other.GrantTypes, b.GrantTypes) ||
		other.SignupMode != b.SignupMode || len(other.SignupDomains) != 0 || other.PasswordMinLength != b.PasswordMinLength ||
		other.MFAPolicy != b.MFAPolicy || other.EmailFromName != "" {
		t.Errorf("other tenant changed: %+v", other)
	}
	t.Run("back to the defaults", func(t *testing.T) {
		err := s.UpdateTenantSettings(ctx, &tenants.Tenant{
			DisplayName: "Renamed", AccessTokenTTLSeconds: 1, IDTokenTTLSeconds: 2, RefreshTokenTTLSeconds: 3, SessionTTLSeconds: 4,
			SignupMode: tenants.SignupOff, MFAPolicy: tenants.MFAOptional,
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.TenantByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SignupMode != tenants.SignupOff || len(got.SignupDomains) != 0 || got.PasswordMinLength != 0 || got.MinPasswordLength() != 12 ||
			got.MFAPolicy != tenants.MFAOptional || got.EmailFromName != "" {
			t.Errorf("settings not cleared: %+v", got)
		}
	})
	gone := tenants.WithTenant(context.Background(), &tenants.Tenant{ID: tenants.NewID()})
	if err := s.UpdateTenantSettings(gone, &tenants.Tenant{DisplayName: "x"}); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("unknown tenant: err = %v, want %v", err, tenants.ErrNotFound)
	}
}

func testUniqueness(t *testing.T, s *tenants.Store) {
	ctx := context.Background()
	actx, a := newTenant(t, s, "unique-a")
	bctx, _ := newTenant(t, s, "unique-b")
	mustUser(t, actx, s, "Grace@Example.com")
	mustClient(t, actx, s, "taken-app")
	mustAPI(t, actx, s, "https://taken.example.com", "read")
	sessionUser := mustUser(t, actx, s, "session@example.com")
	sess := mustSession(t, actx, s, sessionUser.ID, time.Hour)
	conn := mustConnection(t, actx, s, "Taken SSO")
	second := mustConnection(t, actx, s, "Second SSO")
	identity := mustExternalIdentity(t, actx, s, sessionUser.ID, conn.ID, "taken-subject")
	state := mustFederationState(t, actx, s, conn.ID, time.Hour)
	bUser := mustUser(t, bctx, s, "session@example.com")
	bConn := mustConnection(t, bctx, s, "Other SSO")
	factor := mustFactor(t, actx, s, newWebAuthnFactor(sessionUser.ID, "taken-credential"))
	mustFactor(t, actx, s, newTOTPFactor(sessionUser.ID))
	factorUser := mustUser(t, actx, s, "factor@example.com")
	newHost := "fresh-" + suffix() + ".example.com"
	newAudience := "https://fresh-" + suffix() + ".example.com"
	revBefore := revision(t, s, a.ID)

	createTenant := func(slug, host string) error {
		return s.CreateTenant(ctx, &tenants.Tenant{Slug: slug, DisplayName: slug, Host: host, Issuer: "https://" + host}, newKey())
	}
	createAPI := func(ctx context.Context, audience string, scopes ...string) error {
		api := &tenants.API{Name: audience, Audience: audience}
		for _, sc := range scopes {
			api.Scopes = append(api.Scopes, tenants.Scope{Name: sc})
		}
		return s.CreateAPI(ctx, api)
	}
	tests := []struct {
		name    string
		create  func() error
		wantErr error
	}{
		{"tenant slug taken", func() error { return createTenant(a.Slug, newHost) }, tenants.ErrAlreadyExists},
		{"tenant host taken", func() error { return createTenant("fresh-"+suffix(), a.Host) }, tenants.ErrAlreadyExists},
		{"tenant host taken, in upper case", func() error { return createTenant("fresh-"+suffix(), strings.ToUpper(a.Host)) }, tenants.ErrAlreadyExists},
		{"user email taken", func() error { return s.CreateUser(actx, &tenants.User{Email: "Grace@Example.com"}) }, tenants.ErrAlreadyExists},
		{"user email taken, other case and spaces", func() error { return s.CreateUser(actx, &tenants.User{Email: "  gRACE@example.COM "}) }, tenants.ErrAlreadyExists},
		{"user email taken in another tenant", func() error { return s.CreateUser(bctx, &tenants.User{Email: "grace@example.com"}) }, nil},
		{"client id taken", func() error { return s.CreateClient(actx, newClient("taken-app"), nil) }, tenants.ErrAlreadyExists},
		{"client id taken in another tenant", func() error { return s.CreateClient(bctx, newClient("taken-app"), nil) }, nil},
		{"API audience taken", func() error { return createAPI(actx, "https://taken.example.com") }, tenants.ErrAlreadyExists},
		{"API audience taken in another tenant", func() error { return createAPI(bctx, "https://taken.example.com") }, nil},
		{"scope named twice on one API", func() error { return createAPI(actx, newAudience, "read", "read") }, tenants.ErrAlreadyExists},
		{"session id taken", func() error {
			dup := newSession(s, sess.UserID, time.Hour)
			dup.ID = sess.ID
			return s.CreateSession(actx, dup)
		}, tenants.ErrAlreadyExists},
		{"connection name taken", func() error { return s.CreateConnection(actx, newConnection("Taken SSO")) }, tenants.ErrAlreadyExists},
		{"connection name taken in another tenant", func() error { return s.CreateConnection(bctx, newConnection("Taken SSO")) }, nil},
		{"connection renamed to a taken name", func() error {
			c := newConnection("Taken SSO")
			c.ID = second.ID
			return s.UpdateConnection(actx, c)
		}, tenants.ErrAlreadyExists},
		{"connection id taken", func() error {
			c := newConnection("Fresh SSO")
			c.ID = conn.ID
			return s.CreateConnection(bctx, c)
		}, tenants.ErrAlreadyExists},
		// The key of an external identity is (tenant, connection, issuer,
		// subject): one upstream identity links to one user.
		{"external identity key taken", func() error {
			return s.CreateExternalIdentity(actx, newExternalIdentity(mustUser(t, actx, s, "second@example.com").ID, conn.ID, "taken-subject"))
		}, tenants.ErrAlreadyExists},
		{"external identity key taken, by the same user", func() error {
			return s.CreateExternalIdentity(actx, newExternalIdentity(sessionUser.ID, conn.ID, "taken-subject"))
		}, tenants.ErrAlreadyExists},
		{"external identity key taken in another tenant", func() error {
			return s.CreateExternalIdentity(bctx, newExternalIdentity(bUser.ID, bConn.ID, "taken-subject"))
		}, nil},
		{"external identity key taken under another issuer", func() error {
			x := newExternalIdentity(sessionUser.ID, conn.ID, "taken-subject")
			x.Issuer = "https://other-idp.example.com"
			return s.CreateExternalIdentity(actx, x)
		}, nil},
		{"external identity id taken", func() error {
			x := newExternalIdentity(bUser.ID, bConn.ID, "fresh-subject")
			x.ID = identity.ID
			return s.CreateExternalIdentity(bctx, x)
		}, tenants.ErrAlreadyExists},
		{"federation state id taken", func() error {
			st := newFederationState(s, conn.ID, time.Hour)
			st.ID = state.ID
			return s.CreateFederationState(actx, st)
		}, tenants.ErrAlreadyExists},
		// A WebAuthn credential id names one factor in a tenant, whoever's.
		{"credential id taken", func() error {
			return s.CreateFactor(actx, newWebAuthnFactor(sessionUser.ID, "taken-credential"))
		}, tenants.ErrAlreadyExists},
		{"credential id taken, by another user", func() error {
			return s.CreateFactor(actx, newWebAuthnFactor(factorUser.ID, "taken-credential"))
		}, tenants.ErrAlreadyExists},
		{"credential id taken in another tenant", func() error {
			return s.CreateFactor(bctx, newWebAuthnFactor(bUser.ID, "taken-credential"))
		}, nil},
		{"second TOTP factor: no credential id", func() error { return s.CreateFactor(actx, newTOTPFactor(sessionUser.ID)) }, nil},
		{"factor id taken", func() error {
			f := newTOTPFactor(bUser.ID)
			f.ID = factor.ID
			return s.CreateFactor(bctx, f)
		}, tenants.ErrAlreadyExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.create(); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}

	t.Run("failed writes leave nothing", func(t *testing.T) {
		if _, err := s.TenantByHost(ctx, newHost); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("tenant of the failed create: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if _, err := s.APIByAudience(actx, newAudience); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("API whose scopes failed: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if n := countRows(t, s, "clients", "tenant_id", a.ID); n != 1 {
			t.Errorf("tenant has %d clients, want 1", n)
		}
		if n := countRows(t, s, "signing_keys", "tenant_id", a.ID); n != 1 {
			t.Errorf("tenant has %d signing keys, want 1", n)
		}
		if n := countRows(t, s, "connections", "tenant_id", a.ID); n != 2 {
			t.Errorf("tenant has %d connections, want 2", n)
		}
		if got, err := s.ConnectionByID(actx, second.ID); err != nil || got.Name != "Second SSO" {
			t.Errorf("the connection of the failed rename = %+v, %v; want it unchanged", got, err)
		}
		if got, err := s.ExternalIdentity(actx, conn.ID, sharedIssuer, "taken-subject"); err != nil || got.ID != identity.ID || got.UserID != sessionUser.ID {
			t.Errorf("the taken external identity = %+v, %v; want it unchanged", got, err)
		}
		if got := revision(t, s, a.ID); got != revBefore {
			t.Errorf("revision went from %d to %d on failed writes", revBefore, got)
		}
		if got, err := s.FactorByCredentialID(actx, "taken-credential"); err != nil || got.ID != factor.ID || got.UserID != sessionUser.ID {
			t.Errorf("the factor of the taken credential id = %+v, %v; want it unchanged", got, err)
		}
		if got, err := s.FactorByCredentialID(bctx, "taken-credential"); err != nil || got.UserID != bUser.ID {
			t.Errorf("the other tenant's factor of the credential id = %+v, %v", got, err)
		}
		if n := countRows(t, s, "mfa_factors", "user_id", factorUser.ID); n != 0 {
			t.Errorf("%d factors of the user whose create failed", n)
		}
	})
}

func testUsers(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "users")
	disabled := s.Now().Add(-time.Hour).Truncate(time.Second)
	u := &tenants.User{
		Email: " Charles@Example.COM", EmailVerified: true, Name: "Charles Babbage", GivenName: "Charles", FamilyName: "Babbage",
		PasswordHash: "$argon2id$hash", DisabledAt: &disabled,
	}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || u.TenantID != tn.ID || u.EmailNormalized != "charles@example.com" {
		t.Errorf("CreateUser left id %q, tenant %q, normalized email %q", u.ID, u.TenantID, u.EmailNormalized)
	}
	mustUser(t, ctx, s, "alan@example.com")
	mustUser(t, ctx, s, "bea@example.com")

	tests := []struct {
		name    string
		get     func() (*tenants.User, error)
		wantErr error
	}{
		{"by id", func() (*tenants.User, error) { return s.UserByID(ctx, u.ID) }, nil},
		{"by email as given", func() (*tenants.User, error) { return s.UserByEmail(ctx, " Charles@Example.COM") }, nil},
		{"by email in lower case", func() (*tenants.User, error) { return s.UserByEmail(ctx, "charles@example.com") }, nil},
		{"by email in upper case with spaces", func() (*tenants.User, error) { return s.UserByEmail(ctx, " CHARLES@EXAMPLE.COM\t") }, nil},
		{"unknown id", func() (*tenants.User, error) { return s.UserByID(ctx, tenants.NewID()) }, tenants.ErrNotFound},
		{"unknown email", func() (*tenants.User, error) { return s.UserByEmail(ctx, "nobody@example.com") }, tenants.ErrNotFound},
		{"empty email", func() (*tenants.User, error) { return s.UserByEmail(ctx, "") }, tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.ID != u.ID || got.TenantID != tn.ID || got.Email != u.Email || got.EmailNormalized != "charles@example.com" ||
				!got.EmailVerified || got.Name != u.Name || got.GivenName != "Charles" || got.FamilyName != "Babbage" ||
				got.PasswordHash != u.PasswordHash || !samePtrTime(got.DisabledAt, disabled) || got.LastLoginAt != nil {
				t.Errorf("got %+v, want %+v", got, u)
			}
		})
	}

	t.Run("ListUsers", func(t *testing.T) {
		us, err := s.ListUsers(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, u := range us {
			emails = append(emails, u.EmailNormalized)
		}
		if want := []string{"alan@example.com", "bea@example.com", "charles@example.com"}; !slices.Equal(emails, want) {
			t.Errorf("ListUsers = %v, want %v", emails, want)
		}
		us, err = s.ListUsers(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(us) != 2 {
			t.Errorf("ListUsers(2) returned %d users", len(us))
		}
	})
}

func testRecordLogin(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "login")
	u := mustUser(t, ctx, s, "ada@example.com")
	first := s.Now().Add(time.Minute).Truncate(time.Second)
	second := first.Add(time.Minute)
	tests := []struct {
		name     string
		userID   string
		at       time.Time
		newHash  string
		wantErr  error
		wantHash string
	}{
		{"keeps the hash", u.ID, first, "", nil, u.PasswordHash},
		{"replaces the hash", u.ID, second, "$argon2id$stronger", nil, "$argon2id$stronger"},
		{"unknown user", tenants.NewID(), second, "", tenants.ErrNotFound, "$argon2id$stronger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.RecordLogin(ctx, tt.userID, tt.at, tt.newHash); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			got, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.PasswordHash != tt.wantHash {
				t.Errorf("PasswordHash = %q, want %q", got.PasswordHash, tt.wantHash)
			}
			if tt.wantErr == nil && !samePtrTime(got.LastLoginAt, tt.at) {
				t.Errorf("LastLoginAt = %v, want %v", got.LastLoginAt, tt.at)
			}
		})
	}
}

func testClients(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "clients")
	x := mustAPI(t, ctx, s, "https://x.example.com", "read", "write")
	y := mustAPI(t, ctx, s, "https://y.example.com", "admin")
	c := &tenants.Client{
		ClientID: "spa", Name: "Beta", ApplicationType: tenants.AppTypeSPA, TokenEndpointAuthMethod: tenants.AuthMethodNone,
		RedirectURIs: tenants.Strings{"https://spa.example.com/cb", "http://localhost:3000/cb"}, PostLogoutRedirectURIs: tenants.Strings{"https://spa.example.com/"},
		GrantTypes: tenants.Strings{tenants.GrantAuthorizationCode},
	}
	grants := []tenants.ClientGrant{{APIID: x.ID, Scopes: tenants.Strings{"read"}}, {APIID: y.ID, Scopes: tenants.Strings{"admin"}}}
	if err := s.CreateClient(ctx, c, grants); err != nil {
		t.Fatal(err)
	}
	if c.ID == "" || c.TenantID != tn.ID {
		t.Errorf("CreateClient left id %q, tenant %q", c.ID, c.TenantID)
	}
	m := newClient("machine")
	m.Name = "Alpha"
	if err := s.CreateClient(ctx, m, nil); err != nil {
		t.Fatal(err)
	}
	internal := newClient("try-it")
	internal.Name, internal.Internal = "Aardvark", true
	if err := s.CreateClient(ctx, internal, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("ClientByClientID", func(t *testing.T) {
		tests := []struct {
			name     string
			clientID string
			wantErr  error
		}{
			{"known", "spa", nil},
			{"unknown", "nope", tenants.ErrNotFound},
			{"internal id is not a client id", c.ID, tenants.ErrNotFound},
			{"other case", "SPA", tenants.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.ClientByClientID(ctx, tt.clientID)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if err != nil {
					return
				}
				if got.ID != c.ID || got.TenantID != tn.ID || got.Name != "Beta" || !got.Public() || got.ApplicationType != tenants.AppTypeSPA ||
					!slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.PostLogoutRedirectURIs, c.PostLogoutRedirectURIs) ||
					!got.AllowsGrant(tenants.GrantAuthorizationCode) || got.AllowsGrant(tenants.GrantRefreshToken) || got.SecretHash != "" {
					t.Errorf("got %+v, want %+v", got, c)
				}
			})
		}
	})
	t.Run("ListClients", func(t *testing.T) {
		cs, err := s.ListClients(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ClientID)
		}
		if want := []string{"machine", "spa"}; !slices.Equal(ids, want) {
			t.Errorf("ListClients = %v, want %v (by name: Alpha, Beta; not the internal client)", ids, want)
		}
	})
	t.Run("internal client", func(t *testing.T) {
		got, err := s.ClientByClientID(ctx, "try-it")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != internal.ID || !got.Internal {
			t.Errorf("ClientByClientID = %+v, want the internal client", got)
		}
		if got, err := s.ClientByClientID(ctx, "spa"); err != nil || got.Internal {
			t.Errorf("ClientByClientID(spa) = %+v, %v; want a client that is not internal", got, err)
		}
		if n, err := s.CountClients(ctx); err != nil || n != 2 {
			t.Errorf("CountClients = %d, %v; want 2", n, err)
		}
	})
	t.Run("ClientGrants", func(t *testing.T) {
		gs, err := s.ClientGrants(ctx, "spa")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, g := range gs {
			if g.TenantID != tn.ID || g.ClientID != "spa" || g.ID == "" {
				t.Errorf("grant %+v: want tenant %s, client spa", g, tn.ID)
			}
			got[g.APIID] = g.Scopes
		}
		if len(got) != 2 || !slices.Equal(got[x.ID], []string{"read"}) || !slices.Equal(got[y.ID], []string{"admin"}) {
			t.Errorf("ClientGrants = %v, want read on %s and admin on %s", got, x.ID, y.ID)
		}
		for _, clientID := range []string{"machine", "nope"} {
			gs, err := s.ClientGrants(ctx, clientID)
			if err != nil || len(gs) != 0 {
				t.Errorf("ClientGrants(%s) = %v, %v; want none", clientID, gs, err)
			}
		}
	})
}

func testRotateClientSecret(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "rotate-secret")
	c := mustClient(t, ctx, s, "web")
	grace := s.Now().Add(time.Hour).Truncate(time.Second)
	// The sealed copy (a client_secret_jwt client's) moves in step with
	// the hash: rotated into the previous slot with it, dropped with it.
	tests := []struct {
		name           string
		clientID       string
		newHash        string
		newSealed      []byte
		previousTill   *time.Time
		wantErr        error
		wantHash       string
		wantPrevious   string
		wantSealed     string
		wantPrevSealed string
	}{
		{"keeps the previous secret until a time", "web", "hash-2", []byte("sealed-2"), &grace, nil, "hash-2", c.SecretHash, "sealed-2", ""},
		{"keeps the previous sealed secret too", "web", "hash-3", []byte("sealed-3"), &grace, nil, "hash-3", "hash-2", "sealed-3", "sealed-2"},
		{"drops the previous secret", "web", "hash-4", nil, nil, nil, "hash-4", "", "", ""},
		{"unknown client", "nope", "hash-5", []byte("x"), &grace, tenants.ErrNotFound, "hash-4", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.RotateClientSecret(ctx, tt.clientID, tt.newHash, tt.newSealed, tt.previousTill); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			got, err := s.ClientByClientID(ctx, "web")
			if err != nil {
				t.Fatal(err)
			}
			if got.SecretHash != tt.wantHash || got.PreviousSecretHash != tt.wantPrevious {
				t.Errorf("secret %q, previous %q; want %q, %q", got.SecretHash, got.PreviousSecretHash, tt.wantHash, tt.wantPrevious)
			}
			if string(got.SecretSealed) != tt.wantSealed || string(got.PreviousSecretSealed) != tt.wantPrevSealed {
				t.Errorf("sealed %q, previous sealed %q; want %q, %q", got.SecretSealed, got.PreviousSecretSealed, tt.wantSealed, tt.wantPrevSealed)
			}
			if tt.wantPrevious != "" && !samePtrTime(got.PreviousSecretExpiresAt, grace) {
				t.Errorf("PreviousSecretExpiresAt = %v, want %v", got.PreviousSecretExpiresAt, grace)
			}
			if tt.wantPrevious == "" && got.PreviousSecretExpiresAt != nil {
				t.Errorf("PreviousSecretExpiresAt = %v, want none", got.PreviousSecretExpiresAt)
			}
		})
	}
}

func testDeleteClient(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "delete-client")
	api := mustAPI(t, ctx, s, "https://api.example.com", "read")
	u := mustUser(t, ctx, s, "ada@example.com")
	type rows struct {
		ar      *tenants.AuthRequest
		issue   tenants.Issue
		machine accessToken
		revoked accessToken // on the revocation list
	}
	seed := func(clientID string) rows {
		mustClient(t, ctx, s, clientID, tenants.ClientGrant{APIID: api.ID, Scopes: tenants.Strings{"read"}})
		mustConsent(t, ctx, s, u.ID, clientID, tenants.ScopeSet{"": {"openid"}})
		ar, issue := mustRedeemed(t, ctx, s, clientID, u.ID)
		return rows{ar, issue, machineToken(s, clientID, time.Hour), mustRevoke(t, ctx, s, machineToken(s, clientID, time.Hour))}
	}
	doomed, kept := seed("doomed"), seed("kept")
	rev := revision(t, s, tn.ID)

	if err := s.DeleteClient(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	if got := revision(t, s, tn.ID); got != rev+1 {
		t.Errorf("revision = %d, want %d", got, rev+1)
	}
	for _, table := range []string{"clients", "client_grants", "consents", "auth_requests", "grants", "revoked_tokens", "refresh_tokens"} {
		if n := countRows(t, s, table, "client_id", "doomed"); n != 0 {
			t.Errorf("%s has %d rows of the deleted client", table, n)
		}
	}
	lookups := []struct {
		name string
		get  func(r rows, clientID string) error
	}{
		{"ClientByClientID", func(_ rows, id string) error { _, err := s.ClientByClientID(ctx, id); return err }},
		{"ConsentFor", func(_ rows, id string) error { _, err := s.ConsentFor(ctx, u.ID, id); return err }},
		{"AuthRequestByID", func(r rows, _ string) error { _, err := s.AuthRequestByID(ctx, r.ar.ID); return err }},
		{"GrantByID", func(r rows, _ string) error { _, err := s.GrantByID(ctx, r.issue.Grant.ID); return err }},
		// An access token of a deleted client is not usable: its client,
		// and its family, are gone.
		{"AccessTokenStatus/family", func(r rows, _ string) error {
			return tokenThere(t, ctx, s, familyToken(s, r.issue.Grant), false)
		}},
		{"AccessTokenStatus/machine", func(r rows, _ string) error { return tokenThere(t, ctx, s, r.machine, false) }},
		// Its revocations go with it (the client_id may be taken again).
		{"AccessTokenStatus/revoked", func(r rows, _ string) error { return tokenThere(t, ctx, s, r.revoked, true) }},
		{"RefreshTokenByHash", func(r rows, _ string) error {
			_, _, err := s.RefreshTokenByHash(ctx, r.issue.Refresh.TokenHash)
			return err
		}},
		{"ClientGrants", func(_ rows, id string) error {
			gs, err := s.ClientGrants(ctx, id)
			if err == nil && len(gs) == 0 {
				return tenants.ErrNotFound
			}
			return err
		}},
	}
	for _, l := range lookups {
		if err := l.get(doomed, "doomed"); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("%s of the deleted client: err = %v, want %v", l.name, err, tenants.ErrNotFound)
		}
		if err := l.get(kept, "kept"); err != nil {
			t.Errorf("%s of the other client: %v", l.name, err)
		}
	}
	if err := s.DeleteClient(ctx, "doomed"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second delete: err = %v, want %v", err, tenants.ErrNotFound)
	}
}

// tokenThere returns ErrNotFound when the status of tok says its client
// is gone, and its family and revocation with it; nil when all is there
// and tok is usable, or with revoked on the revocation list.
func tokenThere(t *testing.T, ctx context.Context, s *tenants.Store, tok accessToken, revoked bool) error {
	t.Helper()
	st, err := tok.status(ctx, s)
	switch {
	case err != nil:
		return err
	case !st.ClientExists && !st.GrantFound && !st.Revoked:
		return tenants.ErrNotFound
	case st.Revoked != revoked || !revoked && !tok.usable(st):
		return fmt.Errorf("status %+v, want revoked %v", *st, revoked)
	}
	return nil
}

func testAPIs(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "apis")
	a := mustAPI(t, ctx, s, "https://b.example.com", "write", "read")
	if a.ID == "" || a.TenantID != tn.ID || len(a.Scopes) != 2 || a.Scopes[0].ID == "" || a.Scopes[0].APIID != a.ID {
		t.Errorf("CreateAPI left %+v: want ids set and the scopes kept", a)
	}
	bare := mustAPI(t, ctx, s, "https://a.example.com")

	tests := []struct {
		name       string
		get        func() (*tenants.API, error)
		wantErr    error
		wantID     string
		wantScopes []string
	}{
		{"by audience", func() (*tenants.API, error) { return s.APIByAudience(ctx, "https://b.example.com") }, nil, a.ID, []string{"read", "write"}},
		{"by id", func() (*tenants.API, error) { return s.APIByID(ctx, a.ID) }, nil, a.ID, []string{"read", "write"}},
		{"without scopes", func() (*tenants.API, error) { return s.APIByID(ctx, bare.ID) }, nil, bare.ID, nil},
		{"unknown audience", func() (*tenants.API, error) { return s.APIByAudience(ctx, "https://nope.example.com") }, tenants.ErrNotFound, "", nil},
		{"unknown id", func() (*tenants.API, error) { return s.APIByID(ctx, tenants.NewID()) }, tenants.ErrNotFound, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.ID != tt.wantID || got.TenantID != tn.ID {
				t.Errorf("got API %s of tenant %s, want %s of %s", got.ID, got.TenantID, tt.wantID, tn.ID)
			}
			var names []string
			for _, sc := range got.Scopes {
				names = append(names, sc.Name)
				if sc.APIID != got.ID || sc.TenantID != tn.ID || sc.Description != "May "+sc.Name {
					t.Errorf("scope %+v", sc)
				}
			}
			if !slices.Equal(names, tt.wantScopes) {
				t.Errorf("scopes = %v, want %v (by name)", names, tt.wantScopes)
			}
		})
	}
	t.Run("ListAPIs", func(t *testing.T) {
		as, err := s.ListAPIs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 2 || as[0].ID != bare.ID || as[1].ID != a.ID || len(as[0].Scopes) != 0 || len(as[1].Scopes) != 2 {
			t.Errorf("ListAPIs = %+v, want %s then %s (by audience) with their scopes", as, bare.Audience, a.Audience)
		}
	})
}

// testRevisions checks that every change to what nodes cache bumps the
// tenant's revision by one, and a failed one does not.
func testRevisions(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "revisions")
	_, other := newTenant(t, s, "revisions-other")
	api := mustAPI(t, ctx, s, "https://api.example.com", "read")
	u := mustUser(t, ctx, s, "ada@example.com")
	var conn *tenants.Connection
	// fails checks that a change failed with want, and so changed nothing.
	fails := func(want, err error) error {
		if !errors.Is(err, want) {
			return fmt.Errorf("err = %v, want %v", err, want)
		}
		return nil
	}
	tests := []struct {
		name      string
		change    func() error
		wantDelta int64
	}{
		{"CreateClient", func() error {
			return s.CreateClient(ctx, newClient("web"), []tenants.ClientGrant{{APIID: api.ID, Scopes: tenants.Strings{"read"}}})
		}, 1},
		{"CreateClient failing", func() error {
			if err := s.CreateClient(ctx, newClient("web"), nil); !errors.Is(err, tenants.ErrAlreadyExists) {
				return errors.Join(errors.New("want ErrAlreadyExists"), err)
			}
			return nil
		}, 0},
		{"RotateClientSecret", func() error { return s.RotateClientSecret(ctx, "web", randomHash(), nil, nil) }, 1},
		{"CreateAPI", func() error {
			return s.CreateAPI(ctx, &tenants.API{Name: "Other", Audience: "https://other.example.com"})
		}, 1},
		{"RotateSigningKey", func() error { return s.RotateSigningKey(ctx, newKey(), s.Now().Add(time.Hour)) }, 1},
		{"UpdateTenantSettings", func() error {
			return s.UpdateTenantSettings(ctx, &tenants.Tenant{DisplayName: "R", AccessTokenTTLSeconds: 1, IDTokenTTLSeconds: 1, RefreshTokenTTLSeconds: 1, SessionTTLSeconds: 1})
		}, 1},
		{"UpdateClient", func() error {
			c := newClient("web")
			c.Name = "Renamed"
			return s.UpdateClient(ctx, c)
		}, 1},
		{"UpdateClient of an unknown client", func() error { return fails(tenants.ErrNotFound, s.UpdateClient(ctx, newClient("nope"))) }, 0},
		{"SetClientGrants", func() error { return s.SetClientGrants(ctx, "web", nil) }, 1},
		{"SetClientGrants of an unknown client", func() error { return fails(tenants.ErrNotFound, s.SetClientGrants(ctx, "nope", nil)) }, 0},
		{"UpdateAPI", func() error {
			return s.UpdateAPI(ctx, &tenants.API{ID: api.ID, Name: "Renamed", Scopes: []tenants.Scope{{Name: "write"}}})
		}, 1},
		{"UpdateAPI of an unknown API", func() error {
			return fails(tenants.ErrNotFound, s.UpdateAPI(ctx, &tenants.API{ID: tenants.NewID(), Name: "Nope"}))
		}, 0},
		{"DeleteAPI", func() error { return s.DeleteAPI(ctx, api.ID) }, 1},
		{"DeleteAPI of an unknown API", func() error { return fails(tenants.ErrNotFound, s.DeleteAPI(ctx, api.ID)) }, 0},
		{"DeleteClient", func() error { return s.DeleteClient(ctx, "web") }, 1},
		{"CreateConnection", func() error {
			conn = newConnection("Corporate")
			return s.CreateConnection(ctx, conn)
		}, 1},
		{"CreateConnection failing", func() error {
			return fails(tenants.ErrAlreadyExists, s.CreateConnection(ctx, newConnection("Corporate")))
		}, 0},
		{"UpdateConnection", func() error {
			c := newConnection("Renamed")
			c.ID = conn.ID
			return s.UpdateConnection(ctx, c)
		}, 1},
		{"UpdateConnection of an unknown connection", func() error {
			c := newConnection("Nope")
			c.ID = tenants.NewID()
			return fails(tenants.ErrNotFound, s.UpdateConnection(ctx, c))
		}, 0},
		// What a login through a connection writes is not configuration:
		// it must not make every node reload the tenant.
		{"CreateExternalIdentity", func() error { return s.CreateExternalIdentity(ctx, newExternalIdentity(u.ID, conn.ID, "subject-1")) }, 0},
		{"CreateFederatedUser", func() error {
			return s.CreateFederatedUser(ctx, &tenants.User{Email: "bob@example.com"}, newExternalIdentity("", conn.ID, "subject-2"))
		}, 0},
		{"CreateFederationState and UseFederationState", func() error {
			st := newFederationState(s, conn.ID, time.Hour)
			if err := s.CreateFederationState(ctx, st); err != nil {
				return err
			}
			_, err := s.UseFederationState(ctx, st.ID)
			return err
		}, 0},
		{"RecordSAMLAssertion", func() error { return s.RecordSAMLAssertion(ctx, conn.ID, "_"+suffix(), s.Now().Add(time.Hour)) }, 0},
		{"DeleteConnection", func() error { return s.DeleteConnection(ctx, conn.ID) }, 1},
		{"DeleteConnection of an unknown connection", func() error { return fails(tenants.ErrNotFound, s.DeleteConnection(ctx, conn.ID)) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, otherBefore := revision(t, s, tn.ID), revision(t, s, other.ID)
			if err := tt.change(); err != nil {
				t.Fatal(err)
			}
			if got := revision(t, s, tn.ID); got != before+tt.wantDelta {
				t.Errorf("revision went from %d to %d, want %d", before, got, before+tt.wantDelta)
			}
			if got := revision(t, s, other.ID); got != otherBefore {
				t.Errorf("other tenant's revision went from %d to %d", otherBefore, got)
			}
		})
	}
}

func testConsents(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "consents")
	u := mustUser(t, ctx, s, "ada@example.com")
	other := mustUser(t, ctx, s, "bob@example.com")
	mustClient(t, ctx, s, "web")
	mustClient(t, ctx, s, "cli")
	const aud = "https://api.example.com"

	if _, err := s.ConsentFor(ctx, u.ID, "web"); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("before consent: err = %v, want %v", err, tenants.ErrNotFound)
	}
	tests := []struct {
		name     string
		clientID string
		add      tenants.ScopeSet
		want     tenants.ScopeSet
	}{
		{"first consent", "web", tenants.ScopeSet{"": {"profile", "openid"}}, tenants.ScopeSet{"": {"openid", "profile"}}},
		{"adds scopes and audiences", "web", tenants.ScopeSet{"": {"openid", "email"}, aud: {"read"}},
			tenants.ScopeSet{"": {"email", "openid", "profile"}, aud: {"read"}}},
		{"nothing new", "web", tenants.ScopeSet{"": {"email"}}, tenants.ScopeSet{"": {"email", "openid", "profile"}, aud: {"read"}}},
		{"another client", "cli", tenants.ScopeSet{aud: {"write", "read", "write"}}, tenants.ScopeSet{aud: {"read", "write"}}},
	}
	ids := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.GrantConsent(ctx, u.ID, tt.clientID, tt.add)
			if err != nil {
				t.Fatal(err)
			}
			if !sameScopes(c.Scopes, tt.want) {
				t.Errorf("GrantConsent = %v, want %v", c.Scopes, tt.want)
			}
			got, err := s.ConsentFor(ctx, u.ID, tt.clientID)
			if err != nil {
				t.Fatal(err)
			}
			if !sameScopes(got.Scopes, tt.want) || got.TenantID != tn.ID || got.UserID != u.ID || got.ClientID != tt.clientID {
				t.Errorf("ConsentFor = %+v, want scopes %v", got, tt.want)
			}
			if id, ok := ids[tt.clientID]; ok && got.ID != id {
				t.Errorf("consent id changed from %s to %s: want one row per user and client", id, got.ID)
			}
			ids[tt.clientID] = got.ID
		})
	}
	t.Run("ListConsents", func(t *testing.T) {
		cs, err := s.ListConsents(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].ClientID != "web" || cs[1].ClientID != "cli" {
			t.Errorf("ListConsents = %+v, want web then cli", cs)
		}
		cs, err = s.ListConsents(ctx, other.ID)
		if err != nil || len(cs) != 0 {
			t.Errorf("ListConsents of a user who gave none = %v, %v", cs, err)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		if _, err := s.GrantConsent(ctx, u.ID, "nope", tenants.ScopeSet{"": {"openid"}}); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("err = %v, want %v", err, tenants.ErrNotFound)
		}
	})
}

func sameScopes(a, b tenants.ScopeSet) bool {
	if len(a) != len(b) {
		return false
	}
	for aud, scopes := range a {
		if !slices.Equal(scopes, b[aud]) {
			return false
		}
	}
	return true
}

// testGrantConsentConcurrently grants scopes to one new consent from many
// requests at once, as a consent form submitted twice does: every grant
// succeeds and none is lost.
func testGrantConsentConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "consent-race")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	const n = 8
	want := tenants.ScopeSet{}
	adds := make([]tenants.ScopeSet, n)
	for i := range adds {
		adds[i] = tenants.ScopeSet{"": {"openid"}, "https://api.example.com": {"scope-" + string(rune('a'+i))}}
		for aud, scopes := range adds[i] {
			want.Add(aud, scopes)
		}
	}
	for i, err := range race(n, func(i int) error { _, err := s.GrantConsent(ctx, u.ID, "web", adds[i]); return err }) {
		if err != nil {
			t.Errorf("grant %d: %v", i, err)
		}
	}
	got, err := s.ConsentFor(ctx, u.ID, "web")
	if err != nil {
		t.Fatal(err)
	}
	if !sameScopes(got.Scopes, want) {
		t.Errorf("consent = %v, want %v", got.Scopes, want)
	}
	if cs, err := s.ListConsents(ctx, u.ID); err != nil || len(cs) != 1 {
		t.Errorf("ListConsents = %v, %v; want one consent", cs, err)
	}
}

// testRevokeConsent checks that revoking a consent revokes every token
// family of that user and client, and nothing else.
func testRevokeConsent(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "revoke-consent")
	u := mustUser(t, ctx, s, "ada@example.com")
	other := mustUser(t, ctx, s, "bob@example.com")
	mustClient(t, ctx, s, "web")
	mustClient(t, ctx, s, "cli")
	mustConsent(t, ctx, s, u.ID, "web", tenants.ScopeSet{"": {"openid"}})
	mustConsent(t, ctx, s, u.ID, "cli", tenants.ScopeSet{"": {"openid"}})
	mustConsent(t, ctx, s, other.ID, "web", tenants.ScopeSet{"": {"openid"}})
	_, revoked1 := mustRedeemed(t, ctx, s, "web", u.ID)
	_, revoked2 := mustRedeemed(t, ctx, s, "web", u.ID)
	_, otherClient := mustRedeemed(t, ctx, s, "cli", u.ID)
	_, otherUser := mustRedeemed(t, ctx, s, "web", other.ID)

	if err := s.RevokeConsent(ctx, u.ID, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsentFor(ctx, u.ID, "web"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("ConsentFor after revoke: err = %v, want %v", err, tenants.ErrNotFound)
	}
	for _, c := range []struct{ userID, clientID string }{{u.ID, "cli"}, {other.ID, "web"}} {
		if _, err := s.ConsentFor(ctx, c.userID, c.clientID); err != nil {
			t.Errorf("consent of %s to %s: %v", c.userID, c.clientID, err)
		}
	}
	tests := []struct {
		name        string
		issue       tenants.Issue
		wantRevoked bool
	}{
		{"family of the user and client", revoked1, true},
		{"second family of the user and client", revoked2, true},
		{"family of another client", otherClient, false},
		{"family of another user", otherUser, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := s.GrantByID(ctx, tt.issue.Grant.ID)
			if err != nil {
				t.Fatal(err)
			}
			if (g.RevokedAt != nil) != tt.wantRevoked {
				t.Errorf("grant RevokedAt = %v, want revoked %v", g.RevokedAt, tt.wantRevoked)
			}
			if tt.wantRevoked && g.RevokedReason == "" {
				t.Error("grant revoked without a reason")
			}
			at := familyToken(s, tt.issue.Grant)
			if st := mustStatus(t, ctx, s, at); at.usable(st) == tt.wantRevoked || st.GrantRevoked != tt.wantRevoked {
				t.Errorf("access token status %+v, want its family revoked %v", *st, tt.wantRevoked)
			}
			rt, _, err := s.RefreshTokenByHash(ctx, tt.issue.Refresh.TokenHash)
			if err != nil {
				t.Fatal(err)
			}
			if (rt.RevokedAt != nil) != tt.wantRevoked {
				t.Errorf("refresh token RevokedAt = %v, want revoked %v", rt.RevokedAt, tt.wantRevoked)
			}
			err = s.RotateRefreshToken(ctx, tt.issue.Refresh.ID, refreshIssue(s, tt.issue.Grant))
			if tt.wantRevoked && !errors.Is(err, tenants.ErrConflict) {
				t.Errorf("rotating a refresh token of a revoked family: err = %v, want %v", err, tenants.ErrConflict)
			}
			if !tt.wantRevoked && err != nil {
				t.Errorf("rotating a refresh token of a live family: %v", err)
			}
		})
	}
	if err := s.RevokeConsent(ctx, u.ID, "web"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second revoke: err = %v, want %v", err, tenants.ErrNotFound)
	}
}

func testSessions(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, tn := newTenant(t, s, "sessions")
	u := mustUser(t, ctx, s, "ada@example.com")
	other := mustUser(t, ctx, s, "bob@example.com")
	t0 := clk.Now()

	short := newSession(s, u.ID, time.Hour)
	short.AMR = tenants.Strings{"pwd", "otp"}
	if err := s.CreateSession(ctx, short); err != nil {
		t.Fatal(err)
	}
	if short.TenantID != tn.ID || !short.CreatedAt.Equal(t0) || !short.LastSeenAt.Equal(t0) {
		t.Errorf("CreateSession left tenant %q, created %v, last seen %v", short.TenantID, short.CreatedAt, short.LastSeenAt)
	}
	clk.Advance(time.Second)
	long := mustSession(t, ctx, s, u.ID, 2*time.Hour)
	mustSession(t, ctx, s, other.ID, 2*time.Hour)

	got, err := s.SessionByID(ctx, short.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || got.TenantID != tn.ID || !slices.Equal(got.AMR, short.AMR) || got.IPAddress != short.IPAddress ||
		got.UserAgent != short.UserAgent || !got.AuthTime.Equal(short.AuthTime) || !got.ExpiresAt.Equal(short.ExpiresAt) {
		t.Errorf("SessionByID = %+v, want %+v", got, short)
	}

	t.Run("TouchSession", func(t *testing.T) {
		at := t0.Add(10 * time.Minute)
		if err := s.TouchSession(ctx, short.ID, at); err != nil {
			t.Fatal(err)
		}
		got, err := s.SessionByID(ctx, short.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastSeenAt.Equal(at) {
			t.Errorf("LastSeenAt = %v, want %v", got.LastSeenAt, at)
		}
	})

	ids := func() []string {
		ss, err := s.ListSessions(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range ss {
			out = append(out, x.ID)
		}
		return out
	}
	// Expiry: a session is gone at its ExpiresAt.
	tests := []struct {
		name     string
		at       time.Time
		wantErr  error // of SessionByID(short)
		wantList []string
	}{
		{"both live, newest first", t0.Add(30 * time.Minute), nil, []string{long.ID, short.ID}},
		{"just before expiry", short.ExpiresAt.Add(-time.Second), nil, []string{long.ID, short.ID}},
		{"at expiry", short.ExpiresAt, tenants.ErrNotFound, []string{long.ID}},
		{"after expiry", short.ExpiresAt.Add(time.Minute), tenants.ErrNotFound, []string{long.ID}},
		{"both expired", long.ExpiresAt, tenants.ErrNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(tt.at.Sub(clk.Now()))
			if _, err := s.SessionByID(ctx, short.ID); !errors.Is(err, tt.wantErr) {
				t.Errorf("SessionByID: err = %v, want %v", err, tt.wantErr)
			}
			if got := ids(); !slices.Equal(got, tt.wantList) {
				t.Errorf("ListSessions = %v, want %v", got, tt.wantList)
			}
		})
	}

	t.Run("DeleteSession", func(t *testing.T) {
		clk.Advance(-time.Hour) // long is live again
		if err := s.DeleteSession(ctx, long.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByID(ctx, long.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("after delete: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if err := s.DeleteSession(ctx, long.ID); err != nil {
			t.Errorf("deleting a deleted session: %v, want nil", err)
		}
		if ss, err := s.ListSessions(ctx, other.ID); err != nil || len(ss) != 1 {
			t.Errorf("other user's sessions = %v, %v; want 1", ss, err)
		}
	})
}

func testSigningKeys(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, tn := newTenant(t, s, "keys")
	t0 := clk.Now()
	first, err := s.ListSigningKeys(ctx)
	if err != nil || len(first) != 1 {
		t.Fatalf("keys of a new tenant = %v, %v; want 1", first, err)
	}
	k1 := first[0]

	clk.Advance(time.Minute)
	k2 := newKey()
	rev := revision(t, s, tn.ID)
	if err := s.RotateSigningKey(ctx, k2, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := revision(t, s, tn.ID); got != rev+1 {
		t.Errorf("revision = %d after rotation, want %d", got, rev+1)
	}
	if k2.ID == "" || k2.TenantID != tn.ID || !k2.CreatedAt.Equal(clk.Now()) {
		t.Errorf("RotateSigningKey left %+v", k2)
	}

	ids := func(get func(context.Context) ([]tenants.SigningKey, error)) []string {
		t.Helper()
		ks, err := get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}
	t.Run("old key retired and still published", func(t *testing.T) {
		ks, err := s.SigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != 2 || ks[0].ID != k2.ID || ks[1].ID != k1.ID {
			t.Fatalf("SigningKeys = %v, want %s then %s", ids(s.SigningKeys), k2.ID, k1.ID)
		}
		if !ks[0].Active() || ks[0].RetiredAt != nil || ks[0].ExpiresAt != nil {
			t.Errorf("new key %+v: want active", ks[0])
		}
		if ks[1].Active() || !samePtrTime(ks[1].RetiredAt, clk.Now()) || !samePtrTime(ks[1].ExpiresAt, t0.Add(time.Hour)) {
			t.Errorf("old key retired %v until %v; want %v until %v", ks[1].RetiredAt, ks[1].ExpiresAt, clk.Now(), t0.Add(time.Hour))
		}
	})

	tests := []struct {
		name     string
		at       time.Time
		wantKeys []string // SigningKeys
	}{
		{"just before the old key expires", t0.Add(time.Hour - time.Second), []string{k2.ID, k1.ID}},
		{"when the old key expires", t0.Add(time.Hour), []string{k2.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(tt.at.Sub(clk.Now()))
			if got := ids(s.SigningKeys); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("SigningKeys = %v, want %v", got, tt.wantKeys)
			}
			if got, want := ids(s.ListSigningKeys), []string{k2.ID, k1.ID}; !slices.Equal(got, want) {
				t.Errorf("ListSigningKeys = %v, want %v", got, want)
			}
		})
	}

	t.Run("second rotation leaves retired keys alone", func(t *testing.T) {
		clk.Advance(time.Minute)
		k3 := newKey()
		if err := s.RotateSigningKey(ctx, k3, clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ks, err := s.ListSigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != 3 || ks[0].ID != k3.ID || ks[1].ID != k2.ID || ks[2].ID != k1.ID {
			t.Fatalf("ListSigningKeys = %v, want k3, k2, k1", ids(s.ListSigningKeys))
		}
		if !samePtrTime(ks[1].RetiredAt, clk.Now()) || !samePtrTime(ks[1].ExpiresAt, clk.Now().Add(time.Hour)) {
			t.Errorf("k2 retired %v until %v", ks[1].RetiredAt, ks[1].ExpiresAt)
		}
		if !samePtrTime(ks[2].RetiredAt, t0.Add(time.Minute)) || !samePtrTime(ks[2].ExpiresAt, t0.Add(time.Hour)) {
			t.Errorf("k1 was touched again: retired %v until %v", ks[2].RetiredAt, ks[2].ExpiresAt)
		}
	})
}

// testRotateSigningKeyConcurrently rotates one tenant's key from many
// requests at once: each rotation succeeds, and one key is left active.
func testRotateSigningKeyConcurrently(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "key-race")
	const n = 5
	rev := revision(t, s, tn.ID)
	for i, err := range race(n, func(int) error { return s.RotateSigningKey(ctx, newKey(), s.Now().Add(time.Hour)) }) {
		if err != nil {
			t.Errorf("rotation %d: %v", i, err)
		}
	}
	ks, err := s.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, k := range ks {
		if k.Active() {
			active++
		}
	}
	if len(ks) != n+1 || active != 1 {
		t.Errorf("%d keys, %d active; want %d keys, 1 active", len(ks), active, n+1)
	}
	if got := revision(t, s, tn.ID); got != rev+n {
		t.Errorf("revision = %d, want %d", got, rev+n)
	}
}

func testDeleteTenant(t *testing.T, s *tenants.Store) {
	a := seedWorld(t, s, "delete-a")
	b := seedWorld(t, s, "delete-b")
	beforeB := b.snapshot(t, s)
	for table, n := range tenantRows(t, s, a.tenant.ID) {
		if n == 0 {
			t.Fatalf("the world has no row in %s to delete", table)
		}
	}
	logged, err := s.ListAudit(a.ctx, tenants.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTenant(a.ctx); err != nil {
		t.Fatal(err)
	}
	for table, n := range tenantRows(t, s, a.tenant.ID) {
		if n != 0 {
			t.Errorf("%s has %d rows of the deleted tenant", table, n)
		}
	}
	// Its access tokens are not usable: clients and families are gone,
	// and so is the revocation list (with the clients).
	for name, tok := range map[string]accessToken{"family": a.access, "machine": a.machine, "revoked": a.revoked, "revoked machine": a.revokedMachine} {
		if st := mustStatus(t, a.ctx, s, tok); st.ClientExists || st.GrantFound || tok.usable(st) {
			t.Errorf("%s token of the deleted tenant: status %+v, want its client and family gone", name, *st)
		}
	}
	ctx := context.Background()
	if _, err := s.TenantByID(ctx, a.tenant.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("TenantByID: err = %v, want %v", err, tenants.ErrNotFound)
	}
	if _, err := s.TenantBySlug(ctx, a.tenant.Slug); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("TenantBySlug: err = %v, want %v", err, tenants.ErrNotFound)
	}
	if got := revision(t, s, a.tenant.ID); got != -1 {
		t.Errorf("the deleted tenant is still there, at revision %d", got)
	}
	unchanged(t, beforeB, b.snapshot(t, s))
	if err := s.DeleteTenant(a.ctx); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second delete: err = %v, want %v", err, tenants.ErrNotFound)
	}
	t.Run("audit log outlives the tenant", func(t *testing.T) {
		// As the management API records the deletion, after it.
		deleted := mustAudit(t, ctx, s, &tenants.AuditEvent{TenantID: a.tenant.ID, Action: "tenant.deleted"})
		evs, err := s.ListAudit(a.ctx, tenants.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, ev := range evs {
			ids = append(ids, ev.ID)
		}
		want := []string{deleted.ID}
		for _, ev := range logged {
			want = append(want, ev.ID)
		}
		if !slices.Contains(want, a.audit.ID) || !slices.Equal(ids, want) {
			t.Errorf("audit log of the deleted tenant = %v, want %v", ids, want)
		}
	})
	// The slug and host are free again.
	MustTenant(t, s, a.tenant.Slug)
}

func testBindDeployment(t *testing.T, s *tenants.Store) {
	ctx := context.Background()
	if err := s.BindDeployment(ctx, "http://localhost:8080", "check-1"); err != nil {
		t.Fatalf("first start: %v", err)
	}
	if err := s.BindDeployment(ctx, "http://localhost:8080", "check-1"); err != nil {
		t.Fatalf("same settings: %v", err)
	}
	var mismatch *tenants.DeploymentMismatchError
	err := s.BindDeployment(ctx, "https://id.example.com", "check-1")
	if !errors.As(err, &mismatch) || mismatch.Setting != "base URL" || !strings.Contains(err.Error(), "http://localhost:8080") {
		t.Fatalf("other base URL: %v", err)
	}
	err = s.BindDeployment(ctx, "http://localhost:8080", "check-2")
	if !errors.As(err, &mismatch) || mismatch.Setting != "master key" || strings.Contains(err.Error(), "check-1") {
		t.Fatalf("other master key: %v", err)
	}
}

// testCrossTenantReferences checks that the schema itself refuses a row of
// one tenant that names a user, an API or a token family of another.
func testCrossTenantReferences(t *testing.T, s *tenants.Store) {
	ca, _ := newTenant(t, s, "xra")
	cb, _ := newTenant(t, s, "xrb")
	ua := &tenants.User{Email: "ann@a.test"}
	if err := s.CreateUser(ca, ua); err != nil {
		t.Fatal(err)
	}
	api := &tenants.API{Name: "A", Audience: "https://a.test", Scopes: []tenants.Scope{{Name: "read"}}}
	if err := s.CreateAPI(ca, api); err != nil {
		t.Fatal(err)
	}
	cl := newClient("xr-client")
	if err := s.CreateClient(cb, cl, []tenants.ClientGrant{{APIID: api.ID, Scopes: tenants.Strings{"read"}}}); err == nil {
		t.Fatal("tenant B created a client grant on tenant A's API")
	}
	if err := s.CreateClient(cb, cl, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GrantConsent(cb, ua.ID, cl.ClientID, tenants.ScopeSet{"": {"openid"}}); err == nil {
		t.Fatal("tenant B recorded a consent of tenant A's user")
	}
	if err := s.CreateSession(cb, &tenants.Session{ID: "xr-session", UserID: ua.ID, ExpiresAt: s.Now().Add(time.Hour)}); err == nil {
		t.Fatal("tenant B created a session for tenant A's user")
	}
	connA, connB := mustConnection(t, ca, s, "A"), mustConnection(t, cb, s, "B")
	ub := mustUser(t, cb, s, "bob@b.test")
	if err := s.CreateExternalIdentity(cb, newExternalIdentity(ua.ID, connB.ID, "xr-subject")); err == nil {
		t.Fatal("tenant B linked an upstream identity to tenant A's user")
	}
	if err := s.CreateExternalIdentity(cb, newExternalIdentity(ub.ID, connA.ID, "xr-subject")); err == nil {
		t.Fatal("tenant B linked an upstream identity at tenant A's connection")
	}
	if err := s.CreateFederationState(cb, newFederationState(s, connA.ID, time.Hour)); err == nil {
		t.Fatal("tenant B started a login at tenant A's connection")
	}
	if err := s.RecordSAMLAssertion(cb, connA.ID, "_xr", s.Now().Add(time.Hour)); err == nil {
		t.Fatal("tenant B recorded a SAML assertion of tenant A's connection")
	}
}
