package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// client calls the management API with a token it gets, and renews, by
// client credentials at the system tenant.
type client struct {
	base         string // the API's URL: <apex>/api/v1
	tokenURL     string
	audience     string
	clientID     string
	clientSecret string
	http         *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// apiError is an answer of the API that is not a success: an RFC 9457
// problem document.
type apiError struct {
	Status int
	Detail string
	Fields []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	}
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("Gatehouse answered %d", e.Status)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	for _, f := range e.Fields {
		msg += fmt.Sprintf(" (%s: %s)", f.Field, f.Message)
	}
	return msg
}

// notFound reports whether err is the API's 404: the object does not exist
// (or is not the principal's, which looks the same).
func notFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// newClient returns a client of the API of Gatehouse at apex (such as
// https://id.example.com). tokenURL defaults to the system tenant's token
// endpoint, https://admin.<apex host>/oauth/token.
func newClient(apex, tokenURL, clientID, clientSecret string) (*client, error) {
	u, err := url.Parse(strings.TrimSuffix(apex, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("url must be the http(s) URL of Gatehouse, such as https://id.example.com")
	}
	if tokenURL == "" {
		tokenURL = u.Scheme + "://admin." + u.Host + "/oauth/token"
	}
	base := u.String() + "/api/v1"
	// Names under .localhost are loopback names (RFC 6761 §6.3): dial
	// them on the loopback address, as browsers do.
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &client{base: base, tokenURL: tokenURL, audience: base, clientID: clientID, clientSecret: clientSecret,
		http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}, nil
}

// bearer returns a valid access token, getting a new one when the last one
// is about to expire.
func (c *client) bearer(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {c.audience}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.clientSecret))
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("get a management API token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("get a management API token at %s: %d %s %s", c.tokenURL, resp.StatusCode, tok.Error, tok.Description)
	}
	c.token = tok.AccessToken
	c.expires = time.Now().Add(time.Duration(max(tok.ExpiresIn-30, 0)) * time.Second)
	return c.token, nil
}

// do sends in (nil: no body) as JSON to the API's path and decodes the
// answer into out (nil: none expected).
func (c *client) do(ctx context.Context, method, path string, in, out any) error {
	token, err := c.bearer(ctx)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		ae := &apiError{Status: resp.StatusCode}
		var p struct {
			Detail string `json:"detail"`
			Errors []struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if json.Unmarshal(raw, &p) == nil {
			ae.Detail = p.Detail
			for _, e := range p.Errors {
				ae.Fields = append(ae.Fields, struct {
					Field   string `json:"field"`
					Message string `json:"message"`
				}{e.Field, e.Message})
			}
		}
		return ae
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// apiPath joins the segments of an API path, each escaped.
func apiPath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// list gets every page of a list.
func list[T any](ctx context.Context, c *client, p string) ([]T, error) {
	var out []T
	after := ""
	for range 1000 {
		q := "?limit=200"
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		var page struct {
			Items []T    `json:"items"`
			Next  string `json:"next"`
		}
		if err := c.do(ctx, http.MethodGet, p+q, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		after = page.Next
	}
	return out, errors.New("too many pages")
}
