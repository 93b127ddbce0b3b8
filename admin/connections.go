package admin

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/social"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// Audit actions of connections.
const (
	ActionConnectionCreated = "connection.created"
	ActionConnectionUpdated = "connection.updated"
	ActionConnectionDeleted = "connection.deleted"
)

// ConnectionInput is a new or changed connection. On update a nil pointer
// or nil slice leaves the field as it is.
type ConnectionInput struct {
	Type         string
	Name         *string
	Enabled      *bool
	ClientID     *string
	ClientSecret *string
	Issuer       *string
	Domains      []string
	TrustEmail   *bool
	// Provisioning says whether a first login creates a user:
	// tenants.ProvisionTenant (as the tenant's sign-up setting says, the
	// default), ProvisionCreate (always) or ProvisionExisting (never).
	Provisioning *string
	// MetadataXML or MetadataURL is a SAML IdP's metadata.
	MetadataXML       *string
	MetadataURL       *string
	Attributes        map[string]string
	AllowIDPInitiated *bool
	MicrosoftTenant   *string
	// PassGroups, when set, says whether upstream groups the connection
	// maps to no tenant group are passed through in the groups claim.
	PassGroups *bool
	// AppleTeamID and AppleKeyID name an Apple connection's team and
	// key; its private key (the .p8 PEM) is ClientSecret.
	AppleTeamID *string
	AppleKeyID  *string
}

var connectionDefaultNames = map[string]string{
	tenants.ConnectionGoogle: "Google", tenants.ConnectionGitHub: "GitHub", tenants.ConnectionMicrosoft: "Microsoft",
	tenants.ConnectionApple: "Apple",
}

func (s *Service) federation() (*federation.Service, error) {
	if s.fed == nil {
		return nil, errors.New("connections are not available in this build")
	}
	return s.fed, nil
}

// CreateConnection adds an upstream identity provider to the tenant in ctx.
func (s *Service) CreateConnection(ctx context.Context, in ConnectionInput) (*Connection, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	fed, err := s.federation()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(fed.Types(), in.Type) {
		return nil, tenants.Invalid("type", "unknown connection type %q (google, github, microsoft, apple, oidc or saml)", in.Type)
	}
	c := &tenants.Connection{Type: in.Type, Enabled: true, Name: connectionDefaultNames[in.Type]}
	if err := s.applyConnection(ctx, t, c, in, true); err != nil {
		return nil, err
	}
	if err := s.store.CreateConnection(ctx, c); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, tenants.Invalid("name", "another connection is named %q", c.Name)
		}
		return nil, err
	}
	s.changed(t)
	v := s.connectionView(t, c)
	return v, s.audit(ctx, t, ActionConnectionCreated, "connection", c.ID, nil, v)
}

// applyConnection validates in and applies it to c, then lets federation
// check and seal it.
func (s *Service) applyConnection(ctx context.Context, t *tenants.Tenant, c *tenants.Connection, in ConnectionInput, create bool) error {
	wasEnabled, oldIssuer := c.Enabled && !create, c.Issuer
	cfg, err := federation.ParseConfig(c)
	if err != nil {
		return err
	}
	if in.Name != nil {
		c.Name = strings.TrimSpace(*in.Name)
	}
	if err := validateName("name", c.Name, 100); err != nil {
		return err
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if in.TrustEmail != nil {
		c.TrustEmail = *in.TrustEmail
	}
	if in.PassGroups != nil {
		c.PassGroups = *in.PassGroups
	}
	if in.Provisioning != nil {
		switch p := strings.TrimSpace(*in.Provisioning); p {
		case "", tenants.ProvisionTenant:
			c.Provisioning = tenants.ProvisionTenant
		case tenants.ProvisionCreate, tenants.ProvisionExisting:
			c.Provisioning = p
		default:
			return tenants.Invalid("provisioning", "must be %s, %s or %s", tenants.ProvisionTenant, tenants.ProvisionCreate, tenants.ProvisionExisting)
		}
	}
	if c.Provisioning == "" {
		c.Provisioning = tenants.ProvisionTenant
	}
	if in.Domains != nil {
		domains := []string{}
		for _, d := range in.Domains {
			d = strings.ToLower(strings.TrimSpace(d))
			if d == "" {
				continue
			}
			if !domainPattern.MatchString(d) {
				return tenants.Invalid("domains", "%q is not a domain name", d)
			}
			if !slices.Contains(domains, d) {
				domains = append(domains, d)
			}
		}
		c.Domains = domains
	}
	switch c.Type {
	case tenants.ConnectionSAML:
		if in.MetadataURL != nil && *in.MetadataURL != "" {
			if err := s.fed.CheckURL(*in.MetadataURL); err != nil {
				return upstreamURLProblem("metadata_url", err)
			}
			xml, err := s.fed.FetchMetadata(ctx, *in.MetadataURL)
			if err != nil {
				return tenants.Invalid("metadata_url", "%s", upstream.Message("fetch metadata", err))
			}
			cfg.MetadataURL, cfg.MetadataXML = *in.MetadataURL, xml
		}
		if in.MetadataXML != nil && *in.MetadataXML != "" {
			if len(*in.MetadataXML) > federation.MaxMetadataSize {
				return tenants.Invalid("metadata", "is larger than 1 MiB")
			}
			cfg.MetadataXML = *in.MetadataXML
			if in.MetadataURL == nil || *in.MetadataURL == "" {
				// Metadata given as XML replaces what a URL gave.
				cfg.MetadataURL = ""
			}
		}
		if cfg.MetadataXML == "" {
			return tenants.Invalid("metadata", "give the IdP's metadata (a file or a URL)")
		}
		if in.Attributes != nil {
			for k, v := range in.Attributes {
				if !slices.Contains([]string{"email", "name", "given_name", "family_name", "groups"}, k) {
					return tenants.Invalid("attributes", "unknown field %q (email, name, given_name, family_name, groups)", k)
				}
				if err := validateToken("attributes", v, 256); err != nil {
					return err
				}
			}
			cfg.Attributes = in.Attributes
		}
		if in.AllowIDPInitiated != nil {
			cfg.AllowIDPInitiated = *in.AllowIDPInitiated
		}
	default:
		if in.ClientID != nil {
			c.ClientID = strings.TrimSpace(*in.ClientID)
		}
		if c.ClientID == "" {
			return tenants.Invalid("client_id", "is required")
		}
		if err := validateToken("client_id", c.ClientID, 512); err != nil {
			return err
		}
		if create && (in.ClientSecret == nil || *in.ClientSecret == "") {
			return tenants.Invalid("client_secret", "is required")
		}
		if !create && in.ClientSecret != nil && *in.ClientSecret == "" {
			// An empty secret would erase the stored one.
			return tenants.Invalid("client_secret", "must not be empty: leave it out to keep the current secret")
		}
		if in.ClientSecret != nil && *in.ClientSecret != "" && c.Type == tenants.ConnectionApple {
			if len(*in.ClientSecret) > 4096 {
				return tenants.Invalid("client_secret", "is larger than a .p8 key file")
			}
			if _, err := social.ParseAppleKey(*in.ClientSecret); err != nil {
				return tenants.Invalid("client_secret", "%s", err)
			}
		} else if in.ClientSecret != nil && *in.ClientSecret != "" {
			if err := validateToken("client_secret", *in.ClientSecret, 1024); err != nil {
				return err
			}
		}
		if c.Type == tenants.ConnectionApple {
			if in.AppleTeamID != nil {
				cfg.AppleTeamID = strings.TrimSpace(*in.AppleTeamID)
			}
			if in.AppleKeyID != nil {
				cfg.AppleKeyID = strings.TrimSpace(*in.AppleKeyID)
			}
			if !social.ValidAppleID(cfg.AppleTeamID) {
				return tenants.Invalid("apple_team_id", "is required: the ten letters and digits of the Apple developer team")
			}
			if !social.ValidAppleID(cfg.AppleKeyID) {
				return tenants.Invalid("apple_key_id", "is required: the ten letters and digits of the Sign in with Apple key")
			}
		}
		if c.Type == tenants.ConnectionOIDC {
			if in.Issuer != nil {
				c.Issuer = strings.TrimSuffix(strings.TrimSpace(*in.Issuer), "/")
			}
			u, err := url.Parse(c.Issuer)
			if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
				return tenants.Invalid("issuer", "must be an https URL (http only on loopback hosts)")
			}
			if err := s.fed.CheckURL(c.Issuer); err != nil {
				return upstreamURLProblem("issuer", err)
			}
		}
		if c.Type == tenants.ConnectionMicrosoft && in.MicrosoftTenant != nil {
			cfg.MicrosoftTenant = strings.TrimSpace(*in.MicrosoftTenant)
		}
	}
	federation.SetConfig(c, cfg)
	// An OpenID issuer's discovery is fetched when the connection is
	// enabled with it for the first time, so that a broken one is refused
	// here rather than shown on every login page; one created disabled is
	// checked when it is switched on.
	check := c.Enabled && (!wasEnabled || c.Issuer != oldIssuer)
	if err := s.fed.Prepare(ctx, t, c, in.ClientSecret, check); err != nil {
		var ve *tenants.ValidationError
		if errors.As(err, &ve) {
			return err
		}
		return tenants.Invalid("connection", "%v", err)
	}
	return nil
}

// upstreamURLProblem is what an admin is told of a URL for the server to
// fetch that the upstream client refuses before any request: one that is
// not http(s) or carries a user name or password, or whose host is an
// address (or a loopback name) the server does not connect to. It depends
// only on what the admin typed, never on the network.
func upstreamURLProblem(field string, err error) error {
	if upstream.KindOf(err) == upstream.KindRefused {
		return tenants.Invalid(field, "names an address the server does not connect to: loopback, private, link-local "+
			"and other internal addresses are refused (an operator can allow a host with GATEHOUSE_UPSTREAM_ALLOW_HOSTS)")
	}
	return tenants.Invalid(field, "must be an http(s) URL without a user name or password")
}

// ListConnections returns the connections of the tenant in ctx.
func (s *Service) ListConnections(ctx context.Context) ([]*Connection, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	cs, err := s.store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Connection, len(cs))
	for i := range cs {
		out[i] = s.connectionView(t, &cs[i])
	}
	return out, nil
}

// GetConnection returns a connection of the tenant in ctx.
func (s *Service) GetConnection(ctx context.Context, id string) (*Connection, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	c, err := s.store.ConnectionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.connectionView(t, c), nil
}

// UpdateConnection changes a connection of the tenant in ctx.
func (s *Service) UpdateConnection(ctx context.Context, id string, in ConnectionInput) (*Connection, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if _, err := s.federation(); err != nil {
		return nil, err
	}
	c, err := s.store.ConnectionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	before := s.connectionView(t, c)
	next := *c
	if in.Type != "" && in.Type != c.Type {
		return nil, tenants.Invalid("type", "a connection's type cannot change")
	}
	if err := s.applyConnection(ctx, t, &next, in, false); err != nil {
		return nil, err
	}
	if err := s.store.UpdateConnection(ctx, &next); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, tenants.Invalid("name", "another connection is named %q", next.Name)
		}
		return nil, err
	}
	s.changed(t)
	after := s.connectionView(t, &next)
	return after, s.audit(ctx, t, ActionConnectionUpdated, "connection", c.ID, before, after)
}

// DeleteConnection deletes a connection of the tenant in ctx and unlinks
// the identities it brought.
func (s *Service) DeleteConnection(ctx context.Context, id string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	c, err := s.store.ConnectionByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteConnection(ctx, id); err != nil {
		return err
	}
	s.changed(t)
	return s.audit(ctx, t, ActionConnectionDeleted, "connection", id, s.connectionView(t, c), nil)
}

// Connection is the public view of a connection (never its secrets).
type Connection struct {
	ID                string            `json:"id"`
	Type              string            `json:"type"`
	Name              string            `json:"name"`
	Enabled           bool              `json:"enabled"`
	Domains           []string          `json:"domains"`
	TrustEmail        bool              `json:"trust_email"`
	Provisioning      string            `json:"provisioning"`
	PassGroups        bool              `json:"pass_groups"`
	ClientID          string            `json:"client_id,omitempty"`
	HasClientSecret   bool              `json:"has_client_secret,omitempty"`
	Issuer            string            `json:"issuer,omitempty"`
	CallbackURL       string            `json:"callback_url,omitempty"`
	EntityID          string            `json:"entity_id,omitempty"`
	ACSURL            string            `json:"acs_url,omitempty"`
	MetadataURL       string            `json:"metadata_url,omitempty"`
	IdPMetadataURL    string            `json:"idp_metadata_url,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	AllowIDPInitiated bool              `json:"allow_idp_initiated,omitempty"`
	MicrosoftTenant   string            `json:"microsoft_tenant,omitempty"`
	AppleTeamID       string            `json:"apple_team_id,omitempty"`
	AppleKeyID        string            `json:"apple_key_id,omitempty"`
	// IdP is what a SAML connection's IdP metadata says of the IdP.
	IdP       *ConnectionIdP `json:"idp,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
}

// ConnectionIdP is a SAML IdP as its metadata describes it.
type ConnectionIdP struct {
	EntityID     string           `json:"entity_id"`
	SSOURL       string           `json:"sso_url"`
	Certificates []ConnectionCert `json:"certificates"`
}

// ConnectionCert is one of an IdP's signing certificates.
type ConnectionCert struct {
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"not_after"`
	// Expiry is CertExpiry's word for it: "ok", "expiring" or "expired".
	Expiry string `json:"expiry" doc:"ok, expiring (within 30 days) or expired"`
}

// CertWarning is how long before its certificate expires a SAML
// connection is flagged: time enough to get the IdP's new metadata.
const CertWarning = 30 * 24 * time.Hour

// Words of CertExpiry.
const (
	CertOK       = "ok"
	CertExpiring = "expiring"
	CertExpired  = "expired"
)

// CertExpiry says whether a certificate that is valid until notAfter is
// expired at now, expires within CertWarning, or is fine.
func CertExpiry(notAfter, now time.Time) string {
	switch {
	case !now.Before(notAfter):
		return CertExpired
	case notAfter.Sub(now) <= CertWarning:
		return CertExpiring
	}
	return CertOK
}

// Expiry is the worst of the IdP's certificates' expiries, and the
// certificate that has it ("ok" and nil when there is none to flag).
func (i *ConnectionIdP) Expiry() (string, *ConnectionCert) {
	if i == nil {
		return CertOK, nil
	}
	rank := map[string]int{CertOK: 0, CertExpiring: 1, CertExpired: 2}
	worst, which := CertOK, (*ConnectionCert)(nil)
	for k := range i.Certificates {
		if c := &i.Certificates[k]; rank[c.Expiry] > rank[worst] {
			worst, which = c.Expiry, c
		}
	}
	return worst, which
}

// validateToken checks a value that is sent upstream or matched as it is
// (a client id, a SAML attribute name): not empty, at most max bytes, no
// spaces around it and no control characters.
func validateToken(field, v string, max int) error {
	switch {
	case strings.TrimSpace(v) == "":
		return tenants.Invalid(field, "must not be empty")
	case len(v) > max:
		return tenants.Invalid(field, "must be at most %d bytes", max)
	case strings.TrimSpace(v) != v || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }):
		return tenants.Invalid(field, "must not contain control characters or spaces around it")
	}
	return nil
}

func (s *Service) connectionView(t *tenants.Tenant, c *tenants.Connection) *Connection {
	v := &Connection{ID: c.ID, Type: c.Type, Name: c.Name, Enabled: c.Enabled, Domains: nonNil(c.Domains), TrustEmail: c.TrustEmail, Provisioning: c.Provision(), PassGroups: c.PassGroups, CreatedAt: c.CreatedAt}
	cfg, _ := federation.ParseConfig(c)
	if c.Type == tenants.ConnectionSAML {
		v.EntityID, v.ACSURL, v.MetadataURL = federation.EntityID(t, c.ID), federation.ACSURL(t, c.ID), federation.MetadataURL(t, c.ID)
		v.IdPMetadataURL, v.Attributes, v.AllowIDPInitiated = cfg.MetadataURL, cfg.Attributes, cfg.AllowIDPInitiated
		v.IdP = s.idpOf(t, c)
	} else {
		v.ClientID, v.HasClientSecret, v.Issuer, v.CallbackURL = c.ClientID, len(c.ClientSecretSealed) > 0, c.Issuer, federation.CallbackURL(t, c.ID)
		if c.Type == tenants.ConnectionMicrosoft {
			v.MicrosoftTenant = cfg.MicrosoftTenant
		}
		if c.Type == tenants.ConnectionApple {
			v.AppleTeamID, v.AppleKeyID = cfg.AppleTeamID, cfg.AppleKeyID
		}
	}
	return v
}

// idpOf reads what a SAML connection's IdP metadata says of the IdP (nil
// when the connection cannot be built).
func (s *Service) idpOf(t *tenants.Tenant, c *tenants.Connection) *ConnectionIdP {
	if s.fed == nil {
		return nil
	}
	conn, err := s.fed.Build(t, c)
	if err != nil {
		return nil
	}
	d, ok := conn.(federation.UpstreamDescriber)
	if !ok {
		return nil
	}
	up := d.Upstream()
	out := &ConnectionIdP{EntityID: up.EntityID, SSOURL: up.SSOURL, Certificates: []ConnectionCert{}}
	now := s.store.Now()
	for _, cert := range up.Certificates {
		out.Certificates = append(out.Certificates, ConnectionCert{Subject: cert.Subject, NotAfter: cert.NotAfter, Expiry: CertExpiry(cert.NotAfter, now)})
	}
	return out
}
