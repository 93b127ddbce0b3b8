package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// The authorization request is this package's: [Provider.Authorize]
// validates it, bound to a browser, and [Provider.Save] stores it for the
// pages (or [Provider.Begin] does both, for Gatehouse's own pages);
// [Provider.Request] loads it for that browser only;
// [Provider.Authenticated] records who signed in for it; and
// [Provider.Complete] or [Provider.Fail] ends it. A browser whose session
// already satisfies a request needs no page: [Provider.SignedIn] and
// [Provider.CompleteSignedIn] store it completed, in one write. The pages
// never write its state themselves.

// Intent is a sign-in one of Gatehouse's own pages asks for: why
// (tenants.IntentAccount, ...), where the browser goes once it is done (a
// path on the tenant's host), and, for a re-authentication, who must sign
// in.
type Intent struct {
	Kind     string
	ReturnTo string
	// Subject is the user who must sign in, "" for anyone; with it the
	// sign-in is forced (prompt=login) even if a session exists.
	Subject   string
	LoginHint string
	// Force asks for a sign-in even if a session exists (prompt=login): a
	// SAML AuthnRequest's ForceAuthn.
	Force bool
	// ACR is the class the sign-in must reach (acr_values), "" for what
	// the tenant's policy asks: a SAML RequestedAuthnContext.
	ACR string
}

// Begin stores a sign-in intent bound to the browser whose cookie hashes to
// browserHash. It answers no client: it completes with no code and no
// consent, by sending the browser to in.ReturnTo.
func (p *Provider) Begin(ctx context.Context, in Intent, browserHash string) (*tenants.AuthRequest, error) {
	switch in.Kind {
	case tenants.IntentAccount, tenants.IntentReauth, tenants.IntentIdPInitiated, tenants.IntentDevice, tenants.IntentSAML:
	default:
		return nil, httperr.Internal(errors.New("oidc: unknown sign-in intent " + in.Kind))
	}
	if !strings.HasPrefix(in.ReturnTo, "/") || strings.HasPrefix(in.ReturnTo, "//") || strings.ContainsAny(in.ReturnTo, "\\\r\n") {
		return nil, httperr.Internal(errors.New("oidc: an intent returns to a path of the tenant's host"))
	}
	ar := &tenants.AuthRequest{
		Intent:      in.Kind,
		ReturnTo:    in.ReturnTo,
		HintSubject: in.Subject,
		LoginHint:   in.LoginHint,
		BrowserHash: browserHash,
		ExpiresAt:   p.store.Now().Add(authRequestTTL),
	}
	if in.Subject != "" || in.Force {
		ar.Prompt = tenants.Strings{authn.PromptLogin}
	}
	if in.ACR != "" {
		if !authn.KnownACR(in.ACR) {
			return nil, httperr.Internal(errors.New("oidc: unknown class " + in.ACR))
		}
		ar.ACRValues = tenants.Strings{in.ACR}
	}
	if err := p.store.CreateAuthRequest(ctx, ar); err != nil {
		return nil, httperr.Internal(err)
	}
	return ar, nil
}

// Request returns the authorization request id, refusing it to any browser
// but the one that started it (browserHash, the hash of its browser
// cookie), and once it is completed. Its errors are pages.
func (p *Provider) Request(ctx context.Context, id, browserHash string) (*tenants.AuthRequest, error) {
	if id == "" || len(id) > 64 {
		return nil, expired()
	}
	ar, err := p.store.AuthRequestByID(ctx, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, expired()
	}
	if err != nil {
		return nil, httperr.Internal(err)
	}
	if browserHash == "" || !secret.Equal(browserHash, ar.BrowserHash) {
		return nil, httperr.Page(http.StatusBadRequest, "Sign-in started in another browser",
			"This sign-in link belongs to another browser or window. Go back to the application and sign in again from here.")
	}
	if ar.CodeHash != nil {
		return nil, completed()
	}
	return ar, nil
}

// Save stores a request that Authorize validated, for the pages that will
// sign the user in or ask for consent.
func (p *Provider) Save(ctx context.Context, ar *tenants.AuthRequest) error {
	if err := p.store.CreateAuthRequest(ctx, ar); err != nil {
		return httperr.Internal(err)
	}
	return nil
}

// SignedIn records on ar, not yet stored, who is signed in for it and how:
// the browser's session satisfied the request at /authorize. Save or
// CompleteSignedIn then store it with that.
func (p *Provider) SignedIn(ar *tenants.AuthRequest, a tenants.Authentication) {
	at := a.Time
	ar.UserID, ar.AuthTime, ar.AMR, ar.IDP, ar.ACR, ar.SID = a.UserID, &at, a.AMR, a.IDP, a.ACR, a.SID
}

// CompleteSignedIn stores ar, signed in (SignedIn) and needing no consent,
// with its one authorization code, in one write, and returns where to send
// the browser, as Complete does (the claim rules run first, as there).
func (p *Provider) CompleteSignedIn(ctx context.Context, ar *tenants.AuthRequest) (httperr.Delivery, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return httperr.Delivery{}, err
	}
	if ar.UserID == "" || ar.AuthTime == nil || ar.Intent != "" {
		return httperr.Delivery{}, httperr.Internal(errors.New("oidc: CompleteSignedIn needs a client's request with a signed-in user"))
	}
	if err := p.checkClaimRules(ctx, ar); err != nil {
		return httperr.Delivery{}, err
	}
	code := secret.Token(32)
	hash, expires := secret.Hash(code), p.now().Add(codeTTL)
	ar.CodeHash, ar.CodeExpiresAt = &hash, &expires
	if err := p.store.CreateAuthRequest(ctx, ar); err != nil {
		return httperr.Delivery{}, httperr.Internal(err)
	}
	return codeDelivery(t, ar, code), nil
}

// Authenticated records on ar who signed in for it, and how.
func (p *Provider) Authenticated(ctx context.Context, ar *tenants.AuthRequest, a tenants.Authentication) error {
	err := p.store.SetAuthenticated(ctx, ar.ID, a)
	if errors.Is(err, tenants.ErrConflict) {
		return completed()
	}
	if err != nil {
		return httperr.Internal(err)
	}
	at := a.Time
	ar.UserID, ar.AuthTime, ar.AMR, ar.IDP, ar.ACR, ar.SID = a.UserID, &at, a.AMR, a.IDP, a.ACR, a.SID
	return nil
}

func expired() error {
	return httperr.Page(http.StatusBadRequest, "This sign-in has expired", "Sign-in requests are valid for a few minutes. Go back to the application and sign in again.")
}

func completed() error {
	return httperr.Page(http.StatusBadRequest, "This sign-in was already completed", "Go back to the application and sign in again.")
}
