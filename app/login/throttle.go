package login

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// A limit throttles one kind of attempt for one kind of key: the first
// Free failures in Window cost nothing; each one after locks the key for a
// delay that doubles (Base, 2·Base, ...) up to Max. Locks are temporary, so
// an attacker cannot lock a victim out for good, and the counters live in
// the database, so every node sees them.
type limit struct {
	name   string
	free   int64
	window time.Duration
	base   time.Duration
	max    time.Duration
}

func (l limit) lock(failures int64) time.Duration {
	if failures <= l.free {
		return 0
	}
	d := l.base
	for i := l.free + 1; i < failures && d < l.max; i++ {
		d *= 2
	}
	return min(d, l.max)
}

// The limits of Gatehouse's login-like forms.
var (
	limitAccount = limit{name: "account", free: 5, window: time.Hour, base: 2 * time.Second, max: 15 * time.Minute}
	limitIP      = limit{name: "ip", free: 20, window: time.Hour, base: 2 * time.Second, max: 15 * time.Minute}
	limitTenant  = limit{name: "tenant", free: 1000, window: 10 * time.Minute, base: time.Second, max: 30 * time.Second}
)

// throttleKey is a counter's key: the kind of attempt, the limit, the
// tenant and the subject (hashed: no email address in the table).
type throttleKey struct {
	l   limit
	key string
}

func keysFor(t *tenants.Tenant, action, account, ip string) []throttleKey {
	keys := []throttleKey{
		{limitIP, action + ":ip:" + t.ID + ":" + ip},
		{limitTenant, action + ":tenant:" + t.ID},
	}
	if account != "" {
		keys = append(keys, throttleKey{limitAccount, action + ":account:" + t.ID + ":" + secret.Hash(tenants.NormalizeEmail(account))})
	}
	return keys
}

// throttled reports whether any of keys is locked now. A throttled attempt
// must then be answered exactly like a failed one.
func (h *Handler) throttled(ctx context.Context, keys []throttleKey) bool {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.key
	}
	until, err := h.store.ThrottleLockedUntil(ctx, names)
	if err != nil {
		slog.ErrorContext(ctx, "read throttle", "err", err)
		return false
	}
	return h.now().Before(until)
}

// failed counts a failure against every key.
func (h *Handler) failed(ctx context.Context, keys []throttleKey) {
	for _, k := range keys {
		if _, err := h.store.RecordFailure(ctx, k.key, k.l.window, k.l.lock); err != nil {
			slog.ErrorContext(ctx, "record throttle failure", "err", err)
		}
	}
}

// succeeded forgets the account's failures (not the address's: one good
// password does not excuse a spray from the same address).
func (h *Handler) succeeded(ctx context.Context, keys []throttleKey) {
	for _, k := range keys {
		if k.l.name == limitAccount.name {
			_ = h.store.ResetThrottle(ctx, k.key)
		}
	}
}
