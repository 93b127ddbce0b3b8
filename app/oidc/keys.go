package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
)

// JWKS is the tenant's JSON Web Key Set (RFC 7517 §5): every key that
// still verifies tokens (the signing key, a next key published before it
// signs, retired keys until the tokens they signed expire). Caches may keep
// it publicMaxAge seconds.
func (p *Provider) JWKS(ctx context.Context) (*Response, error) {
	_, set, err := p.tenantKeys(ctx)
	if err != nil {
		return nil, serverError(err)
	}
	out := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range set.Verifying() {
		out.Keys = append(out.Keys, k.JWK())
	}
	return publicAnswer(out, publicMaxAge), nil
}

// tenantKeys returns the keys of the tenant in ctx.
func (p *Provider) tenantKeys(ctx context.Context) (*tenants.Tenant, *keyring.Set, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, nil, err
	}
	set, err := p.keys.Keys(ctx, t)
	return t, set, err
}

var errBadToken = errors.New("token is not valid")

// verifyJWT checks a JWT issued by the tenant in ctx: one signature, by one
// of the tenant's published keys (never a key named by the token), with the
// JOSE typ wantTyp, iss the tenant's issuer, and (unless allowExpired) not
// expired. It decodes the claims into claims.
func (p *Provider) verifyJWT(ctx context.Context, token, wantTyp string, allowExpired bool, claims any) error {
	if token == "" || len(token) > maxTokenLength || strings.Count(token, ".") != 2 {
		return errBadToken
	}
	t, set, err := p.tenantKeys(ctx)
	if err != nil {
		return err
	}
	// Exactly the algorithms this tenant's published keys use.
	jws, err := jose.ParseSigned(token, set.VerifyingAlgorithms())
	if err != nil || len(jws.Signatures) != 1 {
		return errBadToken
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), wantTyp) {
		return errBadToken
	}
	key, ok := set.Find(h.KeyID)
	if !ok || string(key.Algorithm) != h.Algorithm || key.ExpiresAt != nil && !p.now().Before(*key.ExpiresAt) {
		return errBadToken
	}
	payload, err := jws.Verify(key.Public)
	if err != nil {
		return errBadToken
	}
	var std struct {
		Issuer string  `json:"iss"`
		Exp    float64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &std); err != nil || std.Issuer != t.Issuer {
		return errBadToken
	}
	if !allowExpired && !p.now().Before(time.Unix(int64(std.Exp), 0)) {
		return fmt.Errorf("%w: expired", errBadToken)
	}
	if err := json.Unmarshal(payload, claims); err != nil {
		return errBadToken
	}
	return nil
}
