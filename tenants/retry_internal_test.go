package tenants

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// readOnly lets through only a lone SELECT that locks and changes nothing.
func TestReadOnly(t *testing.T) {
	for _, tt := range []struct {
		query string
		want  bool
	}{
		{`SELECT * FROM "tenants" WHERE id = $1 LIMIT $2`, true},
		{"  select\n\tcount(*) from users", true},
		{"SELECT seq FROM tenant_changes;", true},
		{`INSERT INTO "dpop_proofs" ("tenant_id") VALUES ($1) RETURNING "id"`, false},
		{`UPDATE users SET name = $1 RETURNING *`, false},
		{`DELETE FROM sessions RETURNING id`, false},
		{`WITH x AS (DELETE FROM a RETURNING *) SELECT * FROM x`, false},
		{`SELECT * FROM users WHERE id = $1 FOR UPDATE`, false},
		{"SELECT * FROM users FOR\n SHARE", false},
		{`SELECT * INTO copy FROM users`, false},
		{`SELECT pg_notify($1, $2)`, false},
		{`SELECT pg_advisory_xact_lock($1)`, false},
		{`SELECT nextval('s')`, false},
		{`SELECT 1; DELETE FROM users`, false},
		{`SELECTED`, false},
		{``, false},
	} {
		if got := readOnly(tt.query); got != tt.want {
			t.Errorf("readOnly(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
}

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// droppedConnection is a connection that broke, not a slow or refusing
// database nor a wrong query.
func TestDroppedConnection(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"broken pipe", &net.OpError{Op: "write", Net: "tcp", Err: &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}}, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, false},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), false},
		{"canceled", context.Canceled, false},
		{"refused", &pgconn.ConnectError{}, false},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"not found", ErrNotFound, false},
	} {
		if got := droppedConnection(tt.err); got != tt.want {
			t.Errorf("%s: droppedConnection = %v, want %v", tt.name, got, tt.want)
		}
	}
}
