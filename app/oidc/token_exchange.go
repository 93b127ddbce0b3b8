package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Token types of RFC 8693 §3 that the token exchange takes and issues.
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// maxExchangedToken is the longest subject or actor token read: our access
// tokens are well under it.
const maxExchangedToken = 8 << 10

// exchangeToken is OAuth 2.0 Token Exchange (RFC 8693 §2), for a
// confidential client that registered the grant. The rules Gatehouse
// applies (the RFC leaves them to the server, §2.1, §5):
//
//   - subject_token is an access token of this tenant (signature, issuer,
//     expiry, revocation: what checkAccessToken checks), issued to the
//     client that asks; a token of another tenant or client is invalid_grant.
//   - actor_token, optional, is an access token of this tenant issued to the
//     same client (its own client credentials token, say): act.sub is its
//     subject. Without it the client itself is the actor.
//   - the result is an access token for exactly one API the client is
//     granted, named with resource or audience (RFC 8707), with the scopes
//     asked for among those granted on it (all granted when none asked, and
//     for an RBAC API only those the user holds). It carries act {"sub":
//     actor, "client_id": client} (§4.1), with the subject token's own act
//     nested inside; only where the tenant allows impersonation and no
//     actor_token was sent does it carry none.
//   - it never outlives the subject token, belongs to the subject token's
//     family (revoking that family revokes it), and comes without a refresh
//     token.
func (p *Provider) exchangeToken(ctx context.Context, t *tenants.Tenant, c *client, form url.Values) (*Response, error) {
	in, err := readExchange(form)
	if err != nil {
		return nil, err
	}
	subjectClaims, subject, err := p.checkAccessToken(ctx, in.subject)
	if err != nil {
		return nil, errInvalidGrant("subject_token is not an active access token of this tenant")
	}
	if subject.ClientID != c.ClientID {
		return nil, errInvalidGrant("subject_token was not issued to this client")
	}
	if subject.JKT != "" && subject.JKT != dpopKeyFrom(ctx) {
		// A DPoP-bound token is exchanged only with a proof of its key.
		return nil, errInvalidGrant("subject_token is bound to a DPoP key: send a DPoP proof made with it")
	}
	actor := &oidc.ActorClaims{Subject: c.ClientID, Claims: map[string]any{"client_id": c.ClientID}}
	if in.actor != "" {
		_, a, err := p.checkAccessToken(ctx, in.actor)
		if err != nil {
			return nil, errInvalidGrant("actor_token is not an active access token of this tenant")
		}
		if a.ClientID != c.ClientID {
			return nil, errInvalidGrant("actor_token was not issued to this client")
		}
		actor.Subject = a.Subject
	}
	actor.Actor = subject.Actor
	delegation := in.actor != "" || !t.TokenExchangeImpersonation
	if !delegation {
		// Impersonation: the token says nothing of who acts (RFC 8693
		// §1.1), and so the chain of a delegated subject token would be
		// lost: refuse to launder a delegation into an impersonation.
		if subject.Actor != nil {
			return nil, errInvalidGrant("subject_token is itself delegated: send an actor_token")
		}
		actor = nil
	}

	audience := in.target
	g, ok := c.Grants[audience]
	if !ok {
		return nil, oauthErr(httperr.InvalidTarget, "this client may not request tokens for %s", audience)
	}
	scopes := in.scopes
	for _, sc := range scopes {
		if !slices.Contains(g.Scopes, sc) {
			return nil, oauthErr(httperr.InvalidScope, "scope %s is not granted to this client on %s", sc, audience)
		}
	}
	if len(scopes) == 0 {
		scopes = slices.Clone(g.Scopes)
	}

	var claims map[string]any
	if subject.GrantID != "" {
		// A user's token: the user must still be able to sign in, and an
		// RBAC API gets only the scopes and roles the user holds now.
		user, err := p.store.UserByID(ctx, subject.Subject)
		if err != nil || user.DisabledAt != nil {
			return nil, errInvalidGrant("the subject can no longer sign in")
		}
		access, err := p.readTokenAccess(ctx, c.Client, user, audience, accessWanted{})
		if err != nil {
			return nil, serverError(err)
		}
		scopes, claims = access.scopes(scopes), access.claims(c.Client.Client)
	}
	at := p.newAccessToken(ctx, t, c, subject.Subject, scopes, audience, subject.GrantID)
	at.Claims, at.Actor = claims, actor
	if subject.ExpiresAt.Before(at.ExpiresAt) {
		at.ExpiresAt = subject.ExpiresAt
	}

	// Both parties are in the event: the client (actor) and the subject
	// (target); the reason names the actor token's subject and the API.
	kind := "impersonation"
	if actor != nil {
		kind = "delegation, act.sub " + actor.Subject
	}
	ev := tokenEvent(auditTokenExchanged, c.ClientID, subject.Subject, "success",
		fmt.Sprintf("%s: %s for %s", tenants.GrantTokenExchange, kind, tenants.Truncate(audience, 200)))
	if err := p.store.AppendAuditGrouped(ctx, ev); errors.Is(err, tenants.ErrNotFound) {
		return nil, invalidClient("client authentication failed", basicChallenge(t.Issuer))
	} else if err != nil {
		return nil, serverError(err)
	}
	var authTime *time.Time
	if subjectClaims.AuthTime != 0 {
		at := subjectClaims.AuthTime.AsTime()
		authTime = &at
	}
	token, err := p.signAccessToken(ctx, t, at, authTime)
	if err != nil {
		return nil, err
	}
	return jsonAnswer(&exchangeResponse{
		AccessToken:     token,
		IssuedTokenType: TokenTypeAccessToken,
		TokenType:       tokenTypeFor(ctx),
		ExpiresIn:       uint64(max(at.ExpiresAt.Sub(p.now()).Seconds(), 0)),
		Scope:           strings.Join(scopes, " "),
	}), nil
}

// exchangeResponse is the token exchange's answer (RFC 8693 §2.2.1).
type exchangeResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       uint64 `json:"expires_in"`
	Scope           string `json:"scope,omitempty"`
}

// exchangeRequest is a token exchange request as read (RFC 8693 §2.1).
type exchangeRequest struct {
	subject, actor string
	target         string
	scopes         []string
}

// readExchange reads a token exchange request strictly: the token types
// Gatehouse takes are access tokens only (invalid_request otherwise, §2.2.2),
// actor_token and actor_token_type come together, and exactly one target
// is named.
func readExchange(form url.Values) (*exchangeRequest, error) {
	in := &exchangeRequest{subject: form.Get("subject_token"), actor: form.Get("actor_token"), scopes: strings.Fields(form.Get("scope"))}
	switch {
	case in.subject == "":
		return nil, oauthErr(httperr.InvalidRequest, "subject_token is required")
	case form.Get("subject_token_type") == "":
		return nil, oauthErr(httperr.InvalidRequest, "subject_token_type is required")
	case form.Get("subject_token_type") != TokenTypeAccessToken:
		return nil, oauthErr(httperr.InvalidRequest, "subject_token_type must be %s", TokenTypeAccessToken)
	case in.actor == "" && form.Has("actor_token_type"):
		return nil, oauthErr(httperr.InvalidRequest, "actor_token_type without actor_token")
	case in.actor != "" && form.Get("actor_token_type") == "":
		return nil, oauthErr(httperr.InvalidRequest, "actor_token_type is required with actor_token")
	case in.actor != "" && form.Get("actor_token_type") != TokenTypeAccessToken:
		return nil, oauthErr(httperr.InvalidRequest, "actor_token_type must be %s", TokenTypeAccessToken)
	case form.Has("requested_token_type") && form.Get("requested_token_type") != TokenTypeAccessToken:
		return nil, oauthErr(httperr.InvalidRequest, "requested_token_type must be %s", TokenTypeAccessToken)
	case len(in.subject) > maxExchangedToken || len(in.actor) > maxExchangedToken:
		return nil, errInvalidGrant("token too long")
	}
	res := resources(form)
	switch len(res) {
	case 0:
		return nil, oauthErr(httperr.InvalidTarget, "name the API with resource or audience")
	case 1:
		in.target = res[0]
	default:
		return nil, oauthErr(httperr.InvalidTarget, "name one resource per request")
	}
	return in, nil
}
