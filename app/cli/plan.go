package cli

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/gatehouse-id/gatehouse/admin"
)

// planCommand is plan (apply false) or apply: it reads a tenant file and
// prints what would change, or changes it and prints what changed.
func planCommand(name string, apply bool) command {
	return func(ctx context.Context, env Env, args []string) error {
		f := newFlags(name, env)
		var file string
		var prune, schema bool
		f.StringVar(&file, "file", "", "tenant file (YAML or JSON), - for standard input")
		f.BoolVar(&prune, "prune", false, "delete the tenant's APIs, applications, roles and groups the file does not name")
		if !apply {
			f.BoolVar(&schema, "schema", false, "print the JSON Schema of tenant files and exit")
		}
		if err := f.parse(args); err != nil {
			return err
		}
		if schema {
			_, err := env.Stdout.Write(admin.TenantFileSchema)
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
		raw, err := io.ReadAll(io.LimitReader(in, admin.MaxTenantFile+1))
		if err != nil {
			return err
		}
		tf, err := admin.ParseTenantFile(raw)
		if err != nil {
			return err
		}
		rt, err := open(ctx, env, f)
		if err != nil {
			return err
		}
		defer rt.close()
		var p *admin.Plan
		if apply {
			p, err = rt.admin.ApplyTenant(ctx, tf, prune)
		} else {
			p, err = rt.admin.PlanTenant(ctx, tf, prune)
		}
		if err != nil {
			return err
		}
		return printJSON(env.Stdout, p)
	}
}
