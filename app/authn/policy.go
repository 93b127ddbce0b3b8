package authn

import (
	"context"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Requirement is what an authorization request asks of the login that
// answers it (OIDC Core §3.1.2.1).
type Requirement struct {
	// Prompt holds the request's prompt values.
	Prompt []string
	// MaxAge is the request's max_age in seconds; nil when absent.
	MaxAge *int64
	// Subject is the user the request is for (its id_token_hint, or the
	// user who re-authenticates), "" for anyone.
	Subject string
	// ACR is the strongest class the request asks for, "" for none.
	ACR string
}

// RequirementOf returns what ar asks of its login.
func RequirementOf(ar *tenants.AuthRequest) Requirement {
	return Requirement{Prompt: ar.Prompt, MaxAge: ar.MaxAge, Subject: ar.HintSubject, ACR: Strongest(ar.ACRValues)}
}

// Factors is what a user has set up as second factors.
type Factors struct {
	// Any says the user has a confirmed second factor.
	Any bool
	// WebAuthn says one of them is a passkey or security key.
	WebAuthn bool
}

// FactorsOf summarises a user's confirmed factors.
func FactorsOf(fs []tenants.MFAFactor) Factors {
	var f Factors
	for _, x := range fs {
		if !x.Confirmed {
			continue
		}
		f.Any = true
		f.WebAuthn = f.WebAuthn || x.Type == tenants.FactorWebAuthn
	}
	return f
}

// Need returns the class a login must reach for req: the class asked for
// or, when none is, multi-factor if the tenant's MFA policy requires it of
// everyone (required) or of users who have a second factor (optional).
func Need(req Requirement, mfaPolicy string, f Factors) string {
	if req.ACR != "" {
		return req.ACR
	}
	if mfaPolicy == tenants.MFARequired || mfaPolicy == tenants.MFAOptional && f.Any {
		return ACRMFA
	}
	return ""
}

// FamilyMeetsPolicy reports whether a token family from a sign-in that
// reached class acr may still be refreshed under the tenant's MFA policy:
// once the tenant requires two factors of everyone, a family from a
// one-factor sign-in ends, as a one-factor session steps up.
func FamilyMeetsPolicy(acr, mfaPolicy string) bool {
	return Meets(acr, Need(Requirement{}, mfaPolicy, Factors{}))
}

// Verdict is what a browser's session needs to answer a request.
type Verdict int

const (
	// SignIn: the user signs in from the start, with a first factor (no
	// session, another user, prompt=login or select_account, max_age exceeded, or a session
	// that lacks a second factor the user had before it signed in: a
	// session alone never sets one up or proves itself with one it added).
	SignIn Verdict = iota
	// StepUp: the session's user proves a second factor they had before
	// the session signed in, not their password again.
	StepUp
	// Satisfied: the session answers the request as it is.
	Satisfied
	// LoginRequired answers a prompt=none request that needs a sign-in.
	LoginRequired
	// InteractionRequired answers a prompt=none request whose session
	// must step up.
	InteractionRequired
)

// Judge decides what session s needs to answer req at now, under the
// tenant's MFA policy, given the user's confirmed factors fs (nil when
// the session meets what any factors could make the policy ask:
// JudgeSession). It is the one owner of that decision, for the
// authorization endpoint, prompt=none, the login page and the account
// pages. The policy applies to existing sessions: a session that signed in
// with one factor before the tenant required two steps up. Only a factor
// the user had before the session's sign-in (Earlier) steps it up or makes
// the policy ask for one; without such a factor the user signs in again,
// so that a stolen session can neither enrol a factor of its own nor
// become stronger with one it added.
func Judge(s *tenants.Session, req Requirement, mfaPolicy string, fs []tenants.MFAFactor, now time.Time) Verdict {
	none := slices.Contains(req.Prompt, PromptNone)
	switch {
	case s == nil,
		req.Subject != "" && req.Subject != s.UserID,
		ForcesSignIn(req.Prompt),
		req.MaxAge != nil && (*req.MaxAge == 0 || now.Sub(s.AuthTime) > time.Duration(*req.MaxAge)*time.Second ||
			s.AuthTime.After(now.Add(time.Minute))):
		if none {
			return LoginRequired
		}
		return SignIn
	}
	f := FactorsOf(Earlier(fs, s))
	need := Need(req, mfaPolicy, f)
	switch {
	case Meets(s.ACR, need):
		return Satisfied
	case none:
		// The session is the user's, but weaker than asked: more than a
		// silent answer (a second factor, or the password and then
		// enrolment).
		return InteractionRequired
	case need == ACRPhishingResistant && f.WebAuthn, need != ACRPhishingResistant && f.Any:
		return StepUp
	}
	return SignIn
}

// Earlier returns the factors of fs that may step session s up or confirm
// what it does: confirmed, and not added in the sign-in s belongs to.
func Earlier(fs []tenants.MFAFactor, s *tenants.Session) []tenants.MFAFactor {
	var out []tenants.MFAFactor
	for i := range fs {
		if Confirms(&fs[i], s) {
			out = append(out, fs[i])
		}
	}
	return out
}

// Step is what a login does after its first factor.
type Step int

const (
	// Done: the first factor reached what is needed.
	Done Step = iota
	// SecondFactor: the user proves a factor they have.
	SecondFactor
	// Enrol: the user sets up a first second factor.
	Enrol
	// Unreachable: phishing resistance is asked of a user whose factors
	// cannot give it (an authenticator app); the request fails at once
	// rather than show a step with nothing usable.
	Unreachable
)

// Next returns the step after a first factor that reached class reached,
// for a login that must reach need, by a user with factors f.
func Next(need, reached string, f Factors) Step {
	switch {
	case Meets(reached, need):
		return Done
	case !f.Any:
		return Enrol
	case need == ACRPhishingResistant && !f.WebAuthn:
		return Unreachable
	}
	return SecondFactor
}

// Proof is what a step of a sign-in proved: its methods (amr), the class it
// reached (acr, "" for one factor), and for an upstream login the
// connection (idp). A step-up's proof also carries the session it steps
// up: the time its first factor was proved and its sign-in, which the
// stepped-up session keeps (a second factor alone makes a session
// stronger, never fresher, and a factor added in that sign-in does not
// count).
type Proof struct {
	AMR []string
	ACR string
	IDP string
	// AuthTime is when the first factor was proved; zero for now.
	AuthTime time.Time
	// SignInID is the sign-in a step-up continues; "" for a new one.
	SignInID string
}

// StepUpOf is the first factor a step-up of session s starts from.
func StepUpOf(s *tenants.Session) Proof {
	return Proof{AMR: s.AMR, IDP: s.IDP, ACR: s.ACR, AuthTime: s.AuthTime, SignInID: s.SignInID}
}

// FactorsOfUser returns a user's confirmed factors, for JudgeSession.
type FactorsOfUser func(ctx context.Context, userID string) ([]tenants.MFAFactor, error)

// JudgeSession is Judge for a browser's session, reading the user's
// factors (lookup) only when they can change the verdict: when the
// session does not already meet what the request and the tenant's policy
// could ask.
func JudgeSession(ctx context.Context, t *tenants.Tenant, s *tenants.Session, req Requirement, now time.Time, lookup FactorsOfUser) (Verdict, error) {
	var fs []tenants.MFAFactor
	if s != nil && !Meets(s.ACR, Need(req, t.MFA(), Factors{Any: true, WebAuthn: true})) {
		var err error
		if fs, err = lookup(ctx, s.UserID); err != nil {
			return SignIn, err
		}
	}
	return Judge(s, req, t.MFA(), fs, now), nil
}

// With returns the proof of a first factor p completed by a second factor
// of method, reaching class acr; a step-up's session stays what it was.
func (p Proof) With(method, acr string) Proof {
	return Proof{AMR: WithSecondFactor(p.AMR, method), IDP: p.IDP, ACR: acr, AuthTime: p.AuthTime, SignInID: p.SignInID}
}
