// Package dnstest is a DNS server for tests: it answers TXT questions from
// a table the test fills, on 127.0.0.1, over UDP and TCP on one port, so
// that the custom domain check (GATEHOUSE_DNS_RESOLVER, admin.NewResolver)
// runs its real lookup without public DNS.
package dnstest

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Server answers TXT questions for the names Set gave; every other name
// is NXDOMAIN.
type Server struct {
	// Addr is host:port, for GATEHOUSE_DNS_RESOLVER.
	Addr string

	mu   sync.Mutex
	txts map[string][]string // lower-case name without the final dot
	udp  net.PacketConn
	tcp  net.Listener
}

// New starts a server that stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{txts: map[string][]string{}}
	for range 20 {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err != nil {
			udp.Close()
			continue // the port is taken for TCP: try another
		}
		s.udp, s.tcp, s.Addr = udp, tcp, udp.LocalAddr().String()
		break
	}
	if s.udp == nil {
		t.Fatal("dnstest: no port free for both UDP and TCP")
	}
	go s.serveUDP()
	go s.serveTCP()
	t.Cleanup(func() { s.udp.Close(); s.tcp.Close() })
	return s
}

// Set makes name's TXT records values (none: the name does not exist).
func (s *Server) Set(name string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(strings.TrimSuffix(name, "."))
	if len(values) == 0 {
		delete(s.txts, key)
		return
	}
	s.txts[key] = values
}

func (s *Server) serveUDP() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, err := s.answer(buf[:n]); err == nil {
			_, _ = s.udp.WriteTo(out, from)
		}
	}
}

func (s *Server) serveTCP() {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for {
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				msg := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, msg); err != nil {
					return
				}
				out, err := s.answer(msg)
				if err != nil {
					return
				}
				_, _ = c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(out))))
				_, _ = c.Write(out)
			}
		}()
	}
}

func (s *Server) answer(in []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(in)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))
	s.mu.Lock()
	values, known := s.txts[name]
	s.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if known && q.Type == dnsmessage.TypeTXT {
		for _, v := range values {
			if len(v) > 255 {
				return nil, errors.New("dnstest: a TXT string is at most 255 bytes")
			}
			rr := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET, TTL: 1}
			if err := b.TXTResource(rr, dnsmessage.TXTResource{TXT: []string{v}}); err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}
