package email

import "slices"

// Variables a template may name. Each kind of email offers some of them
// (Kind.Variables); a template naming any other is refused when saved.
const (
	VarTenantName = "tenant.name"
	VarUserName   = "user.name"
	VarUserEmail  = "user.email"
	VarLink       = "link"
	VarNewEmail   = "new_email"
	VarMethods    = "methods"
	VarMethod     = "method"
)

// Variable is one value a template may place, with what it is and the
// value previews and test messages show for it.
type Variable struct {
	Name        string
	Description string
	Sample      string
}

// variables is every variable, in the order the console and the API list
// them.
var variables = []Variable{
	{VarTenantName, "the tenant's display name", "Acme Inc"},
	{VarUserName, "the user's name (may be empty; written by the user, so never trust it as markup)", "Ann Example"},
	{VarUserEmail, "the user's email address", "ann@example.com"},
	{VarLink, "the link the email is about (single use, built from the tenant's issuer)", "https://acme.example.com/reset/confirm?token=SAMPLE"},
	{VarNewEmail, "the account's new email address", "ann.new@example.com"},
	{VarMethods, "the sign-in methods removed, comma-separated", "GitHub, Partner SSO"},
	{VarMethod, "the sign-in method added (an authenticator app, a passkey), in the email's language", "a passkey"},
}

// Kinds of email Gatehouse sends.
const (
	KindVerify          = "verify"
	KindSignupExisting  = "signup_existing"
	KindReset           = "reset"
	KindInvite          = "invite"
	KindChangeEmail     = "change_email"
	KindEmailChanged    = "email_changed"
	KindPasswordChanged = "password_changed"
	KindUnlinked        = "identities_unlinked"
	KindMethodAdded     = "signin_method_added"
)

// Kind is one email Gatehouse sends: its name (in URLs, the API and the
// CLI), what it is for, and the variables its templates may name.
type Kind struct {
	Name        string
	Title       string
	Description string
	Variables   []string
}

// common are the variables of every kind.
var common = []string{VarTenantName, VarUserName, VarUserEmail}

func with(extra ...string) []string { return append(append([]string(nil), common...), extra...) }

// kinds is every kind, in the order the console lists them. Each sender
// in app/account fills exactly these variables.
var kinds = []Kind{
	{KindVerify, "Address verification", "After sign-up, or on request: the link that confirms the address.", with(VarLink)},
	{KindSignupExisting, "Sign-up with a taken address", "Someone signed up with the address of an existing account: a notice with a reset link, instead of a new account.", with(VarLink)},
	{KindReset, "Password reset", "The link that chooses a new password (asked for by the user or sent by an administrator).", with(VarLink)},
	{KindInvite, "Invitation", "An administrator invited the user: the link that chooses their password (and proves the address).", with(VarLink)},
	{KindChangeEmail, "New address confirmation", "Sent to the new address when the user changes theirs: the link that confirms it.", with(VarLink, VarNewEmail)},
	{KindEmailChanged, "Security notice: email changed", "Sent to the old address once the change is confirmed.", with(VarNewEmail)},
	{KindPasswordChanged, "Security notice: password changed", "Sent after a password change or reset, with a reset link in case it was not the user.", with(VarLink)},
	{KindMethodAdded, "Security notice: sign-in method added", "Sent when the user adds an authenticator app or a passkey on their account page, with a reset link in case it was not them.", with(VarLink, VarMethod)},
	{KindUnlinked, "Security notice: sign-in methods removed", "Sent when confirming the address removed sign-in methods linked before it was confirmed.", with(VarMethods)},
}

// Kinds lists every kind of email.
func Kinds() []Kind {
	out := make([]Kind, len(kinds))
	for i, k := range kinds {
		k.Variables = slices.Clone(k.Variables)
		out[i] = k
	}
	return out
}

// KindNamed returns the kind named name.
func KindNamed(name string) (Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			k.Variables = slices.Clone(k.Variables)
			return k, true
		}
	}
	return Kind{}, false
}

// KindNames lists the names of the kinds.
func KindNames() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Name
	}
	return out
}

// VariablesOf returns the variables of k, described.
func VariablesOf(k Kind) []Variable {
	var out []Variable
	for _, v := range variables {
		if slices.Contains(k.Variables, v.Name) {
			out = append(out, v)
		}
	}
	return out
}

// Samples returns the sample value of every variable of k: what previews
// and test messages fill in.
func Samples(k Kind) Vars {
	out := Vars{}
	for _, v := range VariablesOf(k) {
		out[v.Name] = v.Sample
	}
	return out
}

// Vars are the values of an email's variables, by name.
type Vars map[string]string
