// Package admin owns the management of tenants: the services that create and
// change tenants, applications, APIs, users and keys, shared by the CLI, the
// management API and the console, and the view models they answer with.
package admin
