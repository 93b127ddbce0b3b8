package login

import (
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password"
)

// checkNewPassword applies the tenant's password policy (NIST 800-63B): a
// minimum length, a maximum that only bounds the hash's work, no
// composition rules, and not a common or breached password, nor the
// account's own email address.
func checkNewPassword(t *tenants.Tenant, common *password.Common, pw, email string) error {
	if n := utf8.RuneCountInString(pw); n < t.MinPasswordLength() {
		return tenants.Invalid("password", "Use at least %d characters.", t.MinPasswordLength())
	}
	if len(pw) > password.MaxLength {
		return tenants.Invalid("password", "Use at most %d characters.", password.MaxLength)
	}
	if common != nil && common.Contains(pw) {
		return tenants.Invalid("password", "This password is too common: it appears in lists of breached passwords. Choose another.")
	}
	if email != "" && strings.EqualFold(strings.TrimSpace(pw), strings.TrimSpace(email)) {
		return tenants.Invalid("password", "Do not use your email address as your password.")
	}
	return nil
}
