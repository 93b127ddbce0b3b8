// Package cli is the gatehouse command: serve, migrate, and the management
// commands (tenant, api, client, user, key) that call the same services as
// the console and the management API. Each management command prints one
// JSON object on stdout, or one line on stderr and exits non-zero.
package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/server"
	"github.com/gatehouse-id/gatehouse/app/tracing"
	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/migrations"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/webhook"
)

// Env is what a command runs with: its arguments and standard streams, and
// the environment to read configuration from.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// grantTypeHelp lists the registered grant types, one a line (without a
// final newline), for the usage under client create.
func grantTypeHelp() string {
	width := 0
	for _, g := range tenants.GrantTypes() {
		width = max(width, len(g.Name))
	}
	lines := []string{"--grant-type TYPE is one of (none given: the defaults for the kind of client):"}
	for _, g := range tenants.GrantTypes() {
		help := g.Help
		if len(g.Needs) > 0 {
			help += "; needs " + g.NeedsWords()
		}
		if !g.Public {
			help += "; not for --public"
		}
		lines = append(lines, fmt.Sprintf("  %-*s  %s", width, g.Name, help))
	}
	return strings.Join(lines, "\n")
}

func oneLine(err error) string {
	var ve *tenants.ValidationError
	if errors.As(err, &ve) {
		return ve.Error()
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

type command func(ctx context.Context, env Env, args []string) error

// flags is the one argument parser of every command: a FlagSet that also
// accepts flags after positional arguments, and refuses whatever the
// command does not take — an unknown flag, a positional argument beyond
// the ones it names (a stray word, a second value after a flag's value,
// the brackets of the usage pasted as they are) — naming it, before the
// command does anything. Silently ignoring such an argument could make a
// command do more than was asked (README's [--tenant acme] once made an
// operator client).
type flags struct {
	*flag.FlagSet
	databaseURL string
	// names are the positional arguments the command takes, in order.
	names      []string
	positional []string
	// output is --output, on the commands that print a resource or a
	// list (withOutput): json (the default) or table.
	output *string
}

// newFlags returns the parser of command name, which takes the positional
// arguments names (SLUG...).
func newFlags(name string, env Env, names ...string) *flags {
	f := &flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), names: names}
	f.SetOutput(io.Discard)
	f.StringVar(&f.databaseURL, "database-url", "", "database `URL` (default: GATEHOUSE_DATABASE_URL, else the embedded database in GATEHOUSE_DATA_DIR)")
	return f
}

// Output formats of --output.
const (
	outputJSON  = "json"
	outputTable = "table"
)

// withOutput adds --output to f and returns f.
func (f *flags) withOutput() *flags {
	f.output = new(string)
	f.StringVar(f.output, "output", outputJSON, "`FORMAT` of what is printed: json or table")
	return f
}

func (f *flags) parse(args []string) error {
	rest := args
	for len(rest) > 0 {
		if err := f.Parse(rest); err != nil {
			return f.flagError(err, args)
		}
		next := f.Args()
		at := len(args) - len(next)
		afterDashes := at > 0 && args[at-1] == "--"
		for len(next) > 0 {
			if len(f.positional) == len(f.names) {
				return f.unexpected(args, len(args)-len(next))
			}
			f.positional = append(f.positional, next[0])
			next = next[1:]
			if !afterDashes {
				break // flags may follow a positional argument
			}
		}
		rest = next
	}
	if len(f.positional) < len(f.names) {
		return fmt.Errorf("%s: missing %s (see gatehouse %s --help)", f.Name(), f.names[len(f.positional)], f.Name())
	}
	if f.output != nil && *f.output != outputJSON && *f.output != outputTable {
		return fmt.Errorf("%s: --output %q: json or table", f.Name(), *f.output)
	}
	return nil
}

// flagError names the flag an error of the flag package is about as it
// was typed, with the closest flag the command takes when it looks like a
// typo; -h and --help are a helpRequest.
func (f *flags) flagError(err error, args []string) error {
	if errors.Is(err, flag.ErrHelp) {
		return &helpRequest{f: f}
	}
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		if name, ok := strings.CutPrefix(err.Error(), "flag needs an argument: -"); ok {
			return fmt.Errorf("%s: --%s needs a value (see gatehouse %s --help)", f.Name(), name, f.Name())
		}
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	typed := "--" + name
	for _, a := range args {
		if n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); n == name && strings.HasPrefix(a, "-") {
			typed = a
			break
		}
	}
	var names []string
	f.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
	if near := closest(name, names); near != "" {
		return fmt.Errorf("%s: unknown flag %q (did you mean --%s? see gatehouse %s --help)", f.Name(), typed, near, f.Name())
	}
	return fmt.Errorf("%s: unknown flag %q (see gatehouse %s --help)", f.Name(), typed, f.Name())
}

// unexpected is the error for args[i], a positional argument the command
// does not take, with a hint when it looks like a known mistake.
func (f *flags) unexpected(args []string, i int) error {
	stray := args[i]
	msg := fmt.Sprintf("%s: unexpected argument %q", f.Name(), stray)
	flagAt := func(j int) *flag.Flag {
		if j < 0 || !strings.HasPrefix(args[j], "-") || strings.Contains(args[j], "=") {
			return nil
		}
		return f.Lookup(strings.TrimLeft(args[j], "-"))
	}
	switch {
	case strings.HasPrefix(stray, "[") || strings.HasSuffix(stray, "]"):
		msg += " (square brackets in the usage mark what is optional: leave them out)"
	case flagAt(i-1) != nil && isBool(flagAt(i-1)):
		msg += fmt.Sprintf(" (%s takes no value: write %s=%s)", args[i-1], args[i-1], stray)
	case flagAt(i-2) != nil && !isBool(flagAt(i-2)):
		msg += fmt.Sprintf(" (%s took %q: a flag takes one value; quote a value with spaces)", args[i-2], args[i-1])
	}
	return errors.New(msg)
}

func isBool(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// runtime is what a management command works with: the same services the
// console and the management API use, without the HTTP server.
type runtime struct {
	cfg   *config.Config
	store *tenants.Store
	admin *admin.Service
}

// open opens the runtime of a management command, on a database that
// exists: without GATEHOUSE_DATABASE_URL and with no embedded database it
// stops, saying so (only serve and migrate create one).
func open(ctx context.Context, env Env, f *flags) (*runtime, error) {
	cfg, err := config.Load(env.Getenv, config.Overrides{DatabaseURL: f.databaseURL, ExistingDatabase: true})
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(cfg.MasterKeyNotice, "development mode: generated") {
		fmt.Fprintln(env.Stderr, "gatehouse: "+cfg.MasterKeyNotice)
	}
	store, box, _, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	common, err := password.LoadCommon()
	if err != nil {
		store.Close()
		return nil, err
	}
	// The same guarded client as a node's: the operator's allow list holds.
	out := upstream.New(cfg.UpstreamAllowHosts, upstream.Options{})
	fed := federation.New(federation.Config{Factories: server.Connectors(), Upstream: out}, store, box)
	svc := admin.New(admin.Config{BaseURL: cfg.BaseURL, Federation: fed, Common: common, Webhooks: webhook.NewSealer(box), Upstream: out, Secrets: box,
		Resolver: admin.NewResolver(cfg.DNSResolver)}, store, keyring.New(store, box, keyring.Config{PoolSize: -1}), password.New(password.DefaultParams(), password.Bound{}))
	if _, err := svc.EnsureSystem(ctx, admin.ConsoleSecret(box)); err != nil {
		store.Close()
		return nil, err
	}
	return &runtime{cfg: cfg, store: store, admin: svc}, nil
}

// openStore opens and migrates the database, and checks that it belongs to
// this deployment: the same base URL and master key it was set up with.
func openStore(ctx context.Context, cfg *config.Config) (*tenants.Store, *secret.Box, []string, error) {
	box, err := secret.NewBox(cfg.MasterKey)
	if err != nil {
		return nil, nil, nil, err
	}
	store, err := tenants.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	fail := func(err error) (*tenants.Store, *secret.Box, []string, error) {
		_ = store.Close()
		return nil, nil, nil, err
	}
	db, err := store.SQLDB()
	if err != nil {
		return fail(err)
	}
	applied, err := migrations.Up(ctx, db, store.Dialect())
	if err != nil {
		return fail(err)
	}
	if err := store.BindDeployment(ctx, cfg.BaseURL.String(), secret.MAC(box.Derive("gatehouse key check v1", 32), "deployment")); err != nil {
		return fail(err)
	}
	return store, box, applied, nil
}

func (r *runtime) close() { _ = r.store.Close() }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// buildVersion is the module version the binary was built from, or
// "devel".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func serve(ctx context.Context, env Env, args []string) error {
	f := newFlags("serve", env)
	var addr, baseURL string
	f.StringVar(&addr, "addr", "", "listen address (default: GATEHOUSE_ADDR or :8080)")
	f.StringVar(&baseURL, "base-url", "", "apex URL (default: GATEHOUSE_BASE_URL or http://localhost:8080)")
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(env.Getenv, config.Overrides{DatabaseURL: f.databaseURL, Addr: addr, BaseURL: baseURL})
	if err != nil {
		return err
	}
	// Every line of the node goes to logger, which the context carries
	// to whatever serve runs (tenants.Logger); slog's default is not ours.
	logger := server.NewLogger(cfg, env.Stderr)
	ctx = tenants.WithLogger(ctx, logger)
	if strings.HasPrefix(cfg.MasterKeyNotice, "development mode: generated") {
		logger.WarnContext(ctx, cfg.MasterKeyNotice)
	}
	store, _, applied, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if len(applied) > 0 {
		logger.InfoContext(ctx, "applied migrations", "migrations", strings.Join(applied, ", "))
	}
	tr, err := tracing.New(ctx, env.Getenv, buildVersion())
	if err != nil {
		return err
	}
	defer func() {
		// What the batcher still holds is exported before the process
		// exits, within a bound of its own.
		flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(flush); err != nil {
			logger.WarnContext(ctx, "tracing: spans not exported at shutdown", "err", err)
		}
	}()
	srv, err := server.New(cfg, server.Deps{Store: store, Logger: logger, Tracing: tr})
	if err != nil {
		return err
	}
	if !cfg.UpstreamAllowHosts.Empty() {
		logger.InfoContext(ctx, "upstream hosts allowed to resolve to loopback and private addresses", "hosts", cfg.UpstreamAllowHosts.String())
	}
	setupLink, err := srv.Bootstrap(ctx)
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx, func(addr net.Addr) {
		fmt.Fprintf(env.Stdout, "Gatehouse is running in %s mode on %s (listening on %s).\n", cfg.Mode, store.Dialect(), addr)
		fmt.Fprintf(env.Stdout, "  Open %s\n", cfg.BaseURL)
		fmt.Fprintf(env.Stdout, "  Each tenant is its own issuer: tenant acme is served at %s://acme.%s\n", cfg.BaseURL.Scheme, cfg.BaseURL.Host)
		fmt.Fprintf(env.Stdout, "  Create one with: gatehouse tenant create acme --name \"Acme Inc\"\n")
		fmt.Fprintf(env.Stdout, "  Admin console: %s%s\n", cfg.BaseURL, admin.ConsolePath)
		if m := srv.MetricsAddr(); m != nil {
			fmt.Fprintf(env.Stdout, "  Metrics: http://%s/metrics\n", m)
		}
		if tr.On() {
			fmt.Fprintf(env.Stdout, "  Tracing: OTLP/HTTP export as the OTEL_* environment variables say\n")
		}
		if setupLink != "" {
			fmt.Fprintf(env.Stdout, "  No operator yet. Create the first one (this link works once, for %s):\n    %s\n", admin.SetupLinkTTL, setupLink)
		}
	})
}

func migrate(ctx context.Context, env Env, args []string) error {
	f := newFlags("migrate", env)
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(env.Getenv, config.Overrides{DatabaseURL: f.databaseURL})
	if err != nil {
		return err
	}
	store, err := tenants.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	db, err := store.SQLDB()
	if err != nil {
		return err
	}
	applied, err := migrations.Up(ctx, db, store.Dialect())
	if err != nil {
		return err
	}
	if applied == nil {
		applied = []string{}
	}
	return printJSON(env.Stdout, map[string]any{"dialect": store.Dialect(), "applied": applied})
}

func tenantCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("tenant create", env, "SLUG")
	var name string
	f.StringVar(&name, "name", "", "display name")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, err := open(ctx, env, f)
	if err != nil {
		return err
	}
	defer rt.close()
	t, err := rt.admin.CreateTenant(ctx, admin.CreateTenantInput{Slug: f.positional[0], Name: name})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, t)
}

func tenantList(ctx context.Context, env Env, args []string) error {
	f := newFlags("tenant list", env).withOutput()
	if err := f.parse(args); err != nil {
		return err
	}
	rt, err := open(ctx, env, f)
	if err != nil {
		return err
	}
	defer rt.close()
	ts, err := rt.admin.ListTenants(ctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "tenants", ts, "slug", "name", "issuer", "created_at")
}

// inTenant opens the runtime and puts the --tenant in the context.
func inTenant(ctx context.Context, env Env, f *flags, slug string) (*runtime, context.Context, error) {
	if slug == "" {
		return nil, nil, errors.New("--tenant is required")
	}
	rt, err := open(ctx, env, f)
	if err != nil {
		return nil, nil, err
	}
	tctx, _, err := rt.admin.WithTenant(ctx, slug)
	if err != nil {
		rt.close()
		return nil, nil, err
	}
	return rt, tctx, nil
}

func apiCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("api create", env)
	var slug, audience, name string
	var scopes list
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&audience, "audience", "", "API identifier (an absolute URI)")
	f.StringVar(&name, "name", "", "display name (default: the audience)")
	f.Var(&scopes, "scope", "scope the API defines, NAME or NAME=DESCRIPTION (repeatable)")
	var alg, claims, rs string
	var rbac bool
	f.StringVar(&rs, "resource-server-client-id", "", "client_id of a confidential application that may introspect the API's access tokens as the API")
	f.StringVar(&alg, "signing-alg", "", "JWS algorithm of the API's access tokens: "+algList()+" (default "+tenants.DefaultSigningAlgorithm+")")
	f.BoolVar(&rbac, "rbac", false, "users get only the scopes their roles hold")
	f.StringVar(&claims, "token-claims", "", "claims of the API's access tokens, comma-separated: "+strings.Join(tenants.TokenClaimNames(), ", "))
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	in := admin.CreateAPIInput{Name: name, Audience: audience, SigningAlg: alg, RBAC: rbac, ResourceServerClientID: rs}
	if claims != "" {
		in.TokenClaims = strings.Split(claims, ",")
	}
	for _, s := range scopes {
		in.Scopes = append(in.Scopes, admin.ParseScopeFlag(s))
	}
	api, err := rt.admin.CreateAPI(tctx, in)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, api)
}

func clientCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("client create", env)
	var slug, name string
	var public bool
	var redirects, postLogout, grantTypes, audiences, scopes list
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&name, "name", "", "application name")
	f.BoolVar(&public, "public", false, "a public client (single-page or native app): no secret, PKCE")
	f.Var(&redirects, "redirect-uri", "redirect URI (repeatable)")
	f.Var(&postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	f.Var(&grantTypes, "grant-type", strings.Join(tenants.GrantNames(), ", ")+" (repeatable)")
	f.Var(&audiences, "audience", "API the client may request tokens for (repeatable)")
	f.Var(&scopes, "scope", "API scope granted to the client (repeatable)")
	var idAlg string
	f.StringVar(&idAlg, "id-token-signed-response-alg", "", "JWS algorithm of the client's ID tokens: "+algList()+" (default "+tenants.DefaultSigningAlgorithm+")")
	var authMethod string
	f.StringVar(&authMethod, "token-endpoint-auth-method", "", "how the client authenticates at the token endpoint, enforced: "+
		tenants.AuthMethodBasic+" (the default), "+tenants.AuthMethodPost+", "+tenants.AuthMethodSecretJWT+" (HS256 assertions keyed by the secret) or "+tenants.AuthMethodPrivateKey+
		" (with --jwks-file or --jwks-uri); "+tenants.AuthMethodNone+" with --public")
	var requirePAR bool
	f.BoolVar(&requirePAR, "require-pushed-authorization-requests", false, "the client must push its authorization requests to /oauth/par (RFC 9126)")
	var dpopBound bool
	f.BoolVar(&dpopBound, "dpop-bound-access-tokens", false, "the client must send a DPoP proof (RFC 9449) with every token request")
	var grace int64
	f.Int64Var(&grace, "refresh-token-grace-period", 0, "seconds (0 to 60) in which the just-rotated refresh token may be presented again by the client and gets the same successor")
	var logoutURI string
	var logoutSession bool
	f.StringVar(&logoutURI, "backchannel-logout-uri", "", "where the client is sent a logout token when a session of its user ends (OpenID Connect Back-Channel Logout)")
	f.BoolVar(&logoutSession, "backchannel-logout-session-required", false, "every logout token names the session (sid)")
	var consent string
	f.StringVar(&consent, "consent", tenants.ConsentRequired, "required (users are asked) or skip (a first-party application: consent recorded as implicit)")
	var claimFormat string
	f.StringVar(&claimFormat, "claim-format", tenants.ClaimFormatNames, "what the roles and groups claims carry: names or ids (stable across renames)")
	var logo string
	f.StringVar(&logo, "logo-uri", "", "the logo the consent page shows (https)")
	var jwksFile, jwksURI string
	f.StringVar(&jwksFile, "jwks-file", "", "file holding the client's public keys as a JSON Web Key Set, for "+tenants.AuthMethodPrivateKey+" (- for standard input)")
	f.StringVar(&jwksURI, "jwks-uri", "", "URL where the client publishes its JSON Web Key Set, for "+tenants.AuthMethodPrivateKey)
	if err := f.parse(args); err != nil {
		return err
	}
	jwks, err := readJWKSFile(env, jwksFile)
	if err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	c, err := rt.admin.CreateClient(tctx, admin.CreateClientInput{
		Name: name, Public: public, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout,
		GrantTypes: grantTypes, Audiences: audiences, Scopes: scopes, IDTokenSignedResponseAlg: idAlg,
		TokenEndpointAuthMethod: authMethod, JWKS: jwks, JWKSURI: jwksURI, RequirePushedAuthorizationRequests: requirePAR, Consent: consent, ClaimFormat: claimFormat,
		DPoPBoundAccessTokens: dpopBound, RefreshTokenGracePeriod: grace, LogoURI: logo,
		BackchannelLogoutURI: logoutURI, BackchannelLogoutSessionRequired: logoutSession,
	})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, c)
}

// readJWKSFile reads the key set of --jwks-file: "" none, - standard input.
func readJWKSFile(env Env, name string) (string, error) {
	var r io.Reader
	switch name {
	case "":
		return "", nil
	case "-":
		r = env.Stdin
	default:
		f, err := os.Open(name)
		if err != nil {
			return "", fmt.Errorf("--jwks-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, tenants.MaxClientJWKSBytes+1))
	if err != nil {
		return "", fmt.Errorf("--jwks-file: %w", err)
	}
	return string(b), nil
}

func clientList(ctx context.Context, env Env, args []string) error {
	f := newFlags("client list", env).withOutput()
	var slug string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	cs, err := rt.admin.ListClients(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "clients", cs, "client_id", "client_name", "application_type", "grant_types", "redirect_uris")
}

func userCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("user create", env)
	var slug, email, name string
	var passwordStdin bool
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&email, "email", "", "email address")
	f.StringVar(&name, "name", "", "full name")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	if err := f.parse(args); err != nil {
		return err
	}
	if !passwordStdin {
		return errors.New("--password-stdin is required: pipe the password in (never put it on the command line)")
	}
	pw, err := readPassword(env)
	if err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	u, err := rt.admin.CreateUser(tctx, admin.CreateUserInput{Email: email, Password: pw, Name: name})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, u)
}

// userImport imports users from an NDJSON file (- for standard input),
// printing the report, a line per line, then the summary. Refused lines
// make it fail (after the others are imported).
func userImport(ctx context.Context, env Env, args []string) error {
	f := newFlags("user import", env)
	var slug, file string
	var update bool
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&file, "file", "", "NDJSON file of users, - for standard input")
	f.BoolVar(&update, "update", false, "change existing users (by id, else email) where the file differs")
	if err := f.parse(args); err != nil {
		return err
	}
	if file == "" {
		return errors.New("--file is required")
	}
	in := env.Stdin
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return err
		}
		defer fh.Close()
		in = fh
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	enc := json.NewEncoder(env.Stdout)
	sum, err := rt.admin.ImportUsers(tctx, in, admin.ImportOptions{Update: update}, func(r admin.ImportResult) error { return enc.Encode(r) })
	if err != nil {
		return err
	}
	if err := enc.Encode(map[string]any{"summary": sum}); err != nil {
		return err
	}
	if sum.Refused > 0 {
		return fmt.Errorf("%d of %d lines refused (see the report)", sum.Refused, sum.Lines)
	}
	return nil
}

// userExport writes the tenant's users as NDJSON, in the import's format.
func userExport(ctx context.Context, env Env, args []string) error {
	f := newFlags("user export", env)
	var slug string
	var hashes bool
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.BoolVar(&hashes, "password-hashes", false, "include password hashes (audited)")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	w := bufio.NewWriter(env.Stdout)
	enc := json.NewEncoder(w)
	if err := rt.admin.ExportUsers(tctx, hashes, func(r *admin.UserRecord) error { return enc.Encode(r) }); err != nil {
		return err
	}
	return w.Flush()
}

// userFlags parses the flags that name one user of one tenant.
func userFlags(name string, env Env) (*flags, *string, *string) {
	f := newFlags(name, env)
	var slug, email string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&email, "email", "", "email address of the user")
	return f, &slug, &email
}

// withUser opens the runtime in the --tenant and finds the user by --email.
func withUser(ctx context.Context, env Env, f *flags, slug, email string) (*runtime, context.Context, *admin.User, error) {
	if email == "" {
		return nil, nil, nil, errors.New("--email is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := rt.admin.UserByEmail(tctx, email)
	if err != nil {
		rt.close()
		return nil, nil, nil, err
	}
	return rt, tctx, u, nil
}

// userSetPassword sets a user's password, as an admin does in the console:
// the user's sessions end, their tokens are revoked, and the reset and
// change-of-address links sent to them stop working.
func userSetPassword(ctx context.Context, env Env, args []string) error {
	f, slug, email := userFlags("user set-password", env)
	var passwordStdin bool
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	if err := f.parse(args); err != nil {
		return err
	}
	if !passwordStdin {
		return errors.New("--password-stdin is required: pipe the password in (never put it on the command line)")
	}
	pw, err := readPassword(env)
	if err != nil {
		return err
	}
	rt, tctx, u, err := withUser(ctx, env, f, *slug, *email)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.SetUserPassword(tctx, u.ID, pw); err != nil {
		return err
	}
	u, err = rt.admin.GetUser(tctx, u.ID)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, u)
}

func userDisable(ctx context.Context, env Env, args []string) error {
	return setUserDisabled(ctx, env, "user disable", args, true)
}

func userEnable(ctx context.Context, env Env, args []string) error {
	return setUserDisabled(ctx, env, "user enable", args, false)
}

// setUserDisabled disables a user (their sessions end, their tokens are
// revoked, their links stop working) or enables them again.
func setUserDisabled(ctx context.Context, env Env, name string, args []string, disabled bool) error {
	f, slug, email := userFlags(name, env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, u, err := withUser(ctx, env, f, *slug, *email)
	if err != nil {
		return err
	}
	defer rt.close()
	u, err = rt.admin.SetUserDisabled(tctx, u.ID, disabled)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, u)
}

func keyRotate(ctx context.Context, env Env, args []string) error {
	f := newFlags("key rotate", env)
	var slug, alg string
	var now bool
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&alg, "alg", "", "algorithm of the key to rotate: "+algList()+" (default "+tenants.DefaultSigningAlgorithm+")")
	f.BoolVar(&now, "now", false, "sign with the new key at once (after a leak) instead of after its pre-publication")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	k, err := rt.admin.RotateKey(tctx, admin.RotateKeyInput{Algorithm: alg, Now: now})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, k)
}

func keySchedule(ctx context.Context, env Env, args []string) error {
	f := newFlags("key schedule", env)
	var slug string
	var every time.Duration
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.DurationVar(&every, "every", -1, "how often the tenant's keys rotate on their own, e.g. 2160h (0: never)")
	if err := f.parse(args); err != nil {
		return err
	}
	if every < 0 {
		return errors.New("key schedule: give --every (0 stops scheduled rotation)")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	v, err := rt.admin.SetKeyRotation(tctx, every)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, v)
}

// algList names the signing algorithms, for help texts.
func algList() string { return strings.Join(tenants.SigningAlgorithms(), ", ") }

func keyList(ctx context.Context, env Env, args []string) error {
	f := newFlags("key list", env).withOutput()
	var slug string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	ks, err := rt.admin.ListKeys(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "keys", ks, "kid", "alg", "status", "created_at", "activates_at", "expires_at")
}

func adminCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("admin create", env)
	var email, name, slug string
	var passwordStdin bool
	f.StringVar(&email, "email", "", "email address of the administrator")
	f.StringVar(&name, "name", "", "full name")
	var scopes list
	f.StringVar(&slug, "tenant", "", "make a tenant admin of this tenant (default: an operator of every tenant)")
	f.Var(&scopes, "scope", "management scope: tenants:read, tenants:write, audit:read (repeatable; default: all)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	if err := f.parse(args); err != nil {
		return err
	}
	if !passwordStdin {
		return errors.New("--password-stdin is required: pipe the password in (never put it on the command line)")
	}
	pw, err := readPassword(env)
	if err != nil {
		return err
	}
	rt, err := open(ctx, env, f)
	if err != nil {
		return err
	}
	defer rt.close()
	var in []string
	if len(scopes) > 0 {
		in = scopes
	}
	a, err := rt.admin.CreateAdmin(ctx, admin.CreateAdminInput{Email: email, Password: pw, Name: name, TenantSlug: slug, Scopes: in})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, a)
}

func adminClientCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("admin client create", env)
	var name, slug string
	var scopes list
	f.StringVar(&name, "name", "", "client name")
	f.StringVar(&slug, "tenant", "", "limit the client to this tenant (default: every tenant)")
	f.Var(&scopes, "scope", "management scope: tenants:read, tenants:write, audit:read (repeatable)")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, err := open(ctx, env, f)
	if err != nil {
		return err
	}
	defer rt.close()
	c, err := rt.admin.CreateAdminClient(ctx, admin.CreateAdminClientInput{Name: name, Scopes: scopes, TenantSlug: slug})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, c)
}

// asOperator opens the runtime and returns ctx carrying the CLI's
// principal: whoever runs the command on the server is an operator.
func asOperator(ctx context.Context, env Env, f *flags) (*runtime, context.Context, error) {
	rt, err := open(ctx, env, f)
	if err != nil {
		return nil, nil, err
	}
	return rt, admin.WithPrincipal(ctx, admin.CLI()), nil
}

// accessFlags adds the flags that change what an administrator or a
// management client may do, and returns how to read them.
func accessFlags(f *flags) func() (admin.UpdateAccessInput, error) {
	var operator bool
	var tenantSlugs, scopes list
	f.BoolVar(&operator, "operator", false, "make it an operator of every tenant")
	f.Var(&tenantSlugs, "tenant", "make it a tenant admin of this tenant (repeatable: replaces its tenants)")
	f.Var(&scopes, "scope", "management scope: tenants:read, tenants:write, audit:read (repeatable: replaces its scopes)")
	return func() (admin.UpdateAccessInput, error) {
		var in admin.UpdateAccessInput
		set := map[string]bool{}
		f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
		if set["operator"] {
			in.Operator = &operator
		}
		if len(tenantSlugs) > 0 {
			if operator {
				return in, errors.New("--operator and --tenant: an operator administers every tenant, choose one")
			}
			no := false
			in.Operator, in.Tenants = &no, tenantSlugs
		}
		if len(scopes) > 0 {
			in.Scopes = scopes
		}
		if in.Operator == nil && in.Scopes == nil {
			return in, errors.New("nothing to change: give --operator, --tenant or --scope")
		}
		return in, nil
	}
}

func adminList(ctx context.Context, env Env, args []string) error {
	f := newFlags("admin list", env).withOutput()
	if err := f.parse(args); err != nil {
		return err
	}
	rt, octx, err := asOperator(ctx, env, f)
	if err != nil {
		return err
	}
	defer rt.close()
	as, err := rt.admin.ListAdmins(octx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "administrators", as, "user", "role", "tenants", "scopes")
}

// adminFlags parses the flags of a command about one administrator.
func adminFlags(name string, env Env) (*flags, *string) {
	f := newFlags(name, env)
	var email string
	f.StringVar(&email, "email", "", "email address of the administrator")
	return f, &email
}

// findAdmin opens the runtime as an operator and finds the administrator
// by --email.
func findAdmin(ctx context.Context, env Env, f *flags, email string) (*runtime, context.Context, *admin.Admin, error) {
	if email == "" {
		return nil, nil, nil, errors.New("--email is required")
	}
	rt, octx, err := asOperator(ctx, env, f)
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := rt.admin.AdminByEmail(octx, email)
	if err != nil {
		rt.close()
		return nil, nil, nil, err
	}
	return rt, octx, a, nil
}

func adminUpdate(ctx context.Context, env Env, args []string) error {
	f, email := adminFlags("admin update", env)
	change := accessFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	in, err := change()
	if err != nil {
		return err
	}
	rt, octx, a, err := findAdmin(ctx, env, f, *email)
	if err != nil {
		return err
	}
	defer rt.close()
	if a, err = rt.admin.UpdateAdmin(octx, a.User.ID, in); err != nil {
		return err
	}
	return printJSON(env.Stdout, a)
}

// adminDelete deletes an administrator: their console sessions and tokens
// end. The last operator cannot be deleted.
func adminDelete(ctx context.Context, env Env, args []string) error {
	f, email := adminFlags("admin delete", env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, octx, a, err := findAdmin(ctx, env, f, *email)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.DeleteAdmin(octx, a.User.ID); err != nil {
		return fmt.Errorf("administrator %q: %w", *email, err)
	}
	return printJSON(env.Stdout, map[string]any{"deleted": a})
}

func adminClientList(ctx context.Context, env Env, args []string) error {
	f := newFlags("admin client list", env).withOutput()
	if err := f.parse(args); err != nil {
		return err
	}
	rt, octx, err := asOperator(ctx, env, f)
	if err != nil {
		return err
	}
	defer rt.close()
	cs, err := rt.admin.ListAdminClients(octx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "clients", cs, "client_id", "client_name", "role", "tenants", "scopes")
}

// adminClientFlags parses the flags of a command about one management
// client.
func adminClientFlags(name string, env Env) (*flags, *string) {
	f := newFlags(name, env)
	var id string
	f.StringVar(&id, "client-id", "", "client_id of the management client")
	return f, &id
}

func adminClientUpdate(ctx context.Context, env Env, args []string) error {
	f, id := adminClientFlags("admin client update", env)
	change := accessFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	in, err := change()
	if err != nil {
		return err
	}
	if *id == "" {
		return errors.New("--client-id is required")
	}
	rt, octx, err := asOperator(ctx, env, f)
	if err != nil {
		return err
	}
	defer rt.close()
	c, err := rt.admin.UpdateAdminClient(octx, *id, in)
	if err != nil {
		return fmt.Errorf("management client %q: %w", *id, err)
	}
	return printJSON(env.Stdout, c)
}

// adminClientDelete revokes a management client: its secret and tokens
// stop working at once.
func adminClientDelete(ctx context.Context, env Env, args []string) error {
	f, id := adminClientFlags("admin client delete", env)
	if err := f.parse(args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("--client-id is required")
	}
	rt, octx, err := asOperator(ctx, env, f)
	if err != nil {
		return err
	}
	defer rt.close()
	c, err := rt.admin.GetAdminClient(octx, *id)
	if err != nil {
		return fmt.Errorf("management client %q: %w", *id, err)
	}
	if err := rt.admin.DeleteAdminClient(octx, *id); err != nil {
		return fmt.Errorf("management client %q: %w", *id, err)
	}
	return printJSON(env.Stdout, map[string]any{"deleted": c})
}

func readPassword(env Env) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(env.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func connectionCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("connection create", env)
	var slug, typ, name, issuer, clientID, metadataFile, metadataURL, provisioning, teamID, keyID, keyFile string
	var secretStdin, trustEmail, idpInitiated bool
	var domains list
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&typ, "type", "", "google, github, microsoft, apple, oidc or saml")
	f.StringVar(&teamID, "apple-team-id", "", "apple: the Apple developer team id")
	f.StringVar(&keyID, "apple-key-id", "", "apple: the id of the Sign in with Apple key")
	f.StringVar(&keyFile, "apple-key-file", "", "apple: the Sign in with Apple private key (.p8 `FILE`); --client-id is the Services ID")
	f.StringVar(&name, "name", "", "name shown on the login button (Continue with NAME)")
	f.StringVar(&issuer, "issuer", "", "issuer `URL` of an OpenID provider (oidc): its discovery document is fetched to check it")
	f.StringVar(&clientID, "client-id", "", "client id registered at the provider")
	f.BoolVar(&secretStdin, "client-secret-stdin", false, "read the client secret from standard input")
	f.StringVar(&metadataFile, "metadata-file", "", "the SAML IdP's metadata XML file")
	f.StringVar(&metadataURL, "metadata-url", "", "the SAML IdP's metadata URL")
	f.Var(&domains, "domain", "email domain whose users sign in here (home-realm discovery; repeatable)")
	f.BoolVar(&trustEmail, "trust-email", false, "the provider is authoritative for the verified email addresses it asserts")
	f.BoolVar(&idpInitiated, "allow-idp-initiated", false, "accept SAML responses the IdP sends unasked (off by default)")
	f.StringVar(&provisioning, "provisioning", tenants.ProvisionTenant, "whether a first login creates a user: tenant (when the tenant's sign-up allows it), create (always) or existing (never)")
	var disabled bool
	f.BoolVar(&disabled, "disabled", false, "create it disabled: not offered on the login pages until connection update --enabled")
	if err := f.parse(args); err != nil {
		return err
	}
	enabled := !disabled
	in := admin.ConnectionInput{Type: typ, Domains: domains, TrustEmail: &trustEmail, Provisioning: &provisioning, Enabled: &enabled}
	if name != "" {
		in.Name = &name
	}
	if typ == "saml" {
		if metadataFile != "" {
			b, err := os.ReadFile(metadataFile)
			if err != nil {
				return fmt.Errorf("--metadata-file: %w", err)
			}
			x := string(b)
			in.MetadataXML = &x
		}
		if metadataURL != "" {
			in.MetadataURL = &metadataURL
		}
		in.AllowIDPInitiated = &idpInitiated
	} else if typ == tenants.ConnectionApple {
		in.ClientID, in.AppleTeamID, in.AppleKeyID = &clientID, &teamID, &keyID
		if keyFile == "" {
			return errors.New("--apple-key-file is required: the .p8 file Apple gave for the key")
		}
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return fmt.Errorf("--apple-key-file: %w", err)
		}
		key := string(b)
		in.ClientSecret = &key
	} else {
		in.ClientID = &clientID
		if issuer != "" {
			in.Issuer = &issuer
		}
		if !secretStdin {
			return errors.New("--client-secret-stdin is required: pipe the client secret in (never put it on the command line)")
		}
		secret, err := readPassword(env)
		if err != nil {
			return err
		}
		in.ClientSecret = &secret
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	c, err := rt.admin.CreateConnection(tctx, in)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, c)
}

func connectionList(ctx context.Context, env Env, args []string) error {
	f := newFlags("connection list", env).withOutput()
	var slug string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	cs, err := rt.admin.ListConnections(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "connections", cs, "id", "type", "name", "enabled", "domains", "issuer")
}
