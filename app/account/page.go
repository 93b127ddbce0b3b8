package account

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/passkey"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
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
	"unlinked":        "The sign-in method was unlinked.",
	"last-login":      "This is the only way you can sign in: it cannot be unlinked.",
	"profile":         "Your profile was saved.",
	"password":        "Your password was changed. Your other sessions were signed out.",
	"email-sent":      "We sent a confirmation link to the new address. Your address changes when you open it.",
	"verify-sent":     "If your address still needs confirming, we sent a new link to it.",
	"mfa-added":       "The authenticator app was added.",
	"passkey-added":   "The passkey was added.",
	"passkey-failed":  "The passkey could not be added. Try again.",
	"confirm-failed":  errConfirm,
	"mfa-removed":     "The method was removed.",
	"mfa-removed-req": "The method was removed. You will be asked to set up another one at your next sign-in.",
	"session-revoked": "That session was signed out.",
	"app-revoked":     "The application no longer has access to your account.",
	"reauthenticated": "You signed in again: you can make changes for the next few minutes.",
}

// renderAccount shows the account page with a notice or an error.
func (h *Handler) renderAccount(c echo.Context, a *accountRequest, notice, errMsg string, status int) error {
	ctx, t, u := a.ctx, a.t, a.u
	v := views.AccountView{Meta: web.Meta(t, "My account"), CSRF: h.site.CSRF(c, t),
		Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName,
		EmailEnabled: h.mail != nil, HasPassword: u.PasswordHash != "", MinLength: t.MinPasswordLength(),
		MFA: t.MFA() != tenants.MFAOff, Passkeys: h.passkeys != nil && passkey.Offered(t), Flash: notice, Error: errMsg,
		Recent: authn.Recent(a.sess, h.store.Now()), ReauthURL: web.PathAccountReauth}
	factors, err := h.factors.Confirmed(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	v.CanConfirm = v.HasPassword
	for _, f := range factors {
		af := views.AccountFactor{ID: f.ID, Kind: factorKind(f.Type), Name: f.Name, Added: day(f.CreatedAt)}
		if f.LastUsedAt != nil {
			af.LastUsed = day(*f.LastUsedAt)
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
			Started: minute(s.CreatedAt), LastSeen: minute(s.LastSeenAt), IP: s.IPAddress, Device: device(s.UserAgent)})
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
		app := views.AccountApp{Name: cl.Name, Since: day(cs.CreatedAt),
			RevokeURL: web.PathAccount + "/apps/" + url.PathEscape(cs.ClientID) + "/revoke"}
		for aud, scopes := range cs.Scopes {
			for _, s := range scopes {
				if aud != "" {
					s = s + " (" + aud + ")"
				}
				app.Scopes = append(app.Scopes, s)
			}
		}
		sort.Strings(app.Scopes)
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

func factorKind(typ string) string {
	switch typ {
	case tenants.FactorTOTP:
		return "Authenticator app"
	case tenants.FactorWebAuthn:
		return "Passkey or security key"
	}
	return typ
}

func day(t time.Time) string    { return t.UTC().Format("2 Jan 2006") }
func minute(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

// device is a short description of a browser from its user agent.
func device(ua string) string {
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
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return system
	case ua != "":
		return tenants.Truncate(ua, 40)
	}
	return "Unknown browser"
}
