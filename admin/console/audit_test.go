package console

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestFieldChanges: an event's before and after are compared field by
// field, nested objects by dotted path, other values whole.
func TestFieldChanges(t *testing.T) {
	for _, tc := range []struct {
		name, before, after string
		want                string
	}{
		{"nothing", "", "", "[]"},
		{"created", "", `{"name":"web","grant_types":["a","b"]}`, `[{grant_types  ["a","b"] true false} {name  "web" true false}]`},
		{"deleted", `{"name":"web"}`, "", `[{name "web"  false true}]`},
		{"one field of many", `{"name":"web","lifetime":3600,"mfa":{"policy":"optional","factors":["totp"]}}`,
			`{"name":"web","lifetime":600,"mfa":{"policy":"required","factors":["totp"]}}`,
			`[{lifetime 3600 600 false false} {mfa.policy "optional" "required" false false}]`},
		{"a list is one value", `{"r":["a","b"]}`, `{"r":["b","a"]}`, `[{r ["a","b"] ["b","a"] false false}]`},
		{"an emptied object is a value", `{"m":{"a":1}}`, `{"m":{}}`, `[{m  {} true false} {m.a 1  false true}]`},
		{"not an object", `"x"`, `"y"`, `[{value "x" "y" false false}]`},
		{"unchanged", `{"a":1}`, `{"a":1}`, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fieldChanges(json.RawMessage(tc.before), json.RawMessage(tc.after))
			if s := fmt.Sprint(got); s != tc.want && !(len(got) == 0 && tc.want == "[]") {
				t.Fatalf("fieldChanges(%s, %s) = %s, want %s", tc.before, tc.after, s, tc.want)
			}
		})
	}
	big := map[string]int{}
	for i := range 2 * maxFieldChanges {
		big[fmt.Sprintf("f%03d", i)] = i
	}
	raw, _ := json.Marshal(big)
	if got := fieldChanges(nil, raw); len(got) != maxFieldChanges+1 || got[maxFieldChanges].Field != "…" {
		t.Fatalf("%d fields shown of %d, last %+v", len(got), len(big), got[len(got)-1])
	}
}
