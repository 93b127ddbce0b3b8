package claimrules

import "testing"

// TestReads: what a rule reads of the user's access, from its checked
// expressions; anything but a plain selection of a field reads it all.
func TestReads(t *testing.T) {
	env := newEnv(t)
	none, all := Reads{}, readsAll
	for _, tc := range []struct {
		cond, claim string
		want        Reads
	}{
		{"", "user.email.split('@')[1]", none},
		{"has(user.app_metadata.plan)", "user.app_metadata.plan", none},
		{"", "client.id + request.grant_type", none},
		{"'admin' in user.roles", "true", Reads{Roles: true}},
		{"", "user.roles.size()", Reads{Roles: true}},
		{"has(user.roles)", "1", Reads{Roles: true}},
		{"", "user.groups.exists(g, g == 'ops')", Reads{Groups: true}},
		{"", "user.upstream_groups", Reads{UpstreamGroups: true}},
		{"'a' in user.roles", "user.groups", Reads{Roles: true, Groups: true}},
		// The whole user, or a variable that shadows it.
		{"user == user", "1", all},
		{"", "[user].size()", all},
		{"", "[1, 2].map(user, user + 1)", all},
		{"{'u': user}.size() > 0", "1", all},
	} {
		r := Rule{Name: "r", Condition: tc.cond, IDToken: map[string]string{"c": tc.claim}}
		p, err := env.Check(r)
		if err != nil {
			t.Fatalf("%q / %q: %v", tc.cond, tc.claim, err)
		}
		if p.reads != tc.want {
			t.Errorf("%q / %q reads %+v, want %+v", tc.cond, tc.claim, p.reads, tc.want)
		}
	}
	set, err := env.Compile([]Rule{
		{Name: "a", IDToken: map[string]string{"x": "user.email"}},
		{Name: "b", Condition: "'x' in user.groups", Deny: "no"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Reads(); got != (Reads{Groups: true}) {
		t.Errorf("set reads %+v, want the groups", got)
	}
	if (*Set)(nil).Reads().Any() {
		t.Error("no rules read something")
	}
}
