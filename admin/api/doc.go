// Package api is Gatehouse's management API, /api/v1 on the apex: JSON over
// the same admin services as the console and the CLI. Callers authenticate
// with bearer access tokens issued by the system tenant for the API's
// audience (client credentials for machines; the console's own token for
// administrators); the tenant a call acts on is checked against the
// caller's roles in one place, admin.Service.Tenant. Errors are RFC 9457
// problem documents, rendered by the server's one error handler.
package api
