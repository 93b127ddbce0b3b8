package console

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	vc "github.com/gatehouse-id/gatehouse/views/console"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// loginState is what the console remembers, in a signed cookie, between
// sending an administrator to the system tenant and their return: it binds
// the callback to this browser (state), the code to this request (PKCE)
// and the ID token to it (nonce).
type loginState struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
	Next     string `json:"r"`
	Expires  int64  `json:"e"`
}

func (h *Handler) sealState(st loginState) string {
	b, _ := json.Marshal(st)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + secret.MAC(h.cfg.CSRFKey, "console-login", payload)
}

func (h *Handler) openState(v string) (*loginState, bool) {
	payload, mac, ok := strings.Cut(v, ".")
	if !ok || !secret.Equal(mac, secret.MAC(h.cfg.CSRFKey, "console-login", payload)) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, false
	}
	var st loginState
	if json.Unmarshal(b, &st) != nil || h.now().Unix() > st.Expires {
		return nil, false
	}
	return &st, true
}

// oauth returns the console's OAuth configuration at the system tenant,
// and a context whose HTTP calls reach it in-process.
func (h *Handler) oauth(ctx context.Context) (*oauth2.Config, *tenants.Tenant, context.Context, error) {
	sys, err := h.cfg.SystemTenant(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx = oidc.ClientContext(ctx, &http.Client{Transport: h.cfg.Transport, Timeout: 30 * time.Second})
	cfg := &oauth2.Config{
		ClientID:     admin.ConsoleClientID,
		ClientSecret: h.cfg.ConsoleSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   sys.Issuer + "/authorize",
			TokenURL:  sys.Issuer + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: h.cfg.BaseURL.String() + admin.ConsolePath + "/callback",
		Scopes:      append([]string{oidc.ScopeOpenID, "email", "profile"}, admin.AllScopes()...),
	}
	return cfg, sys, ctx, nil
}

// login sends the administrator to the system tenant's authorization
// endpoint (authorization code + PKCE).
func (h *Handler) login(c echo.Context) error {
	cfg, _, _, err := h.oauth(c.Request().Context())
	if err != nil {
		return err
	}
	st := loginState{State: secret.Token(24), Verifier: oauth2.GenerateVerifier(), Nonce: secret.Token(24),
		Next: safeNext(c.QueryParam("next")), Expires: h.now().Add(10 * time.Minute).Unix()}
	h.setCookie(c, loginCookie, h.sealState(st), 600)
	return c.Redirect(http.StatusFound, cfg.AuthCodeURL(st.State,
		oauth2.S256ChallengeOption(st.Verifier),
		oauth2.SetAuthURLParam("nonce", st.Nonce),
		oauth2.SetAuthURLParam("resource", h.svc.APIAudience())))
}

// callback finishes the sign-in: it checks state and iss (RFC 9207),
// exchanges the code, verifies the ID token and its nonce, and starts a
// console session for an administrator.
func (h *Handler) callback(c echo.Context) error {
	ctx := c.Request().Context()
	st, ok := h.openState(h.cookie(c, loginCookie))
	h.setCookie(c, loginCookie, "", -1)
	if !ok || !secret.Equal(c.QueryParam("state"), st.State) {
		return httperr.Page(http.StatusBadRequest, "Sign-in expired", "This sign-in was started in another browser or too long ago. Sign in again.")
	}
	cfg, sys, octx, err := h.oauth(ctx)
	if err != nil {
		return err
	}
	if c.QueryParam("iss") != sys.Issuer {
		return httperr.Page(http.StatusBadRequest, "Sign-in failed", "The answer did not come from Gatehouse's own issuer.")
	}
	if e := c.QueryParam("error"); e != "" {
		if e == "access_denied" {
			return c.Redirect(http.StatusFound, admin.ConsolePath+"/signed-out")
		}
		return httperr.Page(http.StatusBadRequest, "Sign-in failed", "Sign-in did not complete (%s).", e)
	}
	tok, err := cfg.Exchange(octx, c.QueryParam("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return httperr.Page(http.StatusBadRequest, "Sign-in failed", "The sign-in could not be completed. Sign in again.").WithCause(err)
	}
	provider, err := oidc.NewProvider(octx, sys.Issuer)
	if err != nil {
		return err
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: admin.ConsoleClientID}).Verify(octx, raw)
	if err != nil || !secret.Equal(idt.Nonce, st.Nonce) {
		return httperr.Page(http.StatusBadRequest, "Sign-in failed", "The sign-in could not be verified. Sign in again.")
	}
	scopes := strings.Fields(scopeOf(tok))
	if _, err := h.svc.Authenticate(ctx, admin.KindUser, idt.Subject, scopes); errors.Is(err, admin.ErrForbidden) {
		return forbiddenPage("You signed in, but your account is not an administrator of any tenant. Ask an operator for access.")
	} else if err != nil {
		return err
	}
	token := secret.Token(32)
	if err := h.store.CreateConsoleSession(ctx, &tenants.ConsoleSession{
		ID: secret.Hash(token), UserID: idt.Subject, Scopes: scopes, ExpiresAt: h.now().Add(h.cfg.SessionTTL),
	}); err != nil {
		return err
	}
	h.setCookie(c, sessionCookie, token, int(h.cfg.SessionTTL.Seconds()))
	return c.Redirect(http.StatusFound, st.Next)
}

func scopeOf(tok *oauth2.Token) string {
	if s, ok := tok.Extra("scope").(string); ok {
		return s
	}
	return ""
}

// logout ends the console session, then the Gatehouse session at the
// system tenant (RP-initiated logout).
func (h *Handler) logout(c echo.Context) error {
	ctx := c.Request().Context()
	raw := h.cookie(c, sessionCookie)
	if raw == "" {
		return c.Redirect(http.StatusSeeOther, admin.ConsolePath+"/signed-out")
	}
	id := secret.Hash(raw)
	if err := h.checkCSRF(c, id); err != nil {
		return err
	}
	if err := h.store.DeleteConsoleSession(ctx, id); err != nil {
		return err
	}
	h.setCookie(c, sessionCookie, "", -1)
	sys, err := h.cfg.SystemTenant(ctx)
	if err != nil {
		return err
	}
	q := url.Values{"client_id": {admin.ConsoleClientID}, "post_logout_redirect_uri": {h.cfg.BaseURL.String() + admin.ConsolePath + "/signed-out"}}
	return c.Redirect(http.StatusSeeOther, sys.Issuer+"/logout?"+q.Encode())
}

func (h *Handler) signedOut(c echo.Context) error {
	return render(c, http.StatusOK, vc.Message(vc.MessageView{Title: "Signed out", Text: "You have signed out of the Gatehouse console.",
		Link: admin.ConsolePath, LinkText: "Sign in again"}))
}

func forbiddenPage(msg string) error {
	return httperr.Page(http.StatusForbidden, "No access", "%s", msg)
}

func csrfPage() error {
	return httperr.Page(http.StatusForbidden, "This form has expired", "For your security the form could not be sent. Go back, reload the page and try again.")
}

// render writes a console page.
func render(c echo.Context, status int, page templ.Component) error {
	return views.Render(c.Request().Context(), c.Response(), status, page)
}
