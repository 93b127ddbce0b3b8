package admin

import (
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Tenant is the public view of a tenant.
type Tenant struct {
	ID           string    `json:"id"`
	Slug         string    `json:"slug"`
	Name         string    `json:"name"`
	Issuer       string    `json:"issuer"`
	DiscoveryURL string    `json:"discovery_url"`
	CreatedAt    time.Time `json:"created_at"`
}

func tenantView(t *tenants.Tenant) *Tenant {
	return &Tenant{
		ID: t.ID, Slug: t.Slug, Name: t.DisplayName, Issuer: t.Issuer,
		DiscoveryURL: t.Issuer + "/.well-known/openid-configuration", CreatedAt: t.CreatedAt,
	}
}

// Scope is the public view of an API scope.
type Scope struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

// API is the public view of an API.
type API struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Audience  string    `json:"audience"`
	Scopes    []Scope   `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
}

func apiView(a *tenants.API) *API {
	v := &API{ID: a.ID, Name: a.Name, Audience: a.Audience, Scopes: []Scope{}, CreatedAt: a.CreatedAt}
	for _, s := range a.Scopes {
		v.Scopes = append(v.Scopes, Scope{Value: s.Name, Description: s.Description})
	}
	return v
}

// ClientGrant is the API scopes a client may request.
type ClientGrant struct {
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
}

// Client is the public view of an application, with RFC 7591 field names.
// ClientSecret is only set in the answer to the call that created it.
type Client struct {
	ClientID                string        `json:"client_id"`
	ClientSecret            string        `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   *int64        `json:"client_secret_expires_at,omitempty"`
	ClientName              string        `json:"client_name"`
	ApplicationType         string        `json:"application_type"`
	TokenEndpointAuthMethod string        `json:"token_endpoint_auth_method"`
	GrantTypes              []string      `json:"grant_types"`
	ResponseTypes           []string      `json:"response_types"`
	RedirectURIs            []string      `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string      `json:"post_logout_redirect_uris"`
	APIGrants               []ClientGrant `json:"api_grants"`
	ClientIDIssuedAt        int64         `json:"client_id_issued_at"`
}

func clientView(c *tenants.Client, grants []tenants.ClientGrant, audiences map[string]string) *Client {
	v := &Client{
		ClientID:                c.ClientID,
		ClientName:              c.Name,
		ApplicationType:         c.ApplicationType,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		GrantTypes:              nonNil(c.GrantTypes),
		ResponseTypes:           []string{},
		RedirectURIs:            nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:  nonNil(c.PostLogoutRedirectURIs),
		APIGrants:               []ClientGrant{},
		ClientIDIssuedAt:        c.CreatedAt.Unix(),
	}
	if c.AllowsGrant(tenants.GrantAuthorizationCode) {
		v.ResponseTypes = []string{"code"}
	}
	if !c.Public() {
		zero := int64(0)
		v.ClientSecretExpiresAt = &zero
	}
	for _, g := range grants {
		v.APIGrants = append(v.APIGrants, ClientGrant{Audience: audiences[g.APIID], Scopes: nonNil(g.Scopes)})
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// User is the public view of an end user; ID is the OpenID Connect subject.
type User struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

func userView(u *tenants.User) *User {
	return &User{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, CreatedAt: u.CreatedAt}
}

// Key is the public view of a signing key.
type Key struct {
	KID       string     `json:"kid"`
	Algorithm string     `json:"alg"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func keyView(k *tenants.SigningKey) *Key {
	status := "active"
	switch {
	case k.RetiredAt != nil && k.ExpiresAt != nil && !time.Now().Before(*k.ExpiresAt):
		status = "expired"
	case k.RetiredAt != nil:
		status = "retired"
	}
	return &Key{KID: k.ID, Algorithm: k.Algorithm, Status: status, CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt, ExpiresAt: k.ExpiresAt}
}
