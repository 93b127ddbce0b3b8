package cli_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/app/cli"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestHelpListsTheGrantRegistry checks that client create --help lists
// every registered grant type, in registry order, with its help line.
func TestHelpListsTheGrantRegistry(t *testing.T) {
	var out bytes.Buffer
	if code := cli.Main(context.Background(), cli.Env{Args: []string{"client", "create", "--help"}, Stdout: &out, Getenv: func(string) string { return "" }}); code != 0 {
		t.Fatalf("client create --help: exit %d", code)
	}
	usage := out.String()
	at := strings.Index(usage, "gatehouse client create")
	if at < 0 {
		t.Fatal("no client create in the usage")
	}
	last := at
	for _, g := range tenants.GrantTypes() {
		i := strings.Index(usage, "  "+g.Name+" ")
		if i < 0 {
			t.Fatalf("usage does not list %s:\n%s", g.Name, usage)
		}
		if i < last {
			t.Errorf("%s is not listed after client create and the grant before it", g.Name)
		}
		last = i
		line, _, _ := strings.Cut(usage[i:], "\n")
		if !strings.Contains(line, g.Help) {
			t.Errorf("%s's line %q lacks its help %q", g.Name, line, g.Help)
		}
		if len(g.Needs) > 0 && !strings.Contains(line, "needs "+g.NeedsWords()) {
			t.Errorf("%s's line %q does not say it needs %s", g.Name, line, g.NeedsWords())
		}
	}
	for _, retired := range []string{"implicit", "password "} {
		if strings.Contains(usage, "  "+retired) {
			t.Errorf("usage lists the retired %s grant", retired)
		}
	}
}

// TestClientCreateGrantTypes creates clients through the CLI with the
// grant types a newcomer might type, on every database: what the registry
// refuses is refused with one line naming grant_types and the value.
func TestClientCreateGrantTypes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		c := newCLI(t, db)
		c.ok("", "tenant", "create", "acme")
		base := []string{"client", "create", "--tenant", "acme", "--name", "x"}
		with := func(args ...string) []string { return append(slices.Clone(base), args...) }
		cb := []string{"--redirect-uri", "https://app.acme.test/cb"}

		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"unknown", with(append(cb, "--grant-type", "magic")...), `grant_types: unknown grant type "magic"`},
			{"implicit", with(append(cb, "--grant-type", "implicit")...), "grant_types: the implicit grant is not supported"},
			{"password", with(append(cb, "--grant-type", "password")...), "grant_types: the password grant is not supported"},
			{"repeated", with(append(cb, "--grant-type", "authorization_code", "--grant-type", "authorization_code")...), "grant_types: authorization_code is listed twice"},
			{"refresh without code", with(append(cb, "--grant-type", "refresh_token")...), "grant_types: refresh_token needs authorization_code"},
			{"public client credentials", with(append(cb, "--public", "--grant-type", "client_credentials")...), "grant_types: a public client cannot use client_credentials"},
			{"code without redirect", with("--grant-type", "authorization_code"), "redirect_uris: the authorization_code grant needs at least one redirect URI"},
			{"machine with refresh", with("--grant-type", "client_credentials", "--grant-type", "refresh_token"), "grant_types: refresh_token needs authorization_code"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				(&cliRunner{t: t, env: c.env}).refused("", tc.want, tc.args...)
			})
		}
		if got := c.ok("", "client", "list", "--tenant", "acme"); len(got["clients"].([]any)) != 0 {
			t.Fatalf("a refused client was created: %v", got)
		}

		// Grants come back in registry order, whatever order they were typed in.
		cl := c.ok("", with(append(cb, "--grant-type", "client_credentials", "--grant-type", "refresh_token", "--grant-type", "authorization_code")...)...)
		var got []string
		for _, g := range cl["grant_types"].([]any) {
			got = append(got, g.(string))
		}
		if want := tenants.DefaultGrantTypes(); !slices.Equal(got, want) {
			t.Fatalf("grant types %v, want %v", got, want)
		}
	})
}
