// Package web is what every page package on a tenant's host shares: the
// paths of the pages, the browser and session cookies, sessions, the
// anti-CSRF tokens and the route tables from which the same-origin and
// CSRF checks are applied to every POST, and rendering.
//
// Packages login (signing in) and account (the user's own account) are
// built on it; it knows nothing of either.
package web
