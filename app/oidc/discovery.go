package oidc

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// discovery is the provider metadata (OIDC Discovery §3, RFC 8414) with
// RFC 9207's flag, which the engine's type lacks. GrantTypesSupported
// shadows the engine's field, which omits an empty list: RFC 8414 §2 reads
// a missing one as authorization_code and implicit.
type discovery struct {
	*oidc.DiscoveryConfiguration
	GrantTypesSupported                        []oidc.GrantType `json:"grant_types_supported"`
	AuthorizationResponseIssParameterSupported bool             `json:"authorization_response_iss_parameter_supported"`
	PromptValuesSupported                      []string         `json:"prompt_values_supported"`
}

// Discovery describes exactly what this tenant supports, built from its
// stored issuer, never from the request.
func (s *server) Discovery(ctx context.Context, _ *op.Request[struct{}]) (*op.Response, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	algs, err := (&storage{p: s.p}).SignatureAlgorithms(ctx)
	if err != nil {
		return nil, op.AsStatusError(oidc.ErrServerError().WithParent(err), 500)
	}
	algNames := make([]string, len(algs))
	for i, a := range algs {
		algNames[i] = string(a)
	}
	grants := []oidc.GrantType{} // the tenant's, in registry order
	for _, g := range tenants.GrantTypes() {
		if t.AllowsGrant(g.Name) {
			grants = append(grants, oidc.GrantType(g.Name))
		}
	}
	iss := t.Issuer
	clientAuth := []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
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
			ScopesSupported:                           SupportedScopes,
			ResponseTypesSupported:                    []string{string(oidc.ResponseTypeCode)},
			ResponseModesSupported:                    []string{string(oidc.ResponseModeQuery)},
			SubjectTypesSupported:                     []string{"public"},
			IDTokenSigningAlgValuesSupported:          algNames,
			TokenEndpointAuthMethodsSupported:         append(clientAuth, oidc.AuthMethodNone),
			RevocationEndpointAuthMethodsSupported:    append(clientAuth, oidc.AuthMethodNone),
			IntrospectionEndpointAuthMethodsSupported: clientAuth,
			ClaimsSupported:                           supportedClaims,
			CodeChallengeMethodsSupported:             []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
			ACRValuesSupported:                        authn.SupportedACR,
		},
		GrantTypesSupported:                        grants,
		AuthorizationResponseIssParameterSupported: true,
		PromptValuesSupported:                      authn.SupportedPrompts,
	}
	resp := op.NewResponse(d)
	resp.Header = map[string][]string{"Cache-Control": {"public, max-age=300"}}
	return resp, nil
}
