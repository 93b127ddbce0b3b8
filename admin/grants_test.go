package admin_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

const cb = "https://app.acme.test/cb"

// newService is the admin service over a fresh store, acting as the CLI.
func newService(t *testing.T, db storetest.Database) *admin.Service {
	t.Helper()
	store := storetest.Open(t, db.URL(t))
	key, _ := secret.ParseMasterKey(secret.NewMasterKey())
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://localhost:8080")
	return admin.New(admin.Config{BaseURL: base}, store, keyring.New(store, box, keyring.Config{PoolSize: -1}),
		password.New(password.Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, password.Bound{}))
}

// tenantCtx creates (once) and returns the context of tenant slug as it is
// stored now.
func tenantCtx(t *testing.T, svc *admin.Service, slug string) context.Context {
	t.Helper()
	ctx := admin.WithPrincipal(context.Background(), admin.CLI())
	tctx, _, err := svc.WithTenant(ctx, slug)
	if errors.Is(err, tenants.ErrNotFound) {
		if _, err = svc.CreateTenant(ctx, admin.CreateTenantInput{Slug: slug}); err != nil {
			t.Fatal(err)
		}
		tctx, _, err = svc.WithTenant(ctx, slug)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tctx
}

// wantInvalid fails unless err is a ValidationError of field whose
// message contains each of words (and is of a readable length).
func wantInvalid(t *testing.T, err error, field string, words ...string) {
	t.Helper()
	var ve *tenants.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Fatalf("err = %v, want a validation error of %s", err, field)
	}
	for _, w := range words {
		if !strings.Contains(ve.Message, w) {
			t.Fatalf("message %q does not contain %q", ve.Message, w)
		}
	}
	if len(ve.Message) > 300 {
		t.Fatalf("message of %d bytes", len(ve.Message))
	}
}

// TestTenantGrantTypes sets a tenant's grant types from the registry's
// point of view, on every database.
func TestTenantGrantTypes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		svc := newService(t, db)
		ctx := tenantCtx(t, svc, "acme")
		tv, err := svc.GetTenant(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tv.GrantTypes, tenants.DefaultGrantTypes()) {
			t.Fatalf("a new tenant allows %v, want the registry's defaults %v", tv.GrantTypes, tenants.DefaultGrantTypes())
		}
		for _, tc := range []struct {
			name  string
			in    []string
			words []string
		}{
			{"unknown", []string{"magic"}, []string{`"magic"`}},
			{"implicit", []string{"authorization_code", "implicit"}, []string{"implicit", "not supported"}},
			{"password", []string{"password"}, []string{"password", "not supported"}},
			{"repeated", []string{"client_credentials", "client_credentials"}, []string{"client_credentials is listed twice"}},
			{"refresh without code", []string{"refresh_token", "client_credentials"}, []string{"refresh_token needs authorization_code"}},
			{"NUL", []string{"authorization_code\x00"}, []string{`\x00`}},
			{"huge", []string{strings.Repeat("a", 1<<20)}, []string{"unknown grant type"}},
			{"URN of a grant Gatehouse does not serve", []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}, []string{"jwt-bearer"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := svc.UpdateTenant(ctx, admin.TenantSettings{GrantTypes: tc.in})
				wantInvalid(t, err, "grant_types", tc.words...)
			})
		}
		if after, _ := svc.GetTenant(ctx); !slices.Equal(after.GrantTypes, tv.GrantTypes) {
			t.Fatalf("refused updates changed the grant types: %v", after.GrantTypes)
		}
		// Any order in, registry order stored.
		v, err := svc.UpdateTenant(ctx, admin.TenantSettings{GrantTypes: []string{tenants.GrantTokenExchange, tenants.GrantDeviceCode, "client_credentials", "refresh_token", "authorization_code"}})
		if err != nil || !slices.Equal(v.GrantTypes, tenants.GrantNames()) {
			t.Fatalf("update: %v %v", v, err)
		}
		// None at all is a choice (the tenant serves no token).
		if v, err = svc.UpdateTenant(ctx, admin.TenantSettings{GrantTypes: []string{}}); err != nil || len(v.GrantTypes) != 0 {
			t.Fatalf("no grants: %v %v", v, err)
		}
	})
}

// TestClientGrantTypes creates and changes applications with grant types
// the registry's rules refuse, on every database: each is refused naming
// the field, and nothing is created.
func TestClientGrantTypes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		svc := newService(t, db)
		ctx := tenantCtx(t, svc, "acme")
		for _, tc := range []struct {
			name  string
			in    admin.CreateClientInput
			field string
			words []string
		}{
			{"unknown", admin.CreateClientInput{Kind: admin.KindWeb, RedirectURIs: []string{cb}, GrantTypes: []string{"magic"}}, "grant_types", []string{`"magic"`}},
			{"implicit", admin.CreateClientInput{Kind: admin.KindSPA, RedirectURIs: []string{cb}, GrantTypes: []string{"implicit"}}, "grant_types", []string{"implicit"}},
			{"password", admin.CreateClientInput{Kind: admin.KindWeb, RedirectURIs: []string{cb}, GrantTypes: []string{"password"}}, "grant_types", []string{"password"}},
			{"repeated", admin.CreateClientInput{Kind: admin.KindWeb, RedirectURIs: []string{cb}, GrantTypes: []string{"authorization_code", "authorization_code"}}, "grant_types", []string{"twice"}},
			{"empty name", admin.CreateClientInput{Kind: admin.KindWeb, RedirectURIs: []string{cb}, GrantTypes: []string{""}}, "grant_types", []string{`""`}},
			{"machine with authorization_code", admin.CreateClientInput{Kind: admin.KindMachine, GrantTypes: []string{"authorization_code"}}, "grant_types", []string{"machine", "authorization_code"}},
			{"machine with code and client credentials", admin.CreateClientInput{Kind: admin.KindMachine, RedirectURIs: []string{cb}, GrantTypes: []string{"client_credentials", "authorization_code"}}, "grant_types", []string{"authorization_code"}},
			{"machine with refresh", admin.CreateClientInput{Kind: admin.KindMachine, GrantTypes: []string{"client_credentials", "refresh_token"}}, "grant_types", []string{"refresh_token"}},
			{"public with client credentials", admin.CreateClientInput{Kind: admin.KindSPA, RedirectURIs: []string{cb}, GrantTypes: []string{"client_credentials"}}, "grant_types", []string{"public", "client_credentials"}},
			{"native with client credentials", admin.CreateClientInput{Kind: admin.KindNative, RedirectURIs: []string{"com.acme.app:/cb"}, GrantTypes: []string{"authorization_code", "client_credentials"}}, "grant_types", []string{"client_credentials"}},
			{"code without a redirect URI", admin.CreateClientInput{Kind: admin.KindWeb, GrantTypes: []string{"authorization_code"}}, "redirect_uris", []string{"authorization_code", "redirect URI"}},
			{"refresh without code", admin.CreateClientInput{Kind: admin.KindWeb, RedirectURIs: []string{cb}, GrantTypes: []string{"refresh_token"}}, "grant_types", []string{"refresh_token needs authorization_code"}},
			{"spa without grants or redirect", admin.CreateClientInput{Kind: admin.KindSPA}, "redirect_uris", []string{"redirect URI"}},
			{"no kind, no grants, no redirect", admin.CreateClientInput{}, "grant_types", []string{"client_credentials"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.in.Name = "x"
				_, err := svc.CreateClient(ctx, tc.in)
				wantInvalid(t, err, tc.field, tc.words...)
			})
		}
		if cs, err := svc.ListClients(ctx); err != nil || len(cs) != 0 {
			t.Fatalf("refused clients were created: %v %v", cs, err)
		}

		// Defaults by kind; a kind inferred from machine grants alone.
		for _, tc := range []struct {
			in   admin.CreateClientInput
			kind string
			want []string
		}{
			{admin.CreateClientInput{Kind: admin.KindWeb, RedirectURIs: []string{cb}}, admin.KindWeb, []string{"authorization_code", "refresh_token"}},
			{admin.CreateClientInput{Kind: admin.KindSPA, RedirectURIs: []string{cb}}, admin.KindSPA, []string{"authorization_code", "refresh_token"}},
			{admin.CreateClientInput{Kind: admin.KindMachine}, admin.KindMachine, []string{"client_credentials"}},
			{admin.CreateClientInput{GrantTypes: []string{"client_credentials"}}, admin.KindMachine, []string{"client_credentials"}},
			{admin.CreateClientInput{RedirectURIs: []string{cb}, GrantTypes: []string{"client_credentials", "authorization_code"}}, admin.KindWeb, []string{"authorization_code", "client_credentials"}},
		} {
			tc.in.Name = "ok"
			c, err := svc.CreateClient(ctx, tc.in)
			if err != nil || c.ApplicationType != tc.kind || !slices.Equal(c.GrantTypes, tc.want) {
				t.Fatalf("create %+v: %+v %v, want a %s client with %v", tc.in, c, err, tc.kind, tc.want)
			}
		}

		// A change is held to the same rules as a creation.
		spa, err := svc.CreateClient(ctx, admin.CreateClientInput{Name: "spa", Kind: admin.KindSPA, RedirectURIs: []string{cb}})
		if err != nil {
			t.Fatal(err)
		}
		machine, err := svc.CreateClient(ctx, admin.CreateClientInput{Name: "m", Kind: admin.KindMachine})
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.UpdateClient(ctx, spa.ClientID, admin.UpdateClientInput{GrantTypes: []string{"authorization_code", "client_credentials"}})
		wantInvalid(t, err, "grant_types", "public")
		_, err = svc.UpdateClient(ctx, machine.ClientID, admin.UpdateClientInput{GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{cb}})
		wantInvalid(t, err, "grant_types", "machine")
		_, err = svc.UpdateClient(ctx, spa.ClientID, admin.UpdateClientInput{GrantTypes: []string{}})
		wantInvalid(t, err, "grant_types", "at least one")
		_, err = svc.UpdateClient(ctx, spa.ClientID, admin.UpdateClientInput{RedirectURIs: []string{}})
		wantInvalid(t, err, "redirect_uris", "authorization_code")
		if got, _ := svc.GetClient(ctx, spa.ClientID); !slices.Equal(got.GrantTypes, []string{"authorization_code", "refresh_token"}) || len(got.RedirectURIs) != 1 {
			t.Fatalf("refused changes changed the client: %+v", got)
		}
	})
}

// TestClientGrantsFollowTheTenant checks that an application gets and
// keeps only grants its tenant allows, and that another tenant's settings
// and applications are out of reach.
func TestClientGrantsFollowTheTenant(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		svc := newService(t, db)
		ctx := tenantCtx(t, svc, "acme")
		beta := tenantCtx(t, svc, "beta")
		betaWeb, err := svc.CreateClient(beta, admin.CreateClientInput{Name: "beta web", Kind: admin.KindWeb, RedirectURIs: []string{cb}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateTenant(ctx, admin.TenantSettings{GrantTypes: []string{"authorization_code"}}); err != nil {
			t.Fatal(err)
		}
		ctx = tenantCtx(t, svc, "acme")

		// Defaults are cut to what the tenant allows.
		web, err := svc.CreateClient(ctx, admin.CreateClientInput{Name: "web", Kind: admin.KindWeb, RedirectURIs: []string{cb}})
		if err != nil || !slices.Equal(web.GrantTypes, []string{"authorization_code"}) {
			t.Fatalf("web client at a code-only tenant: %+v %v", web, err)
		}
		_, err = svc.CreateClient(ctx, admin.CreateClientInput{Name: "m", Kind: admin.KindMachine})
		wantInvalid(t, err, "grant_types", "machine")
		_, err = svc.CreateClient(ctx, admin.CreateClientInput{Name: "m", GrantTypes: []string{"client_credentials"}})
		wantInvalid(t, err, "grant_types", "does not allow the client_credentials grant")
		_, err = svc.UpdateClient(ctx, web.ClientID, admin.UpdateClientInput{GrantTypes: []string{"authorization_code", "refresh_token"}})
		wantInvalid(t, err, "grant_types", "does not allow the refresh_token grant")

		// Beta is untouched, and its application is not acme's to change.
		if bt, _ := svc.GetTenant(beta); !slices.Equal(bt.GrantTypes, tenants.DefaultGrantTypes()) {
			t.Fatalf("beta's grant types changed: %v", bt.GrantTypes)
		}
		if _, err := svc.UpdateClient(ctx, betaWeb.ClientID, admin.UpdateClientInput{GrantTypes: []string{"authorization_code"}}); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("acme changed beta's client: %v", err)
		}
		if got, _ := svc.GetClient(beta, betaWeb.ClientID); !slices.Equal(got.GrantTypes, []string{"authorization_code", "refresh_token"}) {
			t.Fatalf("beta's client: %+v", got)
		}
	})
}
