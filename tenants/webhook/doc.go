// Package webhook owns the delivery of a tenant's events to its webhook
// endpoints, as the Standard Webhooks specification says: the signing
// secrets (whsec_, sealed under the master key), the signature headers,
// and the dispatcher every node runs to drain the outbox the store fills.
package webhook
