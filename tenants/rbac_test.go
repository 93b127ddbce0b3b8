package tenants_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

func TestGrantableScopes(t *testing.T) {
	rbac := &tenants.API{RBAC: true}
	open := &tenants.API{}
	tests := []struct {
		name      string
		api       *tenants.API
		requested []string
		held      []string
		want      []string
	}{
		{"no API", nil, []string{"openid", "read"}, nil, []string{"openid", "read"}},
		{"RBAC off keeps every scope", open, []string{"openid", "write:orders"}, nil, []string{"openid", "write:orders"}},
		{"a scope the user lacks is dropped", rbac, []string{"openid", "read:orders", "write:orders"}, []string{"read:orders"}, []string{"openid", "read:orders"}},
		{"held but not requested is not added", rbac, []string{"read:orders"}, []string{"read:orders", "write:orders"}, []string{"read:orders"}},
		{"OpenID Connect scopes pass", rbac, []string{"openid", "profile", "email", "offline_access"}, nil, []string{"openid", "profile", "email", "offline_access"}},
		{"nothing held", rbac, []string{"write:orders"}, nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tenants.GrantableScopes(tt.api, tt.requested, tt.held); !slices.Equal(got, tt.want) {
				t.Errorf("GrantableScopes = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClaimNames(t *testing.T) {
	var many []string
	for i := range tenants.MaxClaimNames + 20 {
		many = append(many, fmt.Sprintf("g%03d", i))
	}
	slices.Reverse(many)
	got := tenants.ClaimNames(append(many, "g000"))
	if len(got) != tenants.MaxClaimNames || got[0] != "g000" || got[1] != "g001" {
		t.Errorf("ClaimNames: %d names starting %q, want %d sorted, without duplicates", len(got), got[:2], tenants.MaxClaimNames)
	}
}
