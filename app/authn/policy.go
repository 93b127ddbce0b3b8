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
	// SignIn: the user signs in from the start (no session, another user,
	// prompt=login, max_age exceeded).
	SignIn Verdict = iota
	// StepUp: the session's user proves what the session lacks (a second
	// factor), not their password again.
	StepUp
	// Satisfied: the session answers the request as it is.
	Satisfied
)

// Judge decides what session s needs to answer req at now, under the
// tenant's MFA policy and the user's factors. The policy applies to
// existing sessions: a session that signed in with one factor before the
// tenant required two steps up.
func Judge(s *tenants.Session, req Requirement, mfaPolicy string, f Factors, now time.Time) Verdict {
	switch {
	case s == nil:
		return SignIn
	case req.Subject != "" && req.Subject != s.UserID:
		return SignIn
	case slices.Contains(req.Prompt, PromptLogin):
		return SignIn
	case req.MaxAge != nil && (*req.MaxAge == 0 || now.Sub(s.AuthTime) > time.Duration(*req.MaxAge)*time.Second):
		return SignIn
	case !Meets(s.ACR, Need(req, mfaPolicy, f)):
		return StepUp
	}
	return Satisfied
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
// connection (idp).
type Proof struct {
	AMR []string
	ACR string
	IDP string
}

// FactorsOfUser returns a user's confirmed factors, for JudgeSession.
type FactorsOfUser func(ctx context.Context, userID string) ([]tenants.MFAFactor, error)

// JudgeSession is Judge for a browser's session, reading the user's
// factors (lookup) only when the tenant's policy depends on them. A factor
// added in the session's own sign-in does not make the session step up:
// the user proved it in that session.
func JudgeSession(ctx context.Context, t *tenants.Tenant, s *tenants.Session, req Requirement, now time.Time, lookup FactorsOfUser) (Verdict, error) {
	var f Factors
	if s != nil && req.ACR == "" && t.MFA() == tenants.MFAOptional && !Meets(s.ACR, ACRMFA) {
		fs, err := lookup(ctx, s.UserID)
		if err != nil {
			return SignIn, err
		}
		older := fs[:0:0]
		for _, x := range fs {
			if x.AddedSignIn == "" || x.AddedSignIn != s.SignInID {
				older = append(older, x)
			}
		}
		f = FactorsOf(older)
	}
	return Judge(s, req, t.MFA(), f, now), nil
}
