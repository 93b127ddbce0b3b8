package authn

import "time"

// The rules of attempts a browser the account recognizes may make
// (Attempt.Device set): the same limits as their base rules for everyone
// else, and for that browser a limit of its own, so that an attacker's
// failures on the account never lock its owner's browser out (finding 5's
// principle for second factors and mail). The attacker, without such a
// cookie, still gets only the base rules' attempts.
var (
	// TrustedSecondFactorRules are SecondFactorRules with a browser that
	// completed a two-factor sign-in to the account before judged by its
	// own failures.
	TrustedSecondFactorRules = withDevice(SecondFactorRules, &Limit{Name: "device", Free: 5, Window: time.Hour, Base: 2 * time.Second, Max: 15 * time.Minute, Lock: true})
	// TrustedMailRules are MailRules with a browser that signed in to the
	// account before judged by its own requests.
	TrustedMailRules = withDevice(MailRules, &Limit{Name: "device", Free: 5, Window: time.Hour, Base: time.Minute, Max: 30 * time.Minute, Lock: true})
	// TrustedConfirmRules are ConfirmRules with a browser that signed in
	// to the account before judged by its own failures.
	TrustedConfirmRules = withDevice(ConfirmRules, &Limit{Name: "device", Free: 5, Window: time.Hour, Base: 2 * time.Second, Max: 15 * time.Minute, Lock: true})
)

func withDevice(r Rules, device *Limit) Rules {
	r.Device = device
	return r
}

// SecondFactorAttempt is an attempt at a second factor of the account
// (a user id) from address; device is the id of the browser's cookie that
// proves an earlier two-factor sign-in to the account, or "".
func SecondFactorAttempt(tenant, account, address, device string) Attempt {
	a := Attempt{Action: "mfa", Rules: SecondFactorRules, Tenant: tenant, Account: account, Address: address}
	if device != "" {
		a.Rules, a.Device = TrustedSecondFactorRules, device
	}
	return a
}

// MailAttempt is a request of action that sends mail about account (an
// email address or a user id) from address; device is the id of the
// browser's cookie that proves an earlier sign-in to the account, or "".
func MailAttempt(action, tenant, account, address, device string) Attempt {
	a := Attempt{Action: action, Rules: MailRules, Tenant: tenant, Account: account, Address: address}
	if device != "" {
		a.Rules, a.Device = TrustedMailRules, device
	}
	return a
}

// ConfirmAttempt is a signed-in user's attempt at proving it again (the
// password, or a code) for the account (a user id) from address; device
// is the id of the browser's cookie that proves an earlier sign-in to the
// account, or "".
func ConfirmAttempt(tenant, account, address, device string) Attempt {
	a := Attempt{Action: "confirm", Rules: ConfirmRules, Tenant: tenant, Account: account, Address: address}
	if device != "" {
		a.Rules, a.Device = TrustedConfirmRules, device
	}
	return a
}
