package account

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/mail"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
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

// fromName is the sender name of the tenant's email: the configured one,
// else the tenant's display name.
func fromName(t *tenants.Tenant) string {
	if n := strings.TrimSpace(t.EmailFromName); n != "" {
		return n
	}
	return t.DisplayName
}

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

// sendMail delivers m to to in the background: the answer to the request
// must not wait for (or its timing reveal) a delivery, which happens only
// for accounts that exist. Failures are logged without the message body,
// which may hold a link.
func (h *Handler) sendMail(ctx context.Context, t *tenants.Tenant, to string, m mailContent) {
	if h.mail == nil || to == "" {
		return
	}
	msg := mail.Message{TenantID: t.ID, FromName: fromName(t), To: to, Subject: m.subject, Text: m.text, HTML: m.html,
		ReplyTo: t.EmailReplyTo, Language: m.lang}
	ctx = context.WithoutCancel(ctx)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, mailTimeout)
		defer cancel()
		if err := h.mail.Send(ctx, msg); err != nil {
			slog.ErrorContext(ctx, "send email", "tenant", t.ID, "subject", msg.Subject, "err", err)
		}
	}()
}

// parseEmail is tenants.PlainEmail: the one rule for an address typed
// into a form.
func parseEmail(s string) (string, bool) { return tenants.PlainEmail(s) }

// mailContent is one email, before it is addressed.
type mailContent struct {
	subject, text, html string
	// lang is the BCP 47 tag of the words.
	lang string
}

// compose renders b as plain text and as HTML (a templ component), in
// the language of l.
func compose(l *i18n.Localizer, subject string, b views.EmailBody) mailContent {
	var txt strings.Builder
	for _, p := range b.Before {
		txt.WriteString(p + "\n\n")
	}
	if b.Link != "" {
		txt.WriteString(b.LinkText + ":\n" + b.Link + "\n\n")
	}
	for _, p := range b.After {
		txt.WriteString(p + "\n\n")
	}
	txt.WriteString("-- \n" + b.Tenant + "\n")
	var html bytes.Buffer
	if err := views.EmailHTML(b).Render(i18n.WithLocalizer(context.Background(), l), &html); err != nil {
		html.Reset()
	}
	return mailContent{subject: subject, text: txt.String(), html: html.String(), lang: l.Lang()}
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

func verifyMail(l *i18n.Localizer, t *tenants.Tenant, link string) mailContent {
	return compose(l, l.T("email.verify.subject"), views.EmailBody{Tenant: fromName(t),
		Before:   []string{l.T("email.verify.body", "Tenant", t.DisplayName)},
		Link:     link,
		LinkText: l.T("email.verify.link"),
		After:    []string{l.T("email.verify.after")}})
}

func signupExistingMail(l *i18n.Localizer, t *tenants.Tenant, resetLink string) mailContent {
	return compose(l, l.T("email.signup_existing.subject"), views.EmailBody{Tenant: fromName(t),
		Before:   []string{l.T("email.signup_existing.body", "Tenant", t.DisplayName), l.T("email.signup_existing.forgot")},
		Link:     resetLink,
		LinkText: l.T("email.signup_existing.link"),
		After:    []string{l.T("email.signup_existing.after")}})
}

func resetMail(l *i18n.Localizer, t *tenants.Tenant, link string) mailContent {
	return compose(l, l.T("email.reset.subject"), views.EmailBody{Tenant: fromName(t),
		Before:   []string{l.T("email.reset.body", "Tenant", t.DisplayName)},
		Link:     link,
		LinkText: l.T("email.reset.link"),
		After:    []string{l.T("email.reset.after")}})
}

func inviteMail(l *i18n.Localizer, t *tenants.Tenant, link string) mailContent {
	return compose(l, l.T("email.invite.subject", "Tenant", t.DisplayName), views.EmailBody{Tenant: fromName(t),
		Before:   []string{l.T("email.invite.body", "Tenant", t.DisplayName)},
		Link:     link,
		LinkText: l.T("email.invite.link"),
		After:    []string{l.T("email.invite.after")}})
}

func changeEmailMail(l *i18n.Localizer, t *tenants.Tenant, link string) mailContent {
	return compose(l, l.T("email.change_email.subject"), views.EmailBody{Tenant: fromName(t),
		Before:   []string{l.T("email.change_email.body", "Tenant", t.DisplayName)},
		Link:     link,
		LinkText: l.T("email.change_email.link"),
		After:    []string{l.T("email.change_email.after")}})
}

func emailChangedMail(l *i18n.Localizer, t *tenants.Tenant, newEmail string) mailContent {
	return compose(l, l.T("email.email_changed.subject"), views.EmailBody{Tenant: fromName(t),
		Before: []string{l.T("email.email_changed.body", "Tenant", t.DisplayName, "Email", newEmail),
			l.T("email.email_changed.contact", "Tenant", t.DisplayName)}})
}

func passwordChangedMail(l *i18n.Localizer, t *tenants.Tenant, resetLink string) mailContent {
	return compose(l, l.T("email.password_changed.subject"), views.EmailBody{Tenant: fromName(t),
		Before:   []string{l.T("email.password_changed.body", "Tenant", t.DisplayName), l.T("email.password_changed.reset")},
		Link:     resetLink,
		LinkText: l.T("email.password_changed.link")})
}

func identitiesUnlinkedMail(l *i18n.Localizer, t *tenants.Tenant, connections []string) mailContent {
	return compose(l, l.T("email.unlinked.subject"), views.EmailBody{Tenant: fromName(t),
		Before: []string{l.T("email.unlinked.body", "Tenant", t.DisplayName, "Methods", strings.Join(connections, ", ")),
			l.T("email.unlinked.after")}})
}
