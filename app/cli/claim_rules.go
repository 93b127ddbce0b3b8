package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-id/gatehouse/admin"
)

// claimFlag collects NAME=EXPR pairs: the claims of one token a rule adds.
type claimFlag map[string]string

func (c claimFlag) String() string { return "" }
func (c claimFlag) Set(v string) error {
	name, expr, ok := strings.Cut(v, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.TrimSpace(expr) == "" {
		return errors.New("a claim is NAME=CEL-EXPRESSION")
	}
	if _, dup := c[name]; dup {
		return fmt.Errorf("claim %s is given twice", name)
	}
	c[name] = expr
	return nil
}

func ruleCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("rule create", env)
	var slug, name, cond, deny string
	var position int
	var disabled bool
	idClaims, accessClaims := claimFlag{}, claimFlag{}
	f.StringVar(&slug, "tenant", "", "tenant slug")
	f.StringVar(&name, "name", "", "rule name, unique in the tenant")
	f.StringVar(&cond, "condition", "", "CEL expression of type bool; empty: always")
	f.Var(idClaims, "id-claim", "NAME=EXPR: a claim to add to the ID token (repeatable)")
	f.Var(accessClaims, "access-claim", "NAME=EXPR: a claim to add to the access token (repeatable)")
	f.StringVar(&deny, "deny", "", "instead of claims: refuse the sign-in with this message when the condition holds")
	f.IntVar(&position, "position", 0, "where the rule runs (rules run by position); 0: after the last")
	f.BoolVar(&disabled, "disabled", false, "save the rule disabled")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	enabled := !disabled
	id, access := map[string]string(idClaims), map[string]string(accessClaims)
	r, err := rt.admin.CreateClaimRule(tctx, admin.ClaimRuleInput{Name: &name, Position: &position, Enabled: &enabled, Condition: &cond,
		IDToken: &id, AccessToken: &access, Deny: &deny})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, r)
}

func ruleList(ctx context.Context, env Env, args []string) error {
	f := newFlags("rule list", env)
	var slug string
	f.StringVar(&slug, "tenant", "", "tenant slug")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	rs, err := rt.admin.ListClaimRules(tctx)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, map[string]any{"rules": rs})
}

// ruleSwitch enables or disables (enable false) the rule --id.
func ruleSwitch(name string, enable bool) command {
	return func(ctx context.Context, env Env, args []string) error {
		f := newFlags(name, env)
		var slug, id string
		f.StringVar(&slug, "tenant", "", "tenant slug")
		f.StringVar(&id, "id", "", "the rule's id")
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
		r, err := rt.admin.UpdateClaimRule(tctx, id, admin.ClaimRuleInput{Enabled: &enable})
		if err != nil {
			return err
		}
		return printJSON(env.Stdout, r)
	}
}

func ruleDelete(ctx context.Context, env Env, args []string) error {
	f := newFlags("rule delete", env)
	var slug, id string
	f.StringVar(&slug, "tenant", "", "tenant slug")
	f.StringVar(&id, "id", "", "the rule's id")
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
	if err := rt.admin.DeleteClaimRule(tctx, id); err != nil {
		return err
	}
	return printJSON(env.Stdout, map[string]any{"deleted": id})
}

func rulePreview(ctx context.Context, env Env, args []string) error {
	f := newFlags("rule preview", env)
	var slug, email, client, audience string
	f.StringVar(&slug, "tenant", "", "tenant slug")
	f.StringVar(&email, "email", "", "the user's email (or id)")
	f.StringVar(&client, "client", "", "the client_id")
	f.StringVar(&audience, "api", "", "an API's audience (optional)")
	if err := f.parse(args); err != nil {
		return err
	}
	if email == "" || client == "" {
		return errors.New("--email and --client are required")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	p, err := rt.admin.PreviewClaims(tctx, admin.PreviewInput{User: email, Client: client, Audience: audience})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, p)
}
