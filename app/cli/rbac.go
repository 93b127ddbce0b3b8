package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse-id/gatehouse/admin"
)

// permissionFlags pairs --api and --scope in the order they are typed:
// each --scope is a scope of the API named by the --api before it, so
// "--api A --scope x --scope y --api B --scope z" grants x and y on A and z
// on B.
type permissionFlags struct {
	api   string
	perms []admin.Permission
	err   error
}

type apiFlag struct{ p *permissionFlags }

func (a apiFlag) String() string { return "" }
func (a apiFlag) Set(v string) error {
	a.p.api = strings.TrimSpace(v)
	return nil
}

type scopeFlag struct{ p *permissionFlags }

func (s scopeFlag) String() string { return "" }
func (s scopeFlag) Set(v string) error {
	if s.p.api == "" {
		return errors.New("name the API first: --api AUDIENCE --scope SCOPE")
	}
	s.p.perms = append(s.p.perms, admin.Permission{Audience: s.p.api, Scope: strings.TrimSpace(v)})
	return nil
}

func roleCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("role create", env)
	var slug, name, desc string
	var perms permissionFlags
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&name, "name", "", "role name, unique in the tenant")
	f.StringVar(&desc, "description", "", "what the role is for")
	f.Var(apiFlag{&perms}, "api", "audience of the API the --scope flags after it name")
	f.Var(scopeFlag{&perms}, "scope", "a scope of the API named by the --api before it (repeatable)")
	if err := f.parse(args); err != nil {
		return err
	}
	if perms.api != "" && len(perms.perms) == 0 {
		return errors.New("role create: --api needs at least one --scope after it")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	ps := perms.perms
	if ps == nil {
		ps = []admin.Permission{}
	}
	r, err := rt.admin.CreateRole(tctx, admin.RoleInput{Name: &name, Description: &desc, Permissions: &ps})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, r)
}

func roleList(ctx context.Context, env Env, args []string) error {
	f := newFlags("role list", env).withOutput()
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
	rs, err := rt.admin.ListRoles(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "roles", rs, "id", "name", "description")
}

func roleDelete(ctx context.Context, env Env, args []string) error {
	f := newFlags("role delete", env)
	var slug, name string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&name, "name", "", "the role's name or id")
	if err := f.parse(args); err != nil {
		return err
	}
	if name == "" {
		return errors.New("--name is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.DeleteRole(tctx, name); err != nil {
		return err
	}
	return printJSON(env.Stdout, map[string]any{"deleted": name})
}

// userRoleCommand gives (add) or takes a role of the user named by --email.
func userRoleCommand(name string, add bool) command {
	return func(ctx context.Context, env Env, args []string) error {
		f, slug, email := userFlags(name, env)
		var role string
		f.StringVar(&role, "role", "", "the role's name or id")
		if err := f.parse(args); err != nil {
			return err
		}
		if role == "" {
			return errors.New("--role is required")
		}
		rt, tctx, u, err := withUser(ctx, env, f, *slug, *email)
		if err != nil {
			return err
		}
		defer rt.close()
		if add {
			_, err = rt.admin.AddUserRole(tctx, u.ID, role)
		} else {
			err = rt.admin.RemoveUserRole(tctx, u.ID, role)
		}
		if err != nil {
			return err
		}
		return printUserRoles(tctx, env, rt, u)
	}
}

func printUserRoles(ctx context.Context, env Env, rt *runtime, u *admin.User) error {
	rs, err := rt.admin.UserRoles(ctx, u.ID)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, map[string]any{"user": u.ID, "email": u.Email, "roles": rs})
}

func userRoles(ctx context.Context, env Env, args []string) error {
	f, slug, email := userFlags("user roles", env)
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, u, err := withUser(ctx, env, f, *slug, *email)
	if err != nil {
		return err
	}
	defer rt.close()
	return printUserRoles(tctx, env, rt, u)
}

func groupCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("group create", env)
	var slug, name, desc string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&name, "name", "", "group name, unique in the tenant")
	f.StringVar(&desc, "description", "", "what the group is")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	g, err := rt.admin.CreateGroup(tctx, admin.GroupInput{Name: &name, Description: &desc})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, g)
}

func groupList(ctx context.Context, env Env, args []string) error {
	f := newFlags("group list", env).withOutput()
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
	gs, err := rt.admin.ListGroups(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "groups", gs, "id", "name", "description")
}

func groupDelete(ctx context.Context, env Env, args []string) error {
	f := newFlags("group delete", env)
	var slug, name string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&name, "name", "", "the group's name or id")
	if err := f.parse(args); err != nil {
		return err
	}
	if name == "" {
		return errors.New("--name is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.DeleteGroup(tctx, name); err != nil {
		return err
	}
	return printJSON(env.Stdout, map[string]any{"deleted": name})
}

// groupMemberCommand adds (add) or removes the user named by --email to
// or from the group named by --group.
func groupMemberCommand(name string, add bool) command {
	return func(ctx context.Context, env Env, args []string) error {
		f, slug, email := userFlags(name, env)
		var group string
		f.StringVar(&group, "group", "", "the group's name or id")
		if err := f.parse(args); err != nil {
			return err
		}
		if group == "" {
			return errors.New("--group is required")
		}
		rt, tctx, u, err := withUser(ctx, env, f, *slug, *email)
		if err != nil {
			return err
		}
		defer rt.close()
		if add {
			_, err = rt.admin.AddGroupMember(tctx, group, u.ID)
		} else {
			err = rt.admin.RemoveGroupMember(tctx, group, u.ID)
		}
		if err != nil {
			return err
		}
		ms, err := rt.admin.GroupMembers(tctx, group)
		if err != nil {
			return err
		}
		return printJSON(env.Stdout, map[string]any{"group": group, "members": ms})
	}
}

// groupRoleCommand gives (add) or takes the role named by --role to or
// from the group named by --group.
func groupRoleCommand(name string, add bool) command {
	return func(ctx context.Context, env Env, args []string) error {
		f := newFlags(name, env)
		var slug, group, role string
		f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
		f.StringVar(&group, "group", "", "the group's name or id")
		f.StringVar(&role, "role", "", "the role's name or id")
		if err := f.parse(args); err != nil {
			return err
		}
		if group == "" || role == "" {
			return errors.New("--group and --role are required")
		}
		rt, tctx, err := inTenant(ctx, env, f, slug)
		if err != nil {
			return err
		}
		defer rt.close()
		if add {
			_, err = rt.admin.AddGroupRole(tctx, group, role)
		} else {
			err = rt.admin.RemoveGroupRole(tctx, group, role)
		}
		if err != nil {
			return err
		}
		rs, err := rt.admin.GroupRoles(tctx, group)
		if err != nil {
			return err
		}
		return printJSON(env.Stdout, map[string]any{"group": group, "roles": rs})
	}
}
