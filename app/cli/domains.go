package cli

import (
	"context"
	"errors"
	"fmt"
)

// domainFlags is the parser of a command on one custom domain of a
// tenant, named by --domain.
func domainFlags(name string, env Env) (f *flags, slug, host *string) {
	f = newFlags(name, env).withOutput()
	slug, host = new(string), new(string)
	f.StringVar(slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(host, "domain", "", "the custom domain's `HOST`, such as login.acme.com")
	return f, slug, host
}

func domainAdd(ctx context.Context, env Env, args []string) error {
	f, slug, host := domainFlags("domain add", env)
	if err := f.parse(args); err != nil {
		return err
	}
	if *host == "" {
		return errors.New("--domain is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, *slug)
	if err != nil {
		return err
	}
	defer rt.close()
	d, err := rt.admin.AddDomain(tctx, *host)
	if err != nil {
		return err
	}
	if err := f.printOne(env.Stdout, d); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "Create these DNS records, then run: gatehouse domain verify --tenant %s --domain %s\n", *slug, d.Domain)
	for _, r := range d.DNSRecords {
		fmt.Fprintf(env.Stderr, "  %s  %s  %q\n", r.Name, r.Type, r.Value)
	}
	return nil
}

func domainList(ctx context.Context, env Env, args []string) error {
	f := newFlags("domain list", env).withOutput()
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
	ds, err := rt.admin.ListDomains(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "domains", ds, "domain", "verified", "issuer", "created_at")
}

// domainCommand runs one action on a custom domain named by --domain and
// prints the result.
func domainCommand(name string, act func(rt *runtime, ctx context.Context, host string) (any, error)) func(context.Context, Env, []string) error {
	return func(ctx context.Context, env Env, args []string) error {
		f, slug, host := domainFlags(name, env)
		if err := f.parse(args); err != nil {
			return err
		}
		if *host == "" {
			return errors.New("--domain is required")
		}
		rt, tctx, err := inTenant(ctx, env, f, *slug)
		if err != nil {
			return err
		}
		defer rt.close()
		v, err := act(rt, tctx, *host)
		if err != nil {
			return err
		}
		return f.printOne(env.Stdout, v)
	}
}

var (
	domainShow = domainCommand("domain show", func(rt *runtime, ctx context.Context, host string) (any, error) {
		return rt.admin.GetDomain(ctx, host)
	})
	domainVerify = domainCommand("domain verify", func(rt *runtime, ctx context.Context, host string) (any, error) {
		return rt.admin.VerifyDomain(ctx, host)
	})
	domainRemove = domainCommand("domain remove", func(rt *runtime, ctx context.Context, host string) (any, error) {
		if err := rt.admin.RemoveDomain(ctx, host); err != nil {
			return nil, err
		}
		return map[string]any{"deleted": host}, nil
	})
)
