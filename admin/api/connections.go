package api

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// createConnectionBody adds a connection. The fields after type apply to
// some types only, as their descriptions say; a field of another type is
// refused.
type createConnectionBody struct {
	Type              string            `json:"type" required:"true" enum:"google,github,microsoft,apple,oidc,saml" doc:"the kind of upstream provider; it cannot be changed"`
	Name              *string           `json:"name" doc:"shown on the login page's button: Continue with <name>; unique in the tenant. google, github and microsoft default to the provider's name"`
	Enabled           *bool             `json:"enabled" doc:"an enabled connection is offered on the login page; new connections are enabled"`
	ClientID          *string           `json:"client_id" doc:"google, github, microsoft, oidc: the client id of the application registered at the provider; apple: the Services ID"`
	ClientSecret      *string           `json:"client_secret" writeOnly:"true" doc:"google, github, microsoft, oidc: the application's client secret at the provider. Write-only: stored encrypted and never shown (has_client_secret says one is set). Required at creation; on update, leave it out to keep the current one"`
	Issuer            *string           `json:"issuer" doc:"oidc: the provider's issuer URL, where /.well-known/openid-configuration is found (https; http only on loopback hosts); at a public address, or a host in GATEHOUSE_UPSTREAM_ALLOW_HOSTS"`
	Domains           []string          `json:"domains" doc:"email domains this connection claims: on the login page, an address at one of them goes straight to this connection (home-realm discovery). Replaces the list"`
	TrustEmail        *bool             `json:"trust_email" doc:"link a first login to the existing account with the same address when the provider says it is verified. Ignored for microsoft, where any Entra tenant can assert any address (nOAuth)"`
	Provisioning      *string           `json:"provisioning" doc:"whether a first login creates a user: tenant (when the tenant's sign-up setting lets people sign up; the default), create (always, as for a company's own IdP) or existing (never: only accounts that exist sign in). A user created for an address the provider does not vouch for gets no address"`
	MetadataXML       *string           `json:"metadata_xml" doc:"saml: the IdP's metadata (an EntityDescriptor). The body is at most 64 KiB: give larger metadata by metadata_url"`
	MetadataURL       *string           `json:"metadata_url" doc:"saml: where the IdP publishes its metadata (http or https, no user info); fetched when the connection is saved, from a public address or a host in GATEHOUSE_UPSTREAM_ALLOW_HOSTS, without following redirects"`
	Attributes        map[string]string `json:"attributes" doc:"saml: the SAML attribute (Name or FriendlyName) of each of the fields email, name, given_name, family_name and groups; a field left out is looked for under the usual names (mail, displayName, the LDAP OIDs, the Entra claim URIs). Replaces the mapping"`
	AllowIDPInitiated *bool             `json:"allow_idp_initiated" doc:"saml: accept logins the IdP starts on its own (unsolicited responses). Off by default: such a response answers no request of ours, so it cannot be bound to a browser"`
	MicrosoftTenant   *string           `json:"microsoft_tenant" doc:"microsoft: the Entra tenant users sign in from: common (the default: work, school and personal accounts), organizations, consumers, a tenant id or a verified domain"`
	PassGroups        *bool             `json:"pass_groups" doc:"oidc, saml: pass the upstream groups that the connection's group mapping (PUT .../group-mappings) maps to no tenant group through in the groups claim, by name (at most 100 names a claim); off by default"`
	AppleTeamID       *string           `json:"apple_team_id" doc:"apple: the Apple developer team id (ten letters and digits); the client secret's issuer"`
	AppleKeyID        *string           `json:"apple_key_id" doc:"apple: the id of the Sign in with Apple private key (ten letters and digits)"`
	ApplePrivateKey   *string           `json:"apple_private_key" writeOnly:"true" doc:"apple: the Sign in with Apple private key, the .p8 file's PEM text (PKCS#8, P-256). Write-only: stored encrypted and never shown; Gatehouse signs short-lived ES256 client secrets with it. Required at creation; on update, leave it out to keep the current one"`
}

// updateConnectionBody is a partial update of a connection: a field left out
// (or null) keeps its value; a list or mapping given replaces it.
type updateConnectionBody struct {
	Name              *string           `json:"name" doc:"shown on the login page's button: Continue with <name>; unique in the tenant. google, github and microsoft default to the provider's name"`
	Enabled           *bool             `json:"enabled" doc:"an enabled connection is offered on the login page; new connections are enabled"`
	ClientID          *string           `json:"client_id" doc:"google, github, microsoft, oidc: the client id of the application registered at the provider; apple: the Services ID"`
	ClientSecret      *string           `json:"client_secret" writeOnly:"true" doc:"google, github, microsoft, oidc: the application's client secret at the provider. Write-only: stored encrypted and never shown (has_client_secret says one is set). Required at creation; on update, leave it out to keep the current one"`
	Issuer            *string           `json:"issuer" doc:"oidc: the provider's issuer URL, where /.well-known/openid-configuration is found (https; http only on loopback hosts); at a public address, or a host in GATEHOUSE_UPSTREAM_ALLOW_HOSTS"`
	Domains           []string          `json:"domains" doc:"email domains this connection claims: on the login page, an address at one of them goes straight to this connection (home-realm discovery). Replaces the list"`
	TrustEmail        *bool             `json:"trust_email" doc:"link a first login to the existing account with the same address when the provider says it is verified. Ignored for microsoft, where any Entra tenant can assert any address (nOAuth)"`
	Provisioning      *string           `json:"provisioning" doc:"whether a first login creates a user: tenant (when the tenant's sign-up setting lets people sign up; the default), create (always, as for a company's own IdP) or existing (never: only accounts that exist sign in). A user created for an address the provider does not vouch for gets no address"`
	MetadataXML       *string           `json:"metadata_xml" doc:"saml: the IdP's metadata (an EntityDescriptor). The body is at most 64 KiB: give larger metadata by metadata_url"`
	MetadataURL       *string           `json:"metadata_url" doc:"saml: where the IdP publishes its metadata (http or https, no user info); fetched when the connection is saved, from a public address or a host in GATEHOUSE_UPSTREAM_ALLOW_HOSTS, without following redirects"`
	Attributes        map[string]string `json:"attributes" doc:"saml: the SAML attribute (Name or FriendlyName) of each of the fields email, name, given_name, family_name and groups; a field left out is looked for under the usual names (mail, displayName, the LDAP OIDs, the Entra claim URIs). Replaces the mapping"`
	AllowIDPInitiated *bool             `json:"allow_idp_initiated" doc:"saml: accept logins the IdP starts on its own (unsolicited responses). Off by default: such a response answers no request of ours, so it cannot be bound to a browser"`
	MicrosoftTenant   *string           `json:"microsoft_tenant" doc:"microsoft: the Entra tenant users sign in from: common (the default: work, school and personal accounts), organizations, consumers, a tenant id or a verified domain"`
	PassGroups        *bool             `json:"pass_groups" doc:"oidc, saml: pass the upstream groups that the connection's group mapping (PUT .../group-mappings) maps to no tenant group through in the groups claim, by name (at most 100 names a claim); off by default"`
	AppleTeamID       *string           `json:"apple_team_id" doc:"apple: the Apple developer team id (ten letters and digits); the client secret's issuer"`
	AppleKeyID        *string           `json:"apple_key_id" doc:"apple: the id of the Sign in with Apple private key (ten letters and digits)"`
	ApplePrivateKey   *string           `json:"apple_private_key" writeOnly:"true" doc:"apple: the Sign in with Apple private key, the .p8 file's PEM text (PKCS#8, P-256). Write-only: stored encrypted and never shown; Gatehouse signs short-lived ES256 client secrets with it. Required at creation; on update, leave it out to keep the current one"`
}

// update returns the fields of b after its type.
func (b createConnectionBody) update() updateConnectionBody {
	return updateConnectionBody{Name: b.Name, Enabled: b.Enabled, ClientID: b.ClientID, ClientSecret: b.ClientSecret, Issuer: b.Issuer,
		Domains: b.Domains, TrustEmail: b.TrustEmail, Provisioning: b.Provisioning, MetadataXML: b.MetadataXML, MetadataURL: b.MetadataURL, Attributes: b.Attributes,
		AllowIDPInitiated: b.AllowIDPInitiated, MicrosoftTenant: b.MicrosoftTenant, PassGroups: b.PassGroups, AppleTeamID: b.AppleTeamID, AppleKeyID: b.AppleKeyID,
		ApplePrivateKey: b.ApplePrivateKey}
}

// connectionFieldsOf are the fields of the body that only connections of
// some types have, by JSON name.
var connectionFieldsOf = map[string][]string{
	"client_id":           {tenants.ConnectionGoogle, tenants.ConnectionGitHub, tenants.ConnectionMicrosoft, tenants.ConnectionOIDC, tenants.ConnectionApple},
	"client_secret":       {tenants.ConnectionGoogle, tenants.ConnectionGitHub, tenants.ConnectionMicrosoft, tenants.ConnectionOIDC},
	"issuer":              {tenants.ConnectionOIDC},
	"metadata_xml":        {tenants.ConnectionSAML},
	"metadata_url":        {tenants.ConnectionSAML},
	"attributes":          {tenants.ConnectionSAML},
	"allow_idp_initiated": {tenants.ConnectionSAML},
	"microsoft_tenant":    {tenants.ConnectionMicrosoft},
	"pass_groups":         {tenants.ConnectionOIDC, tenants.ConnectionSAML},
	"apple_team_id":       {tenants.ConnectionApple},
	"apple_key_id":        {tenants.ConnectionApple},
	"apple_private_key":   {tenants.ConnectionApple},
}

// input checks that b only sets fields a connection of type typ has, and
// returns it as the service's input.
func (b updateConnectionBody) input(typ string) (admin.ConnectionInput, error) {
	set := map[string]bool{
		"client_id": b.ClientID != nil, "client_secret": b.ClientSecret != nil, "issuer": b.Issuer != nil,
		"metadata_xml": b.MetadataXML != nil, "metadata_url": b.MetadataURL != nil, "attributes": b.Attributes != nil,
		"allow_idp_initiated": b.AllowIDPInitiated != nil, "microsoft_tenant": b.MicrosoftTenant != nil, "pass_groups": b.PassGroups != nil,
		"apple_team_id": b.AppleTeamID != nil, "apple_key_id": b.AppleKeyID != nil, "apple_private_key": b.ApplePrivateKey != nil,
	}
	// In a fixed order, so that the same body always names the same field.
	for _, f := range []string{"client_id", "client_secret", "issuer", "metadata_xml", "metadata_url", "attributes", "allow_idp_initiated", "microsoft_tenant", "pass_groups", "apple_team_id", "apple_key_id", "apple_private_key"} {
		if set[f] && !slices.Contains(connectionFieldsOf[f], typ) {
			return admin.ConnectionInput{}, badRequest(f, "is not a setting of a "+typ+" connection")
		}
	}
	if b.MetadataXML != nil && *b.MetadataXML != "" && b.MetadataURL != nil && *b.MetadataURL != "" {
		return admin.ConnectionInput{}, badRequest("metadata_url", "give the metadata as metadata_xml or metadata_url, not both")
	}
	secret := b.ClientSecret
	if typ == tenants.ConnectionApple {
		// An Apple connection's client secret is made from its key.
		secret = b.ApplePrivateKey
	}
	return admin.ConnectionInput{Type: typ, Name: b.Name, Enabled: b.Enabled, ClientID: b.ClientID, ClientSecret: secret,
		Issuer: b.Issuer, Domains: b.Domains, TrustEmail: b.TrustEmail, Provisioning: b.Provisioning, MetadataXML: b.MetadataXML, MetadataURL: b.MetadataURL,
		Attributes: b.Attributes, AllowIDPInitiated: b.AllowIDPInitiated, MicrosoftTenant: b.MicrosoftTenant, PassGroups: b.PassGroups, AppleTeamID: b.AppleTeamID,
		AppleKeyID: b.AppleKeyID}, nil
}

// connectionError names the field of a connection's validation error as
// this API does. The services name the SAML metadata "metadata", and a
// configuration the connector refused "connection": the field that
// configures it, by type.
func connectionError(err error, typ string, b updateConnectionBody) error {
	metadata := "metadata_xml"
	if b.MetadataURL != nil && *b.MetadataURL != "" && (b.MetadataXML == nil || *b.MetadataXML == "") {
		metadata = "metadata_url"
	}
	refused := map[string]string{
		tenants.ConnectionSAML: metadata, tenants.ConnectionOIDC: "issuer", tenants.ConnectionMicrosoft: "microsoft_tenant",
		tenants.ConnectionGoogle: "client_id", tenants.ConnectionGitHub: "client_id", tenants.ConnectionApple: "apple_private_key",
	}[typ]
	names := map[string]string{"metadata": metadata}
	if typ == tenants.ConnectionApple {
		names["client_secret"] = "apple_private_key"
	}
	if refused != "" {
		names["connection"] = refused
	}
	return renamed(err, names)
}

func (h *Handler) listConnections(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	cs, err := h.svc.ListConnections(ctx)
	if err != nil {
		return err
	}
	// Names are unique in a tenant and hold no control characters.
	page, err := paginate(c, cs, func(x *admin.Connection) string { return x.Name + "\x01" + x.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) createConnection(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b createConnectionBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if !slices.Contains([]string{tenants.ConnectionGoogle, tenants.ConnectionGitHub, tenants.ConnectionMicrosoft, tenants.ConnectionApple,
		tenants.ConnectionOIDC, tenants.ConnectionSAML}, b.Type) {
		return badRequest("type", "must be google, github, microsoft, apple, oidc or saml")
	}
	body := b.update()
	in, err := body.input(b.Type)
	if err != nil {
		return err
	}
	v, err := h.svc.CreateConnection(ctx, in)
	if err != nil {
		return connectionError(err, b.Type, body)
	}
	return created(c, "/tenants/"+t.Slug+"/connections/"+v.ID, v)
}

func (h *Handler) getConnection(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.GetConnection(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *Handler) updateConnection(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	// The connection's type decides which fields the body may set: look
	// it up first (another tenant's is not found, whatever the body).
	cur, err := h.svc.GetConnection(ctx, id)
	if err != nil {
		return err
	}
	var b updateConnectionBody
	if err := decode(c, &b); err != nil {
		return err
	}
	in, err := b.input(cur.Type)
	if err != nil {
		return err
	}
	v, err := h.svc.UpdateConnection(ctx, id, in)
	if err != nil {
		return connectionError(err, cur.Type, b)
	}
	return c.JSON(http.StatusOK, v)
}

func (h *Handler) deleteConnection(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteConnection(ctx, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// groupMappingsBody replaces a connection's group mapping.
type groupMappingsBody struct {
	Mappings []admin.GroupMappingInput `json:"mappings" required:"true" doc:"each maps an upstream group name (as the provider asserts it) to a group of this tenant, by id or name; at most 500. Replaces the mapping"`
}

func (h *Handler) getGroupMappings(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	ms, err := h.svc.ConnectionGroupMappings(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(ms))
}

func (h *Handler) setGroupMappings(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	var b groupMappingsBody
	if err := decode(c, &b); err != nil {
		return err
	}
	ms, err := h.svc.SetConnectionGroupMappings(ctx, id, b.Mappings)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(ms))
}
