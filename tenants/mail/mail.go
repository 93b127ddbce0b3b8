// Package mail sends Gatehouse's email: through SMTP in production, or, in
// development without SMTP, into an outbox in the database (every node and
// the operators' outbox page see it) and the server log.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Message is one email.
type Message struct {
	// TenantID names the tenant the message is about (for the outbox).
	TenantID string
	// FromName is the sender's display name (the tenant's).
	FromName string
	To       string
	Subject  string
	// Text is the plain-text body; HTML, if set, an alternative.
	Text string
	HTML string
	// ReplyTo, when set, is where answers go (the tenant's address).
	ReplyTo string
	// Language is the BCP 47 tag of the words (Content-Language).
	Language string
}

// Sender sends email.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrNotConfigured is returned when no way to send email is configured.
var ErrNotConfigured = errors.New("mail: email is not configured")

// TLS modes of an SMTP connection.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS (required)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS: only for a relay on a trusted network
)

// SMTP sends through an SMTP server.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string
	// From is the sender address; the display name is the tenant's.
	From    string
	Timeout time.Duration
	// RootCAs, if set, are the CAs trusted for the server's certificate
	// (tests); nil means the system's.
	TLSConfig *tls.Config
}

// Send delivers m.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if _, err := mail.ParseAddress(m.To); err != nil || strings.ContainsAny(m.To, "\r\n") {
		return fmt.Errorf("mail: bad recipient %q", m.To)
	}
	msg, err := s.compose(m)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	d := &net.Dialer{Timeout: timeout}
	tcfg := s.TLSConfig
	if tcfg == nil {
		tcfg = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	}
	var conn net.Conn
	if s.TLS == TLSImplicit {
		conn, err = tls.DialWithDialer(d, "tcp", addr, tcfg)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("mail: connect %s: %w", addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: %w", err)
	}
	defer c.Close()
	if s.TLS == TLSStartTLS || s.TLS == "" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("mail: the server does not offer STARTTLS")
		}
		if err := c.StartTLS(tcfg); err != nil {
			return fmt.Errorf("mail: STARTTLS: %w", err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("mail: authenticate: %w", err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("mail: write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: send: %w", err)
	}
	return c.Quit()
}

// compose writes the message in RFC 5322 form: text, or text and HTML as
// multipart/alternative, quoted-printable, headers encoded (RFC 2047).
func (s *SMTP) compose(m Message) ([]byte, error) {
	var b bytes.Buffer
	from := mail.Address{Name: m.FromName, Address: s.From}
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", (&mail.Address{Address: m.To}).String())
	if m.ReplyTo != "" {
		header("Reply-To", (&mail.Address{Address: m.ReplyTo}).String())
	}
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	if m.Language != "" {
		header("Content-Language", m.Language)
	}
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+randomID()+"@"+domainOf(s.From)+">")
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	if m.HTML == "" {
		header("Content-Type", `text/plain; charset="utf-8"`)
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		return b.Bytes(), qp(&b, m.Text)
	}
	boundary := "gh-" + randomID()
	header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ ct, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.ct)
		if err := qp(&b, part.body); err != nil {
			return nil, err
		}
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes(), nil
}

func qp(b *bytes.Buffer, s string) error {
	w := quotedprintable.NewWriter(b)
	if _, err := w.Write([]byte(strings.ReplaceAll(s, "\n", "\r\n"))); err != nil {
		return err
	}
	return w.Close()
}

func randomID() string {
	var x [12]byte
	_, _ = rand.Read(x[:])
	return hex.EncodeToString(x[:])
}

func domainOf(addr string) string {
	if _, d, ok := strings.Cut(addr, "@"); ok {
		return d
	}
	return "gatehouse.invalid"
}

// Outbox keeps messages in the database and the log instead of sending
// them: development mode without SMTP.
type Outbox struct {
	Store *tenants.Store
}

// Send stores m in the outbox and logs it.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	tenants.Logger(ctx).InfoContext(ctx, "development mode: email not sent, kept in the outbox", "to", m.To, "subject", m.Subject, "body", m.Text)
	return o.Store.AppendOutbox(ctx, &tenants.OutboxMessage{TenantID: m.TenantID, Recipient: m.To, Subject: m.Subject, Body: m.Text})
}
