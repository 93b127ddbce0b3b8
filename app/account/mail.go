package account

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/mail"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
)

// Lifetimes of the single-use links Gatehouse sends by email.
const (
	resetTTL       = 30 * time.Minute
	verifyTTL      = 24 * time.Hour
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
	msg := mail.Message{TenantID: t.ID, FromName: fromName(t), To: to, Subject: m.subject, Text: m.text, HTML: m.html}
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
}

// compose renders b as plain text and as HTML (a templ component).
func compose(subject string, b views.EmailBody) mailContent {
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
	if err := views.EmailHTML(b).Render(context.Background(), &html); err != nil {
		html.Reset()
	}
	return mailContent{subject: subject, text: txt.String(), html: html.String()}
}

func verifyMail(t *tenants.Tenant, link string) mailContent {
	return compose("Confirm your email address", views.EmailBody{Tenant: fromName(t),
		Before:   []string{"Someone, probably you, created an account at " + t.DisplayName + " with this email address. Open the link below to confirm the address and finish."},
		Link:     link,
		LinkText: "Confirm your email address",
		After:    []string{"The link works once, for 24 hours. If you did not create an account, ignore this email: nothing happens without the link."}})
}

func signupExistingMail(t *tenants.Tenant, resetLink string) mailContent {
	return compose("Someone tried to create an account with your address", views.EmailBody{Tenant: fromName(t),
		Before: []string{"Someone, perhaps you, tried to create an account at " + t.DisplayName + " with this email address. You already have an account, so no new one was created.",
			"If you forgot your password, you can choose a new one:"},
		Link:     resetLink,
		LinkText: "Reset your password",
		After:    []string{"If it was not you, you need not do anything: your account has not changed."}})
}

func resetMail(t *tenants.Tenant, link string) mailContent {
	return compose("Reset your password", views.EmailBody{Tenant: fromName(t),
		Before:   []string{"Someone, probably you, asked to reset the password of your account at " + t.DisplayName + ". Open the link below to choose a new one."},
		Link:     link,
		LinkText: "Choose a new password",
		After:    []string{"The link works once, for 30 minutes. If you did not ask, ignore this email: your password stays as it is."}})
}

func changeEmailMail(t *tenants.Tenant, link string) mailContent {
	return compose("Confirm your new email address", views.EmailBody{Tenant: fromName(t),
		Before:   []string{"Someone, probably you, asked to use this address for an account at " + t.DisplayName + ". Open the link below to confirm the change."},
		Link:     link,
		LinkText: "Confirm the new address",
		After:    []string{"The link works once, for an hour. If you did not ask, ignore this email: nothing changes without the link."}})
}

func emailChangedMail(t *tenants.Tenant, newEmail string) mailContent {
	return compose("Your email address was changed", views.EmailBody{Tenant: fromName(t),
		Before: []string{"The email address of your account at " + t.DisplayName + " was changed to " + newEmail + ". Email about your account now goes there.",
			"If you did not make this change, contact " + t.DisplayName + " at once."}})
}

func passwordChangedMail(t *tenants.Tenant, resetLink string) mailContent {
	return compose("Your password was changed", views.EmailBody{Tenant: fromName(t),
		Before:   []string{"The password of your account at " + t.DisplayName + " was changed, and every other session was signed out.", "If you did not make this change, reset your password at once:"},
		Link:     resetLink,
		LinkText: "Reset your password"})
}

func identitiesUnlinkedMail(t *tenants.Tenant, connections []string) mailContent {
	return compose("Sign-in methods were removed from your account", views.EmailBody{Tenant: fromName(t),
		Before: []string{"You just confirmed the email address of your account at " + t.DisplayName + ". Before that, these sign-in methods had been linked to the account while its address was not yet confirmed: " +
			strings.Join(connections, ", ") + ".",
			"Whoever linked them may not be you, so they were removed. If they were yours, sign in and link them again from your account page."}})
}
