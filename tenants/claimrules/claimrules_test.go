package claimrules

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func newEnv(t testing.TB) *Env {
	t.Helper()
	e, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func input() Input {
	return Input{
		User: User{
			ID: "u1", Email: "ada@example.com", EmailVerified: true, Name: "Ada",
			AppMetadata:  map[string]any{"plan": "gold", "seats": float64(3)},
			UserMetadata: map[string]any{"theme": "dark"},
			Roles:        []string{"admin", "billing"}, Groups: []string{"staff"},
		},
		Client:     Client{ID: "web", Name: "Web", AppType: "web"},
		API:        API{Audience: "https://api.example.com", Name: "Orders"},
		Connection: Connection{Name: "Corporate SSO", Claims: map[string]any{"department": "R&D"}},
		Request:    Request{GrantType: "authorization_code", Scopes: []string{"openid"}, ACR: "urn:gatehouse:acr:mfa", AMR: []string{"pwd", "otp"}, IP: "192.0.2.1"},
	}
}

func TestCheck(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name      string
		rule      Rule
		wantField string // "" for a rule that checks
	}{
		{"claim always", Rule{Name: "plan", IDToken: map[string]string{"plan": "user.app_metadata.plan"}}, ""},
		{"condition and two tokens", Rule{Name: "admins", Condition: "'admin' in user.roles", IDToken: map[string]string{"is_admin": "true"}, AccessToken: map[string]string{"https://example.com/tier": "'gold'"}}, ""},
		{"deny", Rule{Name: "no contractors", Condition: "user.email.endsWith('@contractor.example')", Deny: "Contractors may not use this app."}, ""},
		{"list and map values", Rule{Name: "lists", AccessToken: map[string]string{"perms": "user.roles.map(r, 'role:' + r)", "profile": "{'name': user.name, 'n': 1}"}}, ""},
		{"strings extension", Rule{Name: "lower", IDToken: map[string]string{"e": "user.email.lowerAscii()"}}, ""},
		{"no name", Rule{IDToken: map[string]string{"x": "1"}}, "name"},
		{"sub is reserved", Rule{Name: "evil", IDToken: map[string]string{"sub": "'admin'"}}, "id_token.sub"},
		{"aud is reserved in access tokens", Rule{Name: "evil", AccessToken: map[string]string{"aud": "'x'"}}, "access_token.aud"},
		{"email_verified is reserved", Rule{Name: "evil", IDToken: map[string]string{"email_verified": "true"}}, "id_token.email_verified"},
		{"syntax error", Rule{Name: "bad", Condition: "user.roles ==", IDToken: map[string]string{"x": "1"}}, "condition"},
		{"unknown field", Rule{Name: "bad", Condition: "user.rolez.size() > 0", IDToken: map[string]string{"x": "1"}}, "condition"},
		{"unknown variable", Rule{Name: "bad", IDToken: map[string]string{"x": "session.id"}}, "id_token.x"},
		{"condition not a bool", Rule{Name: "bad", Condition: "user.email", IDToken: map[string]string{"x": "1"}}, "condition"},
		{"value not JSON", Rule{Name: "bad", IDToken: map[string]string{"x": "user"}}, "id_token.x"},
		{"value a timestamp", Rule{Name: "bad", IDToken: map[string]string{"x": "timestamp('2020-01-01T00:00:00Z')"}}, "id_token.x"},
		{"deny and claims", Rule{Name: "bad", Deny: "no", IDToken: map[string]string{"x": "1"}}, "deny"},
		{"neither deny nor claims", Rule{Name: "bad", Condition: "true"}, "deny"},
		{"claim name with a space", Rule{Name: "bad", IDToken: map[string]string{"a b": "1"}}, "id_token"},
		{"expression too long", Rule{Name: "bad", IDToken: map[string]string{"x": "'" + strings.Repeat("a", MaxExpressionLength) + "'"}}, "id_token.x"},
		{"deny message with control characters", Rule{Name: "bad", Deny: "no\x1b[31m"}, "deny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Check(tt.rule)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("Check = %v, want a *CheckError on %s", err, tt.wantField)
			}
			if ce.Problems[0].Field != tt.wantField {
				t.Fatalf("Check: problem on %q (%v), want on %q", ce.Problems[0].Field, ce, tt.wantField)
			}
		})
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	_, err := newEnv(t).Check(Rule{Condition: "1 +", IDToken: map[string]string{"sub": "'x'", "ok": "nope"}})
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("Check = %v", err)
	}
	var fields []string
	for _, p := range ce.Problems {
		fields = append(fields, p.Field)
	}
	if want := []string{"name", "condition", "id_token.ok", "id_token.sub"}; !reflect.DeepEqual(fields, want) {
		t.Fatalf("fields = %v, want %v", fields, want)
	}
}

func TestReservedIsEveryRegisteredClaim(t *testing.T) {
	for _, c := range strings.Fields("iss sub aud exp iat nbf jti azp nonce at_hash c_hash acr amr auth_time client_id scope cnf sid") {
		if !IsReserved(c) {
			t.Errorf("%s is not reserved", c)
		}
	}
}

func TestEvaluate(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name        string
		rules       []Rule
		in          func(*Input)
		wantID      map[string]any
		wantAccess  map[string]any
		wantDenied  string // the message
		wantRunErr  bool
		wantRunRule string
	}{
		{name: "no rules"},
		{name: "a claim", rules: []Rule{{Name: "plan", IDToken: map[string]string{"plan": "user.app_metadata.plan"}}},
			wantID: map[string]any{"plan": "gold"}},
		{name: "condition false adds nothing", rules: []Rule{{Name: "r", Condition: "'root' in user.roles", IDToken: map[string]string{"root": "true"}}}},
		{name: "condition true, both tokens", rules: []Rule{{Name: "r", Condition: "'admin' in user.roles && request.acr.endsWith(':mfa')",
			IDToken: map[string]string{"admin": "true"}, AccessToken: map[string]string{"tier": "user.app_metadata.seats * 2.0", "dept": "connection.claims.department"}}},
			wantID: map[string]any{"admin": true}, wantAccess: map[string]any{"tier": float64(6), "dept": "R&D"}},
		{name: "list values", rules: []Rule{{Name: "r", AccessToken: map[string]string{"perms": "user.roles.map(r, 'role:' + r)"}}},
			wantAccess: map[string]any{"perms": []any{"role:admin", "role:billing"}}},
		{name: "a later rule replaces a value", rules: []Rule{{Name: "a", IDToken: map[string]string{"x": "1"}}, {Name: "b", IDToken: map[string]string{"x": "2"}}},
			wantID: map[string]any{"x": float64(2)}},
		{name: "deny", rules: []Rule{{Name: "a", IDToken: map[string]string{"x": "1"}}, {Name: "no", Condition: "client.id == 'web'", Deny: "Not here."}},
			wantDenied: "Not here."},
		{name: "deny whose condition is false", rules: []Rule{{Name: "no", Condition: "client.id == 'other'", Deny: "Not here."}}},
		{name: "deny on the user's IP", rules: []Rule{{Name: "no", Condition: "request.ip.startsWith('192.0.2.')", Deny: "Not from there."}}, wantDenied: "Not from there."},
		{name: "a missing key fails closed", rules: []Rule{{ID: "r1", Name: "missing", IDToken: map[string]string{"x": "user.app_metadata.nope"}}},
			wantRunErr: true, wantRunRule: "missing"},
		{name: "a dyn condition that is not a bool fails closed", rules: []Rule{{Name: "dyn", Condition: "user.app_metadata.plan", IDToken: map[string]string{"x": "1"}}},
			wantRunErr: true, wantRunRule: "dyn"},
		{name: "a map value with a non-string key fails closed", rules: []Rule{{Name: "m", IDToken: map[string]string{"x": "dyn({1: 2})"}}},
			wantRunErr: true, wantRunRule: "m"},
		{name: "the cost limit fails closed", rules: []Rule{{Name: "costly", IDToken: map[string]string{
			"x": "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, [1,2,3,4,5,6,7,8,9,10].map(d, a+b+c+d))))"}}},
			wantRunErr: true, wantRunRule: "costly"},
		{name: "too large fails closed", rules: []Rule{{Name: "big", IDToken: map[string]string{"x": "'" + strings.Repeat("a", 4000) + "'", "y": "'" + strings.Repeat("b", 4000) + "'", "z": "'" + strings.Repeat("c", 1000) + "'"}}},
			wantRunErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := env.Compile(tt.rules)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			in := input()
			if tt.in != nil {
				tt.in(&in)
			}
			res, err := set.Evaluate(context.Background(), in)
			var denied *Denied
			var runErr *RunError
			switch {
			case tt.wantDenied != "":
				if !errors.As(err, &denied) || denied.Message != tt.wantDenied {
					t.Fatalf("Evaluate = %v, want denied %q", err, tt.wantDenied)
				}
				return
			case tt.wantRunErr:
				if !errors.As(err, &runErr) {
					t.Fatalf("Evaluate = %v, %v; want a *RunError", res, err)
				}
				if tt.wantRunRule != "" && runErr.RuleName != tt.wantRunRule {
					t.Fatalf("RunError of rule %q, want %q", runErr.RuleName, tt.wantRunRule)
				}
				return
			case err != nil:
				t.Fatalf("Evaluate: %v", err)
			}
			if !reflect.DeepEqual(res.IDToken, tt.wantID) {
				t.Errorf("IDToken = %#v, want %#v", res.IDToken, tt.wantID)
			}
			if !reflect.DeepEqual(res.AccessToken, tt.wantAccess) {
				t.Errorf("AccessToken = %#v, want %#v", res.AccessToken, tt.wantAccess)
			}
		})
	}
}

func TestEvaluateCancelled(t *testing.T) {
	env := newEnv(t)
	set, err := env.Compile([]Rule{{Name: "r", IDToken: map[string]string{"x": "[1,2,3].map(a, a)"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = set.Evaluate(ctx, input())
	var runErr *RunError
	if !errors.As(err, &runErr) {
		t.Fatalf("Evaluate with a done context = %v, want a *RunError", err)
	}
}

// TestEvaluateDeadline: rules each within the cost limit but too many and
// too heavy to finish by the deadline fail as a *RunError, so the sign-in
// fails closed.
func TestEvaluateDeadline(t *testing.T) {
	env := newEnv(t)
	nums := make([]string, 30)
	for i := range nums {
		nums[i] = strconv.Itoa(i)
	}
	list := "[" + strings.Join(nums, ",") + "]"
	heavy := list + ".map(x, " + list + ".filter(y, y > x).size()).size()"
	var rules []Rule
	for r := range MaxRules {
		claims := map[string]string{}
		for c := range MaxClaimsPerRule {
			claims["c"+strconv.Itoa(c)] = heavy
		}
		rules = append(rules, Rule{Name: "heavy " + strconv.Itoa(r), Condition: heavy + " > 0", IDToken: claims})
	}
	set, err := env.Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	// One such expression alone finishes: it is within the cost limit.
	one, err := env.Compile([]Rule{{Name: "one", Condition: heavy + " > 0", IDToken: map[string]string{"x": "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.Evaluate(context.Background(), input()); err != nil {
		t.Fatalf("one heavy expression: %v", err)
	}
	_, err = set.Evaluate(context.Background(), input())
	var runErr *RunError
	if !errors.As(err, &runErr) || !strings.Contains(runErr.Error(), "deadline") {
		t.Fatalf("Evaluate of rules past the deadline = %v, want a *RunError naming the deadline", err)
	}
}

func TestCompileRefusesAStoredRuleThatNoLongerChecks(t *testing.T) {
	_, err := newEnv(t).Compile([]Rule{{ID: "r1", Name: "old", IDToken: map[string]string{"sub": "'x'"}}})
	var runErr *RunError
	if !errors.As(err, &runErr) || runErr.RuleID != "r1" {
		t.Fatalf("Compile = %v, want a *RunError of r1", err)
	}
}
