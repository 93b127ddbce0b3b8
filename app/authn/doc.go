// Package authn is Gatehouse's sign-in policy: what a session satisfies
// (acr, amr, max_age, prompt, the tenant's MFA policy), when a user must
// step up or prove it again before a sensitive change, and how failed
// attempts are throttled; with the vocabulary of authentication classes
// and methods that discovery, tokens and pages share.
//
// The decisions are pure functions over the domain's types, table-tested;
// the small services at the edge (Throttle) keep their state in the
// database, so every node decides alike. Nothing here knows Echo.
package authn
