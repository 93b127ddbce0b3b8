package saml

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-id/gatehouse/federation"
)

// Connector logs users in at one SAML identity provider.
type Connector struct {
	st  federation.Settings
	cfg federation.ConnConfig
	sp  *saml.ServiceProvider
	// idpCerts are the signing certificates of the IdP's metadata: the
	// only keys a response or assertion may be signed with (two during a
	// rollover).
	idpCerts []*x509.Certificate
	// ssoBinding and ssoURL are where AuthnRequests go: HTTP-Redirect when
	// the IdP offers it, else HTTP-POST.
	ssoBinding, ssoURL string
	// idpEntityID is the IdP's entity ID, from its metadata.
	idpEntityID string
}

// Upstream returns the IdP's entity ID, single sign-on URL and signing
// certificates, as its metadata gives them.
func (c *Connector) Upstream() federation.Upstream {
	u := federation.Upstream{EntityID: c.idpEntityID, SSOURL: c.ssoURL}
	for _, cert := range c.idpCerts {
		u.Certificates = append(u.Certificates, federation.Certificate{Subject: cert.Subject.String(), NotBefore: cert.NotBefore, NotAfter: cert.NotAfter})
	}
	return u
}

var (
	_ federation.Connector         = (*Connector)(nil)
	_ federation.MetadataProvider  = (*Connector)(nil)
	_ federation.UpstreamDescriber = (*Connector)(nil)
)

// New builds the connector of a SAML connection: its service provider key
// and certificate, and the IdP from the connection's metadata.
func New(st federation.Settings) (federation.Connector, error) {
	c := st.Connection
	cfg, err := federation.ParseConfig(c)
	if err != nil {
		return nil, fmt.Errorf("saml connection %s: %w", c.Name, err)
	}
	key, cert, err := spKeyPair(st.SPKey, cfg.SPCertificate)
	if err != nil {
		return nil, fmt.Errorf("saml connection %s: service provider key: %w", c.Name, err)
	}
	ed, certs, err := ParseIDPMetadata([]byte(cfg.MetadataXML))
	if err != nil {
		return nil, fmt.Errorf("saml connection %s: IdP metadata: %w", c.Name, err)
	}
	acs, err := url.Parse(st.ACSURL)
	if err != nil {
		return nil, err
	}
	md, err := url.Parse(st.MetadataURL)
	if err != nil {
		return nil, err
	}
	conn := &Connector{st: st, cfg: cfg, idpCerts: certs, idpEntityID: ed.EntityID}
	conn.ssoBinding, conn.ssoURL = ssoEndpoint(&ed.IDPSSODescriptors[0])
	if conn.ssoURL == "" {
		return nil, fmt.Errorf("saml connection %s: the IdP metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding", c.Name)
	}
	conn.sp = &saml.ServiceProvider{
		EntityID:          st.EntityID,
		Key:               key,
		Certificate:       cert,
		MetadataURL:       *md,
		AcsURL:            *acs,
		IDPMetadata:       ed,
		HTTPClient:        st.HTTPClient,
		SignatureMethod:   dsig.RSASHA256SignatureMethod,
		AuthnNameIDFormat: saml.UnspecifiedNameIDFormat,
		// Never crewjam's IdP-initiated mode: it skips every InResponseTo
		// check. Finish decides which request ids are acceptable.
		AllowIDPInitiated:           false,
		SignatureVerifier:           verifier{certs: certs},
		ValidateAudienceRestriction: conn.checkAudience,
	}
	return conn, nil
}

// spKeyPair reads the service provider's RSA key (PKCS#8 DER) and its
// certificate (PEM), and checks that they belong together.
func spKeyPair(der []byte, certPEM string) (*rsa.PrivateKey, *x509.Certificate, error) {
	if len(der) == 0 || certPEM == "" {
		return nil, nil, errors.New("missing (the connection was not prepared)")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("an RSA key is needed for RSA-SHA256, not %T", k)
	}
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, errors.New("the certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("the certificate is not the key's")
	}
	return key, cert, nil
}

var whitespace = regexp.MustCompile(`\s+`)

// ParseIDPMetadata reads an IdP's metadata: an EntityDescriptor, or an
// EntitiesDescriptor holding exactly one identity provider. It returns the
// IdP's entity (with that one IDPSSODescriptor) and its signing
// certificates (KeyDescriptors of use "signing" or no use).
func ParseIDPMetadata(raw []byte) (*saml.EntityDescriptor, []*x509.Certificate, error) {
	if len(raw) == 0 {
		return nil, nil, errors.New("empty")
	}
	if len(raw) > federation.MaxMetadataSize {
		return nil, nil, errors.New("larger than 1 MiB")
	}
	root, err := rootElement(raw)
	if err != nil {
		return nil, nil, err
	}
	var idps []saml.EntityDescriptor
	switch root {
	case "EntityDescriptor":
		var ed saml.EntityDescriptor
		if err := xml.Unmarshal(raw, &ed); err != nil {
			return nil, nil, err
		}
		idps = identityProviders(saml.EntitiesDescriptor{EntityDescriptors: []saml.EntityDescriptor{ed}})
	case "EntitiesDescriptor":
		var eds saml.EntitiesDescriptor
		if err := xml.Unmarshal(raw, &eds); err != nil {
			return nil, nil, err
		}
		idps = identityProviders(eds)
	default:
		return nil, nil, fmt.Errorf("the document is a %s, not an EntityDescriptor or EntitiesDescriptor", root)
	}
	if len(idps) != 1 {
		return nil, nil, fmt.Errorf("it describes %d identity providers; give the metadata of exactly one", len(idps))
	}
	ed := &idps[0]
	if ed.EntityID == "" {
		return nil, nil, errors.New("the IdP has no entityID")
	}
	if len(ed.IDPSSODescriptors) != 1 {
		return nil, nil, fmt.Errorf("the IdP has %d IDPSSODescriptors; one is needed", len(ed.IDPSSODescriptors))
	}
	var certs []*x509.Certificate
	for _, kd := range ed.IDPSSODescriptors[0].KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
			b, err := base64.StdEncoding.DecodeString(whitespace.ReplaceAllString(xc.Data, ""))
			if err != nil {
				return nil, nil, fmt.Errorf("signing certificate: %w", err)
			}
			cert, err := x509.ParseCertificate(b)
			if err != nil {
				return nil, nil, fmt.Errorf("signing certificate: %w", err)
			}
			if !slices.ContainsFunc(certs, cert.Equal) {
				certs = append(certs, cert)
			}
		}
	}
	if len(certs) == 0 {
		return nil, nil, errors.New("the IdP has no signing certificate")
	}
	return ed, certs, nil
}

// rootElement returns the local name of the document's root element in the
// SAML metadata namespace.
func rootElement(raw []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := d.Token()
		if err != nil {
			return "", fmt.Errorf("not XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != "urn:oasis:names:tc:SAML:2.0:metadata" {
				return "", fmt.Errorf("the root element %s is not SAML metadata", t.Name.Local)
			}
			return t.Name.Local, nil
		case xml.Directive:
			return "", errors.New("a DOCTYPE is not accepted")
		}
	}
}

// identityProviders returns the entities of eds (nested ones too) that
// describe an identity provider.
func identityProviders(eds saml.EntitiesDescriptor) []saml.EntityDescriptor {
	var out []saml.EntityDescriptor
	for _, ed := range eds.EntityDescriptors {
		if len(ed.IDPSSODescriptors) > 0 {
			out = append(out, ed)
		}
	}
	for _, nested := range eds.EntitiesDescriptors {
		out = append(out, identityProviders(nested)...)
	}
	return out
}

// ssoEndpoint picks the IdP's single sign-on endpoint: HTTP-Redirect when
// offered, else HTTP-POST.
func ssoEndpoint(d *saml.IDPSSODescriptor) (binding, location string) {
	for _, b := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
		for _, s := range d.SingleSignOnServices {
			if s.Binding == b && s.Location != "" {
				return b, s.Location
			}
		}
	}
	return "", ""
}

// Start sends the browser to the IdP with a signed AuthnRequest (RSA-SHA256):
// over HTTP-Redirect the query string is signed (SigAlg, Signature), over
// HTTP-POST the request carries an enveloped XML signature. RelayState is
// the login's state.
func (c *Connector) Start(_ context.Context, b federation.Begin) (*federation.Step, error) {
	// The binding given here only decides whether crewjam signs the XML:
	// it is signed below, after our changes, for HTTP-POST.
	req, err := c.sp.MakeAuthenticationRequest(c.ssoURL, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return nil, err
	}
	// No Format in the NameIDPolicy: an IdP refuses a format it is not set
	// up for; the metadata tells its admin that persistent is preferred.
	if req.NameIDPolicy != nil {
		req.NameIDPolicy.Format = nil
	}
	if c.ssoBinding == saml.HTTPRedirectBinding {
		u, err := req.Redirect(url.QueryEscape(b.State), c.sp)
		if err != nil {
			return nil, err
		}
		return &federation.Step{RedirectURL: u.String(), RequestID: req.ID}, nil
	}
	if err := c.sp.SignAuthnRequest(req); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	buf, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	return &federation.Step{
		PostURL:    c.ssoURL,
		PostFields: map[string]string{"SAMLRequest": base64.StdEncoding.EncodeToString(buf), "RelayState": b.State},
		RequestID:  req.ID,
	}, nil
}

// Metadata returns the service provider's EntityDescriptor for the IdP's
// admin: entity id, the ACS (HTTP-POST only), the signing and encryption
// certificate, signed requests, persistent NameIDs preferred.
func (c *Connector) Metadata(context.Context) ([]byte, error) {
	ed := c.sp.Metadata()
	// Valid as long as the certificate in it; an IdP that imported the file
	// once keeps working, one that fetches the URL stays current.
	notAfter := c.sp.Certificate.NotAfter.UTC()
	ed.ValidUntil = notAfter
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		d.ValidUntil = &notAfter
		var acs []saml.IndexedEndpoint
		for _, e := range d.AssertionConsumerServices {
			if e.Binding == saml.HTTPPostBinding {
				yes := true
				e.IsDefault = &yes
				acs = append(acs, e)
			}
		}
		d.AssertionConsumerServices = acs
		d.NameIDFormats = []saml.NameIDFormat{saml.PersistentNameIDFormat, saml.EmailAddressNameIDFormat, saml.UnspecifiedNameIDFormat}
	}
	buf, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), buf...), nil
}
