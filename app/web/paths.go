package web

// Paths of the pages on a tenant's host: the one home of each, for the
// route tables, the links between pages and the templates' forms.
const (
	PathLogin          = "/login"
	PathLoginFederated = "/login/federated"
	PathMFA            = "/login/mfa"
	PathEnrol          = "/login/enrol"
	PathMFAWebAuthn    = "/login/mfa/webauthn"
	PathPasskey        = "/login/passkey"
	PathEnrolWebAuthn  = "/login/enrol/webauthn"
	PathConsent        = "/consent"
	// PathConsentSwitch signs out of the consent page's account and back
	// in to the same authorization request ("Not you?").
	PathConsentSwitch = "/consent/switch"
	PathLogout        = "/logout"
	PathLogoutConfirm = "/logout/confirm"
	PathBranding      = "/branding.css"
	// PathDeviceConsent is where the user's answer to a device's request
	// posts; the device page itself is oidc.PathDevice, the verification
	// URI the protocol hands out.
	PathDeviceConsent = "/device/consent"

	PathAccount         = "/account"
	PathAccountWebAuthn = "/account/webauthn"
	PathAccountTOTP     = "/account/mfa/totp"
	PathAccountReauth   = "/account/reauthenticate"
	PathAccountLanguage = "/account/language"
	PathSignup          = "/signup"
	PathVerify          = "/verify"
	PathResend          = "/verify/resend"
	PathReset           = "/reset"
	PathResetConfirm    = "/reset/confirm"

	// OptionsSuffix is added to a WebAuthn ceremony's path for the GET that
	// begins it.
	OptionsSuffix = "/options"
)
