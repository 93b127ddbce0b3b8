package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/passkey"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// showLogin shows the login form for an auth request, or, when the
// browser's session already satisfies the request, moves on (to a second
// factor when the session must step up).
func (h *Handler) showLogin(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	ar, err := h.request(c, t, c.QueryParam("id"))
	if err != nil {
		return err
	}
	sess, err := h.site.Session(c)
	if err != nil {
		return httperr.Internal(err)
	}
	verdict, err := h.judge(c, t, sess, ar)
	if err != nil {
		return err
	}
	switch verdict {
	case authn.Satisfied:
		if err := h.provider.Authenticated(ctx, ar, fromSession(sess)); err != nil {
			return err
		}
		return h.afterSignIn(c, ar)
	case authn.StepUp:
		u, err := h.store.UserByID(ctx, sess.UserID)
		if err != nil {
			return httperr.Internal(err)
		}
		return h.Continue(c, t, ar, u, authn.StepUpOf(sess))
	}
	return h.renderLogin(c, t, ar, ar.LoginHint, "", http.StatusOK)
}

func (h *Handler) renderLogin(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, email, msg string, status int) error {
	v, err := h.loginView(c, t, ar)
	if err != nil {
		return err
	}
	v.Email, v.Error = email, msg
	return web.Render(c, status, views.LoginPage(v))
}

// loginView is the login page of ar, without what was typed.
func (h *Handler) loginView(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest) (views.LoginView, error) {
	v := views.LoginView{
		Meta:        web.Meta(t, "login.title"),
		RequestID:   ar.ID,
		CSRF:        h.site.CSRF(c, t),
		AppName:     web.T(c, "login.your_account"),
		Connections: h.connectionButtons(c),
		Passkey:     h.passkeys != nil && passkey.Offered(t),
	}
	v.Here = web.PathLogin + "?id=" + url.QueryEscape(ar.ID)
	if ar.Intent == "" {
		cl, err := h.provider.Client(c.Request().Context(), ar.ClientID)
		if err != nil {
			return v, httperr.Internal(err)
		}
		v.AppName = cl.Name
	}
	if h.cfg.EmailEnabled {
		v.ResetURL = web.PathReset + "?id=" + ar.ID
		if t.SignupOpen() && ar.Intent != tenants.IntentReauth {
			v.SignupURL = web.PathSignup + "?id=" + ar.ID
		}
	}
	return v, nil
}

// errWrongCredentials is the one answer to an unknown email, a wrong
// password, a disabled account and a throttled attempt: the same words,
// status and time.
const errWrongCredentials = "login.wrong_credentials"

// submitLogin checks an email and password. Unknown users cost the same
// argon2id work as known ones, so neither the answer nor its timing tells
// whether an account exists; a throttled attempt is answered as a wrong
// password after the same time, without the hash.
func (h *Handler) submitLogin(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	ar, err := h.request(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	email, pw := tenants.Truncate(c.FormValue("email"), 254), c.FormValue("password")
	link := c.FormValue("link")
	// Home-realm discovery: an address whose domain a connection claims
	// signs in there, whatever was typed as password.
	if h.fed != nil && link == "" {
		if conn, err := h.fed.ForEmail(ctx, email); err == nil {
			return h.goUpstream(c, t, ar, conn.ID, email)
		}
	}
	attempt := authn.Attempt{Action: "login", Rules: authn.LoginRules, Tenant: t.ID, Account: email,
		Address: web.ClientIP(ctx), Device: h.deviceFor(c, t, email)}
	// The attempt takes its turn on the counters before its password is
	// checked: a burst of guesses gets no more than a sequence.
	turn := h.throttle.Begin(ctx, attempt)
	if turn.Refuse {
		// The time of a hash, not its work: a locked key costs nothing.
		if err := h.hasher.Imitate(ctx); err != nil {
			return err
		}
		h.site.Audit(ctx, "", email, "login.throttled", "denied", "too many failed attempts")
		return h.renderLogin(c, t, ar, email, errWrongCredentials, http.StatusUnauthorized)
	}
	turn.Wait(ctx)
	user, err := h.store.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, tenants.ErrNotFound) || err == nil && user.PasswordHash == "":
		if err := h.hasher.VerifyDummy(ctx, pw); err != nil {
			turn.Cancel(ctx)
			return err
		}
		turn.Failed(ctx)
		reason := "unknown email"
		if err == nil {
			reason = "the account has no password"
		}
		h.site.Audit(ctx, "", email, "login.failed", "failure", reason)
		return h.renderLogin(c, t, ar, email, errWrongCredentials, http.StatusUnauthorized)
	case err != nil:
		turn.Cancel(ctx)
		return httperr.Internal(err)
	}
	rehash, err := h.hasher.Verify(ctx, user.PasswordHash, pw)
	if errors.Is(err, password.ErrBusy) {
		turn.Cancel(ctx)
		return err
	}
	if err != nil || user.DisabledAt != nil {
		turn.Failed(ctx)
		reason := "wrong password"
		if user.DisabledAt != nil && err == nil {
			reason = "account disabled"
		}
		h.site.Audit(ctx, user.ID, email, "login.failed", "failure", reason)
		return h.renderLogin(c, t, ar, email, errWrongCredentials, http.StatusUnauthorized)
	}
	turn.Succeeded(ctx)
	h.rememberDevice(c, t, user.Email)
	if rehash {
		// The stored hash is weaker than today's parameters: upgrade it
		// (or at the next login, when the node is too busy now).
		if hash, err := h.hasher.Hash(ctx, pw); err == nil {
			if err := h.store.RecordLogin(ctx, user.ID, h.store.Now(), hash); err != nil {
				return httperr.Internal(err)
			}
		}
	}
	if link != "" && h.fed != nil {
		// The account proved itself: link the upstream identity that
		// waited for it (same browser, same user, or nothing happens).
		if _, err := h.fed.CompleteLink(ctx, link, user.ID, web.BrowserHash(c, t)); err != nil {
			tenants.Logger(ctx).WarnContext(ctx, "pending federated link not completed", "err", err)
		}
	}
	return h.Continue(c, t, ar, user, authn.Proof{AMR: []string{authn.AMRPassword}})
}
