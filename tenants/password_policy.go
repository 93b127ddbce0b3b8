package tenants

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants/password"
)

// CheckPassword applies the tenant's password policy (NIST 800-63B) to a
// new password: a minimum length, a maximum that only bounds the hash's
// work, no composition rules, not a common or breached password (common
// may be nil), and not the account's own email address.
func (t *Tenant) CheckPassword(common *password.Common, pw, email string) error {
	if utf8.RuneCountInString(pw) < t.MinPasswordLength() {
		return policy("password.too_short", t.MinPasswordLength(), "Use at least %d characters.")
	}
	if len(pw) > password.MaxLength {
		return policy("password.too_long", password.MaxLength, "Use at most %d characters.")
	}
	if common != nil && common.Contains(pw) {
		return policy("password.common", 0, "This password is too common: it appears in lists of breached passwords. Choose another.")
	}
	if email != "" && strings.EqualFold(strings.TrimSpace(pw), strings.TrimSpace(email)) {
		return policy("password.is_email", 0, "Do not use your email address as your password.")
	}
	return nil
}

// policy is a password policy's refusal: English words for the API, and
// the message id the pages say it with.
func policy(words string, n int, format string) error {
	msg := format
	if strings.Contains(format, "%d") {
		msg = fmt.Sprintf(format, n)
	}
	return &ValidationError{Field: "password", Message: msg, Words: words, Count: n}
}
