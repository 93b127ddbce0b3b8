package oidc

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// discovery is the provider metadata (OIDC Discovery §3, RFC 8414) with
// the fields the library's type lacks: RFC 9207's flag and the prompt
// values (OIDC Prompt Create §4). GrantTypesSupported shadows the library's
// field, which omits an empty list: RFC 8414 §2 reads a missing one as
// authorization_code and implicit.
type discovery struct {
	*oidc.DiscoveryConfiguration
	GrantTypesSupported                        []oidc.GrantType `json:"grant_types_supported"`
	AuthorizationResponseIssParameterSupported bool             `json:"authorization_response_iss_parameter_supported"`
	PromptValuesSupported                      []string         `json:"prompt_values_supported"`
	// Back-Channel Logout 1.0 §2.1. The library's fields omit false.
	BackchannelLogoutSupported        bool `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported bool `json:"backchannel_logout_session_supported"`
	// RFC 9126 §5.
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint"`
	RequirePushedAuthorizationRequests bool   `json:"require_pushed_authorization_requests"`
	// RFC 9449 §5.1: DPoP works for every client of every tenant.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported"`
	// RFC 9701 §7: JWT introspection answers are signed as the caller's
	// ID tokens are, so with one of the tenant's algorithms.
	IntrospectionSigningAlgValuesSupported []string `json:"introspection_signing_alg_values_supported"`
}

// Discovery describes exactly what this tenant supports, built from its
// stored issuer, never from the request: its grants (registry order), the
// algorithms it signs with, the vocabulary's scopes, claims, prompts, ACR
// values and response modes; the device authorization endpoint only when
// it offers the device grant.
func (p *Provider) Discovery(ctx context.Context) (*Response, error) {
	t, set, err := p.tenantKeys(ctx)
	if err != nil {
		return nil, serverError(err)
	}
	var algs []string
	for _, a := range set.Algorithms() {
		algs = append(algs, string(a))
	}
	grants := []oidc.GrantType{} // the tenant's, in registry order
	for _, g := range tenants.GrantTypes() {
		if t.AllowsGrant(g.Name) {
			grants = append(grants, oidc.GrantType(g.Name))
		}
	}
	iss := t.Issuer
	// The methods authenticate enforces: every one at the token and
	// revocation endpoints, only the confidential ones at introspection.
	var clientAuth, confidentialAuth []oidc.AuthMethod
	for _, m := range tenants.AuthMethods() {
		clientAuth = append(clientAuth, oidc.AuthMethod(m))
		if m != tenants.AuthMethodNone {
			confidentialAuth = append(confidentialAuth, oidc.AuthMethod(m))
		}
	}
	d := &discovery{
		DiscoveryConfiguration: &oidc.DiscoveryConfiguration{
			Issuer:                                    iss,
			AuthorizationEndpoint:                     iss + PathAuthorize,
			TokenEndpoint:                             iss + PathToken,
			IntrospectionEndpoint:                     iss + PathIntrospect,
			UserinfoEndpoint:                          iss + PathUserinfo,
			RevocationEndpoint:                        iss + PathRevoke,
			EndSessionEndpoint:                        iss + PathEndSession,
			JwksURI:                                   iss + PathJWKS,
			ScopesSupported:                           tenants.StandardScopes(),
			ResponseTypesSupported:                    []string{string(oidc.ResponseTypeCode)},
			ResponseModesSupported:                    ResponseModes,
			SubjectTypesSupported:                     []string{"public"},
			IDTokenSigningAlgValuesSupported:          algs,
			TokenEndpointAuthMethodsSupported:         clientAuth,
			RevocationEndpointAuthMethodsSupported:    clientAuth,
			IntrospectionEndpointAuthMethodsSupported: confidentialAuth,
			// The algorithms of private_key_jwt and client_secret_jwt
			// assertions, one list for every endpoint that
			// authenticates clients.
			TokenEndpointAuthSigningAlgValuesSupported:         tenants.AllAssertionAlgorithms(),
			RevocationEndpointAuthSigningAlgValuesSupported:    tenants.AllAssertionAlgorithms(),
			IntrospectionEndpointAuthSigningAlgValuesSupported: tenants.AllAssertionAlgorithms(),
			ClaimsSupported:               supportedClaims,
			CodeChallengeMethodsSupported: []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
			ACRValuesSupported:            authn.SupportedACR,
			RequestParameterSupported:     false,
			RequestURIParameterSupported:  false,
			// The languages of the pages: what ui_locales can choose.
			UILocalesSupported: i18n.Builtin().Tags(),
		},
		GrantTypesSupported:                        grants,
		AuthorizationResponseIssParameterSupported: true,
		PromptValuesSupported:                      authn.SupportedPrompts,
		DPoPSigningAlgValuesSupported:              DPoPAlgorithms(),
		IntrospectionSigningAlgValuesSupported:     algs,
		PushedAuthorizationRequestEndpoint:         iss + PathPAR,
		RequirePushedAuthorizationRequests:         t.RequirePushedAuthorizationRequests,
		BackchannelLogoutSupported:                 true,
		BackchannelLogoutSessionSupported:          true,
	}
	if t.Registration() != tenants.RegistrationOff {
		// RFC 7591 §3, OIDC Discovery §3: only while the tenant takes
		// registrations.
		d.RegistrationEndpoint = iss + tenants.PathRegister
	}
	if t.AllowsGrant(tenants.GrantDeviceCode) {
		d.DeviceAuthorizationEndpoint = iss + PathDeviceAuthorization
	}
	return publicAnswer(d, publicMaxAge), nil
}
