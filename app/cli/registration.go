package cli

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
)

// initialTokenCreate makes an initial access token (RFC 7591 §3, the
// tenant's client_registration token mode) and prints it with the token,
// which is never shown again.
func initialTokenCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("initial-access-token create", env)
	var slug, name string
	var uses int
	var lifetime time.Duration
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&name, "name", "", "who the token is for (optional)")
	f.IntVar(&uses, "uses", 1, "how many clients it may register, 1 to 1000")
	f.DurationVar(&lifetime, "lifetime", 7*24*time.Hour, "how long it lasts, a minute to 2160h (90 days)")
	if err := f.parse(args); err != nil {
		return err
	}
	if uses < 1 {
		return errors.New("uses: between 1 and 1000")
	}
	if lifetime <= 0 {
		return errors.New("lifetime: between a minute and 90 days")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	tok, err := rt.admin.CreateInitialAccessToken(tctx, admin.InitialAccessTokenInput{Name: name, Uses: uses, Lifetime: lifetime})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, tok)
}

func initialTokenList(ctx context.Context, env Env, args []string) error {
	f := newFlags("initial-access-token list", env).withOutput()
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
	ts, err := rt.admin.ListInitialAccessTokens(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "initial_access_tokens", ts, "id", "name", "uses_left", "expires_at")
}

func initialTokenDelete(ctx context.Context, env Env, args []string) error {
	f := newFlags("initial-access-token delete", env)
	var slug, id string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&id, "id", "", "the token's id (see initial-access-token list)")
	if err := f.parse(args); err != nil {
		return err
	}
	if id == "" {
		return errors.New("--id is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.DeleteInitialAccessToken(tctx, id); err != nil {
		return err
	}
	return printJSON(env.Stdout, map[string]any{"deleted": map[string]string{"id": id}})
}

// clientRotateSecret gives an application that has a secret a new one
// (printed once); the old one keeps working for --grace. A
// client_secret_jwt application's sealed copy rotates with it.
func clientRotateSecret(ctx context.Context, env Env, args []string) error {
	f, slug, id := appFlags("client rotate-secret", env)
	var grace time.Duration
	f.DurationVar(&grace, "grace", admin.SecretGracePeriod, "how long the old secret keeps working, 0 to 720h")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, c, err := findClient(ctx, env, f, *slug, *id)
	if err != nil {
		return err
	}
	defer rt.close()
	v, err := rt.admin.RotateClientSecret(tctx, c.ClientID, grace)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, v)
}
