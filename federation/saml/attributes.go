package saml

import (
	"slices"
	"strings"

	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// Identity fields that attributes map to (federation.ConnConfig.Attributes
// keys).
const (
	fieldEmail      = "email"
	fieldName       = "name"
	fieldGivenName  = "given_name"
	fieldFamilyName = "family_name"
	fieldGroups     = "groups"
)

// defaultAttributes are the attribute names (Name or FriendlyName, any
// case) looked for when a field has no mapping of its own, in order: the
// plain names IdPs offer, the LDAP/eduPerson OIDs (Shibboleth, Keycloak),
// and the WS-Federation claim URIs (Entra ID, ADFS).
var defaultAttributes = map[string][]string{
	fieldEmail: {"email", "mail", "emailAddress", "email_address", "urn:oid:0.9.2342.19200300.100.1.3",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "user.email"},
	fieldName: {"name", "displayName", "display_name", "fullName", "urn:oid:2.16.840.1.113730.3.1.241",
		"http://schemas.microsoft.com/identity/claims/displayname", "cn", "urn:oid:2.5.4.3"},
	fieldGivenName: {"given_name", "givenName", "firstName", "first_name", "urn:oid:2.5.4.42",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"},
	fieldFamilyName: {"family_name", "surname", "sn", "lastName", "last_name", "urn:oid:2.5.4.4",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"},
	fieldGroups: {"groups", "group", "memberOf", "isMemberOf", "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
		"urn:oid:1.2.840.113556.1.2.102", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
		"http://schemas.xmlsoap.org/claims/Group"},
}

// Bounds on what an assertion may put into an identity.
const (
	maxValue  = 256
	maxGroups = 256
)

// identity maps a checked assertion to the identity it asserts: the IdP's
// entity id and the NameID key it; the mapped attributes describe it. An
// email attribute is the IdP's assertion of the address (EmailVerified);
// whether that links accounts is the connection's TrustEmail.
func (c *Connector) identity(a *saml.Assertion) *federation.Identity {
	var attrs []saml.Attribute
	for _, st := range a.AttributeStatements {
		attrs = append(attrs, st.Attributes...)
	}
	id := &federation.Identity{
		Issuer:     c.sp.IDPMetadata.EntityID,
		Subject:    strings.TrimSpace(a.Subject.NameID.Value),
		Name:       first(c.values(attrs, fieldName)),
		GivenName:  first(c.values(attrs, fieldGivenName)),
		FamilyName: first(c.values(attrs, fieldFamilyName)),
	}
	for _, v := range c.values(attrs, fieldEmail) {
		if looksLikeEmail(v) {
			id.Email = v
			break
		}
	}
	if id.Email == "" && a.Subject.NameID.Format == string(saml.EmailAddressNameIDFormat) && looksLikeEmail(id.Subject) {
		id.Email = id.Subject
	}
	id.EmailVerified = id.Email != ""
	for _, g := range c.values(attrs, fieldGroups) {
		if len(id.Groups) == maxGroups {
			break
		}
		if !slices.Contains(id.Groups, g) {
			id.Groups = append(id.Groups, g)
		}
	}
	return id
}

// values returns the non-empty values of the attributes field maps to: the
// connection's own mapping when it has one, else the defaults, taking the
// first default name present.
func (c *Connector) values(attrs []saml.Attribute, field string) []string {
	names := defaultAttributes[field]
	if n := strings.TrimSpace(c.cfg.Attributes[field]); n != "" {
		names = []string{n}
	}
	for _, name := range names {
		var out []string
		for _, at := range attrs {
			if !strings.EqualFold(at.Name, name) && !strings.EqualFold(at.FriendlyName, name) {
				continue
			}
			for _, v := range at.Values {
				if s := clip(strings.TrimSpace(v.Value)); s != "" {
					out = append(out, s)
				}
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// clip bounds a value to maxValue bytes on a rune boundary, without NUL
// bytes or invalid UTF-8 (tenants.Truncate, the one cut).
func clip(s string) string { return tenants.Truncate(s, maxValue) }

func looksLikeEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 254 && !strings.ContainsAny(s, " \t\r\n<>")
}
