package admin

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// skip says why a field of a model is not in the tenant document.
type skip string

// Why fields are left out, in so many words.
const (
	skipIdentity = skip("the row's identity or owner: an import makes its own")
	skipTimes    = skip("a timestamp the import sets")
	skipState    = skip("runtime state, not configuration")
)

// documentCoverage says, for every model a tenant document carries, where
// each of its fields goes in the document (the JSON name of a field of the
// Doc type), or why it is left out. A field added to a model later and
// listed in neither fails TestTenantDocumentCoversEveryField: put it in the
// document (export, import, schema) or say here why not.
var documentCoverage = []struct {
	model  any
	doc    any
	fields map[string]any // string: the document's JSON field; skip: why not
}{
	{tenants.Tenant{}, DocSettings{}, map[string]any{
		"ID": skipIdentity, "Slug": skip("the import's --slug, or source.slug"), "DisplayName": "name",
		"Host": skip("made from the slug and this server's base URL"), "Issuer": skip("made from the slug and this server's base URL"),
		"Revision": skipState, "LogoURL": "logo_url", "AccentColor": "accent_color", "GrantTypes": "grant_types",
		"System": skip("the system tenant is never exported"), "SignupMode": "signup_mode", "SignupDomains": "signup_domains",
		"PasswordMinLength": "password_min_length", "MFAPolicy": "mfa_policy", "EmailFromName": "email_from_name",
		"DefaultLocale": "default_locale", "EmailReplyTo": "email_reply_to", "AccessTokenTTLSeconds": "access_token_lifetime",
		"IDTokenTTLSeconds": "id_token_lifetime", "RefreshTokenTTLSeconds": "refresh_token_lifetime", "SessionTTLSeconds": "session_lifetime",
		"KeyRotationSeconds": "key_rotation_period", "RequirePushedAuthorizationRequests": "require_pushed_authorization_requests",
		"TokenExchangeImpersonation": "token_exchange_impersonation", "ClientRegistration": "client_registration",
		"UserMetadataFields": "user_metadata_fields", "CreatedAt": skipTimes, "UpdatedAt": skipTimes,
	}},
	{tenants.Client{}, DocApplication{}, map[string]any{
		"ID": skipIdentity, "TenantID": skipIdentity, "ClientID": "client_id", "Name": "name", "ApplicationType": "kind",
		"TokenEndpointAuthMethod": "token_endpoint_auth_method", "SecretHash": "secret_hash", "PreviousSecretHash": "previous_secret_hash",
		"PreviousSecretExpiresAt": "previous_secret_expires_at", "RedirectURIs": "redirect_uris", "PostLogoutRedirectURIs": "post_logout_redirect_uris",
		"GrantTypes": "grant_types", "IDTokenSignedResponseAlg": "id_token_signed_response_alg", "Consent": "consent", "JWKS": "jwks", "JWKSURI": "jwks_uri",
		"RequirePushedAuthorizationRequests": "require_pushed_authorization_requests", "RefreshTokenGraceSeconds": "refresh_token_grace_period",
		"DPoPBoundAccessTokens": "dpop_bound_access_tokens", "BackchannelLogoutURI": "backchannel_logout_uri",
		"BackchannelLogoutSessionRequired": "backchannel_logout_session_required", "Registered": "registered",
		"SecretSealed":          skip("a client_secret_jwt application's secret is sealed under this server's master key, bound to the tenant: an import makes it a new one"),
		"PreviousSecretSealed":  skip("the previous secret of a client_secret_jwt application is not carried either"),
		"RegistrationTokenHash": "registration_token_hash", "ClaimFormat": "claim_format", "LogoURI": "logo_uri", "Internal": skip("Gatehouse's own clients (the console's Try it) are made again where needed"),
		"CreatedAt": skipTimes, "UpdatedAt": skipTimes,
	}},
	{tenants.ClientGrant{}, ClientGrant{}, map[string]any{
		"ID": skipIdentity, "TenantID": skipIdentity, "ClientID": skip("the grant is in its application"), "APIID": "audience", "Scopes": "scopes",
		"CreatedAt": skipTimes, "ExpiresAt": skip("a grant that expires was given for a while (a registration's), and is not exported"),
	}},
	{tenants.API{}, DocAPI{}, map[string]any{
		"ID": "id", "TenantID": skipIdentity, "Name": "name", "Audience": "audience", "SigningAlg": "signing_alg", "RBAC": "rbac",
		"TokenClaims": "token_claims", "ResourceServerClientID": "resource_server_client_id", "RegistrationScopes": "registration_scopes",
		"Scopes": "scopes", "CreatedAt": skipTimes, "UpdatedAt": skipTimes,
	}},
	{tenants.Scope{}, Scope{}, map[string]any{
		"ID": skipIdentity, "TenantID": skipIdentity, "APIID": skip("the scope is in its API"), "Name": "value", "Description": "description",
		"CreatedAt": skipTimes,
	}},
	{tenants.Role{}, DocRole{}, map[string]any{
		"ID": "id", "TenantID": skipIdentity, "Name": "name", "Description": "description", "Permissions": "permissions",
		"CreatedAt": skipTimes, "UpdatedAt": skipTimes,
	}},
	{tenants.Group{}, DocGroup{}, map[string]any{
		"ID": "id", "TenantID": skipIdentity, "Name": "name", "Description": "description", "CreatedAt": skipTimes, "UpdatedAt": skipTimes,
	}},
	{tenants.GroupRole{}, DocGroup{}, map[string]any{
		"TenantID": skipIdentity, "GroupID": skip("the roles are in their group"), "RoleID": "roles", "CreatedAt": skipTimes,
	}},
	{tenants.Connection{}, DocConnection{}, map[string]any{
		"ID": "id", "TenantID": skipIdentity, "Type": "type", "Name": "name", "Enabled": "enabled", "Domains": "domains", "ClientID": "client_id",
		"ClientSecretSealed": "client_secret_sealed", "Issuer": "issuer", "TrustEmail": "trust_email", "Provisioning": "provisioning",
		"Config": "config", "SPKeySealed": "sp_key_sealed", "PassGroups": "pass_groups", "CreatedAt": skipTimes, "UpdatedAt": skipTimes,
	}},
	{tenants.WebhookEndpoint{}, DocWebhook{}, map[string]any{
		"ID": "id", "TenantID": skipIdentity, "URL": "url", "Events": "events", "Enabled": "enabled", "SecretSealed": "secret_sealed",
		"PreviousSecretSealed": skip("a rotation in progress ends with the move: the current secret signs (receivers know it)"),
		"PreviousSecretUntil":  skip("a rotation in progress ends with the move"),
		"FailingSince":         skipState, "DisabledReason": skipState, "CreatedAt": skipTimes, "UpdatedAt": skipTimes,
	}},
	{tenants.ClaimRule{}, DocClaimRule{}, map[string]any{
		"ID": "id", "TenantID": skipIdentity, "Name": "name", "Position": "position", "Enabled": "enabled", "Condition": "condition",
		"IDTokenClaims": "id_token", "AccessTokenClaims": "access_token", "Deny": "deny", "CreatedAt": skipTimes, "UpdatedAt": skipTimes,
	}},
	{tenants.TenantString{}, DocString{}, map[string]any{
		"TenantID": skipIdentity, "Locale": "locale", "MessageID": "message_id", "Text": "text", "UpdatedAt": skipTimes,
	}},
	{tenants.SAMLApp{}, DocSAMLApp{}, map[string]any{
		"ID": "id", "TenantID": skipIdentity, "Name": "name", "EntityID": "entity_id", "ACS": "acs", "SLOURL": "slo_url", "SLOBinding": "slo_binding",
		"NameIDFormat": "name_id_format", "NameIDSource": "name_id_source", "NameIDSalt": "name_id_salt", "Attributes": "attributes",
		"SignResponse": "sign_response", "SignAssertion": "sign_assertion", "RequireSignedRequests": "require_signed_requests",
		"SigningCerts": "signing_certificates", "EncryptionCert": "encryption_certificate", "EncryptAssertions": "encrypt_assertions",
		"Access": "access", "AccessRoles": "access_roles", "AccessGroups": "access_groups", "Enabled": "enabled",
		"CreatedAt": skipTimes, "UpdatedAt": skipTimes,
	}},
}

// jsonFields are the JSON names of a struct type's fields.
func jsonFields(typ reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

// TestTenantDocumentCoversEveryField fails when a model a tenant document
// carries has a field the document neither carries nor says why not, or
// when the coverage names a document field that does not exist.
func TestTenantDocumentCoversEveryField(t *testing.T) {
	for _, c := range documentCoverage {
		model, doc := reflect.TypeOf(c.model), reflect.TypeOf(c.doc)
		have := jsonFields(doc)
		for i := range model.NumField() {
			f := model.Field(i)
			if !f.IsExported() {
				continue
			}
			switch where := c.fields[f.Name].(type) {
			case nil:
				t.Errorf("%s.%s is not in the tenant document (%s): add it to the document's export, import and schema, or say in documentCoverage why not",
					model.Name(), f.Name, doc.Name())
			case string:
				if !have[where] {
					t.Errorf("%s.%s goes to %s.%s, which does not exist", model.Name(), f.Name, doc.Name(), where)
				}
			case skip:
				if where == "" {
					t.Errorf("%s.%s is left out without a reason", model.Name(), f.Name)
				}
			}
		}
		for name := range c.fields {
			if _, ok := model.FieldByName(name); !ok {
				t.Errorf("documentCoverage names %s.%s, which does not exist", model.Name(), name)
			}
		}
	}
	// Every kind of the document is covered.
	kinds := map[reflect.Type]bool{}
	for _, c := range documentCoverage {
		kinds[reflect.TypeOf(c.doc)] = true
	}
	docType := reflect.TypeOf(TenantDocument{})
	for i := range docType.NumField() {
		f := docType.Field(i)
		typ := f.Type
		if typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() == reflect.Struct && strings.HasPrefix(typ.Name(), "Doc") && typ.Name() != "DocSource" && !kinds[typ] {
			t.Errorf("the document's %s (%s) has no models in documentCoverage", f.Name, typ.Name())
		}
	}
}
