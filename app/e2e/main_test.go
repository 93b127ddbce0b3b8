package e2e

import (
	"log/slog"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// The engine logs every rejected request; the tests make many on purpose.
	level := slog.LevelError
	if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	os.Exit(m.Run())
}
