package admin

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Audit actions of SAML applications.
const (
	ActionSAMLAppCreated = "saml_app.created"
	ActionSAMLAppUpdated = "saml_app.updated"
	ActionSAMLAppDeleted = "saml_app.deleted"
)

// Bounds of a SAML application.
const (
	maxSAMLApps       = 100
	maxSAMLName       = 100
	maxSAMLEntityID   = 1024
	maxSAMLURL        = 2048
	maxSAMLACS        = 16
	maxSAMLCerts      = 4
	maxSAMLAttributes = 32
	maxSAMLAttrName   = 256
	maxSAMLAccessRefs = 32
)

// SAMLApp is the public view of a SAML application, with what to give the
// service provider: the IdP's metadata URL (its entity ID), SSO URL and
// signing certificate.
type SAMLApp struct {
	ID                    string                  `json:"id"`
	Name                  string                  `json:"name"`
	EntityID              string                  `json:"entity_id" doc:"the service provider's entity ID: the Audience of the assertions"`
	ACS                   []SAMLEndpoint          `json:"acs" doc:"the SP's assertion consumer services (HTTP-POST); the one of the lowest index is the default"`
	SLOURL                string                  `json:"slo_url,omitempty" doc:"the SP's single logout service; empty: no Single Logout with this application"`
	SLOBinding            string                  `json:"slo_binding,omitempty" doc:"the binding of slo_url: HTTP-Redirect or HTTP-POST"`
	NameIDFormat          string                  `json:"name_id_format"`
	NameIDSource          string                  `json:"name_id_source" doc:"email, persistent (an opaque id per user and application) or user_id"`
	Attributes            []tenants.SAMLAttribute `json:"attributes"`
	SignResponse          bool                    `json:"sign_response"`
	SignAssertion         bool                    `json:"sign_assertion"`
	RequireSignedRequests bool                    `json:"require_signed_requests"`
	SigningCerts          []string                `json:"signing_certificates" doc:"the SP's certificates (base64 DER) that sign its AuthnRequests"`
	EncryptionCert        string                  `json:"encryption_certificate,omitempty"`
	EncryptAssertions     bool                    `json:"encrypt_assertions"`
	Access                string                  `json:"access" doc:"everyone, roles or groups"`
	AccessRoles           []string                `json:"access_roles"`
	AccessGroups          []string                `json:"access_groups"`
	Enabled               bool                    `json:"enabled"`
	MetadataURL           string                  `json:"metadata_url" doc:"the tenant's IdP metadata (its entity ID): give it to the SP"`
	IdPEntityID           string                  `json:"idp_entity_id"`
	SSOURL                string                  `json:"sso_url" doc:"the IdP's single sign-on service, HTTP-Redirect and HTTP-POST"`
	SLOServiceURL         string                  `json:"slo_service_url" doc:"the IdP's single logout service, HTTP-Redirect and HTTP-POST"`
	LaunchURL             string                  `json:"launch_url" doc:"starts an IdP-initiated sign-in to the application"`
	CreatedAt             time.Time               `json:"created_at"`
	UpdatedAt             time.Time               `json:"updated_at"`
}

// SAMLEndpoint is an assertion consumer service.
type SAMLEndpoint struct {
	URL     string `json:"url"`
	Binding string `json:"binding,omitempty" doc:"HTTP-POST (the only binding a response is sent with)"`
	Index   int    `json:"index,omitempty"`
}

// SAMLAppInput is a new or changed SAML application; on update a nil
// field stays. Metadata (XML) or MetadataURL fills entity ID, ACS, SLO,
// NameID format and certificates; fields given besides override it.
type SAMLAppInput struct {
	Name                  *string
	MetadataXML           *string
	MetadataURL           *string
	EntityID              *string
	ACS                   []SAMLEndpoint
	SLOURL                *string
	SLOBinding            *string
	NameIDFormat          *string
	NameIDSource          *string
	Attributes            []tenants.SAMLAttribute
	SignResponse          *bool
	SignAssertion         *bool
	RequireSignedRequests *bool
	SigningCerts          []string
	EncryptionCert        *string
	EncryptAssertions     *bool
	Access                *string
	AccessRoles           []string
	AccessGroups          []string
	Enabled               *bool
}

// ListSAMLApps returns the SAML applications of the tenant in ctx.
func (s *Service) ListSAMLApps(ctx context.Context) ([]*SAMLApp, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	as, err := s.store.ListSAMLApps(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*SAMLApp, len(as))
	for i := range as {
		out[i] = samlAppView(t, &as[i])
	}
	return out, nil
}

// GetSAMLApp returns a SAML application of the tenant in ctx.
func (s *Service) GetSAMLApp(ctx context.Context, id string) (*SAMLApp, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	a, err := s.samlAppByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return samlAppView(t, a), nil
}

func (s *Service) samlAppByID(ctx context.Context, id string) (*tenants.SAMLApp, error) {
	if !referable(id) {
		return nil, tenants.ErrNotFound
	}
	return s.store.SAMLAppByID(ctx, id)
}

// CreateSAMLApp adds a SAML application to the tenant in ctx, from the
// SP's metadata or from fields. Responses and assertions are signed unless
// said otherwise; everyone may use it unless access says who.
func (s *Service) CreateSAMLApp(ctx context.Context, in SAMLAppInput) (*SAMLApp, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, tenants.Invalid("name", "is required")
	}
	existing, err := s.store.ListSAMLApps(ctx)
	if err != nil {
		return nil, err
	}
	if len(existing) >= maxSAMLApps {
		return nil, tenants.Invalid("name", "a tenant has at most %d SAML applications", maxSAMLApps)
	}
	a := &tenants.SAMLApp{ID: tenants.NewRandomID(), NameIDSalt: secret.Token(16), SignResponse: true, SignAssertion: true,
		NameIDSource: tenants.NameIDSourceEmail, Access: tenants.SAMLAccessEveryone, Enabled: true,
		Attributes: tenants.SAMLAttributes{{Name: "email", Source: "email"}, {Name: "name", Source: "name"}}}
	if err := s.applySAMLApp(ctx, a, in); err != nil {
		return nil, err
	}
	if err := s.store.CreateSAMLApp(ctx, a); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, tenants.Invalid("entity_id", "another SAML application of the tenant has this entity ID")
		}
		return nil, err
	}
	v := samlAppView(t, a)
	return v, s.audit(ctx, t, ActionSAMLAppCreated, "saml_app", a.ID, nil, v)
}

// UpdateSAMLApp changes a SAML application of the tenant in ctx.
func (s *Service) UpdateSAMLApp(ctx context.Context, id string, in SAMLAppInput) (*SAMLApp, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	a, err := s.samlAppByID(ctx, id)
	if err != nil {
		return nil, err
	}
	before := samlAppView(t, a)
	if err := s.applySAMLApp(ctx, a, in); err != nil {
		return nil, err
	}
	if err := s.store.UpdateSAMLApp(ctx, a); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, tenants.Invalid("entity_id", "another SAML application of the tenant has this entity ID")
		}
		return nil, err
	}
	v := samlAppView(t, a)
	return v, s.audit(ctx, t, ActionSAMLAppUpdated, "saml_app", a.ID, before, v)
}

// DeleteSAMLApp deletes a SAML application of the tenant in ctx.
func (s *Service) DeleteSAMLApp(ctx context.Context, id string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	a, err := s.samlAppByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteSAMLApp(ctx, id); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionSAMLAppDeleted, "saml_app", id, samlAppView(t, a), nil)
}

// applySAMLApp validates in and applies it to a: metadata first, then the
// fields given, then the checks that span fields.
func (s *Service) applySAMLApp(ctx context.Context, a *tenants.SAMLApp, in SAMLAppInput) error {
	if in.MetadataURL != nil && *in.MetadataURL != "" {
		if s.fed == nil {
			return tenants.Invalid("metadata_url", "fetching metadata is not available here: give the metadata itself")
		}
		if err := s.fed.CheckURL(*in.MetadataURL); err != nil {
			return tenants.Invalid("metadata_url", "must be an https URL of a host this server fetches from")
		}
		x, err := s.fed.FetchMetadata(ctx, *in.MetadataURL)
		if err != nil {
			return tenants.Invalid("metadata_url", "%s", upstream.Message("fetch metadata", err))
		}
		in.MetadataXML = &x
	}
	if in.MetadataXML != nil && strings.TrimSpace(*in.MetadataXML) != "" {
		if err := applySPMetadata(a, *in.MetadataXML, in.EntityID); err != nil {
			return err
		}
	}
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || utf8.RuneCountInString(n) > maxSAMLName || !utf8.ValidString(n) || strings.ContainsFunc(n, unicode.IsControl) {
			return tenants.Invalid("name", "must be 1 to %d characters", maxSAMLName)
		}
		a.Name = n
	}
	if in.EntityID != nil {
		a.EntityID = strings.TrimSpace(*in.EntityID)
	}
	if a.EntityID == "" || len(a.EntityID) > maxSAMLEntityID || !utf8.ValidString(a.EntityID) || strings.ContainsFunc(a.EntityID, unicode.IsControl) {
		return tenants.Invalid("entity_id", "is required: the SP's entity ID, at most %d characters", maxSAMLEntityID)
	}
	if in.ACS != nil {
		acs, err := samlACS(in.ACS, false)
		if err != nil {
			return err
		}
		a.ACS = acs
	}
	if len(a.ACS) == 0 {
		return tenants.Invalid("acs", "name at least one assertion consumer service URL (HTTP-POST)")
	}
	if in.SLOURL != nil {
		u := strings.TrimSpace(*in.SLOURL)
		if u != "" {
			if err := checkSPURL(u); err != nil {
				return tenants.Invalid("slo_url", "%s", err)
			}
		}
		a.SLOURL = u
	}
	if in.SLOBinding != nil {
		b := expandBinding(strings.TrimSpace(*in.SLOBinding))
		if b != "" && !slices.Contains(tenants.SAMLBindings(), b) {
			return tenants.Invalid("slo_binding", "must be HTTP-Redirect or HTTP-POST")
		}
		a.SLOBinding = b
	}
	switch {
	case a.SLOURL == "":
		a.SLOBinding = ""
	case a.SLOBinding == "":
		a.SLOBinding = tenants.BindingHTTPRedirect
	}
	if in.NameIDSource != nil {
		if !slices.Contains(tenants.SAMLNameIDSources(), *in.NameIDSource) {
			return tenants.Invalid("name_id_source", "must be one of %s", strings.Join(tenants.SAMLNameIDSources(), ", "))
		}
		a.NameIDSource = *in.NameIDSource
	}
	if in.NameIDFormat != nil && *in.NameIDFormat != "" {
		if !slices.Contains(tenants.SAMLNameIDFormats(), *in.NameIDFormat) {
			return tenants.Invalid("name_id_format", "must be one of %s", strings.Join(tenants.SAMLNameIDFormats(), ", "))
		}
		a.NameIDFormat = *in.NameIDFormat
	}
	if a.NameIDFormat == "" || in.NameIDSource != nil && (in.NameIDFormat == nil || *in.NameIDFormat == "") {
		a.NameIDFormat = defaultNameIDFormat(a.NameIDSource)
	}
	if in.Attributes != nil {
		attrs, err := samlAttributes(in.Attributes)
		if err != nil {
			return err
		}
		a.Attributes = attrs
	}
	for _, b := range []struct {
		in  *bool
		out *bool
	}{{in.SignResponse, &a.SignResponse}, {in.SignAssertion, &a.SignAssertion}, {in.RequireSignedRequests, &a.RequireSignedRequests},
		{in.EncryptAssertions, &a.EncryptAssertions}, {in.Enabled, &a.Enabled}} {
		if b.in != nil {
			*b.out = *b.in
		}
	}
	if !a.SignResponse && !a.SignAssertion {
		return tenants.Invalid("sign_assertion", "sign the response, the assertion or both")
	}
	if in.SigningCerts != nil {
		if len(in.SigningCerts) > maxSAMLCerts {
			return tenants.Invalid("signing_certificates", "at most %d certificates", maxSAMLCerts)
		}
		certs := tenants.Strings{}
		for _, c := range in.SigningCerts {
			der, err := parseCert(c)
			if err != nil {
				return tenants.Invalid("signing_certificates", "%s", err)
			}
			certs = append(certs, der)
		}
		a.SigningCerts = certs
	}
	if a.RequireSignedRequests && len(a.SigningCerts) == 0 {
		return tenants.Invalid("require_signed_requests", "needs the SP's signing certificate")
	}
	if in.EncryptionCert != nil {
		a.EncryptionCert = ""
		if strings.TrimSpace(*in.EncryptionCert) != "" {
			der, err := parseCert(*in.EncryptionCert)
			if err != nil {
				return tenants.Invalid("encryption_certificate", "%s", err)
			}
			a.EncryptionCert = der
		}
	}
	if a.EncryptAssertions && a.EncryptionCert == "" {
		return tenants.Invalid("encrypt_assertions", "needs the SP's encryption certificate")
	}
	if in.Access != nil {
		if !slices.Contains(tenants.SAMLAccessModes(), *in.Access) {
			return tenants.Invalid("access", "must be one of %s", strings.Join(tenants.SAMLAccessModes(), ", "))
		}
		a.Access = *in.Access
	}
	if in.AccessRoles != nil {
		ids, err := s.refIDs(ctx, "access_roles", in.AccessRoles, func(ref string) (string, error) {
			r, err := s.roleByRef(ctx, ref)
			if err != nil {
				return "", err
			}
			return r.ID, nil
		})
		if err != nil {
			return err
		}
		a.AccessRoles = ids
	}
	if in.AccessGroups != nil {
		ids, err := s.refIDs(ctx, "access_groups", in.AccessGroups, func(ref string) (string, error) {
			g, err := s.groupByRef(ctx, ref)
			if err != nil {
				return "", err
			}
			return g.ID, nil
		})
		if err != nil {
			return err
		}
		a.AccessGroups = ids
	}
	switch {
	case a.Access == tenants.SAMLAccessRoles && len(a.AccessRoles) == 0:
		return tenants.Invalid("access_roles", "name the roles whose holders may use the application")
	case a.Access == tenants.SAMLAccessGroups && len(a.AccessGroups) == 0:
		return tenants.Invalid("access_groups", "name the groups whose members may use the application")
	}
	return nil
}

// refIDs resolves role or group references to ids, deduplicated; an
// unknown one is a 400 naming field.
func (s *Service) refIDs(ctx context.Context, field string, refs []string, resolve func(string) (string, error)) (tenants.Strings, error) {
	if len(refs) > maxSAMLAccessRefs {
		return nil, tenants.Invalid(field, "at most %d", maxSAMLAccessRefs)
	}
	out := tenants.Strings{}
	for _, ref := range refs {
		id, err := resolve(ref)
		if errors.Is(err, tenants.ErrNotFound) {
			return nil, tenants.Invalid(field, "%q is not one of the tenant's", tenants.Truncate(ref, 100))
		}
		if err != nil {
			return nil, err
		}
		if !out.Contains(id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func defaultNameIDFormat(source string) string {
	switch source {
	case tenants.NameIDSourcePersistent:
		return tenants.NameIDPersistent
	case tenants.NameIDSourceUserID:
		return tenants.NameIDUnspecified
	}
	return tenants.NameIDEmail
}

// samlACS validates assertion consumer services: HTTP-POST (SAML Profiles
// §4.1.2: a response is never sent by HTTP-Redirect), URLs an SP may have,
// indexes unique (given in order when absent). Metadata's indexes are
// kept as they are, 0 included (asIndexed): SPs name their ACS by them.
func samlACS(in []SAMLEndpoint, asIndexed bool) (tenants.SAMLEndpoints, error) {
	if len(in) == 0 || len(in) > maxSAMLACS {
		return nil, tenants.Invalid("acs", "name 1 to %d assertion consumer services", maxSAMLACS)
	}
	out := tenants.SAMLEndpoints{}
	seen := map[int]bool{}
	for i, e := range in {
		b := e.Binding
		if b == "" || b == "HTTP-POST" {
			b = tenants.BindingHTTPPost
		}
		if b != tenants.BindingHTTPPost {
			return nil, tenants.Invalid("acs", "only the HTTP-POST binding is supported for assertion consumer services")
		}
		u := strings.TrimSpace(e.URL)
		if err := checkSPURL(u); err != nil {
			return nil, tenants.Invalid("acs", "%s", err)
		}
		idx := e.Index
		if idx == 0 && !asIndexed {
			idx = i + 1
		}
		if idx < 0 || seen[idx] {
			return nil, tenants.Invalid("acs", "indexes must be distinct positive numbers")
		}
		seen[idx] = true
		out = append(out, tenants.SAMLEndpoint{URL: u, Binding: b, Index: idx})
	}
	slices.SortFunc(out, func(x, y tenants.SAMLEndpoint) int { return x.Index - y.Index })
	return out, nil
}

// checkSPURL checks a URL the browser is sent to with an assertion: https,
// or http on a loopback host (a developer's SP), with no user info or
// fragment.
func checkSPURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "" || len(raw) > maxSAMLURL || err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || strings.ContainsFunc(raw, unicode.IsControl):
		return errors.New("must be an absolute https URL without user info or fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("must be an https URL (http only on localhost)")
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func samlAttributes(in []tenants.SAMLAttribute) (tenants.SAMLAttributes, error) {
	if len(in) > maxSAMLAttributes {
		return nil, tenants.Invalid("attributes", "at most %d attributes", maxSAMLAttributes)
	}
	out := tenants.SAMLAttributes{}
	for _, a := range in {
		n := strings.TrimSpace(a.Name)
		if n == "" || len(n) > maxSAMLAttrName || !utf8.ValidString(n) || strings.ContainsFunc(n, unicode.IsControl) {
			return nil, tenants.Invalid("attributes", "an attribute name is 1 to %d characters", maxSAMLAttrName)
		}
		if !slices.Contains(tenants.SAMLAttributeSources(), a.Source) {
			return nil, tenants.Invalid("attributes", "the source of %q must be one of %s", tenants.Truncate(n, 64), strings.Join(tenants.SAMLAttributeSources(), ", "))
		}
		if slices.ContainsFunc(out, func(x tenants.SAMLAttribute) bool { return x.Name == n }) {
			return nil, tenants.Invalid("attributes", "%q is mapped twice", tenants.Truncate(n, 64))
		}
		out = append(out, tenants.SAMLAttribute{Name: n, Source: a.Source})
	}
	return out, nil
}

// parseCert reads a certificate given as PEM or as base64 DER and returns
// it as base64 DER.
func parseCert(in string) (string, error) {
	in = strings.TrimSpace(in)
	var der []byte
	if b, _ := pem.Decode([]byte(in)); b != nil {
		der = b.Bytes
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(in), "")); err != nil {
			return "", errors.New("is not a PEM or base64 X.509 certificate")
		}
	}
	if len(der) > 16<<10 {
		return "", errors.New("is larger than 16 KiB")
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return "", errors.New("is not a valid X.509 certificate")
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// applySPMetadata reads an SP's metadata (SAML Metadata §2.4.4): the
// EntityDescriptor with an SPSSODescriptor (in an EntitiesDescriptor, the
// one of entityID when given), its HTTP-POST assertion consumer services,
// its first single logout service, its first NameID format we know, its
// certificates, and whether it signs its requests.
func applySPMetadata(a *tenants.SAMLApp, doc string, entityID *string) error {
	if len(doc) > federation.MaxMetadataSize {
		return tenants.Invalid("metadata", "is larger than 1 MiB")
	}
	var eds []saml.EntityDescriptor
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal([]byte(doc), &ed); err == nil && ed.EntityID != "" {
		eds = []saml.EntityDescriptor{ed}
	} else {
		var all saml.EntitiesDescriptor
		if err := xml.Unmarshal([]byte(doc), &all); err != nil {
			return tenants.Invalid("metadata", "is not SAML metadata (an EntityDescriptor)")
		}
		eds = all.EntityDescriptors
	}
	var sp *saml.SPSSODescriptor
	for i := range eds {
		if len(eds[i].SPSSODescriptors) == 0 || entityID != nil && *entityID != "" && eds[i].EntityID != *entityID {
			continue
		}
		ed, sp = eds[i], &eds[i].SPSSODescriptors[0]
		break
	}
	if sp == nil {
		return tenants.Invalid("metadata", "describes no service provider (SPSSODescriptor)")
	}
	a.EntityID = ed.EntityID
	var acs []SAMLEndpoint
	for _, e := range sp.AssertionConsumerServices {
		if e.Binding == tenants.BindingHTTPPost {
			acs = append(acs, SAMLEndpoint{URL: e.Location, Binding: e.Binding, Index: e.Index})
		}
	}
	if len(acs) == 0 {
		return tenants.Invalid("metadata", "has no assertion consumer service with the HTTP-POST binding")
	}
	out, err := samlACS(acs, true)
	if err != nil {
		return tenants.Invalid("metadata", "%s", err)
	}
	a.ACS = out
	a.SLOURL, a.SLOBinding = "", ""
	for _, e := range sp.SingleLogoutServices {
		if slices.Contains(tenants.SAMLBindings(), e.Binding) && checkSPURL(e.Location) == nil {
			a.SLOURL, a.SLOBinding = e.Location, e.Binding
			break
		}
	}
	for _, f := range sp.NameIDFormats {
		switch string(f) {
		case tenants.NameIDEmail:
			a.NameIDFormat, a.NameIDSource = tenants.NameIDEmail, tenants.NameIDSourceEmail
		case tenants.NameIDPersistent:
			a.NameIDFormat, a.NameIDSource = tenants.NameIDPersistent, tenants.NameIDSourcePersistent
		default:
			continue
		}
		break
	}
	signing, enc := tenants.Strings{}, ""
	for _, kd := range sp.KeyDescriptors {
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := parseCert(c.Data)
			if err != nil {
				return tenants.Invalid("metadata", "a certificate %s", err)
			}
			if (kd.Use == "" || kd.Use == "signing") && len(signing) < maxSAMLCerts && !signing.Contains(der) {
				signing = append(signing, der)
			}
			if (kd.Use == "" || kd.Use == "encryption") && enc == "" {
				enc = der
			}
		}
	}
	a.SigningCerts, a.EncryptionCert = signing, enc
	if sp.AuthnRequestsSigned != nil && *sp.AuthnRequestsSigned && len(signing) > 0 {
		a.RequireSignedRequests = true
	}
	if sp.WantAssertionsSigned != nil && *sp.WantAssertionsSigned {
		a.SignAssertion = true
	}
	return nil
}

func samlAppView(t *tenants.Tenant, a *tenants.SAMLApp) *SAMLApp {
	v := &SAMLApp{ID: a.ID, Name: a.Name, EntityID: a.EntityID, SLOURL: a.SLOURL, SLOBinding: a.SLOBinding, NameIDFormat: a.NameIDFormat, NameIDSource: a.NameIDSource,
		Attributes: append([]tenants.SAMLAttribute{}, a.Attributes...), SignResponse: a.SignResponse, SignAssertion: a.SignAssertion,
		RequireSignedRequests: a.RequireSignedRequests, SigningCerts: append([]string{}, a.SigningCerts...), EncryptionCert: a.EncryptionCert,
		EncryptAssertions: a.EncryptAssertions, Access: a.Access, AccessRoles: append([]string{}, a.AccessRoles...),
		AccessGroups: append([]string{}, a.AccessGroups...), Enabled: a.Enabled,
		MetadataURL: t.SAMLIdPEntityID(), IdPEntityID: t.SAMLIdPEntityID(), SSOURL: t.SAMLIdPSSOURL(),
		SLOServiceURL: t.SAMLIdPSLOURL(), LaunchURL: t.Issuer + tenants.PathSAMLIdPLaunch + a.ID, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	for _, e := range a.ACS {
		v.ACS = append(v.ACS, SAMLEndpoint{URL: e.URL, Binding: e.Binding, Index: e.Index})
	}
	return v
}

// SAMLIdPCertificate returns the PEM certificate that signs the SAML
// responses of the tenant in ctx now (the IdP metadata lists it, with a
// pre-published next one).
func (s *Service) SAMLIdPCertificate(ctx context.Context) (string, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return "", err
	}
	set, err := s.keys.Keys(ctx, t)
	if err != nil {
		return "", err
	}
	_, cert, err := set.SAMLSigner()
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})), nil
}

// expandBinding accepts a binding by its short name (HTTP-Redirect,
// HTTP-POST) as well as its URN.
func expandBinding(b string) string {
	for _, full := range tenants.SAMLBindings() {
		if strings.EqualFold(b, strings.TrimPrefix(full, "urn:oasis:names:tc:SAML:2.0:bindings:")) {
			return full
		}
	}
	return b
}
