package e2e

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/app/cli"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// childServe, set in a test binary's environment, makes it run `gatehouse
// serve` instead of the tests.
const childServe = "GATEHOUSE_E2E_CHILD_SERVE"

// serveChild is the command's main: serve until SIGTERM or SIGINT.
func serveChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Main(ctx, cli.Env{Args: []string{"serve"}, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
}

// childNode is a `gatehouse serve` process.
type childNode struct {
	cmd  *exec.Cmd
	addr string
	// metrics is the metrics listener's address, with GATEHOUSE_METRICS_ADDR.
	metrics chan string
	exited  chan error
	stderr  *strings.Builder
}

// spawnNode starts a node process on databaseURL with the master key of e,
// on a free loopback port, and waits until it listens.
func spawnNode(t *testing.T, e *env, extraEnv ...string) *childNode {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childServe+"=1",
		"GATEHOUSE_DATABASE_URL="+e.databaseURL, "GATEHOUSE_MASTER_KEY="+hex.EncodeToString(e.masterKey),
		"GATEHOUSE_BASE_URL="+e.base, "GATEHOUSE_ADDR=127.0.0.1:0", "GATEHOUSE_MODE=development",
		"GATEHOUSE_DATA_DIR="+t.TempDir(), "GATEHOUSE_ANONYMOUS_RATE_LIMIT=off", "GATEHOUSE_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, extraEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n := &childNode{cmd: cmd, exited: make(chan error, 1), stderr: &strings.Builder{}, metrics: make(chan string, 1)}
	cmd.Stderr = &lockedWriter{w: n.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-n.exited
	})
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		listening := regexp.MustCompile(`listening on ([0-9.:]+)\)`)
		metrics := regexp.MustCompile(`Metrics: http://([0-9.:]+)/metrics`)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
			if m := metrics.FindStringSubmatch(sc.Text()); m != nil {
				n.metrics <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { n.exited <- cmd.Wait() }()
	select {
	case n.addr = <-addrc:
	case err := <-n.exited:
		n.exited <- err
		t.Fatalf("node exited before listening: %v\n%s", err, n.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("node did not listen within 60s\n%s", n.stderr)
	}
	return n
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// client returns an HTTP client whose every host name dials the node.
func (n *childNode) client() *http.Client {
	d := &net.Dialer{}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 64,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, n.addr)
		},
	}}
}

// TestGracefulShutdown: a node process under client-credentials load gets
// SIGTERM. A request in flight then (its body still arriving) is answered,
// no request the node began to serve fails, the node exits 0 within its
// shutdown timeout, and every token it issued has its audit event in the
// database: the node answered every request it audited, and audited every
// token it answered.
func TestGracefulShutdown(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		e := newEnv(t, db.URL(t))
		f := e.fixture("acme")
		node := spawnNode(t, e, "GATEHOUSE_SHUTDOWN_TIMEOUT=10s")
		client := node.client()
		_, port, _ := net.SplitHostPort(node.addr)
		tokenURL := "http://acme.localhost:" + port + "/oauth/token"
		form := url.Values{"grant_type": {"client_credentials"}}.Encode()

		// The slow request: headers now, the body after SIGTERM.
		pr, pw := io.Pipe()
		slow, _ := http.NewRequest(http.MethodPost, tokenURL, pr)
		slow.ContentLength = int64(len(form))
		slow.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		slow.SetBasicAuth(f.worker.ClientID, f.worker.ClientSecret)
		type result struct {
			status int
			id     string
			err    error
		}
		slowDone := make(chan result, 1)
		go func() {
			resp, err := node.client().Do(slow)
			if err != nil {
				slowDone <- result{err: err}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			slowDone <- result{status: resp.StatusCode, id: resp.Header.Get("X-Request-ID")}
		}()
		if _, err := pw.Write([]byte(form[:5])); err != nil {
			t.Fatal(err)
		}

		var mu sync.Mutex
		var okIDs []string
		var inFlightFailures []string
		var refusedAfterStop int
		var sigterm time.Time
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5000 {
					req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(f.worker.ClientID, f.worker.ClientSecret)
					resp, err := client.Do(req)
					mu.Lock()
					stopped := !sigterm.IsZero()
					mu.Unlock()
					if err != nil {
						var op *net.OpError
						mu.Lock()
						if stopped && errors.As(err, &op) && op.Op == "dial" {
							// Refused: the node no longer accepts.
							refusedAfterStop++
						} else if stopped {
							// A connection the node closed while idle
							// (a request it never read): told apart from a
							// failed in-flight request by the audit check
							// below.
							refusedAfterStop++
						} else {
							inFlightFailures = append(inFlightFailures, err.Error())
						}
						mu.Unlock()
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					if resp.StatusCode == http.StatusOK {
						okIDs = append(okIDs, resp.Header.Get("X-Request-ID"))
					} else {
						inFlightFailures = append(inFlightFailures, fmt.Sprintf("status %d", resp.StatusCode))
					}
					mu.Unlock()
				}
			}()
		}
		// Some load first.
		for {
			mu.Lock()
			n := len(okIDs)
			mu.Unlock()
			if n >= 200 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		sigterm = time.Now()
		mu.Unlock()
		if err := node.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if _, err := pw.Write([]byte(form[5:])); err != nil {
			t.Fatalf("the slow request's body: %v", err)
		}
		_ = pw.Close()
		r := <-slowDone
		if r.err != nil || r.status != http.StatusOK {
			t.Errorf("the request in flight at SIGTERM: %d %v, want 200", r.status, r.err)
		} else {
			okIDs = append(okIDs, r.id)
		}
		wg.Wait()
		var exitErr error
		select {
		case exitErr = <-node.exited:
			node.exited <- exitErr
		case <-time.After(15 * time.Second):
			t.Fatalf("the node did not exit within 15s of SIGTERM\n%s", node.stderr)
		}
		if exitErr != nil {
			t.Errorf("the node exited with %v\n%s", exitErr, node.stderr)
		}
		if !strings.Contains(node.stderr.String(), "shut down") {
			t.Errorf("the node did not log its shutdown:\n%s", node.stderr)
		}
		for _, fl := range inFlightFailures {
			t.Errorf("a request failed: %s", fl)
		}
		t.Logf("%d tokens, %d connections refused or closed idle after SIGTERM; exited %v after it",
			len(okIDs), refusedAfterStop, time.Since(sigterm).Round(time.Millisecond))

		sqlDB, err := e.store.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		q := "SELECT request_id FROM audit_events WHERE action = 'token.issued' AND client_id = ?"
		if e.store.Dialect() == "postgres" {
			q = strings.Replace(q, "?", "$1", 1)
		}
		rows, err := sqlDB.Query(q, f.worker.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		audited := map[string]int{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			audited[id]++
		}
		rows.Close()
		answered := map[string]bool{}
		for _, id := range okIDs {
			answered[id] = true
			if audited[id] != 1 {
				t.Errorf("token of request %s audited %d times, want once", id, audited[id])
			}
		}
		for id := range audited {
			if !answered[id] {
				t.Errorf("request %s issued a token (audited) that its client never got", id)
			}
		}
	})
}

// TestShutdownTimeout: GATEHOUSE_SHUTDOWN_TIMEOUT bounds the wait for a
// request that does not finish: the node gives up and exits (non-zero, and
// says why) instead of hanging until the orchestrator kills it.
func TestShutdownTimeout(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	node := spawnNode(t, e, "GATEHOUSE_SHUTDOWN_TIMEOUT=2s", "GATEHOUSE_METRICS_ADDR=127.0.0.1:0")
	maddr := <-node.metrics
	_, port, _ := net.SplitHostPort(node.addr)
	pr, pw := io.Pipe()
	defer pw.Close()
	stuck, _ := http.NewRequest(http.MethodPost, "http://acme.localhost:"+port+"/oauth/token", pr)
	stuck.ContentLength = 100
	stuck.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	stuck.SetBasicAuth(f.worker.ClientID, f.worker.ClientSecret)
	go func() {
		if resp, err := node.client().Do(stuck); err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := pw.Write([]byte("grant_type=")); err != nil {
		t.Fatal(err)
	}
	// Give the node a moment to accept the connection: one still in the
	// listen queue at SIGTERM is reset, not served.
	time.Sleep(200 * time.Millisecond)
	if err := node.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// While it waits, the node is not ready (the metrics listener still
	// answers; the public one no longer accepts).
	time.Sleep(100 * time.Millisecond)
	if resp, err := http.Get("http://" + maddr + "/readyz"); err != nil {
		t.Errorf("readyz while shutting down: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "shutdown") {
			t.Errorf("readyz while shutting down: %d %s, want 503 naming shutdown", resp.StatusCode, b)
		}
	}
	select {
	case err := <-node.exited:
		node.exited <- err
		if err == nil {
			t.Errorf("the node exited 0 with a request unfinished")
		}
		if !strings.Contains(node.stderr.String(), "did not finish within 2s") {
			t.Errorf("the node did not say why it stopped waiting:\n%s", node.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the node still runs 10s after SIGTERM with a 2s shutdown timeout")
	}
}
