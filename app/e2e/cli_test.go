package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/app/cli"
)

// cliResult is what a run of the gatehouse command printed.
type cliResult struct {
	code           int
	stdout, stderr string
}

// cli runs the gatehouse command on the node's database, as an operator
// would on the server while it runs.
func (e *env) cli(t testing.TB, stdin string, args ...string) cliResult {
	t.Helper()
	vars := map[string]string{
		"GATEHOUSE_DATABASE_URL": e.databaseURL,
		"GATEHOUSE_MASTER_KEY":   base64.StdEncoding.EncodeToString(e.masterKey),
		"GATEHOUSE_BASE_URL":     e.base,
		"GATEHOUSE_DATA_DIR":     t.TempDir(),
	}
	var out, errOut bytes.Buffer
	code := cli.Main(context.Background(), cli.Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return vars[k] }})
	return cliResult{code, out.String(), errOut.String()}
}

// cliOK runs the command, which must succeed, and decodes its JSON.
func (e *env) cliOK(t testing.TB, stdin string, args ...string) map[string]any {
	t.Helper()
	r := e.cli(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("gatehouse %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("gatehouse %s: not JSON: %v\n%s", strings.Join(args, " "), err, r.stdout)
	}
	return v
}
