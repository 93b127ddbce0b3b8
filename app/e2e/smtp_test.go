package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/server"
	"github.com/gatehouse-id/gatehouse/tenants/mail"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// smtpServer is an SMTP server in the test process (RFC 5321, the part a
// submission client uses: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT).
// It keeps every message it accepts, so that tests read the real email
// the node sent, links and all.
type smtpServer struct {
	t    testing.TB
	ln   net.Listener
	user string
	pass string

	mu   sync.Mutex
	msgs []*sentMail
	// arrived is signalled (without blocking) when a message arrives.
	arrived chan struct{}
}

// sentMail is one message as received, its MIME parts decoded.
type sentMail struct {
	From    string // the From header
	To      string // the envelope recipient
	Subject string
	Text    string
	HTML    string
	Header  netmail.Header
}

func startSMTP(t testing.TB) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{t: t, ln: ln, user: "gatehouse", pass: "smtp-secret", arrived: make(chan struct{}, 1)}
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s
}

// withSMTP makes the node send email through s, with credentials and
// without TLS (the server is local).
func withSMTP(s *smtpServer) nodeOption {
	return func(_ *config.Config, d *server.Deps) {
		_, port, _ := net.SplitHostPort(s.ln.Addr().String())
		p, _ := strconv.Atoi(port)
		d.Mail = &mail.SMTP{Host: "127.0.0.1", Port: p, Username: s.user, Password: s.pass, TLS: mail.TLSNone,
			From: "no-reply@gatehouse.test", Timeout: 5 * time.Second}
	}
}

// forEachDBWithMail is forEachDB with a node that sends email to an
// in-process SMTP server.
func forEachDBWithMail(t *testing.T, fn func(t *testing.T, e *env, s *smtpServer)) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		s := startSMTP(t)
		fn(t, newEnv(t, db.URL(t), withSMTP(s)), s)
	})
}

func (s *smtpServer) serve() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(conn)
	}
}

func (s *smtpServer) session(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(conn)
	reply := func(code int, msg string) { _ = tp.PrintfLine("%d %s", code, msg) }
	reply(220, "test SMTP ready")
	authed := false
	var from string
	var rcpts []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250-test SMTP")
			_ = tp.PrintfLine("250-8BITMIME")
			_ = tp.PrintfLine("250 AUTH PLAIN")
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				reply(535, "authentication failed")
				continue
			}
			authed = true
			reply(235, "authenticated")
		case "MAIL":
			if !authed {
				reply(530, "authentication required")
				continue
			}
			from, rcpts = arg, nil
			reply(250, "ok")
		case "RCPT":
			if from == "" || len(arg) < 3 || !strings.EqualFold(arg[:3], "TO:") {
				reply(503, "need MAIL first, then RCPT TO:<address>")
				continue
			}
			rcpts = append(rcpts, strings.Trim(strings.TrimSpace(arg[3:]), "<>"))
			reply(250, "ok")
		case "DATA":
			if from == "" || len(rcpts) == 0 {
				reply(503, "need MAIL and RCPT")
				continue
			}
			reply(354, "go ahead")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			for _, r := range rcpts {
				s.keep(r, data)
			}
			from, rcpts = "", nil
			reply(250, "queued")
		case "RSET":
			from, rcpts = "", nil
			reply(250, "ok")
		case "NOOP":
			reply(250, "ok")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(502, "not implemented")
		}
	}
}

// keep parses a message and stores it.
func (s *smtpServer) keep(rcpt string, data []byte) {
	m := &sentMail{To: rcpt}
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		s.t.Errorf("SMTP: unreadable message: %v\n%s", err, data)
		return
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	m.From, _ = dec.DecodeHeader(msg.Header.Get("From"))
	m.Subject, _ = dec.DecodeHeader(msg.Header.Get("Subject"))
	ct, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		s.t.Errorf("SMTP: bad Content-Type: %v", err)
		return
	}
	if strings.HasPrefix(ct, "multipart/") {
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			// The multipart reader decodes quoted-printable itself.
			body, _ := io.ReadAll(p)
			pct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			switch pct {
			case "text/plain":
				m.Text = string(body)
			case "text/html":
				m.HTML = string(body)
			}
		}
	} else {
		var r io.Reader = msg.Body
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		body, _ := io.ReadAll(bufio.NewReader(r))
		m.Text = string(body)
	}
	m.Text = strings.ReplaceAll(m.Text, "\r\n", "\n")
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
}

// next waits for, removes and returns the oldest message to rcpt.
func (s *smtpServer) next(rcpt string) *sentMail {
	s.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		for i, m := range s.msgs {
			if strings.EqualFold(m.To, rcpt) {
				s.msgs = append(s.msgs[:i], s.msgs[i+1:]...)
				s.mu.Unlock()
				return m
			}
		}
		s.mu.Unlock()
		select {
		case <-s.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			s.t.Fatalf("no email to %s arrived", rcpt)
			return nil
		}
	}
}

// none checks that no message to rcpt arrives within wait.
func (s *smtpServer) none(rcpt string, wait time.Duration) {
	s.t.Helper()
	time.Sleep(wait)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if strings.EqualFold(m.To, rcpt) {
			s.t.Fatalf("unexpected email to %s: %q\n%s", rcpt, m.Subject, m.Text)
		}
	}
}

var mailLink = regexp.MustCompile(`https?://[^\s<>"]+`)

// link returns the one link of the message's text whose path is path,
// checking that the HTML part links to the same place.
func (m *sentMail) link(t testing.TB, path string) string {
	t.Helper()
	for _, l := range mailLink.FindAllString(m.Text, -1) {
		u, err := url.Parse(l)
		if err != nil || u.Path != path {
			continue
		}
		if !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(l, "&", "&amp;")+`"`) {
			t.Fatalf("the HTML part lacks the link %s:\n%s", l, m.HTML)
		}
		return l
	}
	t.Fatalf("no %s link in the email %q:\n%s", path, m.Subject, m.Text)
	return ""
}
