package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/oauth2"
)

// Kind is what went wrong with an upstream request.
type Kind int

const (
	// KindInvalid is an answer that could not be used (not what was asked
	// for, or not well-formed), or an error that does not say.
	KindInvalid Kind = iota
	// KindURL is a URL the client does not fetch: not http or https, no
	// host, or a user name or password in it.
	KindURL
	// KindRefused is a host whose addresses the client does not connect to.
	KindRefused
	// KindUnreachable is a host that could not be resolved or connected to,
	// or a connection that broke.
	KindUnreachable
	// KindTimeout is an upstream that did not answer in time.
	KindTimeout
	// KindStatus is an HTTP answer other than 2xx (redirects included:
	// none is followed).
	KindStatus
	// KindTooLarge is an answer larger than its use allows.
	KindTooLarge
)

// Error is a failed upstream request, in words that hold nothing of the
// answer: no byte of a body, no header, no URL with its query. Which kinds
// may be told to whom is the caller's choice: to a tenant admin, a refused
// address, an unreachable host and a timeout must look alike (else the
// server is a port scanner), while the operator's log may tell them apart.
type Error struct {
	Kind Kind
	// Host is the host the request was for, as its URL names it.
	Host string
	// Addr is the address refused (KindRefused), when the host had one.
	Addr netip.Addr
	// Status is the HTTP status of a KindStatus answer.
	Status int
	// Code is the OAuth 2.0 error code (RFC 6749 §5.2) of a KindStatus
	// answer, when it is one of the registered codes.
	Code string
	// Limit is the size a KindTooLarge answer exceeded, in bytes.
	Limit int64
	// What says, in Gatehouse's words, what was wrong with a KindInvalid
	// answer.
	What string
}

func (e *Error) Error() string {
	host := e.Host
	if host == "" {
		host = "the upstream"
	}
	switch e.Kind {
	case KindURL:
		return "upstream: not an http(s) URL without a user name or password"
	case KindRefused:
		if e.Addr.IsValid() && e.Addr.String() != e.Host {
			return fmt.Sprintf("upstream: %s resolves to %s, which this server does not connect to", host, e.Addr)
		}
		return fmt.Sprintf("upstream: %s is an address this server does not connect to", host)
	case KindUnreachable:
		return fmt.Sprintf("upstream: %s cannot be reached", host)
	case KindTimeout:
		return fmt.Sprintf("upstream: %s did not answer in time", host)
	case KindStatus:
		if e.Code != "" {
			return fmt.Sprintf("upstream: %s answered HTTP %d (%s)", host, e.Status, e.Code)
		}
		return fmt.Sprintf("upstream: %s answered HTTP %d", host, e.Status)
	case KindTooLarge:
		return fmt.Sprintf("upstream: the answer of %s is larger than %s", host, size(e.Limit))
	}
	if e.What != "" {
		return fmt.Sprintf("upstream: the answer of %s is not valid: %s", host, e.What)
	}
	return fmt.Sprintf("upstream: the answer of %s is not valid", host)
}

// size is n bytes for people.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Invalid returns a KindInvalid error saying what, in Gatehouse's own
// words, is wrong with host's answer.
func Invalid(host, what string) error { return &Error{Kind: KindInvalid, Host: host, What: what} }

// Safe returns an *Error for err, for a log line or a message: the *Error
// err wraps, if any (however a library wrapped it, as long as it kept it
// with %w); else an OAuth error answer by its registered code, a timeout,
// or an unusable answer. Library errors are never kept: go-oidc, oauth2
// and goth put bodies, claims and URLs with access tokens in theirs.
// Safe(nil) is nil.
func Safe(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	// An OAuth error in a 2xx answer (GitHub answers token errors with
	// 200 and a form): its registered code, nothing else of it.
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &Error{Kind: KindInvalid, What: "an OAuth error answer"}
		if re.Response != nil && re.Response.Request != nil {
			e.Host = normalizeHost(re.Response.Request.URL.Hostname())
		}
		if oauthErrors[re.ErrorCode] {
			e.What += " (" + re.ErrorCode + ")"
		}
		return e
	}
	if isTimeout(err) {
		return &Error{Kind: KindTimeout}
	}
	return &Error{Kind: KindInvalid}
}

// KindOf returns the kind of err as Safe sees it.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(Safe(err), &e) {
		return e.Kind
	}
	return KindInvalid
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// oauthErrors are the registered OAuth 2.0 error codes (RFC 6749 §4.1.2.1,
// §5.2, RFC 6750 §3.1, RFC 8628 §3.5, RFC 9449 §5, OpenID Connect Core
// §3.1.2.6) an error answer may name: only these are kept, so that no byte
// an upstream chose reaches a log.
var oauthErrors = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true, "access_denied": true, "unsupported_response_type": true,
	"server_error": true, "temporarily_unavailable": true, "invalid_token": true, "insufficient_scope": true,
	"authorization_pending": true, "slow_down": true, "expired_token": true, "invalid_dpop_proof": true,
	"use_dpop_nonce": true, "interaction_required": true, "login_required": true, "consent_required": true,
	"invalid_request_uri": true, "invalid_request_object": true, "invalid_target": true,
}

// Message is what a tenant admin may be told of err, a failure to do what
// ("fetch metadata"): "could not fetch metadata", the same for a refused
// address, a host that cannot be reached, a closed or an open port that
// answers no HTTP, a timeout and an unusable answer (told apart, a tenant
// admin could map the operator's network); with "(HTTP 403)" only when an
// allowed address really answered that status, or the size limit a real
// answer exceeded. Never a byte of the answer.
func Message(what string, err error) string {
	var e *Error
	if errors.As(Safe(err), &e) {
		switch e.Kind {
		case KindStatus:
			return fmt.Sprintf("could not %s (HTTP %d)", what, e.Status)
		case KindTooLarge:
			return fmt.Sprintf("could not %s: the answer is larger than %s", what, size(e.Limit))
		}
	}
	return "could not " + what
}
