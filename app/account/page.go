package account

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/passkey"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// accountRequest is a request of a signed-in user to the account pages.
type accountRequest struct {
	t    *tenants.Tenant
	ctx  context.Context
	sess *tenants.Session
	u    *tenants.User
}

// signedIn returns the signed-in user of an account page request whose
// session satisfies the tenant's current sign-in policy. Without one it
// returns nil and no error: the caller sends the browser to sign in
// (signIn), which also steps a session up that the policy outgrew.
func (h *Handler) signedIn(c echo.Context) (*accountRequest, error) {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return nil, err
	}
	sess, err := h.site.Session(c)
	if err != nil {
		return nil, httperr.Internal(err)
	}
	v, err := authn.JudgeSession(ctx, t, sess, authn.Requirement{}, h.store.Now(), h.factors.Confirmed)
	if err != nil {
		return nil, httperr.Internal(err)
	}
	if v != authn.Satisfied {
		return nil, nil
	}
	u, err := h.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return nil, httperr.Internal(err)
	}
	if u.DisabledAt != nil {
		return nil, nil
	}
	return &accountRequest{t: t, ctx: ctx, sess: sess, u: u}, nil
}

// signIn sends the browser to sign in to the account pages (an intent of
// package oidc), coming back to returnTo.
func (h *Handler) signIn(c echo.Context, returnTo string) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	ar, err := h.provider.Begin(ctx, oidc.Intent{Kind: tenants.IntentAccount, ReturnTo: returnTo}, secret.Hash(web.EnsureBrowser(c, t)))
	if err != nil {
		return err
	}
	return web.Redirect(c, web.PathLogin+"?id="+url.QueryEscape(ar.ID))
}

// toAccount answers a request to the account pages that signedIn could
// not serve: its error, or, without a session, a trip to sign in.
func (h *Handler) toAccount(c echo.Context, err error) error {
	if err != nil {
		return err
	}
	return h.signIn(c, web.PathAccount)
}

// account shows the account page, or starts a sign-in when there is no
// (good enough) session.
func (h *Handler) account(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	return h.renderAccount(c, a, flash[c.QueryParam("done")], flash[c.QueryParam("error")], http.StatusOK)
}

// flash holds the notices the account page shows after a change, by the
// name its redirect carries.
var flash = map[string]string{
	"unlinked":        "flash.unlinked",
	"last-login":      "flash.last_login",
	"profile":         "flash.profile",
	"password":        "flash.password",
	"email-sent":      "flash.email_sent",
	"verify-sent":     "flash.verify_sent",
	"mfa-added":       "flash.mfa_added",
	"passkey-added":   "flash.passkey_added",
	"passkey-failed":  "flash.passkey_failed",
	"language":        "flash.language",
	"confirm-failed":  errConfirm,
	"mfa-removed":     "flash.mfa_removed",
	"mfa-removed-req": "flash.mfa_removed_required",
	"session-revoked": "flash.session_revoked",
	"app-revoked":     "flash.app_revoked",
	"reauthenticated": "flash.reauthenticated",
}

// renderAccount shows the account page with a notice or an error.
func (h *Handler) renderAccount(c echo.Context, a *accountRequest, notice, errMsg string, status int) error {
	ctx, t, u := a.ctx, a.t, a.u
	// The account's pages speak the user's language.
	h.site.Speak(c, nil, u)
	l := i18n.From(c.Request().Context())
	meta := web.Meta(t, "account.title")
	meta.Wide = true
	v := views.AccountView{Meta: meta, CSRF: h.site.CSRF(c, t),
		Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName,
		EmailEnabled: h.mail != nil, HasPassword: u.PasswordHash != "", MinLength: t.MinPasswordLength(),
		MFA: t.MFA() != tenants.MFAOff, Passkeys: h.passkeys != nil && passkey.Offered(t), Flash: notice, Error: errMsg,
		Recent: authn.Recent(a.sess, h.store.Now()), ReauthURL: web.PathAccountReauth,
		Language: l.Lang(), LanguageURL: web.PathAccountLanguage, Metadata: metadataView(t, u)}
	factors, err := h.factors.Confirmed(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	v.CanConfirm = v.HasPassword
	for _, f := range factors {
		af := views.AccountFactor{ID: f.ID, Kind: factorKind(l, f.Type), Name: f.Name, Added: l.Date(f.CreatedAt)}
		if f.LastUsedAt != nil {
			af.LastUsed = l.Date(*f.LastUsedAt)
		}
		v.Factors = append(v.Factors, af)
		v.CanConfirm = v.CanConfirm || f.Type == tenants.FactorTOTP && authn.Confirms(&f, a.sess)
	}
	if len(factors) > 0 {
		if v.RecoveryCodes, err = h.store.CountRecoveryCodes(ctx, u.ID); err != nil {
			return httperr.Internal(err)
		}
	}
	sessions, err := h.store.ListSessions(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	for _, s := range sessions {
		v.Sessions = append(v.Sessions, views.AccountSession{Handle: h.sessionHandle(t, s.ID), Current: s.ID == a.sess.ID,
			Started: l.Minute(s.CreatedAt), LastSeen: l.Minute(s.LastSeenAt), IP: s.IPAddress, Device: device(l, s.UserAgent)})
	}
	consents, err := h.store.ListConsents(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	for _, cs := range consents {
		cl, err := h.store.ClientByClientID(ctx, cs.ClientID)
		if err != nil || cl.Internal {
			continue
		}
		app := views.AccountApp{Name: cl.Name, Since: l.Date(cs.CreatedAt), Implicit: cs.Implicit,
			RevokeURL: web.PathAccount + "/apps/" + url.PathEscape(cs.ClientID) + "/revoke"}
		app.Scopes = h.scopesInWords(ctx, l, cs.Scopes)
		v.Apps = append(v.Apps, app)
	}
	if h.fed != nil {
		xs, err := h.fed.Identities(ctx, u.ID)
		if err != nil {
			return httperr.Internal(err)
		}
		for _, x := range xs {
			v.Identities = append(v.Identities, views.AccountIdentity{ID: x.ID, Connection: x.Connection, Email: x.Email, LinkedAt: x.LinkedAt})
		}
	}
	if v.Launch, err = h.launchable(ctx, u.ID); err != nil {
		return httperr.Internal(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, status, views.AccountPage(v))
}

// badForm shows the account page again with what was wrong.
func (h *Handler) badForm(c echo.Context, a *accountRequest, msg string) error {
	return h.renderAccount(c, a, "", msg, http.StatusBadRequest)
}

// sessionHandle names a session in the account page's forms: a MAC of its
// id, so that not even the hash of a session cookie appears in a page.
func (h *Handler) sessionHandle(t *tenants.Tenant, id string) string {
	return h.site.MAC("session handle", t.ID, id)[:22]
}

func factorKind(l *i18n.Localizer, typ string) string {
	switch typ {
	case tenants.FactorTOTP:
		return l.T("account.kind_totp")
	case tenants.FactorWebAuthn:
		return l.T("account.kind_webauthn")
	}
	return typ
}

// device is a short description of a browser from its user agent.
func device(l *i18n.Localizer, ua string) string {
	browser, system := "", ""
	for _, b := range []struct{ token, name string }{{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, s := range []struct{ token, name string }{{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"}} {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return l.T("account.browser_on", "Browser", browser, "System", system)
	case browser != "":
		return browser
	case system != "":
		return system
	case ua != "":
		return tenants.Truncate(ua, 40)
	}
	return l.T("account.unknown_browser")
}

// scopesInWords says what a consent allows: the OpenID Connect scopes in
// the catalog's words, an API's by the descriptions its admin gave them
// (with the API's name), the raw name only for a scope no longer known.
func (h *Handler) scopesInWords(ctx context.Context, l *i18n.Localizer, byAudience map[string][]string) []string {
	auds := make([]string, 0, len(byAudience))
	for aud := range byAudience {
		auds = append(auds, aud)
	}
	sort.Strings(auds) // account data ("") first
	var out []string
	for _, aud := range auds {
		scopes := append([]string{}, byAudience[aud]...)
		sort.Strings(scopes)
		if aud == "" {
			for _, s := range scopes {
				out = append(out, l.T(web.ScopeKey(s)))
			}
			continue
		}
		api, err := h.store.APIByAudience(ctx, aud)
		if err != nil {
			for _, s := range scopes {
				out = append(out, s+" ("+aud+")")
			}
			continue
		}
		if len(scopes) == 0 {
			out = append(out, api.Name)
		}
		for _, s := range scopes {
			desc := s
			for _, sc := range api.Scopes {
				if sc.Name == s && sc.Description != "" {
					desc = sc.Description
				}
			}
			out = append(out, desc+" ("+api.Name+")")
		}
	}
	return out
}
