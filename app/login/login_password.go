package login

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// amrPassword is the authentication method reference of a password login
// (RFC 8176).
const amrPassword = "pwd"

// showLogin shows the login form for an auth request, or, when the
// browser's session already satisfies the request, moves on to consent.
func (h *Handler) showLogin(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	ar, err := h.loadRequest(c, t, c.QueryParam("id"))
	if err != nil {
		return err
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if satisfies(sess, ar, h.now()) {
		if err := h.store.SetAuthenticated(ctx, ar.ID, fromSession(sess)); err != nil {
			return httperr.Internal(err)
		}
		return redirect(c, pathConsent+"?id="+url.QueryEscape(ar.ID))
	}
	if needsStepUp(sess, ar, h.now()) {
		u, err := h.store.UserByID(ctx, sess.UserID)
		if err != nil {
			return httperr.Internal(err)
		}
		return h.completeLogin(c, t, ar, u, firstFactor{amr: sess.AMR, idp: sess.IDP, acr: sess.ACR})
	}
	return h.renderLogin(c, t, ar, sess, ar.LoginHint, "", http.StatusOK)
}

func (h *Handler) renderLogin(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, sess *tenants.Session, email, msg string, status int) error {
	cl, err := h.provider.Client(c.Request().Context(), ar.ClientID)
	if err != nil {
		return httperr.Internal(err)
	}
	browser := ensureBrowser(c, t)
	return render(c, status, views.LoginPage(views.LoginView{
		Meta:        meta(t, "Sign in"),
		RequestID:   ar.ID,
		CSRF:        h.csrfToken(t, browser, sessionID(sess)),
		AppName:     cl.Name,
		Email:       email,
		Error:       msg,
		Connections: h.connectionButtons(c),
		Passkey:     h.passkeysOffered(t),
		SignupURL:   h.signupURL(t, ar),
		ResetURL:    h.resetURL(ar),
	}))
}

// errWrongCredentials is the one answer to an unknown email, a wrong
// password and a disabled account: the same words, status and work.
const errWrongCredentials = "Incorrect email or password."

// submitLogin checks an email and password. Unknown users cost the same
// argon2id work as known ones, so neither the answer nor its timing tells
// whether an account exists.
func (h *Handler) submitLogin(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.checkCSRF(c, t, sessionID(sess)); err != nil {
		return err
	}
	ar, err := h.loadRequest(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	email, pw := c.FormValue("email"), c.FormValue("password")
	if len(email) > 254 {
		email = email[:254]
	}
	link := c.FormValue("link")
	// Home-realm discovery: an address whose domain a connection claims
	// signs in there, whatever was typed as password.
	if h.fed != nil && link == "" {
		if conn, err := h.fed.ForEmail(ctx, email); err == nil {
			return h.goUpstream(c, t, ar, conn.ID, email)
		}
	}
	// Throttling: a locked account, address or tenant gets exactly the
	// answer of a wrong password, after the same work.
	keys := keysFor(t, "login", email, c.RealIP())
	if h.throttled(ctx, keys) {
		// The time of a hash, not its work: a locked key costs nothing.
		if err := h.hasher.Imitate(ctx); err != nil {
			return err
		}
		h.auditLogin(c, "", email, "login.throttled", "denied", "too many failed attempts")
		return h.renderLogin(c, t, ar, sess, email, errWrongCredentials, http.StatusUnauthorized)
	}
	user, err := h.store.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, tenants.ErrNotFound):
		if err := h.hasher.VerifyDummy(ctx, pw); err != nil {
			return err
		}
		h.failed(ctx, keys)
		h.auditLogin(c, "", email, "login.failed", "failure", "unknown email")
		return h.renderLogin(c, t, ar, sess, email, errWrongCredentials, http.StatusUnauthorized)
	case err != nil:
		return httperr.Internal(err)
	}
	rehash, err := h.hasher.Verify(ctx, user.PasswordHash, pw)
	if errors.Is(err, password.ErrBusy) {
		return err
	}
	if err != nil || user.DisabledAt != nil {
		h.failed(ctx, keys)
		reason := "wrong password"
		if user.DisabledAt != nil && err == nil {
			reason = "account disabled"
		}
		h.auditLogin(c, user.ID, email, "login.failed", "failure", reason)
		return h.renderLogin(c, t, ar, sess, email, errWrongCredentials, http.StatusUnauthorized)
	}
	h.succeeded(ctx, keys)
	if rehash {
		// The stored hash is weaker than today's parameters: upgrade it
		// (or at the next login, when the node is too busy now).
		if hash, err := h.hasher.Hash(ctx, pw); err == nil {
			if err := h.store.RecordLogin(ctx, user.ID, h.now().UTC(), hash); err != nil {
				return httperr.Internal(err)
			}
		}
	}
	if link != "" && h.fed != nil {
		// The account proved itself: link the upstream identity that
		// waited for it (same browser, same user, or nothing happens).
		r := h.fedContext(c)
		if _, err := h.fed.CompleteLink(r.Context(), link, user.ID, secret.Hash(browserID(c, t))); err != nil {
			slog.WarnContext(ctx, "pending federated link not completed", "err", err)
		}
	}
	return h.completeLogin(c, t, ar, user, firstFactor{amr: []string{amrPassword}})
}
