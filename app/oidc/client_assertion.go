package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Bounds of a client assertion's times (RFC 7523 §3 items 4-6): it expires
// at most maxAssertionLifetime ahead (a client makes one per request, so a
// long-lived one is only a replayable credential), and clocks may disagree
// by assertionSkew.
const (
	maxAssertionLifetime = 5 * time.Minute
	assertionSkew        = 30 * time.Second
	maxJTILength         = 256
)

// assertionClaims are the claims of a client assertion (RFC 7523 §3).
type assertionClaims struct {
	Issuer    string       `json:"iss"`
	Subject   string       `json:"sub"`
	Audience  audience     `json:"aud"`
	Expiry    *json.Number `json:"exp"`
	NotBefore *json.Number `json:"nbf"`
	IssuedAt  *json.Number `json:"iat"`
	JTI       string       `json:"jti"`
}

// audience is aud: one string or an array of them (RFC 7519 §4.1.3).
type audience []string

// UnmarshalJSON implements json.Unmarshaler.
func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = many
	return nil
}

// errAssertion is a reason a verified assertion is refused: its signer
// holds the client's key, and may be told why (error_description).
type errAssertion string

func (e errAssertion) Error() string { return string(e) }

// errReplayed refuses an assertion whose jti was accepted before.
const errReplayed = errAssertion("the assertion was used before (jti replayed)")

// errNoKey is a reason an assertion was not verified: it is logged, and the
// client told only that authentication failed, as for an unknown client,
// so that no answer tells which client ids exist.
type errNoKey string

func (e errNoKey) Error() string { return string(e) }

// checkAssertionClaims is the policy of RFC 7523 §3 for a client
// assertion of clientID, verified already, at now: iss and sub are the
// client, aud names one of audiences (the issuer identifier, the token
// endpoint, or the endpoint called), exp is present, in the future and at
// most maxAssertionLifetime ahead, nbf and iat (when present) are not in
// the future, and jti is present. It returns when the assertion expires.
func checkAssertionClaims(c *assertionClaims, clientID string, audiences []string, now time.Time) (time.Time, error) {
	if c.Issuer != clientID || c.Subject != clientID {
		return time.Time{}, errAssertion("iss and sub must both be the client_id")
	}
	if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(audiences, a) }) {
		return time.Time{}, errAssertion("aud must be the issuer or the endpoint's URL")
	}
	if c.Expiry == nil {
		return time.Time{}, errAssertion("exp is required")
	}
	exp, err := numericDate(*c.Expiry)
	if err != nil {
		return time.Time{}, errAssertion("exp must be a NumericDate")
	}
	switch {
	case !now.Before(exp.Add(assertionSkew)):
		return time.Time{}, errAssertion("the assertion has expired")
	case exp.After(now.Add(maxAssertionLifetime + assertionSkew)):
		return time.Time{}, errAssertion(fmt.Sprintf("exp may be at most %s ahead", maxAssertionLifetime))
	}
	for name, v := range map[string]*json.Number{"nbf": c.NotBefore, "iat": c.IssuedAt} {
		if v == nil {
			continue
		}
		t, err := numericDate(*v)
		if err != nil {
			return time.Time{}, errAssertion(name + " must be a NumericDate")
		}
		if t.After(now.Add(assertionSkew)) {
			return time.Time{}, errAssertion(name + " is in the future")
		}
		if name == "iat" && t.After(exp) {
			return time.Time{}, errAssertion("iat is after exp")
		}
	}
	if c.JTI == "" || len(c.JTI) > maxJTILength {
		return time.Time{}, errAssertion("jti is required (at most 256 characters)")
	}
	return exp.Add(assertionSkew), nil
}

// numericDate reads a NumericDate (RFC 7519 §2): seconds, maybe with a
// fraction, within years that make sense.
func numericDate(n json.Number) (time.Time, error) {
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return time.Time{}, errors.New("not a NumericDate")
	}
	return time.Unix(0, 0).Add(time.Duration(f * float64(time.Second))), nil
}

// checkAssertion is verifyAssertion but for the replay check: the
// assertion raw of c, called at endpoint, is one JWS in an algorithm c's
// method allows, signed with one of c's keys (private_key_jwt) or its
// secret (client_secret_jwt), with claims checkAssertionClaims accepts. It
// returns the claims and when the assertion expires.
func (p *Provider) checkAssertion(ctx context.Context, c *client, raw, endpoint string) (*assertionClaims, time.Time, error) {
	algs := assertionAlgs(c.TokenEndpointAuthMethod)
	if len(algs) == 0 {
		return nil, time.Time{}, errNoKey("the client is not registered for an assertion method")
	}
	jws, err := jose.ParseSigned(raw, algs)
	if err != nil {
		return nil, time.Time{}, errNoKey(fmt.Sprintf("the assertion is not a JWS signed with one of %v", algs))
	}
	if len(jws.Signatures) != 1 {
		return nil, time.Time{}, errNoKey("the assertion must have one signature")
	}
	h := jws.Signatures[0].Header
	var payload []byte
	if c.TokenEndpointAuthMethod == tenants.AuthMethodSecretJWT {
		payload, err = p.verifySecretAssertion(c, jws)
	} else {
		payload, err = p.clientKeys.verify(ctx, c, jws, h.KeyID, h.Algorithm)
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	var claims assertionClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, time.Time{}, errAssertion("the assertion's claims are malformed: " + err.Error())
	}
	t := c.tenant
	audiences := []string{t.Issuer, t.Issuer + PathToken, endpoint}
	until, err := checkAssertionClaims(&claims, c.ClientID, audiences, p.now())
	return &claims, until, err
}

// assertionAlgs are the algorithms go-jose may accept for an assertion of
// a client authenticating with method: never none; an HMAC only for
// client_secret_jwt (a public key is no secret), an asymmetric one only for
// private_key_jwt (a secret is no key pair).
func assertionAlgs(method string) []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	for _, a := range tenants.AssertionAlgorithmsFor(method) {
		out = append(out, jose.SignatureAlgorithm(a))
	}
	return out
}

// verifyAssertion checks a client assertion of c (RFC 7523 §3, OIDC Core
// §9), private_key_jwt and client_secret_jwt alike: signed in an algorithm
// its method allows, with one of its registered keys (private_key_jwt) or
// its secret (client_secret_jwt, HS256), with claims that
// checkAssertionClaims accepts, and a jti never seen for the client before
// (the replay cache is the database, shared by every node). endpoint is
// the URL of the endpoint called.
func (p *Provider) verifyAssertion(ctx context.Context, c *client, raw, endpoint string) error {
	claims, until, err := p.checkAssertion(ctx, c, raw, endpoint)
	if err != nil {
		return err
	}
	err = p.store.UseClientAssertion(ctx, c.ClientID, claims.JTI, until)
	if errors.Is(err, tenants.ErrAlreadyExists) {
		return errReplayed
	}
	return err
}

// verifySecretAssertion returns the payload of a client_secret_jwt
// assertion of c, an HMAC keyed by the octets of its client secret (OIDC
// Core §9): its current one or, during a rotation's grace period, its
// previous one, opened from their sealed copies.
func (p *Provider) verifySecretAssertion(c *client, jws *jose.JSONWebSignature) ([]byte, error) {
	keys, err := tenants.ClientSecrets(p.secrets, c.Client.Client, p.now())
	if err != nil {
		return nil, errNoKey("the client's secret cannot be opened: " + err.Error())
	}
	for _, k := range keys {
		if payload, err := jws.Verify(k); err == nil {
			return payload, nil
		}
	}
	return nil, errNoKey("the client's secret does not verify the assertion")
}
