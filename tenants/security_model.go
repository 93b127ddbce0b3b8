package tenants

import "time"

// Purposes of a user token (a single-use link sent by email).
const (
	TokenVerifyEmail   = "verify_email"
	TokenResetPassword = "reset_password"
	TokenChangeEmail   = "change_email"
)

// UserToken is a single-use link sent to a user; ID is the SHA-256 of the
// token. Email is the address it was sent to (for a change of address, the
// new one).
type UserToken struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	UserID    string
	Purpose   string
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// Types of second factors.
const (
	FactorTOTP     = "totp"
	FactorWebAuthn = "webauthn"
)

// MFAFactor is a user's second factor or passkey: a TOTP secret (sealed
// under the master key), or a WebAuthn credential (its id, and the
// credential as JSON). A TOTP factor counts once confirmed with a code.
type MFAFactor struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	UserID       string
	Type         string
	Name         string
	SecretSealed []byte
	CredentialID string
	Credential   string
	Confirmed    bool
	// AddedSignIn is the sign-in (Session.SignInID) the factor was added
	// in: it never confirms a sensitive change of a session of that
	// sign-in.
	AddedSignIn string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
}

// TableName implements gorm's tabler.
func (MFAFactor) TableName() string { return "mfa_factors" }

// RecoveryCode is a one-time code that replaces a second factor; only its
// hash is stored.
type RecoveryCode struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	UserID    string
	CodeHash  string
	CreatedAt time.Time
	UsedAt    *time.Time
}

// Purposes of a login step.
const (
	StepMFA            = "mfa"            // password done, second factor due
	StepEnrol          = "enrol"          // MFA required, enrolment due
	StepWebAuthnLogin  = "webauthn_login" // a passkey assertion challenge
	StepWebAuthnEnrol  = "webauthn_enrol" // a passkey registration challenge
	StepTOTPEnrol      = "totp_enrol"     // a TOTP secret awaiting its first code
	StepReauthenticate = "reauthenticate" // a signed-in user proving it again
)

// LoginStep is a step of a login or an enrolment in progress, bound to the
// browser; ID is the SHA-256 of the token naming it, Data is JSON.
type LoginStep struct {
	ID            string `gorm:"primaryKey"`
	TenantID      string
	UserID        string
	AuthRequestID string
	BrowserHash   string
	Purpose       string
	Data          string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
}

// Throttle counts failures of one kind for one key (an account, an IP
// address, a tenant) in a window; while LockedUntil is ahead, attempts are
// refused.
type Throttle struct {
	Key         string `gorm:"primaryKey"`
	Failures    int64
	WindowStart time.Time
	LockedUntil *time.Time
	UpdatedAt   time.Time
}

// OutboxMessage is an email kept, in development mode without SMTP, for
// operators to read.
type OutboxMessage struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	Recipient string
	Subject   string
	Body      string
	CreatedAt time.Time
}

// TableName implements gorm's tabler.
func (OutboxMessage) TableName() string { return "outbox" }
