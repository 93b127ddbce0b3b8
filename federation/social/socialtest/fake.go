// Package socialtest runs fakes of Google, GitHub and Microsoft (Entra ID
// v2) that speak their real JSON over TLS, in process, for tests without
// the internet. Gatehouse reaches them through its real upstream client
// (Upstream, or Resolve, RootCAs and AllowHosts for one built by the
// caller), which finds their real host names on the fake's loopback
// listener and lets them resolve there only because they are allowed; a
// test's browser reaches them with Transport. Each authorization
// is approved at once for the user set with SetUser; Tamper spoils the next
// answer of a provider in one of the ways an attacker or a broken upstream
// would.
package socialtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/federation/upstream"
)

// Provider names a faked provider.
type Provider string

// The faked providers.
const (
	Google    Provider = "google"
	GitHub    Provider = "github"
	Microsoft Provider = "microsoft"
	Apple     Provider = "apple"
)

// ConsumersTenant is the Entra tenant id of personal Microsoft accounts.
const ConsumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// Hosts are the real host names the fake answers for.
var Hosts = []string{
	"accounts.google.com", "oauth2.googleapis.com", "www.googleapis.com", "openidconnect.googleapis.com",
	"github.com", "api.github.com",
	"login.microsoftonline.com", "graph.microsoft.com",
	"appleid.apple.com",
}

// User is who a provider logs in.
type User struct {
	// Subject is Google's sub, GitHub's numeric id, or Microsoft's object
	// id (oid).
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
	// Login is a GitHub user name; PublicEmail shows Email on the GitHub
	// profile (/user) too.
	Login       string
	PublicEmail bool
	// TenantID is a Microsoft user's Entra tenant (tid).
	TenantID string
	// NoEmailClaim leaves email out of a Microsoft ID token (it is
	// optional there); Graph's mail still has it.
	NoEmailClaim bool
	// PrivateEmail says an Apple user hides their address: Email is a
	// private relay address and the ID token says is_private_email.
	PrivateEmail bool
}

// Tamper spoils the next login at a provider.
type Tamper struct {
	// Deny answers the authorization request with error=access_denied.
	Deny bool
	// Claims replace ID token claims; a nil value removes the claim.
	Claims map[string]any
	// ForeignKey signs the ID token with a key that is not in the JWKS
	// (under the same key id).
	ForeignKey bool
	// ErrorBody makes the token endpoint refuse the code (invalid_grant)
	// with this text in its answer, as an attacker's upstream would, to
	// see it echoed in a page or a log.
	ErrorBody string
	// BrokenProfile breaks the connection in the middle of the profile
	// answer (Google's userinfo, GitHub's /user, Graph's /me).
	BrokenProfile bool
}

// Fake is the running fake of every provider.
type Fake struct {
	srv   *httptest.Server
	pool  *x509.CertPool
	key   *rsa.PrivateKey
	rogue *rsa.PrivateKey
	kid   string

	mu      sync.Mutex
	clients map[string]string // client id -> secret
	users   map[Provider]User
	tamper  map[Provider]Tamper
	codes   map[string]*grant
	tokens  map[string]*grant
	asked   map[Provider][]url.Values
	// apple holds the Services IDs registered at Apple, with their keys;
	// appleSeen the (client, user) pairs that signed in before.
	apple     map[string]AppleClient
	appleSeen map[string]bool
	secrets   []string // client secrets Apple's token endpoint accepted
}

type grant struct {
	provider    Provider
	clientID    string
	redirectURI string
	nonce       string
	challenge   string
	method      string
	scope       string
	user        User
	tamper      Tamper
}

// New starts the fake; it stops when t ends.
func New(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{
		clients: map[string]string{}, users: map[Provider]User{}, tamper: map[Provider]Tamper{},
		codes: map[string]*grant{}, tokens: map[string]*grant{}, asked: map[Provider][]url.Values{},
		apple: map[string]AppleClient{}, appleSeen: map[string]bool{},
		kid: token(8),
	}
	var err error
	if f.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if f.rogue, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	cert, pool, err := newCertificate(Hosts)
	if err != nil {
		t.Fatal(err)
	}
	f.pool = pool
	f.srv = httptest.NewUnstartedServer(f.routes())
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// newCertificate makes a test certificate authority and a server
// certificate it signs for hosts.
func newCertificate(hosts []string) (tls.Certificate, *x509.CertPool, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "socialtest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}, pool, nil
}

// AllowHosts is the allow list that lets the fake's host names (on port
// 443, as the providers' URLs name them) resolve to its loopback listener.
func AllowHosts() upstream.AllowList {
	var hosts []string
	for _, h := range Hosts {
		hosts = append(hosts, h+":443")
	}
	l, err := upstream.ParseAllowList(strings.Join(hosts, ","))
	if err != nil {
		panic(err) // Hosts are host names
	}
	return l
}

// Resolve is an upstream.Resolver that finds the fake's host names on its
// listener; other names do not exist (no test reaches the internet).
func (f *Fake) Resolve(_ context.Context, host, _ string) ([]netip.AddrPort, error) {
	if !slices.Contains(Hosts, host) {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.AddrPort{netip.MustParseAddrPort(f.srv.Listener.Addr().String())}, nil
}

// RootCAs is the fake's test certificate authority.
func (f *Fake) RootCAs() *x509.CertPool { return f.pool }

// Upstream returns Gatehouse's upstream client as the server builds it,
// reaching the fake and nothing else.
func (f *Fake) Upstream() *upstream.Client {
	return upstream.New(AllowHosts(), upstream.Options{Resolver: f.Resolve, RootCAs: f.pool})
}

// DialFunc dials a host the fake does not answer for.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Transport returns a transport that dials the fake for its hosts and
// other hosts with dial (nil refuses them: no test reaches the internet),
// trusting the fake's certificate authority.
func (f *Fake) Transport(dial DialFunc) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second}
	target := f.srv.Listener.Addr().String()
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if slices.Contains(Hosts, host) {
				return d.DialContext(ctx, network, target)
			}
			if dial == nil {
				return nil, fmt.Errorf("socialtest: no route to %s", addr)
			}
			return dial(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: f.pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 16,
	}
}

// Client returns a client over Transport(dial) with a timeout.
func (f *Fake) Client(dial DialFunc) *http.Client {
	return &http.Client{Transport: f.Transport(dial), Timeout: 15 * time.Second}
}

// AddClient registers an application at every provider.
func (f *Fake) AddClient(id, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clients[id] = secret
}

// SetUser sets who p logs in from now on.
func (f *Fake) SetUser(p Provider, u User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[p] = u
}

// Tamper spoils the next login at p.
func (f *Fake) Tamper(p Provider, tm Tamper) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tamper[p] = tm
}

// Authorizations returns the authorization requests p received, oldest
// first.
func (f *Fake) Authorizations(p Provider) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked[p])
}

func (f *Fake) routes() http.Handler {
	mux := http.NewServeMux()
	// Google.
	mux.HandleFunc("GET accounts.google.com/.well-known/openid-configuration", f.googleDiscovery)
	mux.HandleFunc("GET accounts.google.com/o/oauth2/auth", f.authorize(Google))
	mux.HandleFunc("GET accounts.google.com/o/oauth2/v2/auth", f.authorize(Google))
	mux.HandleFunc("POST oauth2.googleapis.com/token", f.token(Google))
	mux.HandleFunc("GET www.googleapis.com/oauth2/v3/certs", f.jwks)
	mux.HandleFunc("GET www.googleapis.com/oauth2/v2/userinfo", f.googleUserinfoV2)
	mux.HandleFunc("GET openidconnect.googleapis.com/v1/userinfo", f.googleUserinfo)
	// GitHub.
	mux.HandleFunc("GET github.com/login/oauth/authorize", f.authorize(GitHub))
	mux.HandleFunc("POST github.com/login/oauth/access_token", f.token(GitHub))
	mux.HandleFunc("GET api.github.com/user", f.githubUser)
	mux.HandleFunc("GET api.github.com/user/emails", f.githubEmails)
	// Microsoft.
	mux.HandleFunc("GET login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration", f.microsoftDiscovery)
	mux.HandleFunc("GET login.microsoftonline.com/{tenant}/discovery/v2.0/keys", f.jwks)
	mux.HandleFunc("GET login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize", f.authorize(Microsoft))
	mux.HandleFunc("POST login.microsoftonline.com/{tenant}/oauth2/v2.0/token", f.token(Microsoft))
	mux.HandleFunc("GET graph.microsoft.com/v1.0/me", f.graphMe)
	// Apple.
	mux.HandleFunc("GET appleid.apple.com/auth/authorize", f.appleAuthorize)
	mux.HandleFunc("POST appleid.apple.com/auth/token", f.appleTokenEndpoint)
	mux.HandleFunc("GET appleid.apple.com/auth/keys", f.jwks)
	return mux
}

// breakConnection sends half an answer's headers and closes the
// connection.
func breakConnection(w http.ResponseWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: appl")
	_ = buf.Flush()
	_ = conn.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (f *Fake) googleDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                "https://accounts.google.com",
		"authorization_endpoint":                "https://accounts.google.com/o/oauth2/v2/auth",
		"device_authorization_endpoint":         "https://oauth2.googleapis.com/device/code",
		"token_endpoint":                        "https://oauth2.googleapis.com/token",
		"userinfo_endpoint":                     "https://openidconnect.googleapis.com/v1/userinfo",
		"revocation_endpoint":                   "https://oauth2.googleapis.com/revoke",
		"jwks_uri":                              "https://www.googleapis.com/oauth2/v3/certs",
		"response_types_supported":              []string{"code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"claims_supported":                      []string{"aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"},
		"code_challenge_methods_supported":      []string{"plain", "S256"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
	})
}

// microsoftIssuer is the issuer a tenant's discovery document names:
// multi-tenant authorities name the template "{tenantid}".
func microsoftIssuer(tenant string) string {
	switch tenant {
	case "common", "organizations":
		tenant = "{tenantid}"
	case "consumers":
		tenant = ConsumersTenant
	}
	return "https://login.microsoftonline.com/" + tenant + "/v2.0"
}

func (f *Fake) microsoftDiscovery(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if tenant == "invalid.example" {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant '" + tenant + "' not found.", "error_codes": []int{90002},
		})
		return
	}
	base := "https://login.microsoftonline.com/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                microsoftIssuer(tenant),
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     "https://graph.microsoft.com/oidc/userinfo",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":                     base + "/kerberos",
		"tenant_region_scope":                   nil,
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	})
}

func (f *Fake) jwks(w http.ResponseWriter, r *http.Request) {
	key := map[string]any{}
	b, _ := json.Marshal(jose.JSONWebKey{Key: &f.key.PublicKey, KeyID: f.kid, Algorithm: "RS256", Use: "sig"})
	_ = json.Unmarshal(b, &key)
	if tenant := r.PathValue("tenant"); tenant != "" {
		// Entra publishes the issuer (template) its keys sign for.
		key["issuer"] = microsoftIssuer(tenant)
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{key}})
}

// authorize approves every authorization request at once for p's user and
// sends the browser back with a code (or with error=access_denied).
func (f *Fake) authorize(p Provider) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.asked[p] = append(f.asked[p], q)
		_, known := f.clients[q.Get("client_id")]
		user, hasUser := f.users[p]
		tm := f.tamper[p]
		delete(f.tamper, p)
		f.mu.Unlock()
		redirect, err := url.Parse(q.Get("redirect_uri"))
		if !known || err != nil || redirect.Host == "" || !hasUser {
			http.Error(w, "unknown client, redirect_uri or user", http.StatusBadRequest)
			return
		}
		if p != GitHub && q.Get("response_type") != "code" {
			http.Error(w, "response_type must be code", http.StatusBadRequest)
			return
		}
		back := redirect.Query()
		back.Set("state", q.Get("state"))
		switch {
		case tm.Deny && p == GitHub:
			back.Set("error", "access_denied")
			back.Set("error_description", "The user has denied your application access.")
			back.Set("error_uri", "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied")
		case tm.Deny:
			back.Set("error", "access_denied")
			back.Set("error_description", "The user denied the request.")
		default:
			code := token(24)
			f.mu.Lock()
			f.codes[code] = &grant{provider: p, clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), nonce: q.Get("nonce"),
				challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), scope: q.Get("scope"), user: user, tamper: tm}
			f.mu.Unlock()
			back.Set("code", code)
			switch p {
			case Google:
				back.Set("scope", "email profile openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile")
				back.Set("authuser", "0")
				back.Set("prompt", "none")
			case Microsoft:
				back.Set("session_state", token(12))
			}
		}
		redirect.RawQuery = back.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusFound)
	}
}

// clientAuth reads client_secret_basic or client_secret_post.
func clientAuth(r *http.Request) (id, secret string) {
	if u, p, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
		return id, secret
	}
	return r.PostFormValue("client_id"), r.PostFormValue("client_secret")
}

func (f *Fake) tokenError(w http.ResponseWriter, p Provider, code, desc string) {
	if p == GitHub {
		// GitHub answers errors with 200 and a form.
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		_, _ = w.Write([]byte(url.Values{"error": {code}, "error_description": {desc}}.Encode()))
		return
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": code, "error_description": desc})
}

// token redeems a code, checking the client, the redirect URI and the
// PKCE verifier; the ID token carries the nonce the authorization sent.
func (f *Fake) token(p Provider) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			f.tokenError(w, p, "invalid_request", err.Error())
			return
		}
		id, secret := clientAuth(r)
		f.mu.Lock()
		want, known := f.clients[id]
		g := f.codes[r.PostFormValue("code")]
		delete(f.codes, r.PostFormValue("code"))
		f.mu.Unlock()
		switch {
		case !known || secret != want:
			f.tokenError(w, p, "invalid_client", "The client secret supplied for a confidential client is invalid.")
			return
		case p != GitHub && r.PostFormValue("grant_type") != "authorization_code":
			f.tokenError(w, p, "unsupported_grant_type", "grant_type must be authorization_code")
			return
		case g == nil || g.provider != p || g.clientID != id:
			f.tokenError(w, p, codeError(p), "The code passed is incorrect or expired.")
			return
		case g.tamper.ErrorBody != "":
			f.tokenError(w, p, codeError(p), g.tamper.ErrorBody)
			return
		case r.PostFormValue("redirect_uri") != g.redirectURI:
			f.tokenError(w, p, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
			return
		case !pkceOK(g, r.PostFormValue("code_verifier")):
			f.tokenError(w, p, codeError(p), "The code_verifier does not match the code_challenge supplied in the authorization request.")
			return
		}
		access := token(32)
		if p == GitHub {
			access = "gho_" + access
		}
		f.mu.Lock()
		f.tokens[access] = g
		f.mu.Unlock()
		switch p {
		case GitHub:
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			_, _ = w.Write([]byte(url.Values{"access_token": {access}, "scope": {"read:user,user:email"}, "token_type": {"bearer"}}.Encode()))
		case Google:
			writeJSON(w, http.StatusOK, map[string]any{
				"access_token": access, "expires_in": 3599, "token_type": "Bearer", "id_token": f.idToken(g),
				"scope": "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
			})
		case Microsoft:
			writeJSON(w, http.StatusOK, map[string]any{
				"token_type": "Bearer", "scope": "openid profile email User.Read", "expires_in": 4742, "ext_expires_in": 4742,
				"access_token": access, "id_token": f.idToken(g),
			})
		}
	}
}

func codeError(p Provider) string {
	if p == GitHub {
		return "bad_verification_code"
	}
	return "invalid_grant"
}

func pkceOK(g *grant, verifier string) bool {
	if g.challenge == "" {
		return verifier == ""
	}
	if g.method != "S256" || verifier == "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == g.challenge
}

// idToken signs the ID token of g.
func (f *Fake) idToken(g *grant) string {
	now := time.Now()
	u := g.user
	claims := map[string]any{"aud": g.clientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	switch g.provider {
	case Google:
		claims["iss"] = "https://accounts.google.com"
		claims["azp"] = g.clientID
		claims["sub"] = u.Subject
		claims["email"] = u.Email
		claims["email_verified"] = u.EmailVerified
		claims["at_hash"] = token(16)
		claims["name"] = u.Name
		claims["given_name"] = u.GivenName
		claims["family_name"] = u.FamilyName
		claims["picture"] = "https://lh3.googleusercontent.com/a/" + u.Subject
	case Microsoft:
		sum := sha256.Sum256([]byte(u.Subject + "|" + g.clientID))
		claims["ver"] = "2.0"
		claims["iss"] = "https://login.microsoftonline.com/" + u.TenantID + "/v2.0"
		claims["sub"] = base64.RawURLEncoding.EncodeToString(sum[:])
		claims["nbf"] = now.Unix()
		claims["name"] = u.Name
		claims["preferred_username"] = u.Email
		claims["oid"] = u.Subject
		claims["tid"] = u.TenantID
		claims["rh"] = "0.A" + token(12)
		claims["uti"] = token(16)
		if !u.NoEmailClaim && u.Email != "" {
			claims["email"] = u.Email
		}
	case Apple:
		// Apple sends its booleans as strings, and no name.
		claims["iss"] = "https://appleid.apple.com"
		claims["sub"] = u.Subject
		claims["auth_time"] = now.Unix()
		claims["nonce_supported"] = true
		claims["at_hash"] = token(16)
		if u.Email != "" {
			claims["email"] = u.Email
			claims["email_verified"] = strconv.FormatBool(u.EmailVerified)
			claims["is_private_email"] = strconv.FormatBool(u.PrivateEmail)
		}
	}
	for k, v := range g.tamper.Claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	key := f.key
	if g.tamper.ForeignKey {
		key = f.rogue
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: f.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	raw, _ := jws.CompactSerialize()
	return raw
}

var errNoToken = errors.New("no valid access token")

// bearer returns the grant of the request's access token (Google's v2
// userinfo also takes it as the access_token parameter).
func (f *Fake) bearer(r *http.Request, p Provider) (*grant, error) {
	tok := r.URL.Query().Get("access_token")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "bearer") || strings.EqualFold(scheme, "token") {
			tok = rest
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.tokens[tok]
	if g == nil || g.provider != p {
		return nil, errNoToken
	}
	return g, nil
}

func (f *Fake) googleUserinfoV2(w http.ResponseWriter, r *http.Request) {
	g, err := f.bearer(r, Google)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"code": 401, "message": "Request is missing required authentication credential.", "status": "UNAUTHENTICATED"}})
		return
	}
	if g.tamper.BrokenProfile {
		breakConnection(w)
		return
	}
	u := g.user
	writeJSON(w, http.StatusOK, map[string]any{
		"id": u.Subject, "email": u.Email, "verified_email": u.EmailVerified, "name": u.Name,
		"given_name": u.GivenName, "family_name": u.FamilyName, "picture": "https://lh3.googleusercontent.com/a/" + u.Subject,
	})
}

func (f *Fake) googleUserinfo(w http.ResponseWriter, r *http.Request) {
	g, err := f.bearer(r, Google)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_request", "error_description": "Invalid Credentials"})
		return
	}
	u := g.user
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": u.Subject, "email": u.Email, "email_verified": u.EmailVerified, "name": u.Name,
		"given_name": u.GivenName, "family_name": u.FamilyName, "picture": "https://lh3.googleusercontent.com/a/" + u.Subject,
	})
}

func githubUnauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
}

func (f *Fake) githubUser(w http.ResponseWriter, r *http.Request) {
	g, err := f.bearer(r, GitHub)
	if err != nil {
		githubUnauthorized(w)
		return
	}
	if g.tamper.BrokenProfile {
		breakConnection(w)
		return
	}
	u := g.user
	id, _ := strconv.ParseInt(u.Subject, 10, 64)
	var email, name any
	if u.PublicEmail {
		email = u.Email
	}
	if u.Name != "" {
		name = u.Name
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"login": u.Login, "id": id, "node_id": "MDQ6VXNlcj" + u.Subject, "avatar_url": "https://avatars.githubusercontent.com/u/" + u.Subject + "?v=4",
		"gravatar_id": "", "url": "https://api.github.com/users/" + u.Login, "html_url": "https://github.com/" + u.Login,
		"type": "User", "user_view_type": "private", "site_admin": false, "name": name, "company": nil, "blog": "", "location": nil,
		"email": email, "hireable": nil, "bio": nil, "twitter_username": nil, "notification_email": email,
		"public_repos": 2, "public_gists": 0, "followers": 1, "following": 0,
		"created_at": "2011-01-25T18:44:36Z", "updated_at": "2025-06-01T10:00:00Z",
	})
}

func (f *Fake) githubEmails(w http.ResponseWriter, r *http.Request) {
	g, err := f.bearer(r, GitHub)
	if err != nil {
		githubUnauthorized(w)
		return
	}
	u := g.user
	emails := []map[string]any{
		// The noreply address is verified but never primary.
		{"email": u.Subject + "+" + u.Login + "@users.noreply.github.com", "primary": false, "verified": true, "visibility": nil},
	}
	if u.Email != "" {
		visibility := "private"
		if u.PublicEmail {
			visibility = "public"
		}
		emails = append(emails, map[string]any{"email": u.Email, "primary": true, "verified": u.EmailVerified, "visibility": visibility})
	}
	writeJSON(w, http.StatusOK, emails)
}

func (f *Fake) graphMe(w http.ResponseWriter, r *http.Request) {
	g, err := f.bearer(r, Microsoft)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"code": "InvalidAuthenticationToken", "message": "Access token is empty."}})
		return
	}
	if g.tamper.BrokenProfile {
		breakConnection(w)
		return
	}
	u := g.user
	var mail any
	if u.Email != "" {
		mail = u.Email
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
		"businessPhones": []string{}, "displayName": u.Name, "givenName": u.GivenName, "jobTitle": nil, "mail": mail,
		"mobilePhone": nil, "officeLocation": nil, "preferredLanguage": nil, "surname": u.FamilyName,
		"userPrincipalName": u.Email, "id": u.Subject,
	})
}
