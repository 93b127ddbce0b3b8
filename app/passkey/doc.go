// Package passkey owns WebAuthn credentials (W3C Web Authentication Level
// 3): each tenant's relying party, and the two halves of every ceremony —
// begin (a challenge stored in a login step bound to the browser and to
// what it is for) and finish (the challenge spent once, the credential
// verified, its use recorded). A credential is a second factor after a
// password, a passwordless login, or what a user enrols. It knows nothing
// of Echo: the pages hand it the browser's hash and the credential's JSON.
package passkey
