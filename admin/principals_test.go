package admin

import (
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

var (
	read, write, audit = ScopeTenantsRead, ScopeTenantsWrite, ScopeAuditRead
	everything         = []string{audit, read, write}
)

func op(scopes ...string) *Principal { return &Principal{Operator: true, Scopes: scopes} }

func tenantAdminOf(ids []string, scopes ...string) *Principal {
	return &Principal{TenantIDs: ids, Scopes: scopes}
}

func operatorAccess(scopes ...string) access {
	return access{operator: true, scopes: sortedSet(scopes)}
}

func adminOf(ids []string, scopes ...string) access {
	return access{tenantIDs: sortedSet(ids), scopes: sortedSet(scopes)}
}

func TestCanSee(t *testing.T) {
	ab := []string{"a", "b"}
	tests := []struct {
		name   string
		actor  *Principal
		target access
		want   bool
	}{
		{"an operator sees an operator", op(read), operatorAccess(read), true},
		{"an operator sees a tenant admin", op(read), adminOf([]string{"z"}, read), true},
		{"a tenant admin sees an admin of their tenant", tenantAdminOf(ab, read), adminOf([]string{"a"}, everything...), true},
		{"a tenant admin sees an admin of all their tenants", tenantAdminOf(ab, read), adminOf(ab, read), true},
		{"a tenant admin does not see an admin of another tenant", tenantAdminOf(ab, read), adminOf([]string{"c"}, read), false},
		{"nor an admin of theirs and another", tenantAdminOf(ab, read), adminOf([]string{"a", "c"}, read), false},
		{"nor an operator", tenantAdminOf(ab, everything...), operatorAccess(read), false},
		{"nor a principal without a tenant", tenantAdminOf(ab, read), access{scopes: []string{read}}, false},
		{"a tenant admin of nothing sees nobody", tenantAdminOf(nil, read), adminOf([]string{"a"}, read), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canSee(tt.actor, tt.target); got != tt.want {
				t.Errorf("canSee = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckChange(t *testing.T) {
	ab := []string{"a", "b"}
	a := []string{"a"}
	tests := []struct {
		name          string
		actor         *Principal
		before, after access
		wantErr       error
		wantField     string
	}{
		// A tenant admin may narrow, nothing else.
		{"tenant admin drops a tenant", tenantAdminOf(ab, everything...), adminOf(ab, read), adminOf(a, read), nil, ""},
		{"tenant admin drops a scope", tenantAdminOf(ab, everything...), adminOf(a, read, write), adminOf(a, read), nil, ""},
		{"tenant admin changes nothing", tenantAdminOf(ab, everything...), adminOf(a, read), adminOf(a, read), nil, ""},
		{"tenant admin adds a tenant of their own", tenantAdminOf(ab, everything...), adminOf(a, read), adminOf(ab, read), ErrForbidden, ""},
		{"tenant admin adds a scope they hold", tenantAdminOf(ab, everything...), adminOf(a, read), adminOf(a, read, audit), ErrForbidden, ""},
		{"tenant admin makes an operator", tenantAdminOf(ab, everything...), adminOf(a, read), operatorAccess(read), ErrForbidden, ""},
		{"tenant admin widens themselves", tenantAdminOf(a, read), adminOf(a, read), adminOf(a, read, write), ErrForbidden, ""},
		// An operator grants what they hold.
		{"operator adds a tenant", op(everything...), adminOf(a, read), adminOf(ab, read), nil, ""},
		{"operator makes an operator", op(everything...), adminOf(a, read), operatorAccess(read), nil, ""},
		{"operator makes an operator a tenant admin", op(everything...), operatorAccess(read), adminOf(a, read), nil, ""},
		{"operator adds a scope they hold", op(read, audit), adminOf(a, read), adminOf(a, read, audit), nil, ""},
		{"write holds read", op(write), adminOf(a, audit), adminOf(a, audit, read), nil, ""},
		{"operator adds a scope they lack", op(read, write), adminOf(a, read), adminOf(a, read, audit), ErrForbidden, ""},
		{"read does not hold write", op(read), adminOf(a, read), adminOf(a, read, write), ErrForbidden, ""},
		{"operator keeps a scope they lack", op(write), adminOf(ab, audit), adminOf(a, audit), nil, ""},
		{"a new principal with a scope the operator lacks", op(read), access{}, operatorAccess(audit), ErrForbidden, ""},
		// What access must be.
		{"no tenant and no operator", op(everything...), adminOf(a, read), adminOf(nil, read), nil, "tenants"},
		{"no scope", op(everything...), adminOf(a, read), adminOf(a), nil, "scopes"},
		{"tenant admin takes every scope away", tenantAdminOf(a, everything...), adminOf(a, read), adminOf(a), nil, "scopes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkChange(tt.actor, tt.before, tt.after)
			if tt.wantField != "" {
				var ve *tenants.ValidationError
				if !errors.As(err, &ve) || ve.Field != tt.wantField {
					t.Fatalf("err = %v, want a validation error of %s", err, tt.wantField)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || tt.wantErr == nil && err != nil {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestEffectiveScopes(t *testing.T) {
	tests := []struct {
		name        string
		token, held []string
		want        []string
	}{
		{"all held, all carried", everything, everything, []string{read, write, audit}},
		{"narrowed after the token was issued", everything, []string{read}, []string{read}},
		{"write narrowed to read keeps read", []string{write}, []string{read}, []string{read}},
		{"a token of read where write is held", []string{read}, []string{write}, []string{read}},
		{"nothing held", everything, nil, []string{}},
		{"a token without scopes", nil, everything, []string{}},
		{"unknown scopes count for nothing", []string{"root", read}, []string{"root", read}, []string{read}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := effectiveScopes(tt.token, tt.held); !slices.Equal(got, tt.want) {
				t.Errorf("effectiveScopes = %v, want %v", got, tt.want)
			}
		})
	}
}
