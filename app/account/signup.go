package account

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// stepSignup is a sign-up waiting for its address to be confirmed. It
// keeps the hash of the password chosen, which the account gets only when
// the link is opened in the browser that signed up: until then the account
// has no password, so that signing up tells nobody whether an address was
// taken, and nobody but the address's owner can finish an account in its
// name.
const stepSignup = "signup"

type signupData struct {
	PasswordHash string `json:"password_hash"`
}

// signupStepID names the sign-up step of a verification token.
func signupStepID(token string) string { return secret.Hash("signup:" + token) }

// signupClosed returns the page to show when the tenant does not let
// people sign up, or nil.
func (h *Handler) signupClosed(t *tenants.Tenant) error {
	if !t.SignupOpen() {
		return httperr.Page(http.StatusNotFound, "Sign-up is not available", "Accounts here are created by an administrator. Ask yours for one.")
	}
	if !h.emailEnabled() {
		return httperr.Page(http.StatusNotFound, "Sign-up is not available",
			"Creating an account needs email, which this service has not set up. Ask your administrator for an account.")
	}
	return nil
}

// request loads the auth request a sign-up or reset page belongs to.
func (h *Handler) request(c echo.Context, t *tenants.Tenant, id string) (*tenants.AuthRequest, error) {
	ar, err := h.provider.Request(c.Request().Context(), id, web.BrowserHash(c, t))
	if err == nil {
		// The pages of the request speak its ui_locales.
		h.site.Speak(c, ar, nil)
	}
	return ar, err
}

// showSignup shows the sign-up form of an auth request.
func (h *Handler) showSignup(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if err := h.signupClosed(t); err != nil {
		return err
	}
	ar, err := h.request(c, t, c.QueryParam("id"))
	if err != nil {
		return err
	}
	return h.renderSignup(c, t, ar, "", "", "", http.StatusOK)
}

func (h *Handler) renderSignup(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, email, name, msg string, status int) error {
	v := views.SignupView{Meta: web.Meta(t, "signup.title"), RequestID: ar.ID, CSRF: h.site.CSRF(c, t),
		Email: email, Name: name, Error: msg, MinLength: t.MinPasswordLength(), LoginURL: web.PathLogin + "?id=" + url.QueryEscape(ar.ID)}
	if t.Signup() == tenants.SignupDomains {
		v.Domains = t.SignupDomains
	}
	v.Here = web.PathSignup + "?id=" + url.QueryEscape(ar.ID)
	return web.Render(c, status, views.SignupPage(v))
}

// submitSignup creates an account. Whether the address was free or not,
// the answer is the same page ("check your inbox") after the same work
// (the password is hashed either way); the difference is in the email: a
// confirmation link to a new address, a notice to the owner of a taken one.
// A throttled attempt gets the same answer and sends nothing.
func (h *Handler) submitSignup(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if err := h.signupClosed(t); err != nil {
		return err
	}
	ar, err := h.request(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	typed, name, pw := c.FormValue("email"), strings.TrimSpace(c.FormValue("name")), c.FormValue("password")
	email, ok := parseEmail(typed)
	if !ok {
		return h.renderSignup(c, t, ar, tenants.Truncate(typed, 254), tenants.Truncate(name, 200), "account.err_email", http.StatusBadRequest)
	}
	// The address is proven before the account exists: the sign-up
	// finishes only when its link is opened.
	if !t.AllowsSignup(email, true) {
		return h.renderSignup(c, t, ar, email, tenants.Truncate(name, 200), "Accounts here need an address at "+strings.Join(t.SignupDomains, ", ")+".", http.StatusBadRequest)
	}
	if msg := checkName(name); msg != "" {
		return h.renderSignup(c, t, ar, email, tenants.Truncate(name, 200), msg, http.StatusBadRequest)
	}
	if err := t.CheckPassword(h.common, pw, email); err != nil {
		return h.renderSignup(c, t, ar, email, name, validationMessage(c, err), http.StatusBadRequest)
	}
	attempt := mailAttempt(ctx, t, "signup", email)
	// The request takes its turn on the locking counters before
	// anything is sent: a burst sends no more mail than requests one
	// after another.
	turn := h.throttle.Begin(ctx, attempt)
	if turn.Refuse {
		if err := h.hasher.Imitate(ctx); err != nil {
			return err
		}
		h.site.Audit(ctx, "", email, "signup.throttled", "denied", "too many sign-ups")
		return h.signupSent(c, t, ar)
	}
	hash, err := h.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	turn.Failed(ctx)
	if err := h.signup(c, t, ar, email, name, hash); err != nil {
		return httperr.Internal(err)
	}
	return h.signupSent(c, t, ar)
}

// signup starts the account of email, or, for a taken address, tells its
// owner. An account that never got past sign-up (no password, address not
// confirmed, never signed in) counts as free: signing up again sends a new
// link (and only the browser that signed up last can finish with its
// password).
func (h *Handler) signup(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, email, name, hash string) error {
	ctx := c.Request().Context()
	u, err := h.store.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, tenants.ErrNotFound):
		u = &tenants.User{Email: email, Name: name}
		err = h.store.CreateUser(ctx, u)
		if errors.Is(err, tenants.ErrAlreadyExists) {
			// A concurrent sign-up with the address won.
			return nil
		}
		if err != nil {
			return err
		}
	case err != nil:
		return err
	case !pendingSignup(u):
		if u.DisabledAt == nil {
			h.sendMail(ctx, t, u, u.Email, signupExistingMail(h.mailLanguage(c, u), tenantLink(t, web.PathReset, nil)))
		}
		h.site.Audit(ctx, u.ID, u.Email, "signup", "denied", "email already registered")
		return nil
	}
	token, err := h.issueToken(ctx, u, tenants.TokenVerifyEmail, u.Email, verifyTTL)
	if err != nil {
		return err
	}
	b, err := json.Marshal(signupData{PasswordHash: hash})
	if err != nil {
		return err
	}
	st := &tenants.LoginStep{ID: signupStepID(token), UserID: u.ID, AuthRequestID: ar.ID, Purpose: stepSignup,
		BrowserHash: secret.Hash(web.EnsureBrowser(c, t)), Data: string(b), ExpiresAt: h.store.Now().Add(verifyTTL)}
	if err := h.store.CreateLoginStep(ctx, st); err != nil {
		return err
	}
	h.sendMail(ctx, t, u, u.Email, verifyMail(h.mailLanguage(c, u), tenantLink(t, web.PathVerify, url.Values{"token": {token}})))
	h.site.Audit(ctx, u.ID, u.Email, "signup", "success", "")
	return nil
}

// pendingSignup reports whether u is an account that sign-up started and
// nobody finished.
func pendingSignup(u *tenants.User) bool {
	return u.PasswordHash == "" && !u.EmailVerified && u.LastLoginAt == nil && u.DisabledAt == nil
}

// signupSent is the one answer to a sign-up.
func (h *Handler) signupSent(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest) error {
	return web.Render(c, http.StatusOK, views.NoticePage(views.NoticeView{Meta: web.Meta(t, "notice.inbox"),
		Heading: "notice.inbox",
		Message: "signup.sent_message",
		Detail:  "signup.sent_detail",
		LinkURL: web.PathResend + "?id=" + url.QueryEscape(ar.ID), LinkText: "resend.title"}))
}

// requestIDPattern is what an auth request id passed along in a form or a
// link may look like.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// requestParam returns id if it may be an auth request id, else "".
func requestParam(id string) string {
	if requestIDPattern.MatchString(id) {
		return id
	}
	return ""
}
