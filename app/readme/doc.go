// Package readme holds the tests that run README.md's snippets as a
// newcomer would: TestQuickstart builds the binary, starts the server as
// the quickstart says and runs every later snippet in one shell, signing in
// with a real browser where the quickstart says to open one.
package readme
