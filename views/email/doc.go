// Package email holds what Gatehouse's email says and how it looks: the
// kinds of email with the variables each may name (vocabulary.go), the
// small template language a tenant's own templates are written in
// (template.go), and the composition of a message from a tenant's
// template or the built-in localized default, in the tenant's branded
// layout (compose.go). Like views, it imports nothing of Gatehouse's
// besides views/i18n: callers fill the values.
package email
