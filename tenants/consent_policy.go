package tenants

import "slices"

// Consent policies of a client: whether its users are asked.
const (
	// ConsentRequired asks the user on the consent page (the default).
	ConsentRequired = "required"
	// ConsentSkip is for the tenant's own (first-party) applications: the
	// consent is recorded as implicit (Consent.Implicit), which the user
	// still sees and may revoke on the account page; prompt=consent still
	// shows the page.
	ConsentSkip = "skip"
)

// ConsentPolicies lists the consent policies, for validation and
// documentation.
func ConsentPolicies() []string { return []string{ConsentRequired, ConsentSkip} }

// ConsentPolicyOf is the policy a client's stored value means: "" is
// ConsentRequired.
func ConsentPolicyOf(v string) string {
	if v == "" {
		return ConsentRequired
	}
	return v
}

// CheckConsentPolicy checks a client's consent policy: one of
// ConsentPolicies, and never ConsentSkip for a client that registered
// itself (dynamic client registration, RFC 7591): only the tenant's
// administrators vouch for an application as their own.
func CheckConsentPolicy(policy string, registeredDynamically bool) error {
	switch {
	case !slices.Contains(ConsentPolicies(), policy):
		return Invalid("consent", "must be %q or %q", ConsentRequired, ConsentSkip)
	case policy == ConsentSkip && registeredDynamically:
		return Invalid("consent", "a dynamically registered client cannot skip consent")
	}
	return nil
}

// SkipsConsent reports whether c's users are not asked to consent.
func (c *Client) SkipsConsent() bool { return c.Consent == ConsentSkip }
