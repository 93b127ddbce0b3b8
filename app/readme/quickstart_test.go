package readme

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// repoRoot is the directory of go.mod above the test.
func repoRoot(t *testing.T) string {
	wd, _ := os.Getwd()
	for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	t.Fatal("no go.mod above the test")
	return ""
}

var fence = regexp.MustCompile("(?ms)^```sh\n(.*?)^```\n")

// quickstartSnippets returns the sh blocks of README's Quickstart section,
// in order.
func quickstartSnippets(t *testing.T, readme string) []string {
	t.Helper()
	start := strings.Index(readme, "\n## Quickstart")
	if start < 0 {
		t.Fatal("README.md has no Quickstart section")
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var out []string
	for _, m := range fence.FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}

// need skips the test when a tool the quickstart uses is missing.
func need(t *testing.T, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("quickstart test skipped: %s is not installed (.ci/run installs it)", tool)
		}
	}
}

func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("GATEHOUSE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("quickstart test skipped: no Chromium found (apt-get install -y chromium, or set GATEHOUSE_CHROMIUM); .ci/run installs it")
	return ""
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// shell starts script in bash (-euo pipefail, as a careful reader's shell
// stops at the first failing command) in dir with env, in its own process
// group so that everything it started ends with the test.
func shell(t *testing.T, dir string, env []string, script string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { pw.CloseWithError(cmd.Wait()) }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return cmd, pr
}

// TestQuickstart runs README's quickstart as written: the first snippet
// (build and serve) in one shell, every later one in a second shell in the
// same directory, and signs Ann in with Chromium at the URL the third step
// prints. Only PORT (a free one) and GATEHOUSE_DATA_DIR (a fresh
// installation) are set from outside.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("quickstart test skipped in -short mode")
	}
	need(t, "bash", "curl", "jq", "openssl", "go")
	browserPath := chromium(t)
	if ln, err := net.Listen("tcp", "127.0.0.1:9000"); err != nil {
		t.Fatalf("the quickstart's redirect URI needs 127.0.0.1:9000, which is taken: %v", err)
	} else {
		ln.Close()
	}
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	snippets := quickstartSnippets(t, string(readme))
	if len(snippets) < 5 || !strings.Contains(snippets[0], "gatehouse serve") {
		t.Fatalf("the quickstart's snippets changed shape (%d; the first must start the server): update this test", len(snippets))
	}
	port := freePort(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") && !strings.HasPrefix(kv, "PORT=") {
			env = append(env, kv)
		}
	}
	env = append(env, fmt.Sprintf("PORT=%d", port), "GATEHOUSE_DATA_DIR="+t.TempDir())

	// Terminal 1: build and serve.
	_, serverOut := shell(t, root, env, snippets[0])
	serverLog := &strings.Builder{}
	go func() { _, _ = io.Copy(serverLog, serverOut) }()
	deadline := time.Now().Add(4 * time.Minute) // a cold build
	for {
		res, err := http.Get(fmt.Sprintf("http://localhost:%d/livez", port))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never answered /livez:\n%s", serverLog)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Terminal 2: everything after, in one shell.
	cmd, out := shell(t, root, env, strings.Join(snippets[1:], "\n"))
	var transcript strings.Builder
	opened := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			transcript.WriteString(line + "\n")
			if u, ok := strings.CutPrefix(line, "Open: "); ok {
				opened <- u
			}
		}
		done <- sc.Err()
	}()
	select {
	case u := <-opened:
		signIn(t, browserPath, u)
	case err := <-done:
		t.Fatalf("the quickstart ended before it printed a URL to open (%v):\n%s", err, transcript.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("the quickstart printed no URL to open:\n%s", transcript.String())
	}
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) || cmd.ProcessState != nil && !cmd.ProcessState.Success() {
			t.Fatalf("the quickstart failed (%v):\n%s\nserver:\n%s", err, transcript.String(), serverLog)
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("the quickstart did not finish:\n%s", transcript.String())
	}
	got := transcript.String()
	for _, want := range []string{
		`"email":"ann@acme.test"`, // userinfo after the code flow
		`"token_type":"Bearer"`,   // client credentials
		`"active": true`,          // introspection of the worker's own token
		`"clerk"`,                 // roles through a group
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the quickstart's output lacks %s:\n%s", want, got)
		}
	}
}

// signIn opens url in Chromium, signs Ann in, allows the application and
// waits for the callback's page.
func signIn(t *testing.T, browserPath, url string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserPath), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	user, pass := chromedp.CSS(`input[autocomplete="username"]`), chromedp.CSS(`input[autocomplete="current-password"]`)
	allow := chromedp.CSS(`button[value=allow]`)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(url), chromedp.WaitVisible(user),
		chromedp.SendKeys(user, "ann@acme.test"), chromedp.SendKeys(pass, "correct horse battery staple"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(allow), chromedp.Click(allow),
	); err != nil {
		t.Fatalf("sign in at %s: %v", url, err)
	}
	// The consent page has paragraphs too: wait for the callback's address.
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("the browser never reached the redirect URI: %v", err)
		}
		if strings.HasPrefix(loc, "http://127.0.0.1:9000/cb") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil || !strings.Contains(text, "Signed in") {
		t.Fatalf("the callback page says %q (%v)", text, err)
	}
}
