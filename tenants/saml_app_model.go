package tenants

import (
	"database/sql/driver"
	"encoding/json"
	"slices"
	"time"
)

// SAML 2.0 vocabulary (SAML Core §8.3, Bindings §3.4-3.5): the one home of
// the NameID formats, bindings and sources a SAML application may use.
const (
	NameIDEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

	BindingHTTPPost     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	BindingHTTPRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

	// Where a SAML application's NameID comes from.
	NameIDSourceEmail      = "email"      // the user's email address
	NameIDSourcePersistent = "persistent" // an opaque id per user and application
	NameIDSourceUserID     = "user_id"    // the user's id in the tenant (the OIDC sub)

	// Who may use a SAML application.
	SAMLAccessEveryone = "everyone"
	SAMLAccessRoles    = "roles"  // users holding one of AccessRoles
	SAMLAccessGroups   = "groups" // members of one of AccessGroups
)

// SAMLAttributeSources are the user properties an attribute statement may
// carry, in the order the console offers them.
var samlAttributeSources = []string{"email", "email_verified", "name", "given_name", "family_name", "user_id", "groups", "roles"}

// SAMLAttributeSources returns the user properties an attribute may map.
func SAMLAttributeSources() []string { return append([]string(nil), samlAttributeSources...) }

// SAMLNameIDSources returns the NameID sources, the default first.
func SAMLNameIDSources() []string {
	return []string{NameIDSourceEmail, NameIDSourcePersistent, NameIDSourceUserID}
}

// SAMLNameIDFormats returns the NameID formats an application may use.
func SAMLNameIDFormats() []string {
	return []string{NameIDEmail, NameIDPersistent, NameIDUnspecified, NameIDTransient}
}

// SAMLAccessModes returns who may use an application, the default first.
func SAMLAccessModes() []string {
	return []string{SAMLAccessEveryone, SAMLAccessRoles, SAMLAccessGroups}
}

// SAMLEndpoint is an assertion consumer service of a service provider.
type SAMLEndpoint struct {
	URL     string `json:"url"`
	Binding string `json:"binding"`
	Index   int    `json:"index"`
}

// SAMLEndpoints is a JSON column of endpoints.
type SAMLEndpoints []SAMLEndpoint

// Value implements driver.Valuer.
func (e SAMLEndpoints) Value() (driver.Value, error) {
	if e == nil {
		e = SAMLEndpoints{}
	}
	b, err := json.Marshal(e)
	return string(b), err
}

// Scan implements sql.Scanner.
func (e *SAMLEndpoints) Scan(src any) error { return scanJSON(src, e) }

// SAMLAttribute maps a user property (Source, one of
// SAMLAttributeSources) to an attribute of the assertion.
type SAMLAttribute struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

// SAMLAttributes is a JSON column of attribute mappings.
type SAMLAttributes []SAMLAttribute

// Value implements driver.Valuer.
func (a SAMLAttributes) Value() (driver.Value, error) {
	if a == nil {
		a = SAMLAttributes{}
	}
	b, err := json.Marshal(a)
	return string(b), err
}

// Scan implements sql.Scanner.
func (a *SAMLAttributes) Scan(src any) error { return scanJSON(src, a) }

// SAMLApp is a SAML 2.0 service provider that signs its users in through
// the tenant, Gatehouse being the identity provider. The SP's certificates
// are public (base64 DER); nothing in the row is secret. NameIDSalt keys
// the persistent NameIDs, so that two applications get unrelated ones.
type SAMLApp struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	Name     string
	// EntityID is the SP's entity ID (the Issuer of its requests and the
	// Audience of our assertions); unique in the tenant.
	EntityID string
	ACS      SAMLEndpoints `gorm:"column:acs"`
	// SLOURL is the SP's single logout service, "" for none; SLOBinding
	// the binding it takes there (HTTP-Redirect or HTTP-POST).
	SLOURL        string `gorm:"column:slo_url"`
	SLOBinding    string `gorm:"column:slo_binding"`
	NameIDFormat  string `gorm:"column:name_id_format"`
	NameIDSource  string `gorm:"column:name_id_source"`
	NameIDSalt    string `gorm:"column:name_id_salt"`
	Attributes    SAMLAttributes
	SignResponse  bool
	SignAssertion bool
	// RequireSignedRequests refuses AuthnRequests without a valid signature
	// of one of SigningCerts; a signed one is verified in any case.
	RequireSignedRequests bool
	SigningCerts          Strings
	EncryptionCert        string
	EncryptAssertions     bool
	Access                string
	AccessRoles           Strings
	AccessGroups          Strings
	Enabled               bool
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// TableName implements gorm's tabler.
func (SAMLApp) TableName() string { return "saml_apps" }

// SAMLRequest is an AuthnRequest (or an IdP-initiated launch) waiting for
// its user to sign in: what the answer needs, bound to the browser that
// brought it, single use. Only bounded values are kept: the ACS is one of
// the application's, the request id and relay state are capped.
type SAMLRequest struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	AppID     string
	RequestID string
	ACSURL    string `gorm:"column:acs_url"`
	Binding   string
	// RelayState goes back to the SP untouched.
	RelayState   string
	ForceAuthn   bool
	IsPassive    bool
	NameIDFormat string `gorm:"column:name_id_format"`
	// AuthnClasses and AuthnComparison are the request's
	// RequestedAuthnContext (SAML Core §3.3.2.2.1): the classes asked for
	// (capped) and how to compare, none for no requirement.
	AuthnClasses    Strings
	AuthnComparison string
	BrowserHash     string
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

// TableName implements gorm's tabler.
func (SAMLRequest) TableName() string { return "saml_requests" }

// SAMLParticipant is an application a session signed in to (SAML Core
// §3.7.3.2, the session participants): the NameID and SessionIndex the
// assertion gave, so that a LogoutRequest from the application finds the
// session, and the session's sign-out sends one to the application. SID is
// the session's SessionSID (stable when the session rotates). It lives as
// long as the session could.
type SAMLParticipant struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	AppID        string
	UserID       string
	SID          string `gorm:"column:sid"`
	NameID       string `gorm:"column:name_id"`
	NameIDFormat string `gorm:"column:name_id_format"`
	SessionIndex string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// TableName implements gorm's tabler.
func (SAMLParticipant) TableName() string { return "saml_participants" }

// SAMLMessage is the id of a message of an application that Gatehouse
// acted on (a LogoutRequest), kept until the message would be too old
// anyway, so that a replay is refused.
type SAMLMessage struct {
	TenantID  string `gorm:"primaryKey"`
	AppID     string `gorm:"primaryKey"`
	MessageID string `gorm:"primaryKey"`
	ExpiresAt time.Time
}

// TableName implements gorm's tabler.
func (SAMLMessage) TableName() string { return "saml_messages" }

// Paths of the SAML identity provider on a tenant's host: the one home of
// each, for the routes, the metadata and what the console shows.
const (
	PathSAMLIdP         = "/saml/idp"
	PathSAMLIdPMetadata = PathSAMLIdP + "/metadata"
	PathSAMLIdPSSO      = PathSAMLIdP + "/sso"
	PathSAMLIdPContinue = PathSAMLIdP + "/continue"
	PathSAMLIdPLaunch   = PathSAMLIdP + "/launch/"
	PathSAMLIdPSLO      = PathSAMLIdP + "/slo"
)

// SAMLIdPEntityID is the tenant's entity ID as a SAML identity provider:
// the URL of its IdP metadata.
func (t *Tenant) SAMLIdPEntityID() string { return t.Issuer + PathSAMLIdPMetadata }

// SAMLIdPSSOURL is the tenant's single sign-on service (both bindings).
func (t *Tenant) SAMLIdPSSOURL() string { return t.Issuer + PathSAMLIdPSSO }

// SAMLIdPSLOURL is the tenant's single logout service (both bindings).
func (t *Tenant) SAMLIdPSLOURL() string { return t.Issuer + PathSAMLIdPSLO }

// SAMLBindings returns the bindings of an SP's single logout service.
func SAMLBindings() []string { return []string{BindingHTTPRedirect, BindingHTTPPost} }

// Admits reports whether a user holding the roles and groups with ids
// roleIDs and groupIDs may use the application: everyone, a holder of one
// of its roles, or a member of one of its groups. A disabled application
// admits nobody.
func (a *SAMLApp) Admits(roleIDs, groupIDs []string) bool {
	if !a.Enabled {
		return false
	}
	switch a.Access {
	case SAMLAccessEveryone, "":
		return true
	case SAMLAccessRoles:
		return slices.ContainsFunc(roleIDs, a.AccessRoles.Contains)
	case SAMLAccessGroups:
		return slices.ContainsFunc(groupIDs, a.AccessGroups.Contains)
	}
	return false
}
