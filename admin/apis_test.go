package admin

import (
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

func TestTokenClaims(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr bool
	}{
		{name: "none", in: nil, want: []string{}},
		{name: "both", in: []string{"roles", " groups "}, want: []string{"roles", "groups"}},
		{name: "unknown", in: []string{"permissions"}, wantErr: true},
		{name: "twice", in: []string{"roles", "roles"}, wantErr: true},
		{name: "reserved claim", in: []string{"sub"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tokenClaims(tt.in)
			var ve *tenants.ValidationError
			if tt.wantErr {
				if !errors.As(err, &ve) || ve.Field != "token_claims" {
					t.Fatalf("err = %v, want a validation error of token_claims", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("tokenClaims(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
