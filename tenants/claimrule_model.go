package tenants

import "time"

// ClaimRule is one of a tenant's claim rules (package claimrules): a CEL
// condition and either claims to add to the ID token and/or the access
// token (claim name → CEL expression of its value), or a deny message.
// The tenant's rules run in order of Position, then ID; a disabled one is
// skipped.
type ClaimRule struct {
	ID                string `gorm:"primaryKey"`
	TenantID          string
	Name              string
	Position          int
	Enabled           bool
	Condition         string
	IDTokenClaims     StringMap
	AccessTokenClaims StringMap
	Deny              string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}
