// Package ratelimit limits how often one client address may make the
// requests that an anonymous client can make costly for a node (a password
// hash, a stored row, an email). It is a token bucket per address, in a
// table of bounded size, in the memory of one node.
package ratelimit
