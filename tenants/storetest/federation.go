package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// The subtests of federation: a tenant's connections to upstream identity
// providers, the external identities they bring, logins at them in
// progress, and the SAML assertions already accepted.

// sameConnection returns how got differs from want, or "" if it does not.
func sameConnection(got, want *tenants.Connection) string {
	switch {
	case got.ID != want.ID || got.TenantID != want.TenantID || got.Type != want.Type || got.Name != want.Name:
		return fmt.Sprintf("id, tenant, type, name = %s, %s, %s, %q; want %s, %s, %s, %q",
			got.ID, got.TenantID, got.Type, got.Name, want.ID, want.TenantID, want.Type, want.Name)
	case got.Enabled != want.Enabled || got.TrustEmail != want.TrustEmail || got.Provisioning != want.Provisioning:
		return fmt.Sprintf("enabled, trust email, provisioning = %v, %v, %q; want %v, %v, %q",
			got.Enabled, got.TrustEmail, got.Provisioning, want.Enabled, want.TrustEmail, want.Provisioning)
	case !slices.Equal(got.Domains, want.Domains):
		return fmt.Sprintf("domains = %v, want %v", got.Domains, want.Domains)
	case got.ClientID != want.ClientID || got.Issuer != want.Issuer || got.Config != want.Config:
		return fmt.Sprintf("client id, issuer, config = %q, %q, %q; want %q, %q, %q",
			got.ClientID, got.Issuer, got.Config, want.ClientID, want.Issuer, want.Config)
	case !bytes.Equal(got.ClientSecretSealed, want.ClientSecretSealed) || !bytes.Equal(got.SPKeySealed, want.SPKeySealed):
		return fmt.Sprintf("sealed secret, key = %q, %q; want %q, %q", got.ClientSecretSealed, got.SPKeySealed, want.ClientSecretSealed, want.SPKeySealed)
	case !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt):
		return fmt.Sprintf("created, updated = %v, %v; want %v, %v", got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	return ""
}

// sameIdentity returns how got differs from want, or "" if it does not.
func sameIdentity(got, want *tenants.ExternalIdentity) string {
	switch {
	case got.ID != want.ID || got.TenantID != want.TenantID || got.UserID != want.UserID || got.ConnectionID != want.ConnectionID:
		return fmt.Sprintf("id, tenant, user, connection = %s, %s, %s, %s; want %s, %s, %s, %s",
			got.ID, got.TenantID, got.UserID, got.ConnectionID, want.ID, want.TenantID, want.UserID, want.ConnectionID)
	case got.Issuer != want.Issuer || got.Subject != want.Subject || got.Email != want.Email:
		return fmt.Sprintf("issuer, subject, email = %q, %q, %q; want %q, %q, %q",
			got.Issuer, got.Subject, got.Email, want.Issuer, want.Subject, want.Email)
	case !sameTime(got.CreatedAt, want.CreatedAt):
		return fmt.Sprintf("created = %v, want %v", got.CreatedAt, want.CreatedAt)
	case (got.LastLoginAt == nil) != (want.LastLoginAt == nil) || (got.LastLoginAt != nil && !sameTime(*got.LastLoginAt, *want.LastLoginAt)):
		return fmt.Sprintf("last login = %v, want %v", got.LastLoginAt, want.LastLoginAt)
	}
	return ""
}

// identityIDs returns the ids of xs.
func identityIDs(xs []tenants.ExternalIdentity) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x.ID)
	}
	return out
}

func testConnections(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "connections")
	rev := revision(t, s, tn.ID)
	c := newConnection("Beta")
	if err := s.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ID == "" || c.TenantID != tn.ID || c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("CreateConnection left id %q, tenant %q, created %v, updated %v", c.ID, c.TenantID, c.CreatedAt, c.UpdatedAt)
	}
	if got := revision(t, s, tn.ID); got != rev+1 {
		t.Errorf("revision = %d after CreateConnection, want %d", got, rev+1)
	}
	// A SAML connection with nothing but its type and name: no secret, no
	// key, disabled (the column's default is enabled).
	bare := &tenants.Connection{Type: tenants.ConnectionSAML, Name: "Alpha"}
	if err := s.CreateConnection(ctx, bare); err != nil {
		t.Fatal(err)
	}
	given := &tenants.Connection{Type: tenants.ConnectionGoogle, Name: "Gamma", Enabled: true, ClientSecretSealed: []byte{}, SPKeySealed: []byte{}}
	if err := s.CreateConnection(ctx, given); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		id      string
		wantErr error
		want    *tenants.Connection
	}{
		{"every setting", c.ID, nil, c},
		{"no secrets, disabled", bare.ID, nil, bare},
		{"empty secrets", given.ID, nil, given},
		{"unknown id", tenants.NewID(), tenants.ErrNotFound, nil},
		{"empty id", "", tenants.ErrNotFound, nil},
	}
	for _, tt := range tests {
		t.Run("ConnectionByID/"+tt.name, func(t *testing.T) {
			got, err := s.ConnectionByID(ctx, tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := sameConnection(got, tt.want); diff != "" {
				t.Error(diff)
			}
		})
	}
	t.Run("absent secrets are stored as empty bytes", func(t *testing.T) {
		if c := bare.ClientSecretSealed; c == nil || len(c) != 0 {
			t.Errorf("CreateConnection left ClientSecretSealed %#v, want empty", c)
		}
		for _, id := range []string{bare.ID, given.ID} {
			n := countSQL(t, s, "SELECT COUNT(*) FROM connections WHERE id = ? AND client_secret_sealed IS NOT NULL AND sp_key_sealed IS NOT NULL", id)
			if n != 1 {
				t.Errorf("connection %s: secret or key stored as NULL", id)
			}
		}
		got, err := s.ConnectionByID(ctx, bare.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.ClientSecretSealed) != 0 || len(got.SPKeySealed) != 0 || len(got.Domains) != 0 || got.Enabled {
			t.Errorf("ConnectionByID = %+v, want no secret, no key, no domains, disabled", got)
		}
	})
	t.Run("ListConnections", func(t *testing.T) {
		cs, err := s.ListConnections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, x := range cs {
			names = append(names, x.Name)
			if x.TenantID != tn.ID {
				t.Errorf("connection %s of tenant %s", x.Name, x.TenantID)
			}
		}
		if want := []string{"Alpha", "Beta", "Gamma"}; !slices.Equal(names, want) {
			t.Errorf("ListConnections = %v, want %v (by name)", names, want)
		}
		if diff := sameConnection(&cs[1], c); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("ListConnections of a tenant without any", func(t *testing.T) {
		empty, _ := newTenant(t, s, "connections-none")
		cs, err := s.ListConnections(empty)
		if err != nil || len(cs) != 0 {
			t.Errorf("ListConnections = %v, %v; want none", cs, err)
		}
	})
}

func testUpdateConnection(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, tn := newTenant(t, s, "update-connection")
	c := mustConnection(t, ctx, s, "Corporate")
	other := mustConnection(t, ctx, s, "Other")
	otherBefore := *other

	// settings returns the connection as UpdateConnection is given it:
	// every setting changed, and the fields it must ignore set too.
	settings := func(name string) *tenants.Connection {
		return &tenants.Connection{
			ID: c.ID, TenantID: tenants.NewID(), Type: tenants.ConnectionSAML, Name: name, Enabled: false,
			Domains: tenants.Strings{"example.net"}, ClientID: "client-" + suffix(), ClientSecretSealed: []byte("secret-" + suffix()),
			Issuer: "https://new-" + suffix() + ".example.com", TrustEmail: false, Provisioning: tenants.ProvisionExisting,
			Config: `{"new":true}`, SPKeySealed: []byte("key-" + suffix()),
			CreatedAt: clk.Now().Add(-48 * time.Hour), UpdatedAt: clk.Now().Add(-48 * time.Hour),
		}
	}
	// saved is what the store must hold after in was saved at now.
	saved := func(in *tenants.Connection, now time.Time) *tenants.Connection {
		want := *in
		want.TenantID, want.Type, want.CreatedAt, want.UpdatedAt = tn.ID, c.Type, c.CreatedAt, now
		want.ClientSecretSealed, want.SPKeySealed = append([]byte{}, in.ClientSecretSealed...), append([]byte{}, in.SPKeySealed...)
		return &want
	}
	noSecrets := settings("No secrets")
	noSecrets.ClientSecretSealed, noSecrets.SPKeySealed = nil, nil
	unknown := settings("Unknown")
	unknown.ID = tenants.NewID()

	want := c
	tests := []struct {
		name    string
		in      *tenants.Connection
		wantErr error
	}{
		{"every setting", settings("Renamed"), nil},
		{"absent secrets are stored as empty bytes", noSecrets, nil},
		{"back to secrets", settings("Corporate"), nil},
		{"a name taken by another connection", settings("Other"), tenants.ErrAlreadyExists},
		{"unknown connection", unknown, tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(time.Minute)
			rev := revision(t, s, tn.ID)
			if err := s.UpdateConnection(ctx, tt.in); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			wantRev := rev
			if tt.wantErr == nil {
				want, wantRev = saved(tt.in, clk.Now()), rev+1
			}
			if got := revision(t, s, tn.ID); got != wantRev {
				t.Errorf("revision went from %d to %d, want %d", rev, got, wantRev)
			}
			got, err := s.ConnectionByID(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := sameConnection(got, want); diff != "" {
				t.Error(diff)
			}
			if n := countSQL(t, s, "SELECT COUNT(*) FROM connections WHERE id = ? AND client_secret_sealed IS NOT NULL AND sp_key_sealed IS NOT NULL", c.ID); n != 1 {
				t.Error("secret or key stored as NULL")
			}
			got, err = s.ConnectionByID(ctx, other.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := sameConnection(got, &otherBefore); diff != "" {
				t.Errorf("other connection changed: %s", diff)
			}
		})
	}
}

// testDeleteConnection checks that deleting a connection deletes the
// identities it brought, its logins in progress and its SAML assertion
// records, and neither the users nor anything of another connection.
func testDeleteConnection(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "delete-connection")
	otherCtx, other := newTenant(t, s, "delete-connection-other")
	ada, bob := mustUser(t, ctx, s, "ada@example.com"), mustUser(t, ctx, s, "bob@example.com")
	type rows struct {
		conn        *tenants.Connection
		identities  []*tenants.ExternalIdentity
		state       *tenants.FederationState
		assertionID string
	}
	seed := func(ctx context.Context, name string, users ...*tenants.User) rows {
		c := mustConnection(t, ctx, s, name)
		r := rows{conn: c, state: mustFederationState(t, ctx, s, c.ID, time.Hour), assertionID: sharedAssertionID}
		for _, u := range users {
			r.identities = append(r.identities, mustExternalIdentity(t, ctx, s, u.ID, c.ID, sharedSubject+"-"+u.Email))
		}
		mustSAMLAssertion(t, ctx, s, c.ID, r.assertionID, s.Now().Add(time.Hour))
		return r
	}
	doomed, kept := seed(ctx, "Doomed", ada, bob), seed(ctx, "Kept", ada, bob)
	elsewhere := seed(otherCtx, "Doomed", mustUser(t, otherCtx, s, "ada@example.com"))
	rev, otherRev := revision(t, s, tn.ID), revision(t, s, other.ID)

	if err := s.DeleteConnection(ctx, doomed.conn.ID); err != nil {
		t.Fatal(err)
	}
	if got := revision(t, s, tn.ID); got != rev+1 {
		t.Errorf("revision = %d, want %d", got, rev+1)
	}
	if got := revision(t, s, other.ID); got != otherRev {
		t.Errorf("other tenant's revision went from %d to %d", otherRev, got)
	}
	tables := []struct {
		table, column string
		kept          int // rows of the kept connection
	}{
		{"connections", "id", 1},
		{"external_identities", "connection_id", 2},
		{"federation_states", "connection_id", 1},
		{"saml_assertions", "connection_id", 1},
	}
	for _, tt := range tables {
		if n := countRows(t, s, tt.table, tt.column, doomed.conn.ID); n != 0 {
			t.Errorf("%s has %d rows of the deleted connection", tt.table, n)
		}
		if n := countRows(t, s, tt.table, tt.column, kept.conn.ID); n != tt.kept {
			t.Errorf("%s has %d rows of the other connection, want %d", tt.table, n, tt.kept)
		}
		if n := countRows(t, s, tt.table, tt.column, elsewhere.conn.ID); n != 1 {
			t.Errorf("%s has %d rows of the other tenant's connection of the same name, want 1", tt.table, n)
		}
	}
	for _, u := range []*tenants.User{ada, bob} {
		if _, err := s.UserByID(ctx, u.ID); err != nil {
			t.Errorf("user %s of the deleted connection: %v", u.Email, err)
		}
	}
	t.Run("ListExternalIdentities", func(t *testing.T) {
		xs, err := s.ListExternalIdentities(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := identityIDs(xs), []string{kept.identities[0].ID}; !slices.Equal(got, want) {
			t.Errorf("ListExternalIdentities = %v, want only the kept connection's %v", got, want)
		}
	})
	lookups := []struct {
		name string
		get  func(ctx context.Context, r rows) error
	}{
		{"ConnectionByID", func(ctx context.Context, r rows) error { _, err := s.ConnectionByID(ctx, r.conn.ID); return err }},
		{"ExternalIdentity", func(ctx context.Context, r rows) error {
			x := r.identities[0]
			_, err := s.ExternalIdentity(ctx, x.ConnectionID, x.Issuer, x.Subject)
			return err
		}},
		{"UseFederationState", func(ctx context.Context, r rows) error { _, err := s.UseFederationState(ctx, r.state.ID); return err }},
	}
	for _, l := range lookups {
		if err := l.get(ctx, doomed); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("%s of the deleted connection: err = %v, want %v", l.name, err, tenants.ErrNotFound)
		}
		if err := l.get(ctx, kept); err != nil {
			t.Errorf("%s of the other connection: %v", l.name, err)
		}
		if err := l.get(otherCtx, elsewhere); err != nil {
			t.Errorf("%s of the other tenant's connection: %v", l.name, err)
		}
	}

	if err := s.DeleteConnection(ctx, doomed.conn.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second delete: err = %v, want %v", err, tenants.ErrNotFound)
	}
	if got := revision(t, s, tn.ID); got != rev+1 {
		t.Errorf("revision = %d after a failed delete, want %d", got, rev+1)
	}
	// The name is free again.
	mustConnection(t, ctx, s, "Doomed")
}

func testExternalIdentities(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, tn := newTenant(t, s, "identities")
	c, c2 := mustConnection(t, ctx, s, "Corporate"), mustConnection(t, ctx, s, "Other")
	u, other := mustUser(t, ctx, s, "ada@example.com"), mustUser(t, ctx, s, "bob@example.com")

	x := newExternalIdentity(u.ID, c.ID, "Subject-1")
	if err := s.CreateExternalIdentity(ctx, x); err != nil {
		t.Fatal(err)
	}
	if x.ID == "" || x.TenantID != tn.ID || !x.CreatedAt.Equal(clk.Now()) || x.LastLoginAt != nil {
		t.Errorf("CreateExternalIdentity left id %q, tenant %q, created %v, last login %v", x.ID, x.TenantID, x.CreatedAt, x.LastLoginAt)
	}
	clk.Advance(time.Second)
	// The same upstream subject at another connection is another identity.
	x2 := mustExternalIdentity(t, ctx, s, u.ID, c2.ID, "Subject-1")
	clk.Advance(time.Second)
	x3 := mustExternalIdentity(t, ctx, s, other.ID, c.ID, "subject-2")

	tests := []struct {
		name                          string
		connectionID, issuer, subject string
		wantErr                       error
		want                          *tenants.ExternalIdentity
	}{
		{"by key", c.ID, sharedIssuer, "Subject-1", nil, x},
		{"same subject at another connection", c2.ID, sharedIssuer, "Subject-1", nil, x2},
		{"another user", c.ID, sharedIssuer, "subject-2", nil, x3},
		{"subject in another case", c.ID, sharedIssuer, "subject-1", tenants.ErrNotFound, nil},
		{"another issuer", c.ID, "https://other.example.com", "Subject-1", tenants.ErrNotFound, nil},
		{"unknown connection", tenants.NewID(), sharedIssuer, "Subject-1", tenants.ErrNotFound, nil},
		{"empty subject", c.ID, sharedIssuer, "", tenants.ErrNotFound, nil},
	}
	for _, tt := range tests {
		t.Run("ExternalIdentity/"+tt.name, func(t *testing.T) {
			got, err := s.ExternalIdentity(ctx, tt.connectionID, tt.issuer, tt.subject)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := sameIdentity(got, tt.want); diff != "" {
				t.Error(diff)
			}
		})
	}
	t.Run("ListExternalIdentities", func(t *testing.T) {
		for _, l := range []struct {
			name   string
			userID string
			want   []string
		}{
			{"oldest first", u.ID, []string{x.ID, x2.ID}},
			{"another user", other.ID, []string{x3.ID}},
			{"unknown user", tenants.NewID(), nil},
		} {
			xs, err := s.ListExternalIdentities(ctx, l.userID)
			if err != nil {
				t.Fatal(err)
			}
			if got := identityIDs(xs); !slices.Equal(got, l.want) {
				t.Errorf("%s: ListExternalIdentities = %v, want %v", l.name, got, l.want)
			}
		}
	})
	t.Run("TouchExternalIdentity", func(t *testing.T) {
		at := clk.Now().Add(time.Hour)
		if err := s.TouchExternalIdentity(ctx, x.ID, at); err != nil {
			t.Fatal(err)
		}
		want := *x
		want.LastLoginAt = &at
		got, err := s.ExternalIdentity(ctx, c.ID, sharedIssuer, "Subject-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := sameIdentity(got, &want); diff != "" {
			t.Error(diff)
		}
		if got, err := s.ExternalIdentity(ctx, c2.ID, sharedIssuer, "Subject-1"); err != nil || got.LastLoginAt != nil {
			t.Errorf("the other identity of the subject: last login %v, %v; want none", got.LastLoginAt, err)
		}
		if err := s.TouchExternalIdentity(ctx, tenants.NewID(), at); err != nil {
			t.Errorf("touching an unknown identity: %v", err)
		}
	})
	t.Run("CreateExternalIdentity of what does not exist", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			x    *tenants.ExternalIdentity
		}{
			{"unknown user", newExternalIdentity(tenants.NewID(), c.ID, "subject-3")},
			{"unknown connection", newExternalIdentity(u.ID, tenants.NewID(), "subject-3")},
		} {
			if err := s.CreateExternalIdentity(ctx, tt.x); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tenants.ErrNotFound)
			}
		}
		if _, err := s.ExternalIdentity(ctx, c.ID, sharedIssuer, "subject-3"); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("identity of a failed create: err = %v, want %v", err, tenants.ErrNotFound)
		}
	})
	t.Run("DeleteExternalIdentity", func(t *testing.T) {
		if err := s.DeleteExternalIdentity(ctx, other.ID, x.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("as another user: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if _, err := s.ExternalIdentity(ctx, c.ID, sharedIssuer, "Subject-1"); err != nil {
			t.Errorf("after a delete as another user: %v", err)
		}
		if err := s.DeleteExternalIdentity(ctx, u.ID, x.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ExternalIdentity(ctx, c.ID, sharedIssuer, "Subject-1"); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("after delete: err = %v, want %v", err, tenants.ErrNotFound)
		}
		xs, err := s.ListExternalIdentities(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := identityIDs(xs), []string{x2.ID}; !slices.Equal(got, want) {
			t.Errorf("ListExternalIdentities = %v, want %v", got, want)
		}
		if err := s.DeleteExternalIdentity(ctx, u.ID, x.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("second delete: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if _, err := s.UserByID(ctx, u.ID); err != nil {
			t.Errorf("the user of the deleted identity: %v", err)
		}
		// The upstream identity may be linked again, to anyone.
		mustExternalIdentity(t, ctx, s, other.ID, c.ID, "Subject-1")
	})
}

func testCreateFederatedUser(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "federated-user")
	c := mustConnection(t, ctx, s, "Corporate")
	existing := mustUser(t, ctx, s, "taken@example.com")
	linked := mustExternalIdentity(t, ctx, s, existing.ID, c.ID, "taken-subject")
	rev := revision(t, s, tn.ID)

	u := &tenants.User{Email: " New@Example.com", EmailVerified: true, Name: "New User"}
	// The identity's user is the new one, whatever it says.
	x := newExternalIdentity(existing.ID, c.ID, "new-subject")
	if err := s.CreateFederatedUser(ctx, u, x); err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || u.TenantID != tn.ID || u.EmailNormalized != "new@example.com" || u.CreatedAt.IsZero() {
		t.Errorf("CreateFederatedUser left user id %q, tenant %q, normalized email %q, created %v", u.ID, u.TenantID, u.EmailNormalized, u.CreatedAt)
	}
	if x.ID == "" || x.TenantID != tn.ID || x.UserID != u.ID || !sameTime(x.CreatedAt, u.CreatedAt) {
		t.Errorf("CreateFederatedUser left identity id %q, tenant %q, user %q, created %v", x.ID, x.TenantID, x.UserID, x.CreatedAt)
	}
	if got, err := s.UserByEmail(ctx, "new@example.com"); err != nil || got.ID != u.ID || !got.EmailVerified || got.Name != "New User" || got.PasswordHash != "" {
		t.Errorf("UserByEmail = %+v, %v; want the new user, verified, without a password", got, err)
	}
	got, err := s.ExternalIdentity(ctx, c.ID, sharedIssuer, "new-subject")
	if err != nil {
		t.Fatal(err)
	}
	if diff := sameIdentity(got, x); diff != "" {
		t.Error(diff)
	}
	xs, err := s.ListExternalIdentities(ctx, existing.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := identityIDs(xs), []string{linked.ID}; !slices.Equal(got, want) {
		t.Errorf("identities of the existing user = %v, want %v", got, want)
	}
	if got := revision(t, s, tn.ID); got != rev {
		t.Errorf("revision went from %d to %d: a user is not configuration", rev, got)
	}

	// All or nothing: a failing user leaves no identity, a failing
	// identity no user.
	tests := []struct {
		name    string
		email   string
		x       *tenants.ExternalIdentity
		wantErr error
	}{
		{"email taken", "TAKEN@example.com", newExternalIdentity("", c.ID, "fresh-1"), tenants.ErrAlreadyExists},
		{"identity taken", "fresh-2@example.com", newExternalIdentity("", c.ID, "taken-subject"), tenants.ErrAlreadyExists},
		{"unknown connection", "fresh-3@example.com", newExternalIdentity("", tenants.NewID(), "fresh-3"), tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.CreateFederatedUser(ctx, &tenants.User{Email: tt.email}, tt.x); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n := countRows(t, s, "users", "tenant_id", tn.ID); n != 2 {
				t.Errorf("tenant has %d users, want 2", n)
			}
			if n := countRows(t, s, "external_identities", "tenant_id", tn.ID); n != 2 {
				t.Errorf("tenant has %d external identities, want 2", n)
			}
			if got, err := s.ExternalIdentity(ctx, c.ID, sharedIssuer, "taken-subject"); err != nil || got.UserID != existing.ID {
				t.Errorf("the taken identity: %+v, %v; want it still the existing user's", got, err)
			}
		})
	}
}

func testFederationStates(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, tn := newTenant(t, s, "federation-states")
	otherCtx, _ := newTenant(t, s, "federation-states-other")
	c := mustConnection(t, ctx, s, "Corporate")
	oc := mustConnection(t, otherCtx, s, "Corporate")
	unused := func(id string) bool {
		return countSQL(t, s, "SELECT COUNT(*) FROM federation_states WHERE id = ? AND used_at IS NULL", id) == 1
	}

	t.Run("used once", func(t *testing.T) {
		st := newFederationState(s, c.ID, 10*time.Minute)
		if err := s.CreateFederationState(ctx, st); err != nil {
			t.Fatal(err)
		}
		if st.TenantID != tn.ID || !st.CreatedAt.Equal(clk.Now()) || st.UsedAt != nil {
			t.Errorf("CreateFederationState left tenant %q, created %v, used %v", st.TenantID, st.CreatedAt, st.UsedAt)
		}
		clk.Advance(time.Minute)
		got, err := s.UseFederationState(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != st.ID || got.TenantID != tn.ID || got.ConnectionID != c.ID || got.AuthRequestID != st.AuthRequestID ||
			got.BrowserHash != st.BrowserHash || got.Purpose != st.Purpose || got.UserID != st.UserID || got.Nonce != st.Nonce ||
			got.PKCEVerifier != st.PKCEVerifier || got.RequestID != st.RequestID || got.Identity != st.Identity ||
			!sameTime(got.CreatedAt, st.CreatedAt) || !sameTime(got.ExpiresAt, st.ExpiresAt) || !samePtrTime(got.UsedAt, clk.Now()) {
			t.Errorf("UseFederationState = %+v, want %+v used at %v", got, st, clk.Now())
		}
		if _, err := s.UseFederationState(ctx, st.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("second use: err = %v, want %v", err, tenants.ErrNotFound)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		for _, tt := range []struct {
			name    string
			after   time.Duration // since creation, of a state that lives 10 minutes
			wantErr error
		}{
			{"just before expiry", 10*time.Minute - time.Second, nil},
			{"at expiry", 10 * time.Minute, tenants.ErrNotFound},
			{"after expiry", time.Hour, tenants.ErrNotFound},
		} {
			t.Run(tt.name, func(t *testing.T) {
				st := mustFederationState(t, ctx, s, c.ID, 10*time.Minute)
				clk.Advance(tt.after)
				if _, err := s.UseFederationState(ctx, st.ID); !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != nil && !unused(st.ID) {
					t.Error("an expired state was marked used")
				}
			})
		}
	})

	t.Run("another tenant's", func(t *testing.T) {
		st := mustFederationState(t, otherCtx, s, oc.ID, 10*time.Minute)
		if _, err := s.UseFederationState(ctx, st.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("err = %v, want %v", err, tenants.ErrNotFound)
		}
		if !unused(st.ID) {
			t.Fatal("another tenant spent the state")
		}
		if got, err := s.UseFederationState(otherCtx, st.ID); err != nil || got.ConnectionID != oc.ID {
			t.Errorf("use by its own tenant: %+v, %v", got, err)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		for _, id := range []string{randomHash(), ""} {
			if _, err := s.UseFederationState(ctx, id); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("UseFederationState(%q): err = %v, want %v", id, err, tenants.ErrNotFound)
			}
		}
	})

	t.Run("CreateFederationState of an unknown connection", func(t *testing.T) {
		st := newFederationState(s, tenants.NewID(), time.Hour)
		if err := s.CreateFederationState(ctx, st); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("err = %v, want %v", err, tenants.ErrNotFound)
		}
		if n := countRows(t, s, "federation_states", "id", st.ID); n != 0 {
			t.Errorf("%d rows of the failed create", n)
		}
	})
}

// testUseFederationStateConcurrently spends one state from many requests
// at once, as an upstream's answer replayed does: exactly one wins.
func testUseFederationStateConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "state-race")
	st := mustFederationState(t, ctx, s, mustConnection(t, ctx, s, "Corporate").ID, time.Hour)
	const n = 20
	got := make([]*tenants.FederationState, n)
	errs := race(n, func(i int) error {
		var err error
		got[i], err = s.UseFederationState(ctx, st.ID)
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("uses %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, tenants.ErrNotFound):
			t.Errorf("use %d: err = %v, want nil or %v", i, err, tenants.ErrNotFound)
		}
	}
	if winner < 0 {
		t.Fatal("no use succeeded")
	}
	if w := got[winner]; w.ID != st.ID || w.Nonce != st.Nonce || w.UsedAt == nil {
		t.Errorf("the winner got %+v, want the state, used", w)
	}
}

func testSAMLAssertions(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "saml")
	otherCtx, _ := newTenant(t, s, "saml-other")
	c, c2 := mustConnection(t, ctx, s, "SAML"), mustConnection(t, ctx, s, "SAML 2")
	oc := mustConnection(t, otherCtx, s, "SAML")
	id := "_" + suffix()
	exp := s.Now().Add(time.Hour)
	rev := revision(t, s, tn.ID)
	// In order: each row sees the records of the rows before it.
	tests := []struct {
		name         string
		ctx          context.Context
		connectionID string
		assertionID  string
		expiresAt    time.Time
		wantErr      error
	}{
		{"first time", ctx, c.ID, id, exp, nil},
		{"replay", ctx, c.ID, id, exp, tenants.ErrAlreadyExists},
		{"replay with a later expiry", ctx, c.ID, id, exp.Add(time.Hour), tenants.ErrAlreadyExists},
		{"same id at another connection", ctx, c2.ID, id, exp, nil},
		{"same id in another tenant", otherCtx, oc.ID, id, exp, nil},
		{"replay in the other tenant", otherCtx, oc.ID, id, exp, tenants.ErrAlreadyExists},
		{"another id", ctx, c.ID, id + "-2", exp, nil},
		{"unknown connection", ctx, tenants.NewID(), "_" + suffix(), exp, tenants.ErrNotFound},
		{"connection of another tenant", ctx, oc.ID, "_" + suffix(), exp, tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.RecordSAMLAssertion(tt.ctx, tt.connectionID, tt.assertionID, tt.expiresAt); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if n := countRows(t, s, "saml_assertions", "assertion_id", id); n != 3 {
		t.Errorf("%d records of the assertion id, want 3: two connections and another tenant's", n)
	}
	if n := countRows(t, s, "saml_assertions", "tenant_id", tn.ID); n != 3 {
		t.Errorf("tenant has %d records, want 3", n)
	}
	if got := revision(t, s, tn.ID); got != rev {
		t.Errorf("revision went from %d to %d: a login is not configuration", rev, got)
	}
}

// testRecordSAMLAssertionConcurrently records one assertion from many
// requests at once, as a replayed response does: exactly one is accepted.
func testRecordSAMLAssertionConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "saml-race")
	c := mustConnection(t, ctx, s, "SAML")
	id := "_" + suffix()
	const n = 10
	wins := 0
	for i, err := range race(n, func(int) error { return s.RecordSAMLAssertion(ctx, c.ID, id, s.Now().Add(time.Hour)) }) {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, tenants.ErrAlreadyExists):
			t.Errorf("record %d: err = %v, want nil or %v", i, err, tenants.ErrAlreadyExists)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d records were accepted, want exactly 1", wins, n)
	}
}

// testFederatedLogin checks that the connection a user logged in through
// (idp) is kept by the session, by the authorization request and by the
// token family its code brings.
func testFederatedLogin(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "idp")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	c := mustConnection(t, ctx, s, "Corporate")
	login := tenants.Authentication{UserID: u.ID, Time: s.Now().Truncate(time.Second), AMR: []string{"fed"}, IDP: c.ID}

	t.Run("session", func(t *testing.T) {
		sess := newSession(s, u.ID, time.Hour)
		sess.AMR, sess.IDP = tenants.Strings{"fed"}, c.ID
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		got, err := s.SessionByID(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.IDP != c.ID || !slices.Equal(got.AMR, []string{"fed"}) {
			t.Errorf("SessionByID: idp %q, amr %v; want %q, [fed]", got.IDP, got.AMR, c.ID)
		}
		ss, err := s.ListSessions(ctx, u.ID)
		if err != nil || len(ss) != 1 || ss[0].IDP != c.ID {
			t.Errorf("ListSessions = %+v, %v; want the session with idp %q", ss, err, c.ID)
		}
	})

	ar := mustAuthRequest(t, ctx, s, "web")
	steps := []struct {
		name    string
		a       tenants.Authentication
		wantIDP string
	}{
		{"login through the connection", login, c.ID},
		{"login again with a password", tenants.Authentication{UserID: u.ID, Time: login.Time, AMR: []string{"pwd"}}, ""},
		{"login through the connection again", login, c.ID},
	}
	for _, st := range steps {
		t.Run("SetAuthenticated/"+st.name, func(t *testing.T) {
			if err := s.SetAuthenticated(ctx, ar.ID, st.a); err != nil {
				t.Fatal(err)
			}
			got, err := s.AuthRequestByID(ctx, ar.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.IDP != st.wantIDP || got.UserID != u.ID || !slices.Equal(got.AMR, st.a.AMR) || !samePtrTime(got.AuthTime, login.Time) {
				t.Errorf("AuthRequestByID: idp %q, user %q, amr %v, auth time %v; want %q, %q, %v, %v",
					got.IDP, got.UserID, got.AMR, got.AuthTime, st.wantIDP, u.ID, st.a.AMR, login.Time)
			}
		})
	}

	t.Run("code exchange", func(t *testing.T) {
		codeHash := randomHash()
		if err := s.IssueCode(ctx, ar.ID, codeHash, s.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		coded, err := s.AuthRequestByCodeHash(ctx, codeHash)
		if err != nil {
			t.Fatal(err)
		}
		if coded.IDP != c.ID {
			t.Fatalf("AuthRequestByCodeHash: idp %q, want %q", coded.IDP, c.ID)
		}
		// As the token endpoint does: the family takes the request's idp.
		issue := newIssue(s, "web", u.ID)
		issue.Grant.AMR, issue.Grant.IDP = coded.AMR, coded.IDP
		if err := s.RedeemCode(ctx, coded.ID, issue); err != nil {
			t.Fatal(err)
		}
		g, err := s.GrantByID(ctx, issue.Grant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.IDP != c.ID || !slices.Equal(g.AMR, []string{"fed"}) {
			t.Errorf("GrantByID: idp %q, amr %v; want %q, [fed]", g.IDP, g.AMR, c.ID)
		}
		next := refreshIssue(s, issue.Grant)
		if err := s.RotateRefreshToken(ctx, issue.Refresh.ID, next); err != nil {
			t.Fatal(err)
		}
		_, rg, err := s.RefreshTokenByHash(ctx, next.Refresh.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if rg.IDP != c.ID {
			t.Errorf("family of the rotated refresh token: idp %q, want %q", rg.IDP, c.ID)
		}
	})

	t.Run("password login has none", func(t *testing.T) {
		ar, issue := mustRedeemed(t, ctx, s, "web", u.ID)
		got, err := s.AuthRequestByID(ctx, ar.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.IDP != "" {
			t.Errorf("request of a password login: idp %q, want none", got.IDP)
		}
		g, err := s.GrantByID(ctx, issue.Grant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.IDP != "" {
			t.Errorf("family of a password login: idp %q, want none", g.IDP)
		}
	})
}
