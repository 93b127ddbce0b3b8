package login

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// The self-service pages: sign-up, email verification, password reset.
const (
	pathSignup       = "/signup"
	pathVerify       = "/verify"
	pathResend       = "/verify/resend"
	pathReset        = "/reset"
	pathResetConfirm = "/reset/confirm"
)

// registerSelfService adds the sign-up, verification, reset and account
// management routes.
func (h *Handler) registerSelfService(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	e.GET(pathSignup, h.showSignup, mw...)
	e.POST(pathSignup, h.submitSignup, h.costly(mw)...)
	e.GET(pathVerify, h.verifyEmail, mw...)
	e.GET(pathResend, h.showResend, mw...)
	e.POST(pathResend, h.submitResend, h.costly(mw)...)
	e.GET(pathReset, h.showReset, mw...)
	e.POST(pathReset, h.submitReset, h.costly(mw)...)
	e.GET(pathResetConfirm, h.showResetConfirm, mw...)
	e.POST(pathResetConfirm, h.submitResetConfirm, h.costly(mw)...)
	e.POST(pathAccount+"/profile", h.updateProfile, mw...)
	e.POST(pathAccount+"/password", h.changePassword, mw...)
	e.POST(pathAccount+"/email", h.changeEmail, mw...)
	e.POST(pathAccount+"/email/verify", h.resendOwnVerification, mw...)
	e.GET(pathAccount+"/email/confirm", h.confirmEmailChange, mw...)
	e.GET(pathAccount+"/mfa/totp", h.showAccountTOTP, mw...)
	e.POST(pathAccount+"/mfa/totp", h.submitAccountTOTP, mw...)
	e.POST(pathAccount+"/mfa/recovery", h.regenerateRecoveryCodes, mw...)
	e.POST(pathAccount+"/mfa/:factor/remove", h.removeFactor, mw...)
	e.POST(pathAccount+"/sessions/:session/revoke", h.revokeSession, mw...)
	e.POST(pathAccount+"/apps/:client/revoke", h.revokeApp, mw...)
}

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
// people sign up, or nil. The system tenant's accounts are operators':
// never open to sign-up.
func (h *Handler) signupClosed(t *tenants.Tenant) error {
	if t.System || t.Signup() == tenants.SignupOff {
		return httperr.Page(http.StatusNotFound, "Sign-up is not available", "Accounts here are created by an administrator. Ask yours for one.")
	}
	if !h.emailEnabled() {
		return httperr.Page(http.StatusNotFound, "Sign-up is not available",
			"Creating an account needs email, which this service has not set up. Ask your administrator for an account.")
	}
	return nil
}

// signupURL is the sign-up link of the login page for ar, or "".
func (h *Handler) signupURL(t *tenants.Tenant, ar *tenants.AuthRequest) string {
	if h.signupClosed(t) != nil {
		return ""
	}
	return pathSignup + "?id=" + url.QueryEscape(ar.ID)
}

// domainAllowed reports whether the tenant's sign-up mode accepts email:
// any address when open, else only one whose domain is one of
// SignupDomains exactly (not a subdomain).
func domainAllowed(t *tenants.Tenant, email string) bool {
	if t.Signup() != tenants.SignupDomains {
		return t.Signup() == tenants.SignupOpen
	}
	domain := strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
	for _, d := range t.SignupDomains {
		if strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@")) == domain {
			return true
		}
	}
	return false
}

// showSignup shows the sign-up form of an auth request.
func (h *Handler) showSignup(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	if err := h.signupClosed(t); err != nil {
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
	return h.renderSignup(c, t, ar, sess, "", "", "", http.StatusOK)
}

func (h *Handler) renderSignup(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, sess *tenants.Session, email, name, msg string, status int) error {
	v := views.SignupView{Meta: meta(t, "Create your account"), RequestID: ar.ID, CSRF: h.csrfToken(t, ensureBrowser(c, t), sessionID(sess)),
		Email: email, Name: name, Error: msg, MinLength: t.MinPasswordLength(), LoginURL: oidc.PathLogin + "?id=" + url.QueryEscape(ar.ID)}
	if t.Signup() == tenants.SignupDomains {
		v.Domains = t.SignupDomains
	}
	return render(c, status, views.SignupPage(v))
}

// submitSignup creates an account. Whether the address was free or not,
// the answer is the same page ("check your inbox") after the same work
// (the password is hashed either way); the difference is in the email: a
// confirmation link to a new address, a notice to the owner of a taken one.
// A throttled attempt gets the same answer and sends nothing.
func (h *Handler) submitSignup(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	if err := h.signupClosed(t); err != nil {
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
	typed, name, pw := c.FormValue("email"), strings.TrimSpace(c.FormValue("name")), c.FormValue("password")
	email, ok := parseEmail(typed)
	if !ok {
		return h.renderSignup(c, t, ar, sess, truncate(typed, 254), truncate(name, 200), "Enter a valid email address.", http.StatusBadRequest)
	}
	if !domainAllowed(t, email) {
		return h.renderSignup(c, t, ar, sess, email, truncate(name, 200), "Accounts here need an address at "+strings.Join(t.SignupDomains, ", ")+".", http.StatusBadRequest)
	}
	if msg := checkName(name); msg != "" {
		return h.renderSignup(c, t, ar, sess, email, truncate(name, 200), msg, http.StatusBadRequest)
	}
	if err := t.CheckPassword(h.common, pw, email); err != nil {
		return h.renderSignup(c, t, ar, sess, email, name, validationMessage(err), http.StatusBadRequest)
	}
	keys := keysFor(t, "signup", email, c.RealIP())
	if h.throttled(ctx, keys) {
		if err := h.hasher.Imitate(ctx); err != nil {
			return err
		}
		h.auditLogin(c, "", email, "signup.throttled", "denied", "too many sign-ups")
		return h.signupSent(c, t, ar)
	}
	hash, err := h.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	h.failed(ctx, keys)
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
			h.sendMail(ctx, t, u.Email, signupExistingMail(t, tenantLink(t, pathReset, nil)))
		}
		h.auditLogin(c, u.ID, u.Email, "signup", "denied", "email already registered")
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
		BrowserHash: secret.Hash(ensureBrowser(c, t)), Data: string(b), ExpiresAt: h.now().UTC().Add(verifyTTL)}
	if err := h.store.CreateLoginStep(ctx, st); err != nil {
		return err
	}
	h.sendMail(ctx, t, u.Email, verifyMail(t, tenantLink(t, pathVerify, url.Values{"token": {token}})))
	h.auditLogin(c, u.ID, u.Email, "signup", "success", "")
	return nil
}

// pendingSignup reports whether u is an account that sign-up started and
// nobody finished.
func pendingSignup(u *tenants.User) bool {
	return u.PasswordHash == "" && !u.EmailVerified && u.LastLoginAt == nil && u.DisabledAt == nil
}

// signupSent is the one answer to a sign-up.
func (h *Handler) signupSent(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest) error {
	return render(c, http.StatusOK, views.NoticePage(views.NoticeView{Meta: meta(t, "Check your inbox"),
		Heading: "Check your inbox",
		Message: "We sent an email to the address you entered. Open the link in it, in this browser, to finish.",
		Detail:  "No email after a few minutes? Look in your spam folder, or ask for a new link.",
		LinkURL: pathResend + "?id=" + url.QueryEscape(ar.ID), LinkText: "Send a new link"}))
}

// checkName returns what is wrong with a name typed in a form, or "".
func checkName(name string) string {
	if len(name) > 200 {
		return "Use at most 200 characters for your name."
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "Your name cannot contain control characters."
		}
	}
	return ""
}

// validationMessage is the words of a validation error, for the form.
func validationMessage(err error) string {
	var v *tenants.ValidationError
	if errors.As(err, &v) {
		return v.Message
	}
	return "Check what you typed and try again."
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
