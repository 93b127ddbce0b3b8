package console

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
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

// TestSignInChart: bars stack succeeded under failed, the busiest day is
// full height, a quiet day has no bar and any day with one shows.
func TestSignInChart(t *testing.T) {
	days := []admin.DaySignIns{{Day: "2026-11-30", Succeeded: 90, Failed: 10}, {Day: "2026-12-01"}, {Day: "2026-12-02", Succeeded: 1}, {Day: "2026-12-03", Failed: 50}}
	c := signInChart(days)
	if c.Max != 100 || c.Succeeded != 91 || c.Failed != 60 || len(c.Bars) != 4 {
		t.Fatalf("chart %+v", c)
	}
	full := c.Bars[0]
	if full.OKH+full.FailH != chartHeight || full.OKY+full.OKH != chartHeight || full.FailY+full.FailH != full.OKY || full.FailH != chartHeight/10 {
		t.Fatalf("the busiest day: %+v", full)
	}
	if quiet := c.Bars[1]; quiet.OKH != 0 || quiet.FailH != 0 {
		t.Fatalf("a quiet day has a bar: %+v", quiet)
	}
	if one := c.Bars[2]; one.OKH != 1 {
		t.Fatalf("a day with one sign-in: %+v", one)
	}
	if c.Bars[0].Label != "30 Nov" || c.Bars[1].Label != "1 Dec" || c.Bars[2].Label != "2" {
		t.Fatalf("labels %q %q %q", c.Bars[0].Label, c.Bars[1].Label, c.Bars[2].Label)
	}
	for i := 1; i < len(c.Bars); i++ {
		if c.Bars[i].X <= c.Bars[i-1].X+c.Bars[i-1].W-1 {
			t.Fatalf("bars overlap: %+v %+v", c.Bars[i-1], c.Bars[i])
		}
	}
	if empty := signInChart(nil); len(empty.Bars) != 0 {
		t.Fatal("bars without days")
	}
}
