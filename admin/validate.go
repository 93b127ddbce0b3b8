package admin

import (
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$`)

// domainPattern is a lower-case DNS name with at least two labels.
var domainPattern = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// reservedSlugs cannot name a tenant: they are the system tenant's or would
// confuse people reading a URL.
var reservedSlugs = map[string]bool{
	"admin": true, "api": true, "www": true, "static": true, "assets": true, "auth": true,
	"login": true, "mail": true, "status": true, "docs": true, "help": true, "support": true,
	"system": true, "gatehouse": true, "localhost": true,
}

// ValidateSlug checks that slug can name a tenant: a DNS label of 1 to 32
// lower-case letters, digits and inner hyphens, not reserved.
func ValidateSlug(slug string) error {
	if !slugPattern.MatchString(slug) {
		return tenants.Invalid("slug", "%q is not a valid slug: use 1-32 lower-case letters, digits and inner hyphens", slug)
	}
	if reservedSlugs[slug] {
		return tenants.Invalid("slug", "%q is reserved", slug)
	}
	return nil
}

func validateName(field, name string, max int) error {
	if strings.TrimSpace(name) == "" {
		return tenants.Invalid(field, "must not be empty")
	}
	if utf8.RuneCountInString(name) > max {
		return tenants.Invalid(field, "must be at most %d characters", max)
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return tenants.Invalid(field, "must not contain control characters")
	}
	return nil
}

// ValidateEmail checks that email is a plain address (no display name).
func ValidateEmail(email string) error {
	if len(email) > 254 {
		return tenants.Invalid("email", "is too long")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != strings.TrimSpace(email) || a.Name != "" || !strings.Contains(a.Address, "@") {
		return tenants.Invalid("email", "%q is not an email address", email)
	}
	return nil
}

// ValidateRedirectURI checks a redirect or post-logout redirect URI against
// RFC 6749 §3.1.2, RFC 8252 and the Security BCP: absolute, no fragment, no
// wildcard, no user info; https, or http on a loopback host; a private-use
// scheme (reverse domain name, for native apps) only when native is true.
func ValidateRedirectURI(field, raw string, native bool) error {
	if raw == "" {
		return tenants.Invalid(field, "must not be empty")
	}
	if len(raw) > 2000 {
		return tenants.Invalid(field, "is too long")
	}
	if strings.ContainsAny(raw, "*# \t\r\n") {
		return tenants.Invalid(field, "%q must not contain wildcards, fragments or spaces", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return tenants.Invalid(field, "%q is not an absolute URI", raw)
	}
	if u.User != nil {
		return tenants.Invalid(field, "%q must not contain user information", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return tenants.Invalid(field, "%q has no host", raw)
		}
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return tenants.Invalid(field, "%q must use https (http is allowed only on loopback hosts)", raw)
	}
	if native && strings.Contains(u.Scheme, ".") {
		return nil
	}
	return tenants.Invalid(field, "%q must use https (or, for a native app, a reverse-domain private-use scheme)", raw)
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ValidateAudience checks an API identifier: an absolute URI without a
// fragment (RFC 8707 §2).
func ValidateAudience(aud string) error {
	if aud == "" {
		return tenants.Invalid("audience", "must not be empty")
	}
	if len(aud) > 512 || strings.ContainsAny(aud, "# \t\r\n") {
		return tenants.Invalid("audience", "%q must be an absolute URI without fragment or spaces", aud)
	}
	u, err := url.Parse(aud)
	if err != nil || !u.IsAbs() {
		return tenants.Invalid("audience", "%q must be an absolute URI, such as https://api.example.com", aud)
	}
	return nil
}

// ValidateScopeName checks a scope token (RFC 6749 §3.3) an API defines.
func ValidateScopeName(name string) error {
	if name == "" || len(name) > 128 {
		return tenants.Invalid("scope", "%q must be 1 to 128 characters", name)
	}
	for _, r := range name {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
			return tenants.Invalid("scope", "%q may only contain visible ASCII characters other than quote and backslash", name)
		}
	}
	if tenants.OIDCScope(name) {
		return tenants.Invalid("scope", "%q is an OpenID Connect scope and cannot belong to an API", name)
	}
	return nil
}

// describeScope turns "read:orders" into "Read orders", for scopes that were
// created without a description.
func describeScope(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == ':' || r == '_' || r == '.' || r == '-' || r == '/' })
	if len(words) == 0 {
		return name
	}
	s := strings.Join(words, " ")
	return strings.ToUpper(s[:1]) + s[1:]
}
