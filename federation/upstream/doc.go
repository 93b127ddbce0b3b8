// Package upstream owns every HTTP request Gatehouse makes to a server that
// someone else named (SAML metadata, OpenID discovery, JWKS, token and
// userinfo endpoints, the social providers' APIs; later webhooks and
// back-channel logout): one client that connects only to public addresses,
// checked after DNS resolution on the address actually dialled, unless the
// operator allows a host in GATEHOUSE_UPSTREAM_ALLOW_HOSTS. It follows no
// redirects and no proxy, bounds every answer in time and size, and reports
// failures as errors that hold nothing of the answer.
package upstream
