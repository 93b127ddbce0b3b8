package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/app/cli"
)

// freeLoopbackPort returns a port nothing listens on at 127.0.0.1.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runCallback starts `gatehouse dev callback` and returns its result once
// it exits.
func runCallback(t *testing.T, args ...string) <-chan result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var out, errOut bytes.Buffer
		code := cli.Main(ctx, cli.Env{Args: append([]string{"dev", "callback"}, args...), Stdin: strings.NewReader(""),
			Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
		done <- result{code, out.String(), errOut.String()}
	}()
	return done
}

// get asks the callback until it listens, and returns the status.
func get(t *testing.T, url string) int {
	t.Helper()
	for range 200 {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			return res.StatusCode
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("nothing listens at %s", url)
	return 0
}

// TestDevCallback: the helper ignores a redirect without its state (a
// page cannot hand in a code), prints the code of the one that has it,
// fails on an OAuth error, and listens on loopback only.
func TestDevCallback(t *testing.T) {
	t.Run("code", func(t *testing.T) {
		port := freeLoopbackPort(t)
		base := fmt.Sprintf("http://127.0.0.1:%d/cb", port)
		done := runCallback(t, "--redirect-uri", base, "--state", "s1")
		if st := get(t, base+"?code=forged&state=other"); st != http.StatusBadRequest {
			t.Fatalf("redirect with another state: %d, want 400", st)
		}
		if st := get(t, fmt.Sprintf("http://127.0.0.1:%d/elsewhere?code=c&state=s1", port)); st != http.StatusNotFound {
			t.Fatalf("another path: %d, want 404", st)
		}
		if st := get(t, base+"?code=the-code&state=s1&iss=http%3A%2F%2Facme.localhost%3A8080"); st != http.StatusOK {
			t.Fatalf("redirect: %d", st)
		}
		r := <-done
		var got map[string]string
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil || got["code"] != "the-code" || got["iss"] != "http://acme.localhost:8080" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("error", func(t *testing.T) {
		port := freeLoopbackPort(t)
		base := fmt.Sprintf("http://127.0.0.1:%d/cb", port)
		done := runCallback(t, "--redirect-uri", base, "--state", "s2")
		get(t, base+"?error=access_denied&error_description=the+user+said+no&state=s2")
		if r := <-done; r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, "access_denied: the user said no") {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	for _, tc := range []struct{ args, want string }{
		{"--redirect-uri http://0.0.0.0:9000/cb --state s", "loopback"},
		{"--redirect-uri http://192.0.2.1:9000/cb --state s", "loopback"},
		{"--redirect-uri https://127.0.0.1:9000/cb --state s", "http URL with a port"},
		{"--redirect-uri http://127.0.0.1/cb --state s", "http URL with a port"},
		{"--redirect-uri http://127.0.0.1:9000/cb", "--state is required"},
	} {
		r := <-runCallback(t, strings.Fields(tc.args)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	r := <-runCallback(t, "--redirect-uri", fmt.Sprintf("http://127.0.0.1:%d/cb", freeLoopbackPort(t)), "--state", "s", "--timeout", "50ms")
	if r.code == 0 || !strings.Contains(r.stderr, "no redirect came within 50ms") {
		t.Fatalf("timeout: exit %d, stderr %q", r.code, r.stderr)
	}
}
