package account

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/mail"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/email"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// Lifetimes of the single-use links Gatehouse sends by email.
const (
	resetTTL  = 30 * time.Minute
	verifyTTL = 24 * time.Hour
	// inviteTTL is how long an invitation's set-password link works.
	inviteTTL      = 7 * 24 * time.Hour
	changeEmailTTL = time.Hour
	// mailTimeout bounds one delivery, which happens after the answer.
	mailTimeout = 30 * time.Second
)

// emailEnabled reports whether the flows that need email (sign-up,
// verification, password reset, change of address) are offered.
func (h *Handler) emailEnabled() bool { return h.mail != nil }

// tenantLink is an absolute link to path at the tenant, built from its
// stored issuer and never from the request (Host, X-Forwarded-Host): a
// link in an email must lead to the tenant whatever the request said.
func tenantLink(t *tenants.Tenant, path string, q url.Values) string {
	s := strings.TrimRight(t.Issuer, "/") + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// issueToken stores a single-use link token of purpose for u (only its
// hash), sent to email and valid for ttl, and returns the token. Earlier
// unused tokens of the purpose stop working.
func (h *Handler) issueToken(ctx context.Context, u *tenants.User, purpose, email string, ttl time.Duration) (string, error) {
	token := secret.Token(32)
	err := h.store.CreateUserToken(ctx, &tenants.UserToken{ID: secret.Hash(token), UserID: u.ID, Purpose: purpose,
		Email: email, ExpiresAt: h.store.Now().Add(ttl)})
	return token, err
}

// sendMail delivers m to to, an address of u, in the background: the
// answer to the request must not wait for (or its timing reveal) a
// delivery, which happens only for accounts that exist. Failures are
// logged without the message body, which may hold a link.
func (h *Handler) sendMail(ctx context.Context, t *tenants.Tenant, u *tenants.User, to string, m mailContent) {
	if h.mail == nil || to == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, mailTimeout)
		defer cancel()
		c := h.compose(ctx, t, u, m)
		msg := mail.ForTenant(t, to, c.Subject, c.Text, c.HTML, c.Lang)
		if err := h.mail.Send(ctx, msg); err != nil {
			tenants.Logger(ctx).ErrorContext(ctx, "send email", "tenant", t.ID, "kind", m.kind, "err", err)
		}
	}()
}

// compose writes m for u: from the tenant's own template of its kind in
// its language when there is one, else the built-in email. A template
// that no longer parses (a kind lost a variable) is logged and the
// built-in email sent: the user gets their link either way.
func (h *Handler) compose(ctx context.Context, t *tenants.Tenant, u *tenants.User, m mailContent) email.Message {
	k, _ := email.KindNamed(m.kind)
	vars := email.Vars{email.VarTenantName: t.DisplayName, email.VarUserName: u.Name, email.VarUserEmail: u.Email}
	for name, v := range m.vars {
		vars[name] = v
	}
	b := brandOf(t)
	var o *email.Override
	et, err := h.store.EmailTemplate(ctx, m.kind, m.l.Lang())
	switch {
	case err == nil:
		o = &email.Override{Subject: et.Subject, HTML: et.HTML, Text: et.Text}
	case !errors.Is(err, tenants.ErrNotFound):
		tenants.Logger(ctx).ErrorContext(ctx, "read email template", "tenant", t.ID, "kind", m.kind, "err", err)
	}
	if o != nil {
		c, err := email.Compose(m.l, b, k, vars, o)
		if err == nil {
			return c
		}
		tenants.Logger(ctx).ErrorContext(ctx, "tenant email template", "tenant", t.ID, "kind", m.kind, "locale", m.l.Lang(), "err", err)
	}
	c, err := email.Compose(m.l, b, k, vars, nil)
	if err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "built-in email", "kind", m.kind, "err", err)
	}
	return c
}

// parseEmail is tenants.PlainEmail: the one rule for an address typed
// into a form.
func parseEmail(s string) (string, bool) { return tenants.PlainEmail(s) }

// mailContent is one email before it is composed: its kind (of
// views/email's vocabulary), the values of the variables only its kind
// has, and its language.
type mailContent struct {
	kind string
	vars email.Vars
	l    *i18n.Localizer
}

// mailLanguage is the Localizer of an email to u: the language u chose,
// else the language of the request that sends it (its pages' language).
// The page answering the request keeps its own.
func (h *Handler) mailLanguage(c echo.Context, u *tenants.User) *i18n.Localizer {
	return h.site.Localizer(c, nil, u)
}

// userLanguage is mailLanguage where only ctx is at hand: u's language,
// else the request's, without the tenant's wording when they differ.
func userLanguage(ctx context.Context, u *tenants.User) *i18n.Localizer {
	l := i18n.From(ctx)
	if lang := i18n.Builtin().Canonical(u.Locale); lang != "" && lang != l.Lang() {
		return i18n.Builtin().For(lang)
	}
	return l
}

func verifyMail(l *i18n.Localizer, link string) mailContent {
	return mailContent{email.KindVerify, email.Vars{email.VarLink: link}, l}
}

func signupExistingMail(l *i18n.Localizer, resetLink string) mailContent {
	return mailContent{email.KindSignupExisting, email.Vars{email.VarLink: resetLink}, l}
}

func resetMail(l *i18n.Localizer, link string) mailContent {
	return mailContent{email.KindReset, email.Vars{email.VarLink: link}, l}
}

func changeEmailMail(l *i18n.Localizer, newEmail, link string) mailContent {
	return mailContent{email.KindChangeEmail, email.Vars{email.VarLink: link, email.VarNewEmail: newEmail}, l}
}

func inviteMail(l *i18n.Localizer, link string) mailContent {
	return mailContent{email.KindInvite, email.Vars{email.VarLink: link}, l}
}

func emailChangedMail(l *i18n.Localizer, newEmail string) mailContent {
	return mailContent{email.KindEmailChanged, email.Vars{email.VarNewEmail: newEmail}, l}
}

func passwordChangedMail(l *i18n.Localizer, resetLink string) mailContent {
	return mailContent{email.KindPasswordChanged, email.Vars{email.VarLink: resetLink}, l}
}

// methodAddedMail tells the user a sign-in method (a factor type) was
// added to their account.
func methodAddedMail(l *i18n.Localizer, factorType, resetLink string) mailContent {
	method := l.T("email.method_added.passkey")
	if factorType == tenants.FactorTOTP {
		method = l.T("email.method_added.totp")
	}
	return mailContent{email.KindMethodAdded, email.Vars{email.VarLink: resetLink, email.VarMethod: method}, l}
}

func identitiesUnlinkedMail(l *i18n.Localizer, connections []string) mailContent {
	return mailContent{email.KindUnlinked, email.Vars{email.VarMethods: strings.Join(connections, ", ")}, l}
}

// brandOf is how the email of tenant t looks: its sender name, logo and
// accent colour (views/email checks the last two again before use).
func brandOf(t *tenants.Tenant) email.Branding {
	return email.Branding{Name: t.SenderName(), LogoURL: t.LogoURL, Accent: t.AccentColor}
}
