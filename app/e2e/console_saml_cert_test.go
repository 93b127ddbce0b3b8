package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// certExpiringIn returns a self-signed certificate (base64 DER) that
// expires d from now.
func certExpiringIn(t *testing.T, cn string, d time.Duration) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(d)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// TestConsoleSAMLConnectionShowsTheIdP: a SAML connection's page shows the
// IdP's entity ID, single sign-on URL and certificate expiry from its
// metadata; a certificate expiring within 30 days is warned about on the
// page, in the list and on the tenant's overview, and one with a year left
// is not.
func TestConsoleSAMLConnectionShowsTheIdP(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		idp := samltest.NewIdP(t)
		b, _ := e.consoleAs(t, "ops@example.test", "")
		base := e.base + "/admin/t/acme"
		create := func(name string, edits ...func(*saml.EntityDescriptor)) *admin.Connection {
			md := string(idp.Metadata(edits...))
			c, err := e.srv.Admin().CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionSAML, Name: &name, MetadataXML: &md})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		fine := create("Year Left")
		p := b.get(base + "/connections/" + fine.ID)
		idpPanel := between(p.body, `id="identity-provider"`, "</section>")
		if !strings.Contains(idpPanel, idp.EntityID()) || !strings.Contains(idpPanel, idp.URL) || !strings.Contains(idpPanel, "valid until") {
			t.Fatalf("IdP panel:\n%s", idpPanel)
		}
		if strings.Contains(p.body, `id="cert-warning"`) {
			t.Fatal("a certificate with a year left is warned about")
		}
		if o := b.get(base); strings.Contains(o.body, `id="notices"`) {
			t.Fatal("the overview warns with no certificate expiring")
		}

		soon := certExpiringIn(t, "idp soon", 10*24*time.Hour)
		expiring := create("Soon Gone", func(ed *saml.EntityDescriptor) {
			kds := ed.IDPSSODescriptors[0].KeyDescriptors
			for i := range kds {
				kds[i].KeyInfo.X509Data.X509Certificates = []saml.X509Certificate{{Data: soon}}
			}
		})
		p = b.get(base + "/connections/" + expiring.ID)
		warn := between(p.body, `id="cert-warning"`, "</p>")
		if !strings.Contains(warn, "expires on") || !strings.Contains(warn, "in 9 days") && !strings.Contains(warn, "in 10 days") {
			t.Fatalf("warning: %q", warn)
		}
		if !strings.Contains(p.body, "expires soon") || !strings.Contains(p.body, "CN=idp soon") {
			t.Fatalf("page:\n%s", between(p.body, `id="identity-provider"`, "</section>"))
		}
		if l := b.get(base + "/connections"); !strings.Contains(between(l.body, "Soon Gone", "</tr>"), "certificate") ||
			strings.Contains(between(l.body, "Year Left", "</tr>"), "certificate") {
			t.Fatalf("list:\n%s", l.body)
		}
		o := b.get(base)
		if n := between(o.body, `id="notices"`, "</section>"); !strings.Contains(n, "Soon Gone") || strings.Contains(n, "Year Left") {
			t.Fatalf("overview notices:\n%s", n)
		}
		// The management API says it too.
		c, err := e.srv.Admin().GetConnection(f.adminCtx(), expiring.ID)
		if err != nil || c.IdP == nil || len(c.IdP.Certificates) == 0 || c.IdP.Certificates[0].Expiry != admin.CertExpiring {
			t.Fatalf("API view: %+v %v", c.IdP, err)
		}
	})
}
