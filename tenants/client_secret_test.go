package tenants

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

func TestClientSecrets(t *testing.T) {
	key, err := secret.ParseMasterKey(secret.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := secret.ParseMasterKey(secret.NewMasterKey())
	otherBox, _ := secret.NewBox(otherKey)
	now := time.Unix(1_800_000_000, 0)
	later, earlier := now.Add(time.Hour), now.Add(-time.Second)
	cur := SealClientSecret(box, "t1", "c1", "current")
	prev := SealClientSecret(box, "t1", "c1", "previous")
	for _, tc := range []struct {
		name    string
		box     *secret.Box
		c       Client
		want    []string
		wantErr bool
	}{
		{"current", box, Client{TenantID: "t1", ClientID: "c1", SecretSealed: cur}, []string{"current"}, false},
		{"and previous in its grace period", box, Client{TenantID: "t1", ClientID: "c1", SecretSealed: cur, PreviousSecretSealed: prev, PreviousSecretExpiresAt: &later},
			[]string{"current", "previous"}, false},
		{"not previous after it", box, Client{TenantID: "t1", ClientID: "c1", SecretSealed: cur, PreviousSecretSealed: prev, PreviousSecretExpiresAt: &earlier},
			[]string{"current"}, false},
		{"not previous without an end", box, Client{TenantID: "t1", ClientID: "c1", SecretSealed: cur, PreviousSecretSealed: prev}, []string{"current"}, false},
		{"none sealed", box, Client{TenantID: "t1", ClientID: "c1"}, nil, true},
		{"no box", nil, Client{TenantID: "t1", ClientID: "c1", SecretSealed: cur}, nil, true},
		{"moved to another client", box, Client{TenantID: "t1", ClientID: "c2", SecretSealed: cur}, nil, true},
		{"moved to another tenant", box, Client{TenantID: "t2", ClientID: "c1", SecretSealed: cur}, nil, true},
		{"another master key", otherBox, Client{TenantID: "t1", ClientID: "c1", SecretSealed: cur}, nil, true},
	} {
		got, err := ClientSecrets(tc.box, &tc.c, now)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err %v", tc.name, err)
			continue
		}
		var s []string
		for _, b := range got {
			s = append(s, string(b))
		}
		if len(s) != len(tc.want) || (len(s) > 0 && (s[0] != tc.want[0] || s[len(s)-1] != tc.want[len(tc.want)-1])) {
			t.Errorf("%s: %v, want %v", tc.name, s, tc.want)
		}
		if tc.name == "none sealed" && !errors.Is(err, ErrNoSealedSecret) {
			t.Errorf("none sealed: %v, want ErrNoSealedSecret", err)
		}
	}
}
