package passkey

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestRelyingPartyFollowsTheHost: the tenant served at its custom domain
// is a relying party of that host (RP ID and origin), and its own host
// stays one of its own, whichever is asked first.
func TestRelyingPartyFollowsTheHost(t *testing.T) {
	p := New(nil)
	own := &tenants.Tenant{ID: "t1", Host: "acme.id.example.com", Issuer: "https://acme.id.example.com", DisplayName: "Acme"}
	custom := own.ServedAt("login.acme.com", "https://login.acme.com")
	for range 2 {
		for _, tc := range []struct {
			t            *tenants.Tenant
			rpID, origin string
		}{{own, "acme.id.example.com", "https://acme.id.example.com"}, {custom, "login.acme.com", "https://login.acme.com"}} {
			wa, err := p.relyingParty(tc.t)
			if err != nil {
				t.Fatal(err)
			}
			if wa.Config.RPID != tc.rpID || len(wa.Config.RPOrigins) != 1 || wa.Config.RPOrigins[0] != tc.origin {
				t.Fatalf("relying party at %s: id %s, origins %v", tc.t.Host, wa.Config.RPID, wa.Config.RPOrigins)
			}
		}
	}
}
