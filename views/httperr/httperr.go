// Package httperr is Gatehouse's one error type for answers to HTTP
// requests. Handlers return an *Error; the server's error handler decides,
// in one place, between an OAuth redirect to the client, a JSON body and an
// HTML page for people.
package httperr

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Error is a failure with what the answer to it should be.
type Error struct {
	// Status is the HTTP status of a page or JSON answer.
	Status int
	// Code is the OAuth error code (RFC 6749 §4.1.2.1, §5.2) when the error
	// is a protocol error, else a short machine-readable reason.
	Code string
	// Title and Description are safe to show to people; Description also
	// becomes error_description.
	Title       string
	Description string
	// Field names the input that is wrong, for validation errors.
	Field string
	// Redirect, when set, delivers the error to the client at its validated
	// redirect URI instead of showing a page.
	Redirect *Redirect
	// RetryAfter, when set, is sent as Retry-After (RFC 9110 §10.2.3): how
	// long a client refused for load (503) or for its rate (429) should
	// wait before trying again. Such refusals are not failures to log.
	RetryAfter time.Duration
	// Challenge, when set, is sent as WWW-Authenticate (RFC 6749 §5.2,
	// RFC 6750 §3): with a 401 it names the scheme the client must use.
	Challenge string
	// DPoPNonce, when set, is sent as DPoP-Nonce (RFC 9449 §8, §9): the
	// nonce the client must put in its next DPoP proof.
	DPoPNonce string
	// Back, when set, is the way back an error page offers: an address of
	// the application the request came from, taken from what it
	// registered, never from the request. Without it the page leads to
	// the tenant's account page.
	Back *Back
	// Mismatch, on the page of an authorization request whose redirect_uri
	// is not registered, is what its developer needs to fix it. The error
	// handler shows it in development mode only.
	Mismatch *RedirectMismatch
	// Err is the internal cause, logged, never shown.
	Err error
}

// Back is an error page's way back to an application.
type Back struct {
	// URL comes from the application's registration (the origin of a
	// registered redirect URI), never from the request.
	URL  string
	Name string
}

// RedirectMismatch is a redirect_uri refused for not being registered:
// the URI the request sent, the client's registered ones, and where the
// client is edited in the console (tenant slug and client id).
type RedirectMismatch struct {
	Rejected   string
	Registered []string
	Tenant     string
	ClientID   string
}

// Redirect names where, and with what, an authorization error goes back to
// the client (RFC 6749 §4.1.2.1, RFC 9207).
type Redirect struct {
	URI    string
	State  string
	Issuer string
	// FormPost delivers the error as response_mode=form_post asked.
	FormPost bool
}

func (e *Error) Error() string {
	msg := e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// OAuth returns a protocol error with code, answered with 400.
func OAuth(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Description: fmt.Sprintf(format, args...)}
}

// Page returns an error shown to people as a page.
func Page(status int, title, format string, args ...any) *Error {
	return &Error{Status: status, Title: title, Description: fmt.Sprintf(format, args...)}
}

// NotFound is the answer for anything that does not exist here, including
// what exists in another tenant.
func NotFound() *Error {
	return Page(http.StatusNotFound, "Page not found", "There is nothing at this address.")
}

// Internal wraps an unexpected failure; people see a generic message.
func Internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "server_error", Title: "Something went wrong",
		Description: "The server could not complete the request. Please try again.", Err: err}
}

// Busy is the answer when the node is too busy to do the work of the
// request now: 503, with OAuth's temporarily_unavailable (RFC 6749
// §4.1.2.1) for JSON.
func Busy(retryAfter time.Duration) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: TemporarilyUnavailable, Title: "Please try again in a moment",
		Description: "The server is busy. Please try again in a moment.", RetryAfter: retryAfter}
}

// Unavailable is the answer when something the request needs, the
// database, cannot be reached: 503 with Retry-After, OAuth's
// temporarily_unavailable for JSON, and a page that asks people to try
// again. Like Busy it is not the request's fault and not a bug.
func Unavailable(retryAfter time.Duration) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: TemporarilyUnavailable, Title: "Please try again in a moment",
		Description: "The service is briefly unavailable. Please try again in a moment.", RetryAfter: retryAfter}
}

// TooManyRequests is the answer to a client over its rate limit: 429
// (RFC 6585 §4).
func TooManyRequests(retryAfter time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "too_many_requests", Title: "Too many requests",
		Description: "Too many requests came from your network. Please wait a moment and try again.", RetryAfter: retryAfter}
}

// RedirectTo returns a copy of e delivered to the client at r.
func (e *Error) RedirectTo(r Redirect) *Error {
	c := *e
	c.Redirect = &r
	return &c
}

// WithChallenge returns a copy of e sent with WWW-Authenticate challenge.
func (e *Error) WithChallenge(challenge string) *Error {
	c := *e
	c.Challenge = challenge
	return &c
}

// WithCause returns a copy of e with its internal cause.
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// As returns err as an *Error, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Location returns the URL that delivers params to a client's redirect URI:
// they are added to the URI's query, which keeps what the client registered.
func Location(redirectURI string, params url.Values) (string, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// RedirectLocation returns the URL delivering e to its client.
func (e *Error) RedirectLocation() (string, error) {
	return e.Delivery().Location()
}

// Delivery is how e goes back to its client: its redirect URI, error,
// error_description, state and iss (RFC 6749 §4.1.2.1, RFC 9207).
func (e *Error) Delivery() Delivery {
	p := url.Values{"error": {e.Code}}
	if e.Description != "" {
		p.Set("error_description", e.Description)
	}
	if e.Redirect.State != "" {
		p.Set("state", e.Redirect.State)
	}
	if e.Redirect.Issuer != "" {
		p.Set("iss", e.Redirect.Issuer)
	}
	return Delivery{URI: e.Redirect.URI, Params: p, FormPost: e.Redirect.FormPost}
}

// Delivery is an authorization response on its way to the client through
// the browser: Params added to URI's query (RFC 6749 §4.1.2), or, with
// FormPost, posted to URI by a page that submits itself (OAuth 2.0 Form
// Post Response Mode §2). With no Params it is a plain redirect to URI (a
// page of Gatehouse's own).
type Delivery struct {
	URI      string
	Params   url.Values
	FormPost bool
}

// Location returns the URL of a redirect that delivers d.
func (d Delivery) Location() (string, error) {
	if d.Params == nil {
		return d.URI, nil
	}
	return Location(d.URI, d.Params)
}

// OAuth 2.0 and OpenID Connect error codes.
const (
	InvalidRequest          = "invalid_request"
	InvalidClient           = "invalid_client"
	InvalidGrant            = "invalid_grant"
	InvalidScope            = "invalid_scope"
	InvalidTarget           = "invalid_target"
	InvalidToken            = "invalid_token"
	InsufficientScope       = "insufficient_scope"
	UnauthorizedClient      = "unauthorized_client"
	UnsupportedGrantType    = "unsupported_grant_type"
	UnsupportedResponseType = "unsupported_response_type"
	AccessDenied            = "access_denied"
	LoginRequired           = "login_required"
	ConsentRequired         = "consent_required"
	InteractionRequired     = "interaction_required"
	ServerError             = "server_error"
	TemporarilyUnavailable  = "temporarily_unavailable"
	// The device authorization grant's (RFC 8628 §3.5).
	AuthorizationPending = "authorization_pending"
	SlowDown             = "slow_down"
	ExpiredToken         = "expired_token"
)

// WithCode returns a copy of e with the machine-readable code.
func (e *Error) WithCode(code string) *Error {
	c := *e
	c.Code = code
	return &c
}
