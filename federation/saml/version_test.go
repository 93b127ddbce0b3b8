package saml

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// minVersions are the lowest versions of the SAML libraries without known
// advisories (govulncheck's database is out of reach from where this is
// built, so the pins are checked here): goxmldsig GHSA-479m-364c-43vc
// (signature bypass, fixed in v1.6.0); crewjam/saml CVE-2022-41912 (two
// assertions) and CVE-2023-45683 (XSS in the POST binding forms), fixed by
// v0.4.14.
var minVersions = map[string]string{
	"github.com/russellhaering/goxmldsig": "v1.6.0",
	"github.com/crewjam/saml":             "v0.4.14",
}

// TestLibraryVersions fails when go.mod, or the binary this test runs in,
// has either library below its minimum.
func TestSAMLLibraryVersions(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "go.mod")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.Parse(path, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]string{}
	for _, r := range mf.Require {
		required[r.Mod.Path] = r.Mod.Version
	}
	for _, r := range mf.Replace {
		if _, ok := minVersions[r.Old.Path]; ok {
			t.Errorf("go.mod replaces %s: check the replacement's version by hand, then adjust this test", r.Old.Path)
		}
	}
	for mod, least := range minVersions {
		got, ok := required[mod]
		if !ok {
			t.Errorf("go.mod does not require %s (>= %s)", mod, least)
			continue
		}
		if semver.Compare(got, least) < 0 {
			t.Errorf("go.mod requires %s %s, below %s", mod, got, least)
		}
	}

	// The versions the build selects (go.mod lists them since Go 1.17,
	// but a workspace could change that): the binary's own record when it
	// has one (test binaries do not), else the go command's.
	selected := map[string]string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			v := d.Version
			if d.Replace != nil {
				v = d.Replace.Version
			}
			selected[d.Path] = v
		}
	}
	if len(selected) == 0 {
		// go test puts $GOROOT/bin first in the test's PATH.
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Version}}{{with .Replace}} {{.Version}}{{end}}",
			"github.com/russellhaering/goxmldsig", "github.com/crewjam/saml").Output()
		if err != nil {
			t.Fatalf("go list -m: %v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				selected[f[0]] = f[len(f)-1]
			}
		}
	}
	for mod, least := range minVersions {
		got, ok := selected[mod]
		if !ok {
			t.Errorf("%s is not in the build", mod)
			continue
		}
		if semver.Compare(got, least) < 0 {
			t.Errorf("the build selects %s %s, below %s", mod, got, least)
		}
	}
}
