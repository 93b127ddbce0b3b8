// Package views holds Gatehouse's templ components and the view models they
// render, and the static assets they use (embedded). It imports nothing of
// Gatehouse's: handlers fill the view models.
package views
