package tenants

import "time"

// Connection types.
const (
	ConnectionGoogle    = "google"
	ConnectionGitHub    = "github"
	ConnectionMicrosoft = "microsoft"
	ConnectionApple     = "apple"
	ConnectionOIDC      = "oidc"
	ConnectionSAML      = "saml"
)

// Connection is a tenant's link to an upstream identity provider. The
// upstream client secret and the SAML service provider's private key are
// sealed under the master key; Config is type-specific JSON.
type Connection struct {
	ID                 string `gorm:"primaryKey"`
	TenantID           string
	Type               string
	Name               string
	Enabled            bool
	Domains            Strings
	ClientID           string
	ClientSecretSealed []byte
	Issuer             string
	// TrustEmail says the upstream is authoritative for the email
	// addresses it asserts as verified, so that a first login may link to
	// an existing account with that (verified) address.
	TrustEmail bool
	// Provisioning says whether a first login creates a user:
	// ProvisionTenant, ProvisionCreate or ProvisionExisting.
	Provisioning string
	Config       string
	SPKeySealed  []byte `gorm:"column:sp_key_sealed"`
	// PassGroups passes the upstream groups that map to no tenant group
	// through in the groups claim of the connection's users.
	PassGroups bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Provisioning of a connection: whether a first login creates a user.
const (
	// ProvisionTenant creates users when the tenant's sign-up setting
	// lets them sign up (open; or domains, for an address the upstream
	// vouches for in one of them).
	ProvisionTenant = "tenant"
	// ProvisionCreate always creates users (a company's own IdP).
	ProvisionCreate = "create"
	// ProvisionExisting never does: only accounts that exist sign in.
	ProvisionExisting = "existing"
)

// Provision is the connection's provisioning (ProvisionTenant unless set).
func (c *Connection) Provision() string {
	switch c.Provisioning {
	case ProvisionCreate, ProvisionExisting:
		return c.Provisioning
	}
	return ProvisionTenant
}

// ExternalIdentity is a user's identity at an upstream provider, keyed by
// (connection, issuer, subject), never by email.
type ExternalIdentity struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	UserID       string
	ConnectionID string
	Issuer       string
	Subject      string
	Email        string
	// LinkedUnproven says the identity was linked while its user's
	// address was unproven: when someone proves the address, it loses
	// its link.
	LinkedUnproven bool
	// UpstreamGroups are the groups the upstream asserted at the last
	// sign-in through the identity (federation.Clean bounds them).
	UpstreamGroups Strings
	CreatedAt      time.Time
	LastLoginAt    *time.Time
}

// Purposes of a federation state.
const (
	FederationLogin = "login" // a login at an upstream for an auth request
	FederationLink  = "link"  // an identity waiting for its user to prove their account
	// FederationResult is an upstream answer checked, waiting for the
	// browser that started the login.
	FederationResult = "result"
)

// FederationState is a login at an upstream in progress, bound to the
// tenant, the connection, the browser and an auth request; ID is the SHA-256
// of the state sent upstream. It is used once.
type FederationState struct {
	ID            string `gorm:"primaryKey"`
	TenantID      string
	ConnectionID  string
	AuthRequestID string
	BrowserHash   string
	Purpose       string
	UserID        string
	Nonce         string
	PKCEVerifier  string `gorm:"column:pkce_verifier"`
	// RequestID is the id of the SAML AuthnRequest sent upstream, for
	// InResponseTo.
	RequestID string
	// Identity is, for a link waiting for proof, the upstream identity
	// (JSON) to link once its user has signed in.
	Identity  string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// SAMLAssertion remembers a SAML assertion id until it expires, so that
// none is accepted twice.
type SAMLAssertion struct {
	TenantID     string `gorm:"primaryKey"`
	ConnectionID string `gorm:"primaryKey"`
	AssertionID  string `gorm:"primaryKey"`
	ExpiresAt    time.Time
}

// TableName implements gorm's tabler.
func (SAMLAssertion) TableName() string { return "saml_assertions" }
