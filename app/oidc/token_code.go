package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// exchangeCode redeems an authorization code (RFC 6749 §4.1.3, RFC 7636
// §4.6). A redemption that matches — unexpired, unredeemed code of this
// client, its redirect_uri, a PKCE verifier whose S256 is the challenge —
// is claimed, its user read and its tokens stored in one transaction
// (tenants.Store.RedeemCodeMatching). Any other is explained by
// refuseCode, which looks at the code and applies the rules:
//
//   - the PKCE verifier is always checked, for confidential clients too,
//     and a wrong one does not spend the code;
//   - a code presented by another client, with another redirect_uri, or at
//     the token endpoint of another host of the tenant (its own or a custom
//     domain: another issuer) is spent;
//   - a second redemption, sequential or concurrent, fails and revokes the
//     family the first one issued (RFC 6749 §4.1.2);
//   - for an RBAC API the family gets only the scopes the user's roles hold
//     at the exchange (see rbac.go);
//   - the tenant's claim rules run for a redemption that matched, in the
//     claim's transaction: a deny or a failed rule is invalid_grant and
//     spends nothing (see claim_rules.go).
func (p *Provider) exchangeCode(ctx context.Context, t *tenants.Tenant, c *client, form url.Values) (*Response, error) {
	code := form.Get("code")
	if code == "" {
		return nil, oauthErr(httperr.InvalidRequest, "code is required")
	}
	if len(code) > 256 {
		return nil, errInvalidGrant("invalid code")
	}
	verifier := form.Get("code_verifier")
	if !wellFormedVerifier(verifier) {
		return nil, p.refuseCode(ctx, c, form, code)
	}
	// The tenant's claim rules (cached) are known before the claim; the
	// user's access (an RBAC API, one that asks for roles or groups
	// claims, the rules, the groups scope) is read and the rules run in
	// the claim's transaction, once the code matched: a redemption that
	// could not succeed runs nothing, and a deny or a failed rule rolls
	// the claim back, spending nothing. A client without such an API, of
	// a tenant without rules, reads nothing more.
	rules, err := p.loadClaimRules(ctx, ruleRequest{grantType: tenants.GrantAuthorizationCode, clientID: c.ClientID})
	if err != nil {
		return nil, ruleTokenError(err)
	}
	var refused *ruleRequest // the request a rule refused, audited after the rollback
	grantID := tenants.NewID()
	var fam *family
	build := func(txctx context.Context, ar *tenants.AuthRequest, user *tenants.User) (tenants.Issue, error) {
		if user.DisabledAt != nil {
			return tenants.Issue{}, errUserGone
		}
		if ar.AuthTime == nil {
			return tenants.Issue{}, errors.New("code issued without authentication")
		}
		access, err := p.readTokenAccess(txctx, c.Client, user, ar.Audience, accessWanted{rules: rules, scopes: ar.Scopes})
		if err != nil {
			return tenants.Issue{}, &accessReadError{err}
		}
		scopes := access.scopes(ar.Scopes)
		fam = p.newFamily(ctx, t, c, grantID, tenants.Authentication{UserID: user.ID, Time: *ar.AuthTime, AMR: ar.AMR, IDP: ar.IDP, ACR: ar.ACR, SID: ar.SID},
			scopes, ar.Audience, tenants.GrantAuthorizationCode)
		fam.access.Claims, fam.access.UserAccess = access.claims(c.Client.Client), access.user
		if rules != nil {
			req := ruleRequest{grantType: tenants.GrantAuthorizationCode, clientID: c.ClientID, userID: user.ID,
				scopes: scopes, audience: ar.Audience, acr: ar.ACR, idp: ar.IDP, amr: ar.AMR}
			ruled, err := evalClaimRules(ctx, rules, c, user, access, req)
			if err != nil {
				refused = &req
				return tenants.Issue{}, err
			}
			fam.access.Claims = mergeClaims(fam.access.Claims, ruled.AccessToken)
			fam.access.IDClaims = ruled.IDToken
		}
		return fam.issue, nil
	}
	match := tenants.CodeMatch{ClientID: c.ClientID, RedirectURI: form.Get("redirect_uri"), Challenge: s256(verifier), DPoPJKT: dpopKeyFrom(ctx), Issuer: t.Issuer}
	ar, user, err := p.store.RedeemCodeMatching(ctx, secret.Hash(code), grantID, match, build)
	switch {
	case errors.Is(err, tenants.ErrConflict):
		return nil, p.refuseCode(ctx, c, form, code)
	case refused != nil:
		return nil, ruleTokenError(p.ruleRefused(ctx, *refused, err))
	case errors.As(err, new(*accessReadError)):
		return nil, serverError(err)
	case errors.Is(err, errUserGone), errors.Is(err, tenants.ErrNotFound):
		if ar, err := p.store.AuthRequestByCodeHash(ctx, secret.Hash(code)); err == nil {
			_ = p.store.BurnCode(ctx, ar.ID)
		}
		return nil, errInvalidGrant("the user can no longer sign in")
	case err != nil:
		return nil, serverError(err)
	}
	return p.respondWithTokens(ctx, t, c, fam.grant, user, fam.access, fam.grant.Scopes, fam.refresh, ar.Nonce)
}

// accessReadError is the store's failure to read a user's access inside a
// redemption: a server error, whatever it wraps (never the "not found"
// that burns the code).
type accessReadError struct{ err error }

func (e *accessReadError) Error() string { return "read the user's access: " + e.err.Error() }
func (e *accessReadError) Unwrap() error { return e.err }

// errUserGone stops a redemption whose user was disabled since the code
// was issued.
var errUserGone = errors.New("the user can no longer sign in")

// refuseCode answers a redemption that claimed no code, with the first
// rule it breaks, in this order: unknown code, code presented again
// (its family is revoked), expired code, PKCE verifier, client and
// redirect_uri (which spend the code). A redemption that breaks none lost
// a race to a concurrent one: it is a replay.
func (p *Provider) refuseCode(ctx context.Context, c *client, form url.Values, code string) error {
	ar, err := p.store.AuthRequestByCodeHash(ctx, secret.Hash(code))
	if errors.Is(err, tenants.ErrNotFound) {
		return errInvalidGrant("invalid code")
	}
	if err != nil {
		return serverError(err)
	}
	if ar.CodeRedeemedAt != nil {
		p.revokeReplayed(ctx, ar)
		return errInvalidGrant("code was already used")
	}
	if ar.CodeExpiresAt == nil || !p.now().Before(*ar.CodeExpiresAt) {
		return errInvalidGrant("code expired")
	}
	if err := checkVerifier(form.Get("code_verifier"), ar); err != nil {
		return err
	}
	if ar.DPoPJKT != "" && !secret.Equal(ar.DPoPJKT, dpopKeyFrom(ctx)) {
		// Bound with dpop_jkt (RFC 9449 §10): without a proof of that key
		// the code is nothing, and it is not spent.
		return oauthErr(errInvalidDPoPProof, "this code is bound to a DPoP key (dpop_jkt): prove possession of it")
	}
	if ar.ClientID != c.ClientID {
		_ = p.store.BurnCode(ctx, ar.ID)
		return errInvalidGrant("invalid code")
	}
	if form.Get("redirect_uri") != ar.RedirectURI {
		_ = p.store.BurnCode(ctx, ar.ID)
		return errInvalidGrant("redirect_uri does not correspond")
	}
	// A code of the tenant's other host (its own, or a custom domain's):
	// its tokens would name an issuer the client did not ask at.
	if t, ok := tenants.FromContext(ctx); ok && ar.Issuer != "" && ar.Issuer != t.Issuer {
		_ = p.store.BurnCode(ctx, ar.ID)
		return errInvalidGrant("invalid code")
	}
	// Everything matches, yet the claim failed: a concurrent redemption
	// won between the two reads. Look again for the family it issued.
	if fresh, err := p.store.AuthRequestByCodeHash(ctx, secret.Hash(code)); err == nil && fresh.CodeRedeemedAt != nil {
		p.revokeReplayed(ctx, fresh)
	}
	return errInvalidGrant("code was already used")
}

// checkVerifier checks a PKCE verifier (RFC 7636 §4.1, §4.6): 43 to 128
// unreserved characters whose S256 is the stored challenge.
func checkVerifier(verifier string, ar *tenants.AuthRequest) error {
	if verifier == "" {
		return oauthErr(httperr.InvalidRequest, "code_verifier is required")
	}
	if !wellFormedVerifier(verifier) {
		return errInvalidGrant("invalid code_verifier")
	}
	if ar.CodeChallengeMethod != "S256" || !secret.Equal(s256(verifier), ar.CodeChallenge) {
		return errInvalidGrant("invalid code_verifier")
	}
	return nil
}

// wellFormedVerifier reports whether verifier has PKCE's form: 43 to 128
// unreserved characters.
func wellFormedVerifier(verifier string) bool {
	return len(verifier) >= 43 && len(verifier) <= 128 && strings.IndexFunc(verifier, notUnreserved) < 0
}

func notUnreserved(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '~')
}

// revokeReplayed revokes the family issued from a code that is presented
// again.
func (p *Provider) revokeReplayed(ctx context.Context, ar *tenants.AuthRequest) {
	if ar.GrantID == nil {
		return
	}
	if err := p.store.RevokeGrant(ctx, *ar.GrantID, "authorization code replayed"); err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "revoke family of replayed code", "err", err)
		return
	}
	p.audit(ctx, auditCodeReplayed, ar.ClientID, ar.UserID, "denied", "authorization code presented again: its tokens are revoked")
	tenants.Logger(ctx).WarnContext(ctx, "authorization code replayed: token family revoked", "client_id", ar.ClientID, "grant_id", *ar.GrantID)
}

// s256 is the PKCE S256 transformation (RFC 7636 §4.2):
// BASE64URL(SHA256(ASCII(verifier))), unpadded.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// errInvalidGrant is a 400 invalid_grant (RFC 6749 §5.2): the code, refresh
// token or verifier is not valid for this client.
func errInvalidGrant(desc string) *httperr.Error { return oauthErr(httperr.InvalidGrant, "%s", desc) }
