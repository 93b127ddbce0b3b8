package e2e

import (
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

// logs sees every line the process logs, at every level: tests register
// strings that must never be logged (bytes of an attacker's upstream
// answer) and check that none was.
var logs = &logWatch{seen: map[string]string{}}

func TestMain(m *testing.M) {
	if os.Getenv(childServe) != "" {
		// This process is a node a test started: `gatehouse serve`, as
		// the command's main runs it.
		os.Exit(serveChild())
	}
	// The engine logs every rejected request; the tests make many on purpose.
	level := slog.LevelError
	if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}),
		slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
	)))
	os.Exit(m.Run())
}

// logWatch is an io.Writer for a log handler that looks for the markers
// it watches in every line, and remembers the first line with each.
type logWatch struct {
	mu      sync.Mutex
	markers []string
	seen    map[string]string
}

func (w *logWatch) Write(p []byte) (int, error) {
	line := string(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.markers {
		if _, ok := w.seen[m]; !ok && strings.Contains(line, m) {
			w.seen[m] = line
		}
	}
	return len(p), nil
}

// watch starts looking for marker in the log; when t ends, it fails t if
// a line held it. Markers must be unique to the test (parallel tests share
// the log).
func (w *logWatch) watch(t testing.TB, marker string) {
	t.Helper()
	w.mu.Lock()
	w.markers = append(w.markers, marker)
	w.mu.Unlock()
	t.Cleanup(func() {
		if line := w.lineWith(marker); line != "" {
			t.Errorf("the log shows %q:\n%s", marker, line)
		}
	})
}

// lineWith returns the first line logged with marker, if any.
func (w *logWatch) lineWith(marker string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[marker]
}
