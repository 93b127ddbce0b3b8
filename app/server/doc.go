// Package server builds Gatehouse's HTTP server: it resolves the tenant
// from the Host, mounts the OpenID provider and the login pages on tenant
// hosts and the apex pages on the base host, sets security headers, and
// renders every error in one place.
package server
