package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password"
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

// signedIn returns the signed-in user of an account page request, checking
// the form's anti-CSRF token when post is set. With no session it returns
// nil and no error: the caller sends the browser to sign in.
func (h *Handler) signedIn(c echo.Context, post bool) (*accountRequest, error) {
	t, ctx, err := tenant(c)
	if err != nil {
		return nil, err
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return nil, httperr.Internal(err)
	}
	if sess == nil {
		return nil, nil
	}
	if post {
		if err := h.checkCSRF(c, t, sess.ID); err != nil {
			return nil, err
		}
	}
	u, err := h.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return nil, httperr.Internal(err)
	}
	return &accountRequest{t: t, ctx: ctx, sess: sess, u: u}, nil
}

// toAccount answers a request to the account pages that signedIn could
// not serve: its error, or, without a session, a trip to sign in.
func toAccount(c echo.Context, err error) error {
	if err != nil {
		return err
	}
	return redirect(c, pathAccount)
}

// renderAccount shows the account page with a notice or an error.
func (h *Handler) renderAccount(c echo.Context, t *tenants.Tenant, sess *tenants.Session, u *tenants.User, flash, errMsg string, status int) error {
	ctx := c.Request().Context()
	v := views.AccountView{Meta: meta(t, "My account"), CSRF: h.csrfToken(t, ensureBrowser(c, t), sess.ID),
		Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName,
		EmailEnabled: h.emailEnabled(), HasPassword: u.PasswordHash != "", MinLength: t.MinPasswordLength(),
		MFA: t.MFA() != tenants.MFAOff, Passkeys: h.passkeysOffered(t), Flash: flash, Error: errMsg}
	factors, err := h.confirmedFactors(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	for _, f := range factors {
		af := views.AccountFactor{ID: f.ID, Kind: factorKind(f.Type), Name: f.Name, Added: day(f.CreatedAt)}
		if f.LastUsedAt != nil {
			af.LastUsed = day(*f.LastUsedAt)
		}
		v.Factors = append(v.Factors, af)
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
		v.Sessions = append(v.Sessions, views.AccountSession{Handle: h.sessionHandle(t, s.ID), Current: s.ID == sess.ID,
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
			RevokeURL: pathAccount + "/apps/" + url.PathEscape(cs.ClientID) + "/revoke"}
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
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, status, views.AccountPage(v))
}

// sessionHandle names a session in the account page's forms: a MAC of its
// id, so that not even the hash of a session cookie appears in a page.
func (h *Handler) sessionHandle(t *tenants.Tenant, id string) string {
	return secret.MAC(h.csrfKey, "session handle", t.ID, id)[:22]
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
		return truncate(ua, 40)
	}
	return "Unknown browser"
}

// unconfirmed answers a confirmation that failed: err (the node is too busy
// to check) as it is, a wrong answer with the form and msg.
func (h *Handler) unconfirmed(c echo.Context, a *accountRequest, err error, msg string) error {
	if err != nil {
		return err
	}
	return h.badAccountForm(c, a, msg)
}

// confirmIdentity checks what a signed-in user typed to confirm a
// sensitive change: their password, or, when codes is set, a code from
// their authenticator app. Wrong answers count against the login throttle
// (per account, address, tenant), so that the account page is no oracle
// for guessing a password; a throttled attempt fails like a wrong one.
// Its error (password.ErrBusy) is no answer: the caller returns it.
func (h *Handler) confirmIdentity(c echo.Context, a *accountRequest, typed string, codes bool) (bool, error) {
	ctx := a.ctx
	keys := keysFor(a.t, "login", a.u.Email, c.RealIP())
	if typed == "" || h.throttled(ctx, keys) {
		if err := h.hasher.Imitate(ctx); err != nil {
			return false, err
		}
		h.auditLogin(c, a.u.ID, a.u.Email, "reauthentication.failed", "denied", "throttled or empty")
		return false, nil
	}
	ok := false
	if a.u.PasswordHash != "" {
		_, err := h.hasher.Verify(ctx, a.u.PasswordHash, typed)
		if errors.Is(err, password.ErrBusy) {
			return false, err
		}
		ok = err == nil
	} else if err := h.hasher.VerifyDummy(ctx, typed); err != nil {
		return false, err
	}
	if !ok && codes && len(strings.TrimSpace(typed)) == 6 {
		factors, err := h.confirmedFactors(ctx, a.u.ID)
		if err == nil {
			for i := range factors {
				if factors[i].Type == tenants.FactorTOTP && h.checkTOTP(ctx, &factors[i], typed) {
					ok = true
					break
				}
			}
		}
	}
	if !ok {
		h.failed(ctx, keys)
		h.auditLogin(c, a.u.ID, a.u.Email, "reauthentication.failed", "failure", "wrong password or code")
		return false, nil
	}
	h.succeeded(ctx, keys)
	return true, nil
}

// Errors of the account page's confirmations.
const (
	errWrongConfirm = "That password or code is not right."
	errWrongCurrent = "Your current password is not right."
)

// badAccountForm shows the account page again with what was wrong.
func (h *Handler) badAccountForm(c echo.Context, a *accountRequest, msg string) error {
	return h.renderAccount(c, a.t, a.sess, a.u, "", msg, http.StatusBadRequest)
}
