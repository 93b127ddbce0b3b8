package oidc

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// discovery is the provider metadata (OIDC Discovery §3, RFC 8414) with
// RFC 9207's flag, which the engine's type lacks.
type discovery struct {
	*oidc.DiscoveryConfiguration
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
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
			ScopesSupported:                           supportedScopes,
			ResponseTypesSupported:                    []string{string(oidc.ResponseTypeCode)},
			ResponseModesSupported:                    []string{string(oidc.ResponseModeQuery)},
			GrantTypesSupported:                       []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials},
			SubjectTypesSupported:                     []string{"public"},
			IDTokenSigningAlgValuesSupported:          algNames,
			TokenEndpointAuthMethodsSupported:         append(clientAuth, oidc.AuthMethodNone),
			RevocationEndpointAuthMethodsSupported:    append(clientAuth, oidc.AuthMethodNone),
			IntrospectionEndpointAuthMethodsSupported: clientAuth,
			ClaimsSupported:                           supportedClaims,
			CodeChallengeMethodsSupported:             []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
			ACRValuesSupported:                        acrValuesSupported,
		},
		AuthorizationResponseIssParameterSupported: true,
		PromptValuesSupported:                      []string{"none", "login", "consent", "select_account"},
	}
	resp := op.NewResponse(d)
	resp.Header = map[string][]string{"Cache-Control": {"public, max-age=300"}}
	return resp, nil
}
