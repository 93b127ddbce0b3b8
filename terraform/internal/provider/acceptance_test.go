package provider_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gatehouse is a Gatehouse server a test started: its apex URL and a
// management client's credentials.
type gatehouse struct {
	url, clientID, clientSecret string
	bin                         string
	env                         []string
}

// acceptance prepares an acceptance test: it skips without TF_ACC or a
// terraform binary, builds the provider into a folder that a dev_overrides
// CLI configuration points at (no registry is asked for it), and starts a
// Gatehouse of the repository's code on SQLite.
func acceptance(t *testing.T) *gatehouse {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests run with TF_ACC=1 (they run terraform against a Gatehouse they start)")
	}
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		var err error
		if tf, err = exec.LookPath("terraform"); err != nil {
			t.Skip("acceptance tests need a terraform binary (on PATH, or TF_ACC_TERRAFORM_PATH): none found")
		}
	}
	t.Setenv("TF_ACC_TERRAFORM_PATH", tf)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	dir := t.TempDir()
	moduleRoot, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(dir, "plugins")
	build(t, moduleRoot, filepath.Join(plugins, "terraform-provider-gatehouse"), ".")
	cliConfig := filepath.Join(dir, "terraform.rc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", "gatehouse-id/gatehouse", plugins)
	if err := os.WriteFile(cliConfig, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_CLI_CONFIG_FILE", cliConfig)

	g := &gatehouse{bin: filepath.Join(dir, "gatehouse")}
	build(t, filepath.Dir(moduleRoot), g.bin, "./app")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	g.url = "http://localhost:" + port
	g.env = append(os.Environ(), "GATEHOUSE_BASE_URL="+g.url, "GATEHOUSE_ADDR="+addr, "GATEHOUSE_MODE=development",
		"GATEHOUSE_MASTER_KEY="+hex.EncodeToString(key), "GATEHOUSE_DATA_DIR="+dir,
		"GATEHOUSE_DATABASE_URL=sqlite:"+filepath.Join(dir, "gatehouse.db"), "GATEHOUSE_ANONYMOUS_RATE_LIMIT=off")
	g.run(t, "migrate")
	var mc struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(g.run(t, "admin", "client", "create", "--name", "terraform", "--scope", "tenants:read", "--scope", "tenants:write"), &mc); err != nil {
		t.Fatal(err)
	}
	g.clientID, g.clientSecret = mc.ClientID, mc.ClientSecret
	srv := exec.Command(g.bin, "serve")
	srv.Env = g.env
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		if t.Failed() {
			t.Logf("gatehouse logs:\n%s", logs.String())
		}
	})
	for i := 0; ; i++ {
		resp, err := loopback.Get(g.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i == 300 {
			t.Fatalf("gatehouse did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Setenv("GATEHOUSE_URL", g.url)
	t.Setenv("GATEHOUSE_CLIENT_ID", g.clientID)
	t.Setenv("GATEHOUSE_CLIENT_SECRET", g.clientSecret)
	return g
}

// build compiles the package pkg of the module in dir into out.
func build(t *testing.T, dir, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s in %s: %v\n%s", pkg, dir, err, b)
	}
}

// run runs a gatehouse command and returns its standard output.
func (g *gatehouse) run(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(g.bin, args...)
	cmd.Env = g.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// api calls the management API as the test's management client, to make
// a change behind terraform's back.
func (g *gatehouse) api(t *testing.T, method, path string, body any) {
	t.Helper()
	if code := g.status(t, method, path, body); code >= 300 {
		t.Fatalf("%s %s: %d", method, path, code)
	}
}

// status calls the management API and returns the answer's status.
func (g *gatehouse) status(t *testing.T, method, path string, body ...any) int {
	t.Helper()
	var in any
	if len(body) > 0 {
		in = body[0]
	}
	return g.call(t, method, path, in, nil)
}

// call calls the management API with body (nil for none), decodes the
// answer into out (nil: not at all) and returns its status.
func (g *gatehouse) call(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	ctx := context.Background()
	form := strings.NewReader("grant_type=client_credentials&resource=" + g.url + "/api/v1")
	u := strings.Replace(g.url, "://", "://admin.", 1)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u+"/oauth/token", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(g.clientID, g.clientSecret)
	resp, err := loopback.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ = http.NewRequestWithContext(ctx, method, g.url+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err = loopback.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// clientIDOf is the client_id of acme's application named name.
func clientIDOf(t *testing.T, g *gatehouse, name string) string {
	t.Helper()
	var page struct {
		Items []struct {
			ClientID   string `json:"client_id"`
			ClientName string `json:"client_name"`
		} `json:"items"`
	}
	if code := g.call(t, http.MethodGet, "/tenants/acme/applications", nil, &page); code != http.StatusOK {
		t.Fatalf("list applications: %d", code)
	}
	for _, a := range page.Items {
		if a.ClientName == name {
			return a.ClientID
		}
	}
	t.Fatalf("no application %q", name)
	return ""
}

// loopback dials every *.localhost name on 127.0.0.1 (RFC 6761).
var loopback = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	},
}}
