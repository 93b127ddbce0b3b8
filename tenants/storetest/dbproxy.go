package storetest

import (
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// DBProxy is a TCP proxy between a node and its PostgreSQL, which a test
// can cut: every open connection is reset and new ones are accepted and
// reset at once, as when the server restarts or the network fails, until
// the test restores it. It can also drop one connection in the middle of
// a statement: the statement reaches the server, and its answer never
// reaches the client. The machine's PostgreSQL, which other tests share,
// is never touched.
type DBProxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
	// toDrop is how many answers from the server are still to be dropped
	// (DropNextAnswer), dropped how many were.
	toDrop, dropped int
}

// NewDBProxy proxies to the host of databaseURL and returns the proxy and
// databaseURL through it.
func NewDBProxy(t testing.TB, databaseURL string) (*DBProxy, string) {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &DBProxy{t: t, ln: ln, target: u.Host, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		_ = ln.Close()
		p.resetAll()
	})
	go p.serve()
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *DBProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		if !cut {
			p.conns[c] = true
		}
		p.mu.Unlock()
		if cut {
			reset(c)
			continue
		}
		go p.pipe(c)
	}
}

func (p *DBProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	if p.cut || !p.conns[c] {
		p.mu.Unlock()
		reset(up)
		p.drop(c)
		return
	}
	p.conns[up] = true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, answers{p, up}); done <- struct{}{} }()
	<-done
	p.drop(c)
	p.drop(up)
}

func (p *DBProxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	reset(c)
}

// reset closes c with a TCP reset rather than a clean close.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (p *DBProxy) resetAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[net.Conn]bool{}
	p.mu.Unlock()
	for c := range conns {
		reset(c)
	}
}

// answers reads what the server sends one client, and stops at the first
// answer the proxy is told to drop, one that completes a statement: the
// copy ends and the connection is reset, the answer unsent.
type answers struct {
	p  *DBProxy
	up net.Conn
}

func (a answers) Read(b []byte) (int, error) {
	n, err := a.up.Read(b)
	if n > 0 && completes(b[:n]) {
		a.p.mu.Lock()
		drop := a.p.toDrop > 0
		if drop {
			a.p.toDrop--
			a.p.dropped++
		}
		a.p.mu.Unlock()
		if drop {
			return 0, io.ErrUnexpectedEOF
		}
	}
	return n, err
}

// completes reports whether chunk, read from the server, holds a
// CommandComplete message ('C'): the statement it answers was executed.
// The server flushes whole messages at a Sync, so a chunk starts with one.
func completes(chunk []byte) bool {
	for len(chunk) >= 5 {
		if chunk[0] == 'C' {
			return true
		}
		n := int(binary.BigEndian.Uint32(chunk[1:5]))
		if n < 4 || n+1 > len(chunk) {
			return false
		}
		chunk = chunk[n+1:]
	}
	return false
}

// DropNextAnswer makes the proxy drop the next n answers of the server that
// complete a statement, on whichever connections they come: the statement
// was executed (a write done), the client sees its connection reset
// instead of the answer.
// A statement run right after it on a connection the pool holds is cut
// in flight, as a connection is when PostgreSQL restarts mid-query.
func (p *DBProxy) DropNextAnswer(n int) {
	p.mu.Lock()
	p.toDrop = n
	p.mu.Unlock()
}

// Dropped returns how many answers the proxy dropped.
func (p *DBProxy) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// Cut resets every connection and refuses new ones until Restore.
func (p *DBProxy) Cut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
	p.resetAll()
}

// Restore lets connections through again.
func (p *DBProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}
