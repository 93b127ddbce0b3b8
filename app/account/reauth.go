package account

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// errConfirm is what the account page says when a sensitive change was not
// confirmed.
const errConfirm = "account.err_confirm"

// errUnconfirmed is confirmed's answer to a change that was not confirmed.
var errUnconfirmed = errors.New("account: the change was not confirmed")

// confirmed returns nil when the signed-in user may make a sensitive
// change (package authn: an address, the password, second factors,
// passkeys, recovery codes, linked identities, other sessions): the
// session authenticated within the last few minutes, or the form's
// "confirm" field holds the account's password or a code of an
// authenticator app that was not added in this sign-in (a factor a stolen
// session added proves nothing). Otherwise errUnconfirmed, or
// password.ErrBusy when the node is too busy to check (the caller answers
// it as it is: 503). Wrong answers are throttled per account and address;
// a throttled attempt fails like a wrong one, without the hash.
func (h *Handler) confirmed(c echo.Context, a *accountRequest) error {
	if authn.Recent(a.sess, h.store.Now()) {
		return nil
	}
	return h.confirm(c, a, c.FormValue("confirm"), true)
}

// unconfirmed answers a change that confirmed refused: the account page
// with msg, or a busy node's error as it is.
func (h *Handler) unconfirmed(c echo.Context, a *accountRequest, err error, msg string) error {
	switch {
	case errors.Is(err, errUnconfirmed) && msg == errConfirm:
		return h.askConfirmation(c, a)
	case errors.Is(err, errUnconfirmed):
		return h.badForm(c, a, msg)
	}
	return err
}

// askConfirmation answers a sensitive change that was not confirmed with
// the page that asks for it once: the change's form, as it was sent, with
// the password or code (or a way to sign in again). A 400: nothing
// changed yet.
func (h *Handler) askConfirmation(c echo.Context, a *accountRequest) error {
	can, err := h.canConfirm(a)
	if err != nil {
		return httperr.Internal(err)
	}
	v := views.ConfirmChangeView{Meta: web.Meta(a.t, "mfa.heading"), CSRF: h.site.CSRF(c, a.t), Action: c.Request().URL.Path,
		CanConfirm: can, ReauthURL: web.PathAccountReauth, Wrong: c.FormValue("confirm") != ""}
	names := make([]string, 0, len(c.Request().PostForm))
	for name := range c.Request().PostForm {
		if name != "csrf_token" && name != "confirm" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		for _, value := range c.Request().PostForm[name] {
			v.Fields = append(v.Fields, views.HiddenField{Name: name, Value: value})
		}
	}
	return web.Render(c, http.StatusBadRequest, views.ConfirmChangePage(v))
}

// canConfirm says whether the account can confirm a change by typing
// something: it has a password, or an authenticator app that counts for
// this session (authn.Confirms).
func (h *Handler) canConfirm(a *accountRequest) (bool, error) {
	if a.u.PasswordHash != "" {
		return true, nil
	}
	fs, err := h.factors.Confirmed(a.ctx, a.u.ID)
	if err != nil {
		return false, err
	}
	for i := range fs {
		if fs[i].Type == tenants.FactorTOTP && authn.Confirms(&fs[i], a.sess) {
			return true, nil
		}
	}
	return false, nil
}

// confirm checks what a signed-in user typed to prove it is them: their
// password or, when codes is set, a code of a factor that counts. It
// returns nil, errUnconfirmed or password.ErrBusy.
func (h *Handler) confirm(c echo.Context, a *accountRequest, typed string, codes bool) error {
	ctx := a.ctx
	// The owner's browser (one that signed in to the account before) is
	// judged by its own failures: a session's holder failing here does not
	// lock its owner out of their changes.
	attempt := authn.ConfirmAttempt(a.t.ID, a.u.ID, web.ClientIP(ctx), h.site.Device(c, a.t, web.DeviceCookie, a.u.Email))
	if typed == "" {
		return errUnconfirmed
	}
	// The attempt takes its turn on the locking counters before the
	// password is checked: a burst of guesses sent at once gets no more
	// than guesses sent one after another.
	turn := h.throttle.Begin(ctx, attempt)
	if turn.Refuse {
		// The time of a hash, not its work: a locked key costs nothing.
		if err := h.hasher.Imitate(ctx); err != nil {
			return err
		}
		h.site.Audit(ctx, a.u.ID, a.u.Email, "reauthentication.failed", "denied", "throttled")
		return errUnconfirmed
	}
	turn.Wait(ctx)
	ok := false
	if a.u.PasswordHash != "" {
		_, err := h.hasher.Verify(ctx, a.u.PasswordHash, typed)
		if errors.Is(err, password.ErrBusy) {
			turn.Cancel(ctx)
			return err
		}
		ok = err == nil
	} else if err := h.hasher.VerifyDummy(ctx, typed); err != nil {
		turn.Cancel(ctx)
		return err
	}
	if !ok && codes && len(strings.TrimSpace(typed)) == 6 {
		ok = h.checkCode(ctx, a, typed)
	}
	if !ok {
		turn.Failed(ctx)
		h.site.Audit(ctx, a.u.ID, a.u.Email, "reauthentication.failed", "failure", "wrong password or code")
		return errUnconfirmed
	}
	turn.Succeeded(ctx)
	return nil
}

// checkCode checks code against the user's TOTP factors that may confirm
// a change of this session.
func (h *Handler) checkCode(ctx context.Context, a *accountRequest, code string) bool {
	fs, err := h.factors.Confirmed(ctx, a.u.ID)
	if err != nil {
		return false
	}
	for i := range fs {
		f := &fs[i]
		if f.Type == tenants.FactorTOTP && authn.Confirms(f, a.sess) && h.factors.CheckTOTP(ctx, f, code) {
			return true
		}
	}
	return false
}

// reauthenticate sends the signed-in user to sign in again, as themselves
// (the way every account can: a password, a passkey, an upstream login),
// and back to the account page, where the fresh session may make changes
// for a few minutes.
func (h *Handler) reauthenticate(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	ar, err := h.provider.Begin(a.ctx, oidc.Intent{Kind: tenants.IntentReauth, ReturnTo: web.PathAccount + "?done=reauthenticated",
		Subject: a.u.ID, LoginHint: a.u.Email}, secret.Hash(web.EnsureBrowser(c, a.t)))
	if err != nil {
		return err
	}
	return web.Redirect(c, web.PathLogin+"?id="+url.QueryEscape(ar.ID))
}
