// Package saml is the connector to a SAML 2.0 identity provider, with
// Gatehouse as the service provider (github.com/crewjam/saml): signed
// AuthnRequests over the HTTP-Redirect or HTTP-POST binding, responses
// accepted only over HTTP-POST at the connection's ACS, checked against the
// IdP certificates of the configured metadata and nothing else, and each
// assertion accepted once.
//
// crewjam/saml does the protocol checks; this package adds what it leaves
// out: a shape check before any signature work (one Response, one
// assertion, no DOCTYPE: the signature-wrapping family), an allow-list of
// signature algorithms, our own InResponseTo and audience rules (crewjam
// skips InResponseTo altogether when IdP-initiated login is allowed, and
// accepts an assertion without any AudienceRestriction), the replay cache,
// and size caps.
package saml
