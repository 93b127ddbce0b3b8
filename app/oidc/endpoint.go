package oidc

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Response is the successful answer of a protocol endpoint: a JSON body (or
// none) with its status and headers. Failures are *httperr.Error, the one
// error type, which the server turns into OAuth's JSON error answer.
type Response struct {
	Status int
	Header http.Header
	// Body is marshalled as JSON, unless it is a RawBody, written as it
	// is; nil answers with no body.
	Body any
}

// RawBody is a Response body that is not JSON: Data, of media type
// ContentType (a signed JWT answer, RFC 9701).
type RawBody struct {
	ContentType string
	Data        []byte
}

// jsonAnswer is a 200 JSON answer that no one may cache (RFC 6749 §5.1).
func jsonAnswer(body any) *Response {
	return &Response{Status: http.StatusOK, Body: body, Header: http.Header{
		"Cache-Control": {"no-store"}, "Pragma": {"no-cache"},
	}}
}

// publicAnswer is a 200 JSON answer that caches may keep for maxAge.
func publicAnswer(body any, maxAge string) *Response {
	return &Response{Status: http.StatusOK, Body: body, Header: http.Header{
		"Cache-Control": {"public, max-age=" + maxAge},
	}}
}

// repeatable are the parameters a request may send more than once (RFC 8707
// §2: several resource values; audience is its alias here).
var repeatable = map[string]bool{"resource": true, "audience": true}

// secretParams must never travel in the URL (RFC 6750 §2.3, RFC 9700
// §4.3.2): a URL is logged, cached and sent in Referer.
var secretParams = []string{"access_token", "refresh_token", "client_secret", "token", "code", "code_verifier", "client_assertion", "device_code", "subject_token", "actor_token"}

// ParseForm reads the body of a POST to a protocol endpoint: it must be
// application/x-www-form-urlencoded (RFC 6749 §3.2), no parameter may be
// repeated (§3.1, §3.2) except resource and audience, and no secret may be
// in the URL.
func ParseForm(r *http.Request) (url.Values, error) {
	q := r.URL.Query()
	for _, k := range secretParams {
		if q.Has(k) {
			return nil, httperr.OAuth(httperr.InvalidRequest, "%s must not be sent in the URL", k)
		}
	}
	if r.Method != http.MethodPost {
		return nil, httperr.OAuth(httperr.InvalidRequest, "use POST")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, httperr.OAuth(httperr.InvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return nil, httperr.OAuth(httperr.InvalidRequest, "the body is not a valid form")
	}
	form := r.PostForm
	for k, vs := range form {
		if len(vs) > 1 && !repeatable[k] {
			return nil, httperr.OAuth(httperr.InvalidRequest, "%s is repeated", k)
		}
	}
	return form, nil
}

// ClientAuth is how a request identified its client: HTTP Basic (RFC 6749
// §2.3.1, client_secret_basic), the body (client_secret_post), a signed
// assertion (RFC 7523 §2.2, private_key_jwt), or the id alone (a public
// client, "none").
type ClientAuth struct {
	ID     string
	Secret string
	// Basic is true when the credentials came in the Authorization header.
	Basic bool
	// Assertion is the client_assertion, not yet verified; ID is its
	// subject (or the client_id sent with it, which must be the same).
	Assertion string
}

// AssertionTypeJWTBearer is the client_assertion_type of a JWT assertion
// (RFC 7523 §2.2).
const AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxAssertionLength bounds a client assertion: a JWS of a few claims and
// one signature is far shorter.
const maxAssertionLength = 8192

// clientAuth reads the client's credentials from r and form. A request uses
// exactly one method (RFC 6749 §2.3): Basic and body credentials together
// are refused, as is an assertion with either.
func clientAuth(r *http.Request, form url.Values, challenge string) (ClientAuth, error) {
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		return assertionAuth(r, form, challenge)
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, _, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return ClientAuth{}, invalidClient("use HTTP Basic or the request body to authenticate the client", challenge)
		}
		user, pass, ok := r.BasicAuth()
		if !ok {
			return ClientAuth{}, invalidClient("malformed Basic credentials", challenge)
		}
		// The id and secret are form-urlencoded before Basic (§2.3.1).
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil || id == "" {
			return ClientAuth{}, invalidClient("malformed Basic credentials", challenge)
		}
		if form.Has("client_secret") {
			return ClientAuth{}, httperr.OAuth(httperr.InvalidRequest, "authenticate the client with one method only")
		}
		if bodyID := form.Get("client_id"); bodyID != "" && bodyID != id {
			return ClientAuth{}, invalidClient("client_id does not match the authenticated client", challenge)
		}
		return ClientAuth{ID: id, Secret: secret, Basic: true}, nil
	}
	id := form.Get("client_id")
	if id == "" {
		return ClientAuth{}, invalidClient("client authentication is required", challenge)
	}
	return ClientAuth{ID: id, Secret: form.Get("client_secret")}, nil
}

// assertionAuth reads a client assertion (RFC 7523 §2.2): the type is the
// JWT bearer one, the assertion one compact JWS, and the client it names
// (sub, RFC 7523 §3 item 2) the client_id if one is sent too. Nothing is
// verified here: authenticate does, against the client's registered keys.
func assertionAuth(r *http.Request, form url.Values, challenge string) (ClientAuth, error) {
	if r.Header.Get("Authorization") != "" || form.Has("client_secret") {
		return ClientAuth{}, httperr.OAuth(httperr.InvalidRequest, "authenticate the client with one method only")
	}
	if form.Get("client_assertion_type") != AssertionTypeJWTBearer {
		return ClientAuth{}, invalidClient("client_assertion_type must be "+AssertionTypeJWTBearer, challenge)
	}
	assertion := form.Get("client_assertion")
	if assertion == "" || len(assertion) > maxAssertionLength || strings.Count(assertion, ".") != 2 {
		return ClientAuth{}, invalidClient("client_assertion must be a signed JWT", challenge)
	}
	sub, err := unverifiedSubject(assertion)
	if err != nil || sub == "" {
		return ClientAuth{}, invalidClient("client_assertion must be a signed JWT naming the client in sub", challenge)
	}
	if id := form.Get("client_id"); id != "" && id != sub {
		return ClientAuth{}, invalidClient("client_id does not match the assertion's subject", challenge)
	}
	return ClientAuth{ID: sub, Assertion: assertion}, nil
}

// unverifiedSubject reads the sub claim of a compact JWS without checking
// it: only to find the client whose keys will check it.
func unverifiedSubject(jws string) (string, error) {
	parts := strings.Split(jws, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		Subject string `json:"sub"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return "", err
	}
	return c.Subject, nil
}

// basicChallenge is the WWW-Authenticate of a client endpoint's 401.
func basicChallenge(issuer string) string { return `Basic realm="` + issuer + `"` }

// invalidClient is the answer to every client authentication failure: 401
// with a challenge (RFC 6749 §5.2).
func invalidClient(desc, challenge string) *httperr.Error {
	return (&httperr.Error{Status: http.StatusUnauthorized, Code: httperr.InvalidClient, Description: desc}).WithChallenge(challenge)
}

// serverError is a failure of ours; the cause is logged, never shown.
func serverError(err error) *httperr.Error { return httperr.Internal(err) }

// oauthErr is a 400 protocol error.
func oauthErr(code, format string, args ...any) *httperr.Error {
	return httperr.OAuth(code, format, args...)
}
