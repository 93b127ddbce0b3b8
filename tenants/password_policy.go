package tenants

import (
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
		return Invalid("password", "Use at least %d characters.", t.MinPasswordLength())
	}
	if len(pw) > password.MaxLength {
		return Invalid("password", "Use at most %d characters.", password.MaxLength)
	}
	if common != nil && common.Contains(pw) {
		return Invalid("password", "This password is too common: it appears in lists of breached passwords. Choose another.")
	}
	if email != "" && strings.EqualFold(strings.TrimSpace(pw), strings.TrimSpace(email)) {
		return Invalid("password", "Do not use your email address as your password.")
	}
	return nil
}
