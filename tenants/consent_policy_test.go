package tenants

import (
	"errors"
	"testing"
)

func TestCheckConsentPolicy(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		dynamic bool
		wantErr bool
	}{
		{"required", ConsentRequired, false, false},
		{"skip for the tenant's own client", ConsentSkip, false, false},
		{"required for a registered client", ConsentRequired, true, false},
		{"skip for a dynamically registered client", ConsentSkip, true, true},
		{"unknown", "sometimes", false, true},
		{"empty", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckConsentPolicy(tt.policy, tt.dynamic)
			var ve *ValidationError
			if tt.wantErr != errors.As(err, &ve) || (tt.wantErr && ve.Field != "consent") {
				t.Fatalf("CheckConsentPolicy(%q, %v) = %v", tt.policy, tt.dynamic, err)
			}
		})
	}
	if ConsentPolicyOf("") != ConsentRequired || (&Client{}).SkipsConsent() || !(&Client{Consent: ConsentSkip}).SkipsConsent() {
		t.Fatal("a client without a policy must require consent")
	}
}
