package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation"
)

// samlAppCreate adds a SAML application from the SP's metadata (a file, or
// a URL fetched once) or from fields, and prints it with the IdP values to
// give the SP (metadata_url, sso_url).
func samlAppCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("saml-app create", env)
	var slug, name, file, metaURL, entityID, nameIDSource, access, sloURL, sloBinding string
	var acs, roles, groups list
	f.StringVar(&slug, "tenant", "", "tenant slug")
	f.StringVar(&name, "name", "", "the application's name")
	f.StringVar(&file, "metadata-file", "", "the SP's metadata XML (- for standard input)")
	f.StringVar(&metaURL, "metadata-url", "", "where the SP publishes its metadata")
	f.StringVar(&entityID, "entity-id", "", "the SP's entity ID (without metadata)")
	f.Var(&acs, "acs", "an assertion consumer service URL, HTTP-POST (repeatable; without metadata)")
	f.StringVar(&sloURL, "slo-url", "", "the SP's single logout service (without metadata)")
	f.StringVar(&sloBinding, "slo-binding", "", "the binding of --slo-url: HTTP-Redirect (default) or HTTP-POST")
	f.StringVar(&nameIDSource, "name-id", "", "the NameID: email (default), persistent or user_id")
	f.StringVar(&access, "access", "", "who may use it: everyone (default), roles or groups")
	f.Var(&roles, "role", "a role whose holders may use it (repeatable; with --access roles)")
	f.Var(&groups, "group", "a group whose members may use it (repeatable; with --access groups)")
	if err := f.parse(args); err != nil {
		return err
	}
	if name == "" {
		return errors.New("--name is required")
	}
	in := admin.SAMLAppInput{Name: &name}
	if file != "" {
		xml, err := readMetadata(env, file)
		if err != nil {
			return err
		}
		in.MetadataXML = &xml
	}
	if metaURL != "" {
		in.MetadataURL = &metaURL
	}
	if entityID != "" {
		in.EntityID = &entityID
	}
	for _, u := range acs {
		in.ACS = append(in.ACS, admin.SAMLEndpoint{URL: u})
	}
	if sloURL != "" {
		in.SLOURL = &sloURL
	}
	if sloBinding != "" {
		in.SLOBinding = &sloBinding
	}
	if nameIDSource != "" {
		in.NameIDSource = &nameIDSource
	}
	if access != "" {
		in.Access = &access
	}
	if len(roles) > 0 {
		in.AccessRoles = roles
	}
	if len(groups) > 0 {
		in.AccessGroups = groups
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	a, err := rt.admin.CreateSAMLApp(tctx, in)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, a)
}

// readMetadata reads a metadata file, at most federation.MaxMetadataSize.
func readMetadata(env Env, file string) (string, error) {
	var r io.Reader = env.Stdin
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--metadata-file: %w", err)
		}
		defer fh.Close()
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, federation.MaxMetadataSize+1))
	if err != nil {
		return "", fmt.Errorf("--metadata-file: %w", err)
	}
	if len(b) > federation.MaxMetadataSize {
		return "", errors.New("--metadata-file: larger than 1 MiB")
	}
	return string(b), nil
}

func samlAppList(ctx context.Context, env Env, args []string) error {
	f := newFlags("saml-app list", env)
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
	as, err := rt.admin.ListSAMLApps(tctx)
	if err != nil {
		return err
	}
	if as == nil {
		as = []*admin.SAMLApp{}
	}
	return printJSON(env.Stdout, map[string]any{"saml_apps": as})
}

func samlAppDelete(ctx context.Context, env Env, args []string) error {
	f := newFlags("saml-app delete", env)
	var slug, id string
	f.StringVar(&slug, "tenant", "", "tenant slug")
	f.StringVar(&id, "id", "", "the SAML application's id (see saml-app list)")
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
	if err := rt.admin.DeleteSAMLApp(tctx, id); err != nil {
		return err
	}
	return printJSON(env.Stdout, map[string]any{"deleted": id})
}
