package oidc

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// introspectionJWTType is both the media type a resource server asks for
// with Accept and the JOSE typ of the answer (RFC 9701 §4, §5).
const (
	introspectionJWTType      = "token-introspection+jwt"
	introspectionJWTMediaType = "application/" + introspectionJWTType
)

// wantsIntrospectionJWT reports whether the request's Accept header names
// application/token-introspection+jwt (RFC 9701 §4), with any parameters
// and a quality above zero.
func wantsIntrospectionJWT(r *http.Request) bool {
	for _, accept := range r.Header.Values("Accept") {
		for _, part := range strings.Split(accept, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != introspectionJWTMediaType {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// introspectionJWTClaims are the claims of a JWT introspection answer (RFC
// 9701 §5): the tenant's issuer, the caller as aud, when it was made, and
// the RFC 7662 answer as token_introspection. The token's own sub and exp
// stay inside it, so that the answer cannot be mistaken for an access
// token.
type introspectionJWTClaims struct {
	Issuer             string                      `json:"iss"`
	Audience           string                      `json:"aud"`
	IssuedAt           oidc.Time                   `json:"iat"`
	TokenIntrospection *oidc.IntrospectionResponse `json:"token_introspection"`
}

// introspectionJWT is the answer resp, signed for caller (RFC 9701 §5):
// typ token-introspection+jwt, signed as the caller's ID tokens are (its
// id_token_signed_response_alg), or with RS256 when the tenant has no key of
// that algorithm any more; never cached.
func (p *Provider) introspectionJWT(ctx context.Context, t *tenants.Tenant, caller *client, resp *oidc.IntrospectionResponse) (*Response, error) {
	claims := &introspectionJWTClaims{Issuer: t.Issuer, Audience: caller.ClientID, IssuedAt: oidc.FromTime(p.now()), TokenIntrospection: resp}
	alg := jose.SignatureAlgorithm(caller.IDTokenAlg())
	signer, err := p.keys.Signer(ctx, t, alg, introspectionJWTType)
	if err != nil && alg != jose.SignatureAlgorithm(tenants.DefaultSigningAlgorithm) {
		signer, err = p.keys.Signer(ctx, t, jose.SignatureAlgorithm(tenants.DefaultSigningAlgorithm), introspectionJWTType)
	}
	if err != nil {
		return nil, serverError(err)
	}
	jwt, err := crypto.Sign(claims, signer)
	if err != nil {
		return nil, serverError(err)
	}
	return &Response{Status: http.StatusOK, Body: RawBody{ContentType: introspectionJWTMediaType, Data: []byte(jwt)}, Header: http.Header{
		"Cache-Control": {"no-store"}, "Pragma": {"no-cache"},
	}}, nil
}
