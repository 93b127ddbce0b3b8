package cli

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/gatehouse-id/gatehouse/admin"
)

// tenantExport writes the document of a tenant (admin.TenantDocument).
func tenantExport(ctx context.Context, env Env, args []string) error {
	f := newFlags("tenant export", env, "SLUG")
	var opts admin.ExportOptions
	f.BoolVar(&opts.OmitSecrets, "omit-secrets", false, "leave out secret hashes and sealed secrets (an import makes new ones)")
	f.BoolVar(&opts.Users, "users", false, "add the tenant's users")
	f.BoolVar(&opts.PasswordHashes, "password-hashes", false, "with --users, add their password hashes (audited)")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, f.positional[0])
	if err != nil {
		return err
	}
	defer rt.close()
	doc, err := rt.admin.ExportTenant(tctx, opts)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, doc)
}

// tenantImport creates a tenant from a document, all at once, and prints
// what it made (admin.TenantImportResult).
func tenantImport(ctx context.Context, env Env, args []string) error {
	f := newFlags("tenant import", env)
	var file, slug string
	f.StringVar(&file, "file", "", "tenant document (JSON), - for standard input")
	f.StringVar(&slug, "slug", "", "slug of the new tenant (default: the document's)")
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
	raw, err := io.ReadAll(io.LimitReader(in, admin.MaxTenantDocument+1))
	if err != nil {
		return err
	}
	doc, err := admin.DecodeTenantDocument(raw)
	if err != nil {
		return err
	}
	rt, err := open(ctx, env, f)
	if err != nil {
		return err
	}
	defer rt.close()
	res, err := rt.admin.ImportTenant(ctx, doc, admin.ImportTenantOptions{Slug: slug})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, res)
}
