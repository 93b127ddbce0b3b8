// Package admin owns the management of tenants and of Gatehouse itself: the
// services that create and change tenants, applications, APIs, users and
// keys, and Gatehouse's administrators and management clients, shared by the
// CLI, the management API and the console, and the view models they answer
// with.
package admin
