package tenants

import "slices"

// Claim formats of a client: what its roles and groups claims carry.
const (
	// ClaimFormatNames puts the names of roles and groups in the claims
	// (the default): readable, but a renamed role changes the claim.
	ClaimFormatNames = "names"
	// ClaimFormatIDs puts the roles' and groups' ids: stable across
	// renames. Upstream groups passed through by a connection have no id
	// and keep their names.
	ClaimFormatIDs = "ids"
)

// ClaimFormats lists the claim formats, for validation and documentation.
func ClaimFormats() []string { return []string{ClaimFormatNames, ClaimFormatIDs} }

// ClaimFormatOf is the format a client's stored value means: "" is
// ClaimFormatNames.
func ClaimFormatOf(v string) string {
	if v == "" {
		return ClaimFormatNames
	}
	return v
}

// CheckClaimFormat checks a client's claim format: one of ClaimFormats.
func CheckClaimFormat(v string) error {
	if !slices.Contains(ClaimFormats(), v) {
		return Invalid("claim_format", "must be %q or %q", ClaimFormatNames, ClaimFormatIDs)
	}
	return nil
}

// ClaimsByID reports whether c's roles and groups claims carry ids.
func (c *Client) ClaimsByID() bool { return c != nil && c.ClaimFormat == ClaimFormatIDs }
