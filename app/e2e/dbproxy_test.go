package e2e

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// dbProxy is a TCP proxy between a node and its PostgreSQL, which a test
// can cut: every open connection is reset and new ones are accepted and
// reset at once, as when the server restarts or the network fails, until
// the test restores it. The machine's PostgreSQL, which other tests
// share, is never touched.
type dbProxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
}

// newDBProxy proxies to the host of databaseURL and returns the proxy and
// databaseURL through it.
func newDBProxy(t testing.TB, databaseURL string) (*dbProxy, string) {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{t: t, ln: ln, target: u.Host, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		_ = ln.Close()
		p.resetAll()
	})
	go p.serve()
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *dbProxy) serve() {
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

func (p *dbProxy) pipe(c net.Conn) {
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
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	p.drop(c)
	p.drop(up)
}

func (p *dbProxy) drop(c net.Conn) {
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

func (p *dbProxy) resetAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[net.Conn]bool{}
	p.mu.Unlock()
	for c := range conns {
		reset(c)
	}
}

// Cut resets every connection and refuses new ones until Restore.
func (p *dbProxy) Cut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
	p.resetAll()
}

// Restore lets connections through again.
func (p *dbProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}
