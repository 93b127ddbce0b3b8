package federation

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"time"

	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// ConnConfig is the type-specific configuration of a connection, stored as JSON.
type ConnConfig struct {
	// MetadataXML is the SAML IdP's metadata; MetadataURL, if set, is
	// where it was fetched from (and can be fetched again).
	MetadataXML string `json:"metadata_xml,omitempty"`
	MetadataURL string `json:"metadata_url,omitempty"`
	// SPCertificate is the SAML service provider's certificate (PEM); its
	// private key is sealed in the connection's SPKeySealed.
	SPCertificate string `json:"sp_certificate,omitempty"`
	// Attributes maps identity fields (email, name, given_name,
	// family_name, groups) to SAML attribute names.
	Attributes map[string]string `json:"attributes,omitempty"`
	// AllowIDPInitiated accepts SAML responses that answer no request of
	// ours. Off by default: such responses have no InResponseTo to check.
	AllowIDPInitiated bool `json:"allow_idp_initiated,omitempty"`
	// MicrosoftTenant is the Entra tenant ("organizations", "common", or a
	// tenant id) of a Microsoft connection.
	MicrosoftTenant string `json:"microsoft_tenant,omitempty"`
	// AppleTeamID and AppleKeyID are an Apple connection's team and
	// private key ids (the key itself is sealed as the client secret).
	AppleTeamID string `json:"apple_team_id,omitempty"`
	AppleKeyID  string `json:"apple_key_id,omitempty"`
}

// ParseConfig reads a connection's configuration.
func ParseConfig(c *tenants.Connection) (ConnConfig, error) {
	var cfg ConnConfig
	if c.Config == "" || c.Config == "{}" {
		return cfg, nil
	}
	err := json.Unmarshal([]byte(c.Config), &cfg)
	return cfg, err
}

// SetConfig stores cfg on c.
func SetConfig(c *tenants.Connection, cfg ConnConfig) {
	b, _ := json.Marshal(cfg)
	c.Config = string(b)
}

// Checker is a connector that can check its configuration against the
// upstream (discovery) before the connection is saved.
type Checker interface {
	Check(ctx context.Context) error
}

// MaxMetadataSize bounds fetched or uploaded SAML metadata.
const MaxMetadataSize = upstream.MaxMetadataSize

// CheckURL checks a URL an admin gives for the server to fetch (a SAML
// metadata URL, an OpenID issuer) before it is used: upstream.CheckURL.
func (s *Service) CheckURL(raw string) error {
	_, err := s.upstream.CheckURL(raw)
	return err
}

// FetchMetadata downloads SAML metadata from url through the upstream
// client. Every failure is an *upstream.Error, logged for the operator;
// upstream.Message says what a tenant admin may be told of it.
func (s *Service) FetchMetadata(ctx context.Context, url string) (string, error) {
	b, err := s.upstream.Get(ctx, upstream.Metadata, url)
	if err != nil {
		tenants.Logger(ctx).WarnContext(ctx, "federation: fetch SAML metadata", "err", err)
		return "", err
	}
	return string(b), nil
}

// Prepare makes a connection ready to save in tenant t: an id, its secret
// sealed, a SAML service provider key pair made on first use; and it builds
// the connector so that a broken configuration is refused before it is
// stored, and with check runs its Check against the upstream (the caller
// asks for it when an enabled connection is new, switched on or given a
// new issuer: disabling one whose upstream is down must not need it up).
func (s *Service) Prepare(ctx context.Context, t *tenants.Tenant, c *tenants.Connection, clientSecret *string, check bool) error {
	if c.ID == "" {
		c.ID = tenants.NewID()
	}
	c.TenantID = t.ID
	if clientSecret != nil {
		s.SealClientSecret(c, *clientSecret)
	}
	if c.Type == tenants.ConnectionSAML && len(c.SPKeySealed) == 0 {
		cfg, err := ParseConfig(c)
		if err != nil {
			return err
		}
		der, certPEM, err := newSPKeyPair(t.Issuer)
		if err != nil {
			return err
		}
		s.SealSPKey(c, der)
		cfg.SPCertificate = certPEM
		SetConfig(c, cfg)
	}
	conn, err := s.Build(t, c)
	if err != nil {
		return err
	}
	if ch, ok := conn.(Checker); ok && check {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := ch.Check(cctx); err != nil {
			return err
		}
	}
	return nil
}

// newSPKeyPair makes a SAML service provider's RSA key (PKCS#8 DER) and a
// self-signed certificate for it (PEM), valid for ten years.
func newSPKeyPair(issuer string) ([]byte, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: issuer},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	return der, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})), nil
}
