package authn

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

func TestPenalty(t *testing.T) {
	l := Limit{Free: 5, Base: 2 * time.Second, Max: 15 * time.Second, Lock: true}
	for _, tt := range []struct {
		failures int64
		want     time.Duration
	}{
		{0, 0}, {5, 0}, {6, 2 * time.Second}, {7, 4 * time.Second}, {8, 8 * time.Second}, {9, 15 * time.Second}, {1000, 15 * time.Second},
	} {
		if got := l.Penalty(tt.failures); got != tt.want {
			t.Errorf("Penalty(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestAddressKey(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"not an address", "not an address"},
	} {
		if got := AddressKey(tt.in); got != tt.want {
			t.Errorf("AddressKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// names returns the limit names of an attempt's keys.
func names(keys []Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.Limit.Name)
	}
	return out
}

func TestKeys(t *testing.T) {
	base := Attempt{Action: "login", Rules: LoginRules, Tenant: "t1", Account: "Ann@Example.com", Address: "2001:db8::1"}
	t.Run("an untrusted browser", func(t *testing.T) {
		if got := strings.Join(names(base.Keys()), " "); got != "pair account ip tenant" {
			t.Errorf("keys %s", got)
		}
	})
	t.Run("a trusted browser is judged by its own failures", func(t *testing.T) {
		a := base
		a.Device = "d1"
		if got := strings.Join(names(a.Keys()), " "); got != "device tenant" {
			t.Errorf("keys %s", got)
		}
	})
	t.Run("no account", func(t *testing.T) {
		a := base
		a.Account = ""
		if got := strings.Join(names(a.Keys()), " "); got != "ip tenant" {
			t.Errorf("keys %s", got)
		}
	})
	t.Run("same /64, same pair; email case does not matter", func(t *testing.T) {
		a, b := base, base
		b.Address, b.Account = "2001:db8::ffff", "ann@example.com"
		if a.Keys()[0].Name != b.Keys()[0].Name {
			t.Error("two addresses of one /64 have different pair keys")
		}
		c := base
		c.Address = "2001:db8:0:1::1"
		if a.Keys()[0].Name == c.Keys()[0].Name {
			t.Error("two /64s share a pair key")
		}
	})
	t.Run("actions and tenants are apart", func(t *testing.T) {
		a, b := base, base
		b.Action = "reset"
		c := base
		c.Tenant = "t2"
		for i := range a.Keys() {
			if a.Keys()[i].Name == b.Keys()[i].Name || a.Keys()[i].Name == c.Keys()[i].Name {
				t.Errorf("key %d shared across actions or tenants", i)
			}
		}
	})
	t.Run("no email or address in a key", func(t *testing.T) {
		for _, k := range base.Keys() {
			if strings.Contains(strings.ToLower(k.Name), "example.com") || strings.Contains(k.Name, "2001:db8") {
				t.Errorf("key %q holds personal data", k.Name)
			}
		}
	})
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	a := Attempt{Action: "login", Rules: LoginRules, Tenant: "t1", Account: "ann@example.com", Address: "203.0.113.7"}
	keys := a.Keys()
	byName := map[string]string{}
	for _, k := range keys {
		byName[k.Limit.Name] = k.Name
	}
	until := func(d time.Duration) *time.Time { u := now.Add(d); return &u }
	tests := []struct {
		name  string
		state map[string]tenants.Throttle
		want  Brake
	}{
		{"no counters", nil, Brake{}},
		{"the pair locked: refused", map[string]tenants.Throttle{byName["pair"]: {LockedUntil: until(time.Minute)}}, Brake{Refuse: true}},
		{"the address locked: refused", map[string]tenants.Throttle{byName["ip"]: {LockedUntil: until(time.Minute)}}, Brake{Refuse: true}},
		{"a lock that ended", map[string]tenants.Throttle{byName["pair"]: {LockedUntil: until(-time.Second)}}, Brake{}},
		// An account or a tenant under attack is never locked: attempts
		// from elsewhere are slowed, and the slowing is bounded.
		{"the account penalised: slowed", map[string]tenants.Throttle{byName["account"]: {LockedUntil: until(2 * time.Second)}}, Brake{Delay: 2 * time.Second}},
		{"the account penalised long: slowed by at most its max", map[string]tenants.Throttle{byName["account"]: {LockedUntil: until(time.Hour)}}, Brake{Delay: LoginRules.Account.Max}},
		{"the tenant penalised: slowed", map[string]tenants.Throttle{byName["tenant"]: {LockedUntil: until(time.Second)}}, Brake{Delay: time.Second}},
		{"the longest delay wins", map[string]tenants.Throttle{
			byName["tenant"]: {LockedUntil: until(time.Second)}, byName["account"]: {LockedUntil: until(3 * time.Second)}}, Brake{Delay: 3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(keys, tt.state, now); got != tt.want {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}
