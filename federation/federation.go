package federation

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Identity is what an upstream provider asserts about the user.
type Identity struct {
	// Issuer and Subject key the identity at its connection.
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	Email   string `json:"email,omitempty"`
	// EmailVerified is the upstream's claim that the address is the
	// user's; it only matters for linking when the connection trusts it.
	EmailVerified bool     `json:"email_verified,omitempty"`
	Name          string   `json:"name,omitempty"`
	GivenName     string   `json:"given_name,omitempty"`
	FamilyName    string   `json:"family_name,omitempty"`
	Groups        []string `json:"groups,omitempty"`
}

// Begin is what a connector needs to start a login upstream.
type Begin struct {
	// State travels upstream and back (state, or SAML RelayState); it is
	// random, and only its hash is stored.
	State string
	// Nonce goes into an OpenID Connect request and must come back in the
	// ID token.
	Nonce string
	// Verifier is the PKCE code verifier; connectors send its S256
	// challenge where the upstream supports PKCE.
	Verifier string
	// LoginHint is the email the user typed, if any.
	LoginHint string
}

// Step is where the browser goes next: a redirect, or a form to post
// (SAML's HTTP-POST binding).
type Step struct {
	RedirectURL string
	PostURL     string
	PostFields  map[string]string
	// RequestID is the id of a SAML AuthnRequest, for InResponseTo.
	RequestID string
}

// Connector logs users in at one upstream provider.
type Connector interface {
	// Start returns the first step of a login upstream.
	Start(ctx context.Context, b Begin) (*Step, error)
	// Finish checks the upstream's answer to the login that st records
	// and returns the identity it asserts. Every failure is a *Rejection.
	Finish(ctx context.Context, st *tenants.FederationState, r *http.Request) (*Identity, error)
}

// Rejection is an upstream answer refused: shown to the user as a clear
// page, written to the audit log with its reason, and no session is made.
type Rejection struct {
	Reason string
	Err    error
}

func (r *Rejection) Error() string {
	if r.Err != nil {
		return "federation: " + r.Reason + ": " + r.Err.Error()
	}
	return "federation: " + r.Reason
}

func (r *Rejection) Unwrap() error { return r.Err }

// Reject returns a *Rejection.
func Reject(reason string, err error) error { return &Rejection{Reason: reason, Err: err} }

// MetadataProvider is a connector that publishes metadata for the upstream's
// admin (a SAML service provider's EntityDescriptor).
type MetadataProvider interface {
	Metadata(ctx context.Context) ([]byte, error)
}

// UpstreamDescriber is a connector that can say what its configuration
// knows of the upstream: for a SAML IdP, the metadata's entity ID, single
// sign-on URL and signing certificates. The console shows it, and warns
// before a certificate expires.
type UpstreamDescriber interface {
	Upstream() Upstream
}

// Upstream is what a connection's configuration says of its upstream.
type Upstream struct {
	EntityID     string
	SSOURL       string
	Certificates []Certificate
}

// Certificate is one of the upstream's signing certificates.
type Certificate struct {
	Subject   string
	NotBefore time.Time
	NotAfter  time.Time
}
