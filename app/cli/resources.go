package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// The show, update and delete commands of each resource, beside the create
// and list commands of cli.go: each one call of the admin service the
// management API calls, in the tenant --tenant (or SLUG) names.

// set reports whether the flag name was given.
func (f *flags) set(name string) bool {
	given := false
	f.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	return given
}

// changed returns &v when the flag name was given, else nil: an update
// input's "leave it as it is".
func changed[T any](f *flags, name string, v T) *T {
	if !f.set(name) {
		return nil
	}
	return &v
}

// tenantFlags is the parser of a command on the tenant SLUG.
func tenantFlags(name string, env Env) *flags {
	return newFlags(name, env, "SLUG").withOutput()
}

func tenantShow(ctx context.Context, env Env, args []string) error {
	f := tenantFlags("tenant show", env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, f.positional[0])
	if err != nil {
		return err
	}
	defer rt.close()
	t, err := rt.admin.GetTenant(tctx)
	if err != nil {
		return err
	}
	return f.printOne(env.Stdout, t)
}

func tenantUpdate(ctx context.Context, env Env, args []string) error {
	f := tenantFlags("tenant update", env)
	var name, logo, accent, signup, mfa, from, registration, locale, replyTo string
	var signupDomains, grantTypes list
	var minLen int
	var access, idTok, refresh, session time.Duration
	var par bool
	f.StringVar(&name, "name", "", "display name")
	f.StringVar(&logo, "logo-url", "", "https `URL` of the logo on the login pages (empty: none)")
	f.StringVar(&accent, "accent-color", "", "accent `COLOR` of the login pages, #rrggbb")
	f.StringVar(&signup, "signup", "", "who may sign up: off, open or domains (with --signup-domain)")
	f.Var(&signupDomains, "signup-domain", "email `DOMAIN` that may sign up when --signup domains (repeatable: replaces them)")
	f.Var(&grantTypes, "grant-type", "grant `TYPE` the tenant's applications may use: "+strings.Join(tenants.GrantNames(), ", ")+" (repeatable: replaces them)")
	f.IntVar(&minLen, "password-min-length", 0, "shortest password accepted, 8 to 64")
	f.StringVar(&mfa, "mfa", "", "multi-factor authentication: off, optional or required")
	f.StringVar(&from, "email-from-name", "", "sender `NAME` of the tenant's email")
	f.DurationVar(&access, "access-token-lifetime", 0, "lifetime of access tokens, e.g. 15m")
	f.DurationVar(&idTok, "id-token-lifetime", 0, "lifetime of ID tokens, e.g. 1h")
	f.DurationVar(&refresh, "refresh-token-lifetime", 0, "lifetime of refresh tokens, e.g. 720h")
	f.DurationVar(&session, "session-lifetime", 0, "lifetime of sign-in sessions, e.g. 168h")
	f.BoolVar(&par, "require-pushed-authorization-requests", false, "every application must push its authorization requests (RFC 9126); =false to stop")
	f.StringVar(&registration, "client-registration", "", "who may register applications at /oauth/register (RFC 7591): "+
		strings.Join(tenants.RegistrationModes(), ", "))
	f.StringVar(&locale, "default-locale", "", "the pages' language when nothing else chooses one: "+strings.Join(i18n.Builtin().Supported(), ", ")+" (empty: en)")
	f.StringVar(&replyTo, "email-reply-to", "", "Reply-To `ADDRESS` of the tenant's email (empty: none)")
	var mdFields string
	f.StringVar(&mdFields, "user-metadata-fields", "", "the user_metadata fields users may edit on the account page, as `JSON`: "+
		`[{"name":"nickname","label":"Nickname","type":"string","max_length":40}] (types string, number, boolean; [] for none)`)
	if err := f.parse(args); err != nil {
		return err
	}
	in := admin.TenantSettings{
		Name: changed(f, "name", name), LogoURL: changed(f, "logo-url", logo), AccentColor: changed(f, "accent-color", accent),
		SignupMode: changed(f, "signup", signup), PasswordMinLength: changed(f, "password-min-length", minLen),
		MFAPolicy: changed(f, "mfa", mfa), EmailFromName: changed(f, "email-from-name", from),
		AccessTokenLifetime: changed(f, "access-token-lifetime", access), IDTokenLifetime: changed(f, "id-token-lifetime", idTok),
		RefreshTokenLifetime: changed(f, "refresh-token-lifetime", refresh), SessionLifetime: changed(f, "session-lifetime", session),
		RequirePushedAuthorizationRequests: changed(f, "require-pushed-authorization-requests", par),
		ClientRegistration:                 changed(f, "client-registration", registration), DefaultLocale: changed(f, "default-locale", locale),
		EmailReplyTo: changed(f, "email-reply-to", replyTo),
	}
	if f.set("signup-domain") {
		in.SignupDomains = signupDomains
	}
	if f.set("grant-type") {
		in.GrantTypes = grantTypes
	}
	if f.set("user-metadata-fields") {
		in.UserMetadataFields = []tenants.MetadataField{}
		dec := json.NewDecoder(strings.NewReader(mdFields))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in.UserMetadataFields); err != nil {
			return fmt.Errorf("--user-metadata-fields: %w", err)
		}
	}
	given := 0
	f.Visit(func(fl *flag.Flag) {
		if fl.Name != "database-url" && fl.Name != "output" {
			given++
		}
	})
	if given == 0 {
		return errors.New("tenant update: nothing to change: give a flag (see gatehouse tenant update --help)")
	}
	rt, tctx, err := inTenant(ctx, env, f, f.positional[0])
	if err != nil {
		return err
	}
	defer rt.close()
	t, err := rt.admin.UpdateTenant(tctx, in)
	if err != nil {
		return err
	}
	return f.printOne(env.Stdout, t)
}

// tenantDelete deletes a tenant and everything it owns; --confirm must
// repeat its slug, as the console and the API ask.
func tenantDelete(ctx context.Context, env Env, args []string) error {
	f := tenantFlags("tenant delete", env)
	var confirm string
	f.StringVar(&confirm, "confirm", "", "the tenant's `SLUG` again: everything the tenant owns is deleted")
	if err := f.parse(args); err != nil {
		return err
	}
	if confirm == "" {
		return fmt.Errorf("tenant delete: give --confirm %s: everything the tenant owns is deleted", f.positional[0])
	}
	rt, tctx, err := inTenant(ctx, env, f, f.positional[0])
	if err != nil {
		return err
	}
	defer rt.close()
	t, err := rt.admin.GetTenant(tctx)
	if err != nil {
		return err
	}
	if err := rt.admin.DeleteTenant(tctx, confirm); err != nil {
		return err
	}
	return f.printOne(env.Stdout, map[string]any{"deleted": t})
}

// apiFlags is the parser of a command on one API, named by --audience (or
// its id).
func apiFlags(name string, env Env) (f *flags, slug, ref *string) {
	f = newFlags(name, env).withOutput()
	slug, ref = new(string), new(string)
	f.StringVar(slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(ref, "audience", "", "the API's audience `URI` (or its id)")
	return f, slug, ref
}

// findAPI opens the runtime in the tenant and finds the API by audience
// or id.
func findAPI(ctx context.Context, env Env, f *flags, slug, ref string) (*runtime, context.Context, *admin.API, error) {
	if ref == "" {
		return nil, nil, nil, errors.New("--audience is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return nil, nil, nil, err
	}
	as, err := rt.admin.ListAPIs(tctx)
	if err != nil {
		rt.close()
		return nil, nil, nil, err
	}
	for _, a := range as {
		if a.Audience == ref || a.ID == ref {
			return rt, tctx, a, nil
		}
	}
	rt.close()
	return nil, nil, nil, fmt.Errorf("API %q: %w", ref, tenants.ErrNotFound)
}

func apiList(ctx context.Context, env Env, args []string) error {
	f := newFlags("api list", env).withOutput()
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
	as, err := rt.admin.ListAPIs(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "apis", as, "id", "audience", "name", "signing_alg", "rbac", "scopes")
}

func apiShow(ctx context.Context, env Env, args []string) error {
	f, slug, ref := apiFlags("api show", env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, _, a, err := findAPI(ctx, env, f, *slug, *ref)
	if err != nil {
		return err
	}
	defer rt.close()
	return f.printOne(env.Stdout, a)
}

func apiUpdate(ctx context.Context, env Env, args []string) error {
	f, slug, ref := apiFlags("api update", env)
	var name, alg, claims, rs string
	var scopes list
	var rbac bool
	f.StringVar(&name, "name", "", "display name")
	f.StringVar(&rs, "resource-server-client-id", "", "client_id of a confidential application that may introspect the API's access tokens as the API (empty: none)")
	f.Var(&scopes, "scope", "scope the API defines, NAME or NAME=DESCRIPTION (repeatable: replaces them)")
	f.StringVar(&alg, "signing-alg", "", "JWS algorithm of the API's access tokens: "+algList())
	f.BoolVar(&rbac, "rbac", false, "users get only the scopes their roles hold; =false to stop")
	f.StringVar(&claims, "token-claims", "", "claims of the API's access tokens, comma-separated: "+strings.Join(tenants.TokenClaimNames(), ", ")+" (empty: none)")
	if err := f.parse(args); err != nil {
		return err
	}
	in := admin.UpdateAPIInput{Name: changed(f, "name", name), SigningAlg: changed(f, "signing-alg", alg), RBAC: changed(f, "rbac", rbac),
		ResourceServerClientID: changed(f, "resource-server-client-id", rs)}
	if f.set("scope") {
		in.Scopes = []admin.ScopeInput{}
		for _, s := range scopes {
			in.Scopes = append(in.Scopes, admin.ParseScopeFlag(s))
		}
	}
	if f.set("token-claims") {
		cs := []string{}
		if claims != "" {
			cs = strings.Split(claims, ",")
		}
		in.TokenClaims = &cs
	}
	if in.Name == nil && in.SigningAlg == nil && in.RBAC == nil && in.Scopes == nil && in.TokenClaims == nil && in.ResourceServerClientID == nil {
		return errors.New("api update: nothing to change: give a flag (see gatehouse api update --help)")
	}
	rt, tctx, a, err := findAPI(ctx, env, f, *slug, *ref)
	if err != nil {
		return err
	}
	defer rt.close()
	a, err = rt.admin.UpdateAPI(tctx, a.ID, in)
	if err != nil {
		return err
	}
	return f.printOne(env.Stdout, a)
}

func apiDelete(ctx context.Context, env Env, args []string) error {
	f, slug, ref := apiFlags("api delete", env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, a, err := findAPI(ctx, env, f, *slug, *ref)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.DeleteAPI(tctx, a.ID); err != nil {
		return err
	}
	return f.printOne(env.Stdout, map[string]any{"deleted": a})
}

// appFlags is the parser of a command on one application.
func appFlags(name string, env Env) (f *flags, slug, id *string) {
	f = newFlags(name, env).withOutput()
	slug, id = new(string), new(string)
	f.StringVar(slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(id, "client-id", "", "the application's client_id (see client list)")
	return f, slug, id
}

// findClient opens the runtime in the tenant and finds the application.
func findClient(ctx context.Context, env Env, f *flags, slug, id string) (*runtime, context.Context, *admin.Client, error) {
	if id == "" {
		return nil, nil, nil, errors.New("--client-id is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := rt.admin.GetClient(tctx, id)
	if err != nil {
		rt.close()
		return nil, nil, nil, fmt.Errorf("application %q: %w", id, err)
	}
	return rt, tctx, c, nil
}

func clientShow(ctx context.Context, env Env, args []string) error {
	f, slug, id := appFlags("client show", env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, _, c, err := findClient(ctx, env, f, *slug, *id)
	if err != nil {
		return err
	}
	defer rt.close()
	return f.printOne(env.Stdout, c)
}

func clientUpdate(ctx context.Context, env Env, args []string) error {
	f, slug, id := appFlags("client update", env)
	var name, idAlg, authMethod string
	var redirects, postLogout, grantTypes list
	var par, dpop, logoutSession bool
	var grace int64
	var logoutURI, jwksFile, jwksURI string
	f.StringVar(&name, "name", "", "application name")
	f.Var(&redirects, "redirect-uri", "redirect URI (repeatable: replaces them)")
	f.Var(&postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable: replaces them)")
	f.Var(&grantTypes, "grant-type", strings.Join(tenants.GrantNames(), ", ")+" (repeatable: replaces them)")
	f.StringVar(&idAlg, "id-token-signed-response-alg", "", "JWS algorithm of the application's ID tokens: "+algList())
	f.StringVar(&authMethod, "token-endpoint-auth-method", "", "how a confidential application authenticates: "+tenants.AuthMethodBasic+" or "+tenants.AuthMethodPost)
	f.BoolVar(&par, "require-pushed-authorization-requests", false, "the application must push its authorization requests (RFC 9126); =false to stop")
	f.BoolVar(&dpop, "dpop-bound-access-tokens", false, "the application must send a DPoP proof (RFC 9449) with every token request; =false to stop")
	f.Int64Var(&grace, "refresh-token-grace-period", 0, "seconds (0 to 60) in which a just-rotated refresh token may be presented again and gets the same successor")
	f.StringVar(&logoutURI, "backchannel-logout-uri", "", "where the application is sent logout tokens (empty: nowhere)")
	f.BoolVar(&logoutSession, "backchannel-logout-session-required", false, "every logout token names the session (sid); =false to stop")
	f.StringVar(&jwksFile, "jwks-file", "", "file holding a "+tenants.AuthMethodPrivateKey+" application's new public keys, a JSON Web Key Set (- for standard input)")
	f.StringVar(&jwksURI, "jwks-uri", "", "where a "+tenants.AuthMethodPrivateKey+" application publishes its keys from now on")
	var claimFormat, logo string
	f.StringVar(&claimFormat, "claim-format", "", "what the roles and groups claims carry from now on: names or ids")
	f.StringVar(&logo, "logo-uri", "", "the logo the consent page shows (https; empty: none)")
	if err := f.parse(args); err != nil {
		return err
	}
	in := admin.UpdateClientInput{Name: changed(f, "name", name), IDTokenSignedResponseAlg: changed(f, "id-token-signed-response-alg", idAlg), ClaimFormat: changed(f, "claim-format", claimFormat),
		TokenEndpointAuthMethod: changed(f, "token-endpoint-auth-method", authMethod), RequirePushedAuthorizationRequests: changed(f, "require-pushed-authorization-requests", par),
		DPoPBoundAccessTokens: changed(f, "dpop-bound-access-tokens", dpop), RefreshTokenGracePeriod: changed(f, "refresh-token-grace-period", grace),
		BackchannelLogoutURI: changed(f, "backchannel-logout-uri", logoutURI), BackchannelLogoutSessionRequired: changed(f, "backchannel-logout-session-required", logoutSession),
		JWKSURI: changed(f, "jwks-uri", jwksURI), LogoURI: changed(f, "logo-uri", logo)}
	if f.set("jwks-file") {
		jwks, err := readJWKSFile(env, jwksFile)
		if err != nil {
			return err
		}
		in.JWKS = &jwks
	}
	if f.set("redirect-uri") {
		in.RedirectURIs = redirects
	}
	if f.set("post-logout-redirect-uri") {
		in.PostLogoutRedirectURIs = postLogout
	}
	if f.set("grant-type") {
		in.GrantTypes = grantTypes
	}
	if in.Name == nil && in.IDTokenSignedResponseAlg == nil && in.ClaimFormat == nil && in.TokenEndpointAuthMethod == nil && in.RequirePushedAuthorizationRequests == nil &&
		in.RedirectURIs == nil && in.PostLogoutRedirectURIs == nil && in.GrantTypes == nil && in.DPoPBoundAccessTokens == nil &&
		in.RefreshTokenGracePeriod == nil && in.BackchannelLogoutURI == nil && in.BackchannelLogoutSessionRequired == nil && in.JWKS == nil && in.JWKSURI == nil &&
		in.LogoURI == nil {
		return errors.New("client update: nothing to change: give a flag (see gatehouse client update --help)")
	}
	rt, tctx, c, err := findClient(ctx, env, f, *slug, *id)
	if err != nil {
		return err
	}
	defer rt.close()
	c, err = rt.admin.UpdateClient(tctx, c.ClientID, in)
	if err != nil {
		return err
	}
	return f.printOne(env.Stdout, c)
}

func clientDelete(ctx context.Context, env Env, args []string) error {
	f, slug, id := appFlags("client delete", env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, c, err := findClient(ctx, env, f, *slug, *id)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.DeleteClient(tctx, c.ClientID); err != nil {
		return err
	}
	return f.printOne(env.Stdout, map[string]any{"deleted": c})
}

// userList prints the tenant's users matching --query (all of them,
// page by page, or the first --limit).
func userList(ctx context.Context, env Env, args []string) error {
	f := newFlags("user list", env).withOutput()
	var slug, query string
	var limit int
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&query, "query", "", "only users whose email or name contains `TEXT`")
	f.IntVar(&limit, "limit", 0, "at most N users (default: all)")
	if err := f.parse(args); err != nil {
		return err
	}
	if limit < 0 {
		return errors.New("user list: --limit must not be negative")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	users := []*admin.User{}
	after := ""
	for {
		page := 100
		if limit > 0 {
			page = min(page, limit-len(users))
		}
		p, err := rt.admin.ListUsers(tctx, query, after, page)
		if err != nil {
			return err
		}
		users = append(users, p.Users...)
		if p.Next == "" || len(p.Users) == 0 || limit > 0 && len(users) >= limit {
			break
		}
		after = p.Next
	}
	return f.printList(env.Stdout, "users", users, "id", "email", "name", "email_verified", "disabled", "last_login_at")
}

func userShow(ctx context.Context, env Env, args []string) error {
	f, slug, email := userFlags("user show", env)
	f.withOutput()
	if err := f.parse(args); err != nil {
		return err
	}
	rt, _, u, err := withUser(ctx, env, f, *slug, *email)
	if err != nil {
		return err
	}
	defer rt.close()
	return f.printOne(env.Stdout, u)
}

func userUpdate(ctx context.Context, env Env, args []string) error {
	f, slug, email := userFlags("user update", env)
	f.withOutput()
	var newEmail, name, given, family string
	var verified bool
	f.StringVar(&newEmail, "new-email", "", "the user's new email `ADDRESS`")
	f.StringVar(&name, "name", "", "full name")
	f.StringVar(&given, "given-name", "", "given name")
	f.StringVar(&family, "family-name", "", "family name")
	f.BoolVar(&verified, "email-verified", false, "the email address is verified; =false to unverify")
	if err := f.parse(args); err != nil {
		return err
	}
	in := admin.UpdateUserInput{Email: changed(f, "new-email", newEmail), Name: changed(f, "name", name), GivenName: changed(f, "given-name", given),
		FamilyName: changed(f, "family-name", family), EmailVerified: changed(f, "email-verified", verified)}
	if in == (admin.UpdateUserInput{}) {
		return errors.New("user update: nothing to change: give a flag (see gatehouse user update --help)")
	}
	rt, tctx, u, err := withUser(ctx, env, f, *slug, *email)
	if err != nil {
		return err
	}
	defer rt.close()
	u, err = rt.admin.UpdateUser(tctx, u.ID, in)
	if err != nil {
		return err
	}
	return f.printOne(env.Stdout, u)
}

func userDelete(ctx context.Context, env Env, args []string) error {
	f, slug, email := userFlags("user delete", env)
	f.withOutput()
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, u, err := withUser(ctx, env, f, *slug, *email)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.DeleteUser(tctx, u.ID); err != nil {
		return err
	}
	return f.printOne(env.Stdout, map[string]any{"deleted": u})
}

// rbacFlags is the parser of a command on one role or group, named by
// --name (or its id).
func rbacFlags(name, what string, env Env) (f *flags, slug, ref *string) {
	f = newFlags(name, env).withOutput()
	slug, ref = new(string), new(string)
	f.StringVar(slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(ref, "name", "", "the "+what+"'s `NAME` or id")
	return f, slug, ref
}

func roleShow(ctx context.Context, env Env, args []string) error {
	f, slug, ref := rbacFlags("role show", "role", env)
	if err := f.parse(args); err != nil {
		return err
	}
	if *ref == "" {
		return errors.New("--name is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, *slug)
	if err != nil {
		return err
	}
	defer rt.close()
	r, err := rt.admin.GetRole(tctx, *ref)
	if err != nil {
		return fmt.Errorf("role %q: %w", *ref, err)
	}
	return f.printOne(env.Stdout, r)
}

func roleUpdate(ctx context.Context, env Env, args []string) error {
	f, slug, ref := rbacFlags("role update", "role", env)
	var newName, desc string
	var perms permissionFlags
	f.StringVar(&newName, "new-name", "", "the role's new `NAME`")
	f.StringVar(&desc, "description", "", "what the role is for")
	f.Var(apiFlag{&perms}, "api", "`AUDIENCE` of the API the --scope flags after it name (with --scope: replaces the permissions)")
	f.Var(scopeFlag{&perms}, "scope", "a `SCOPE` of the API named by the --api before it (repeatable)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *ref == "" {
		return errors.New("--name is required")
	}
	if perms.api != "" && len(perms.perms) == 0 {
		return errors.New("role update: --api needs at least one --scope after it")
	}
	in := admin.RoleInput{Name: changed(f, "new-name", newName), Description: changed(f, "description", desc)}
	if f.set("api") {
		in.Permissions = &perms.perms
	}
	if in == (admin.RoleInput{}) {
		return errors.New("role update: nothing to change: give a flag (see gatehouse role update --help)")
	}
	rt, tctx, err := inTenant(ctx, env, f, *slug)
	if err != nil {
		return err
	}
	defer rt.close()
	r, err := rt.admin.UpdateRole(tctx, *ref, in)
	if err != nil {
		return fmt.Errorf("role %q: %w", *ref, err)
	}
	return f.printOne(env.Stdout, r)
}

func groupShow(ctx context.Context, env Env, args []string) error {
	f, slug, ref := rbacFlags("group show", "group", env)
	if err := f.parse(args); err != nil {
		return err
	}
	if *ref == "" {
		return errors.New("--name is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, *slug)
	if err != nil {
		return err
	}
	defer rt.close()
	g, err := rt.admin.GetGroup(tctx, *ref)
	if err != nil {
		return fmt.Errorf("group %q: %w", *ref, err)
	}
	return f.printOne(env.Stdout, g)
}

func groupUpdate(ctx context.Context, env Env, args []string) error {
	f, slug, ref := rbacFlags("group update", "group", env)
	var newName, desc string
	f.StringVar(&newName, "new-name", "", "the group's new `NAME`")
	f.StringVar(&desc, "description", "", "what the group is")
	if err := f.parse(args); err != nil {
		return err
	}
	if *ref == "" {
		return errors.New("--name is required")
	}
	in := admin.GroupInput{Name: changed(f, "new-name", newName), Description: changed(f, "description", desc)}
	if in == (admin.GroupInput{}) {
		return errors.New("group update: nothing to change: give --new-name or --description")
	}
	rt, tctx, err := inTenant(ctx, env, f, *slug)
	if err != nil {
		return err
	}
	defer rt.close()
	g, err := rt.admin.UpdateGroup(tctx, *ref, in)
	if err != nil {
		return fmt.Errorf("group %q: %w", *ref, err)
	}
	return f.printOne(env.Stdout, g)
}

func keyShow(ctx context.Context, env Env, args []string) error {
	f := newFlags("key show", env).withOutput()
	var slug, kid string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&kid, "kid", "", "the key's `KID` (see key list)")
	if err := f.parse(args); err != nil {
		return err
	}
	if kid == "" {
		return errors.New("--kid is required")
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
	for _, k := range ks {
		if k.KID == kid {
			return f.printOne(env.Stdout, k)
		}
	}
	return fmt.Errorf("key %q: %w", kid, tenants.ErrNotFound)
}

// connectionFlags is the parser of a command on one connection, named by
// --name (or its id).
func connectionFlags(name string, env Env) (f *flags, slug, ref *string) {
	return rbacFlags(name, "connection", env)
}

// findConnection opens the runtime in the tenant and finds the connection
// by name or id.
func findConnection(ctx context.Context, env Env, f *flags, slug, ref string) (*runtime, context.Context, *admin.Connection, error) {
	if ref == "" {
		return nil, nil, nil, errors.New("--name is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return nil, nil, nil, err
	}
	cs, err := rt.admin.ListConnections(tctx)
	if err != nil {
		rt.close()
		return nil, nil, nil, err
	}
	for _, c := range cs {
		if c.ID == ref || c.Name == ref {
			return rt, tctx, c, nil
		}
	}
	rt.close()
	return nil, nil, nil, fmt.Errorf("connection %q: %w", ref, tenants.ErrNotFound)
}

func connectionShow(ctx context.Context, env Env, args []string) error {
	f, slug, ref := connectionFlags("connection show", env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, _, c, err := findConnection(ctx, env, f, *slug, *ref)
	if err != nil {
		return err
	}
	defer rt.close()
	return f.printOne(env.Stdout, c)
}

func connectionUpdate(ctx context.Context, env Env, args []string) error {
	f, slug, ref := connectionFlags("connection update", env)
	var newName, clientID, issuer, provisioning, metadataFile, metadataURL string
	var enabled, trustEmail, secretStdin, idpInitiated bool
	var domains list
	f.StringVar(&newName, "new-name", "", "the name shown on the login button, Continue with `NAME`")
	f.BoolVar(&enabled, "enabled", false, "offer the connection on the login pages; =false to hide it")
	f.StringVar(&clientID, "client-id", "", "client id registered at the provider")
	f.BoolVar(&secretStdin, "client-secret-stdin", false, "read a new client secret from standard input")
	f.StringVar(&issuer, "issuer", "", "issuer `URL` of an OpenID provider (oidc; its discovery is fetched again)")
	f.StringVar(&metadataFile, "metadata-file", "", "the SAML IdP's metadata XML `FILE`")
	f.StringVar(&metadataURL, "metadata-url", "", "the SAML IdP's metadata `URL`")
	f.Var(&domains, "domain", "email `DOMAIN` whose users sign in here (repeatable: replaces them)")
	f.BoolVar(&trustEmail, "trust-email", false, "the provider is authoritative for the verified email addresses it asserts; =false to stop")
	f.BoolVar(&idpInitiated, "allow-idp-initiated", false, "accept SAML responses the IdP sends unasked; =false to stop")
	f.StringVar(&provisioning, "provisioning", "", "whether a first login creates a user: tenant, create or existing")
	var passGroups bool
	f.BoolVar(&passGroups, "pass-groups", false, "oidc, saml: pass upstream groups the group mapping maps to no group through in the groups claim; =false to stop")
	if err := f.parse(args); err != nil {
		return err
	}
	in := admin.ConnectionInput{PassGroups: changed(f, "pass-groups", passGroups), Name: changed(f, "new-name", newName), Enabled: changed(f, "enabled", enabled), ClientID: changed(f, "client-id", clientID),
		Issuer: changed(f, "issuer", issuer), TrustEmail: changed(f, "trust-email", trustEmail), Provisioning: changed(f, "provisioning", provisioning),
		MetadataURL: changed(f, "metadata-url", metadataURL), AllowIDPInitiated: changed(f, "allow-idp-initiated", idpInitiated)}
	if f.set("domain") {
		in.Domains = domains
	}
	if metadataFile != "" {
		b, err := os.ReadFile(metadataFile)
		if err != nil {
			return fmt.Errorf("--metadata-file: %w", err)
		}
		x := string(b)
		in.MetadataXML = &x
	}
	if secretStdin {
		s, err := readPassword(env)
		if err != nil {
			return err
		}
		in.ClientSecret = &s
	}
	if in.Name == nil && in.Enabled == nil && in.ClientID == nil && in.Issuer == nil && in.TrustEmail == nil && in.Provisioning == nil &&
		in.MetadataURL == nil && in.MetadataXML == nil && in.AllowIDPInitiated == nil && in.Domains == nil && in.ClientSecret == nil && in.PassGroups == nil {
		return errors.New("connection update: nothing to change: give a flag (see gatehouse connection update --help)")
	}
	rt, tctx, c, err := findConnection(ctx, env, f, *slug, *ref)
	if err != nil {
		return err
	}
	defer rt.close()
	c, err = rt.admin.UpdateConnection(tctx, c.ID, in)
	if err != nil {
		return err
	}
	return f.printOne(env.Stdout, c)
}

func connectionDelete(ctx context.Context, env Env, args []string) error {
	f, slug, ref := connectionFlags("connection delete", env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, c, err := findConnection(ctx, env, f, *slug, *ref)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.DeleteConnection(tctx, c.ID); err != nil {
		return err
	}
	return f.printOne(env.Stdout, map[string]any{"deleted": c})
}

// connectionGroups shows a connection's group mapping, or with --map
// replaces it.
func connectionGroups(ctx context.Context, env Env, args []string) error {
	f, slug, ref := connectionFlags("connection groups", env)
	var maps list
	var clear bool
	f.Var(&maps, "map", "`UPSTREAM=GROUP`: the upstream group makes a user a member of the tenant's group (by name or id); repeatable: replaces the mapping")
	f.BoolVar(&clear, "clear", false, "remove every mapping")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, c, err := findConnection(ctx, env, f, *slug, *ref)
	if err != nil {
		return err
	}
	defer rt.close()
	var ms []*admin.GroupMapping
	switch {
	case f.set("map") || clear:
		in, perr := admin.ParseGroupMappings(maps)
		if perr != nil {
			return perr
		}
		ms, err = rt.admin.SetConnectionGroupMappings(tctx, c.ID, in)
	default:
		ms, err = rt.admin.ConnectionGroupMappings(tctx, c.ID)
	}
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "items", ms, "upstream", "group_name", "group_id")
}
