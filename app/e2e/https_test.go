package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// tlsListener listens on loopback with a fresh certificate for localhost,
// *.localhost and names, and returns the pool that trusts it.
func tlsListener(t *testing.T, names ...string) (net.Listener, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames:  append([]string{"localhost", "*.localhost"}, names...),
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	return ln, pool
}

// TestHTTPSCookies runs a login over HTTPS: cookies are Secure and carry the
// __Host- prefix (so a parent domain cannot set or shadow them).
func TestHTTPSCookies(t *testing.T) {
	ln, pool := tlsListener(t)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	key, _ := secret.ParseMasterKey(secret.NewMasterKey())
	e := startNode(t, "sqlite:"+t.TempDir()+"/g.db", key, ln, "https://localhost:"+port)
	f := e.fixture("acme")
	if !strings.HasPrefix(f.issuer, "https://acme.localhost:") {
		t.Fatalf("issuer %s", f.issuer)
	}
	b := e.browser()
	b.client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	_, challenge := pkce()
	p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
	p = b.get(resolve(f.issuer, p.location))
	p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {f.email}, "password": {f.password}})
	cookies := p.header.Values("Set-Cookie")
	if len(cookies) == 0 {
		t.Fatalf("no session cookie (status %d)", p.status)
	}
	for _, c := range cookies {
		lc := strings.ToLower(c)
		if !strings.HasPrefix(c, "__Host-") || !strings.Contains(lc, "; secure") || !strings.Contains(lc, "path=/") || strings.Contains(lc, "domain=") {
			t.Fatalf("cookie %q must be __Host-, Secure, Path=/, without Domain", c)
		}
	}
	if !strings.Contains(p.header.Get("Strict-Transport-Security"), "max-age") {
		t.Fatal("no HSTS under HTTPS")
	}
	if cb := f.login(b, resolve(f.issuer, p.location)); cb.Get("code") == "" || cb.Get("iss") != f.issuer {
		t.Fatalf("flow over HTTPS did not complete: %v", cb)
	}
}
