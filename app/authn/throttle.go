package authn

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// A Limit throttles failures counted against one kind of key: the first
// Free failures in Window cost nothing; each one after sets a penalty that
// doubles (Base, 2·Base, ...) up to Max. A locking limit refuses attempts
// while its penalty runs (refused attempts are answered exactly like
// failures); a slowing one only delays them. Penalties are temporary, so
// nobody can be locked out for good, and counters live in the database, so
// every node sees them.
type Limit struct {
	Name   string
	Free   int64
	Window time.Duration
	Base   time.Duration
	Max    time.Duration
	Lock   bool
}

// Penalty is the penalty after failures failures in the window.
func (l Limit) Penalty(failures int64) time.Duration {
	if failures <= l.Free {
		return 0
	}
	d := l.Base
	for i := l.Free + 1; i < failures && d < l.Max; i++ {
		d *= 2
	}
	return min(d, l.Max)
}

// Rules are the limits of one kind of attempt. A nil limit does not apply.
//
// Throttling aims at the attacker, not the tenant: a locking limit is keyed
// by something the attacker takes part in — the (address, account) pair,
// the address that sprays many accounts, the browser that failed — while
// the account-wide and tenant-wide limits only slow attempts down, so that
// correct credentials from a browser or address that took no part in the
// failures are never refused. A browser that signed in to the account
// before (a device cookie, OWASP's "device cookies") is judged by its own
// failures only.
type Rules struct {
	// Pair locks one address (IPv6 by /64) trying one account.
	Pair *Limit
	// Address locks an address that fails across accounts.
	Address *Limit
	// Account counts every failure on the account, from anywhere. It
	// locks only where the attempt needs a credential already proven (a
	// second factor after the password, a signed-in user's confirmation)
	// or sends mail (which it must not do without bound); for first
	// factors it slows.
	Account *Limit
	// Tenant counts every failure at the tenant; it only slows.
	Tenant *Limit
	// Device locks a browser that proved an earlier sign-in to the
	// account; such a browser is exempt from Pair, Address and Account.
	Device *Limit
}

// The limits of Gatehouse's attempts.
var (
	// LoginRules throttle first factors: passwords (and passkeys).
	LoginRules = Rules{
		Pair:    &Limit{Name: "pair", Free: 5, Window: time.Hour, Base: 2 * time.Second, Max: 15 * time.Minute, Lock: true},
		Address: &Limit{Name: "ip", Free: 20, Window: time.Hour, Base: 2 * time.Second, Max: 15 * time.Minute, Lock: true},
		Account: &Limit{Name: "account", Free: 20, Window: time.Hour, Base: 250 * time.Millisecond, Max: 3 * time.Second},
		Tenant:  &Limit{Name: "tenant", Free: 1000, Window: 10 * time.Minute, Base: 100 * time.Millisecond, Max: 2 * time.Second},
		Device:  &Limit{Name: "device", Free: 10, Window: time.Hour, Base: 2 * time.Second, Max: 15 * time.Minute, Lock: true},
	}
	// SecondFactorRules throttle codes and assertions after a password:
	// whoever fails here knows the password.
	SecondFactorRules = Rules{
		Account: &Limit{Name: "account", Free: 5, Window: time.Hour, Base: 2 * time.Second, Max: 15 * time.Minute, Lock: true},
		Address: &Limit{Name: "ip", Free: 20, Window: time.Hour, Base: 2 * time.Second, Max: 15 * time.Minute, Lock: true},
	}
	// ConfirmRules throttle a signed-in user proving it again (a password
	// or a code): whoever fails here holds the session.
	ConfirmRules = Rules{
		Account: &Limit{Name: "account", Free: 5, Window: time.Hour, Base: 2 * time.Second, Max: 15 * time.Minute, Lock: true},
		Address: &Limit{Name: "ip", Free: 20, Window: time.Hour, Base: 2 * time.Second, Max: 15 * time.Minute, Lock: true},
	}
	// DeviceCodeRules throttle guesses at user codes on the device page
	// (RFC 8628 §5.1): a user code is short enough to type, so an address
	// that enters wrong ones is locked out for a while, and a tenant where
	// many wrong ones arrive slows every entry down. There is no account to
	// key by: the code is the secret.
	DeviceCodeRules = Rules{
		Address: &Limit{Name: "ip", Free: 10, Window: time.Hour, Base: 30 * time.Second, Max: 15 * time.Minute, Lock: true},
		Tenant:  &Limit{Name: "tenant", Free: 1000, Window: 10 * time.Minute, Base: 100 * time.Millisecond, Max: 2 * time.Second},
	}
	// MailRules throttle requests that send email (sign-up, reset,
	// verification, change of address): no address is flooded, no
	// address sends without bound.
	MailRules = Rules{
		Account: &Limit{Name: "account", Free: 5, Window: time.Hour, Base: time.Minute, Max: 30 * time.Minute, Lock: true},
		Address: &Limit{Name: "ip", Free: 20, Window: time.Hour, Base: time.Minute, Max: 30 * time.Minute, Lock: true},
		Tenant:  &Limit{Name: "tenant", Free: 1000, Window: 10 * time.Minute, Base: 100 * time.Millisecond, Max: 2 * time.Second},
	}
)

// Attempt is one try: at a secret (password, code) or at an action that
// sends mail.
type Attempt struct {
	// Action names the kind of attempt ("login", "mfa", "reset", ...):
	// counters of different actions are apart.
	Action string
	Rules  Rules
	// Tenant is the tenant's id.
	Tenant string
	// Account is who the attempt is for (an email address or a user id),
	// "" when unknown.
	Account string
	// Address is the client's IP address.
	Address string
	// Device is the id of a device cookie that proved this browser signed
	// in to Account before, or "".
	Device string
}

// Key is one counter an attempt counts against.
type Key struct {
	Limit Limit
	Name  string
}

// Keys returns the counters of a (hashed: no email address or IP in the
// table).
func (a Attempt) Keys() []Key {
	prefix := a.Action + ":" + a.Tenant + ":"
	account := ""
	if a.Account != "" {
		account = secret.Hash(tenants.NormalizeEmail(a.Account))
	}
	address := AddressKey(a.Address)
	var keys []Key
	add := func(l *Limit, subject string) {
		if l != nil {
			keys = append(keys, Key{Limit: *l, Name: prefix + l.Name + ":" + secret.Hash(subject)})
		}
	}
	trusted := a.Device != "" && a.Rules.Device != nil && account != ""
	if trusted {
		add(a.Rules.Device, account+"|"+a.Device)
	} else {
		if account != "" {
			add(a.Rules.Pair, account+"|"+address)
			add(a.Rules.Account, account)
		}
		add(a.Rules.Address, address)
	}
	if a.Rules.Tenant != nil {
		keys = append(keys, Key{Limit: *a.Rules.Tenant, Name: prefix + a.Rules.Tenant.Name})
	}
	return keys
}

// AddressKey is the form of an IP address that counters are keyed by: an
// IPv4 address itself, an IPv6 address by its /64 (one subscriber's
// network: an attacker has billions of addresses in it).
func AddressKey(ip string) string {
	addr := net.ParseIP(ip)
	if addr == nil {
		return tenants.Truncate(ip, 64)
	}
	if v4 := addr.To4(); v4 != nil {
		return v4.String()
	}
	return (&net.IPNet{IP: addr.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// Brake is what throttling says of an attempt before it is checked.
type Brake struct {
	// Refuse says the attempt must be answered exactly as a failure,
	// without checking the secret (or sending the mail).
	Refuse bool
	// Delay is how long to wait before checking it.
	Delay time.Duration
}

// Decide judges an attempt with keys from the counters' state at now.
func Decide(keys []Key, state map[string]tenants.Throttle, now time.Time) Brake {
	var v Brake
	for _, k := range keys {
		t, ok := state[k.Name]
		if !ok || t.LockedUntil == nil || !now.Before(*t.LockedUntil) {
			continue
		}
		if k.Limit.Lock {
			v.Refuse = true
			continue
		}
		v.Delay = max(v.Delay, min(t.LockedUntil.Sub(now), k.Limit.Max))
	}
	return v
}

// Throttle keeps the counters of attempts in the store.
type Throttle struct{ store *tenants.Store }

// NewThrottle returns a Throttle over store.
func NewThrottle(store *tenants.Store) *Throttle { return &Throttle{store: store} }

// Check returns the brake on a. When the counters cannot be read the
// attempt is allowed: throttling slows attackers, it is not what keeps
// a wrong password out.
func (t *Throttle) Check(ctx context.Context, a Attempt) Brake {
	keys := a.Keys()
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	rows, err := t.store.Throttles(ctx, names)
	if err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "read throttle", "err", err)
		return Brake{}
	}
	state := make(map[string]tenants.Throttle, len(rows))
	for _, r := range rows {
		state[r.Key] = r
	}
	return Decide(keys, state, t.store.Now())
}

// Wait sleeps for v's delay, or until ctx ends.
func (v Brake) Wait(ctx context.Context) {
	if v.Delay <= 0 {
		return
	}
	timer := time.NewTimer(v.Delay)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// Failed counts a failure of a against each of its counters.
func (t *Throttle) Failed(ctx context.Context, a Attempt) {
	for _, k := range a.Keys() {
		if _, err := t.store.RecordFailure(ctx, k.Name, k.Limit.Window, k.Limit.Penalty); err != nil {
			tenants.Logger(ctx).ErrorContext(ctx, "record throttle failure", "err", err)
		}
	}
}

// Succeeded forgets the failures of the pair and the browser that just
// succeeded; the account's, the address's and the tenant's stay: one good
// password does not excuse an attack from elsewhere.
func (t *Throttle) Succeeded(ctx context.Context, a Attempt) {
	for _, k := range a.Keys() {
		if a.resetBySuccess(k) {
			if err := t.store.ResetThrottle(ctx, k.Name); err != nil {
				tenants.Logger(ctx).ErrorContext(ctx, "reset throttle", "err", err)
			}
		}
	}
}

// resetBySuccess reports whether a success of a forgets the failures of
// its counter k: the pair's and the browser's; and where the account's
// counter locks (second factors, confirmations), its owner's success
// clears it.
func (a Attempt) resetBySuccess(k Key) bool {
	switch k.Limit.Name {
	case "pair", "device":
		return true
	case "account":
		return a.Rules.Pair == nil && a.Rules.Device == nil && a.Rules.Account != nil && a.Rules.Account.Lock && a.Account != ""
	}
	return false
}

// Turn is an attempt that took its turn on the counters that lock: Begin
// counted it as a failure on each of them before its secret is checked, so
// that attempts sent at once get no more guesses than attempts sent one
// after another (each check-then-count would let a burst through
// together). Exactly one of Failed, Succeeded or Cancel ends it.
type Turn struct {
	Brake
	t     *Throttle
	a     Attempt
	taken []Key
}

// Begin judges a before its secret is checked, as Check does, and when it
// may go on takes its turn on each locking counter: one at a time, each a
// compare-and-swap of its own row (no transaction holds two rows, so two
// attempts cannot deadlock). A counter found locked by then refuses the
// attempt, and the turns taken before it are given back. When the
// counters cannot be written the attempt is allowed, as in Check.
func (t *Throttle) Begin(ctx context.Context, a Attempt) *Turn {
	u := &Turn{Brake: t.Check(ctx, a), t: t, a: a}
	if u.Refuse {
		return u
	}
	for _, k := range a.Keys() {
		if !k.Limit.Lock {
			continue
		}
		_, err := t.store.TakeTurn(ctx, k.Name, k.Limit.Window, k.Limit.Penalty)
		switch {
		case errors.Is(err, tenants.ErrLocked):
			u.refund(ctx)
			u.Refuse = true
			return u
		case err != nil:
			tenants.Logger(ctx).ErrorContext(ctx, "take throttle turn", "err", err)
			continue
		}
		u.taken = append(u.taken, k)
	}
	return u
}

func (u *Turn) refund(ctx context.Context) {
	for _, k := range u.taken {
		if err := u.t.store.RefundFailure(ctx, k.Name, k.Limit.Penalty); err != nil {
			tenants.Logger(ctx).ErrorContext(ctx, "refund throttle turn", "err", err)
		}
	}
	u.taken = nil
}

// Failed counts the failure on the counters that do not lock (the turns
// taken are the failure's count on the others).
func (u *Turn) Failed(ctx context.Context) {
	for _, k := range u.a.Keys() {
		if k.Limit.Lock {
			continue
		}
		if _, err := u.t.store.RecordFailure(ctx, k.Name, k.Limit.Window, k.Limit.Penalty); err != nil {
			tenants.Logger(ctx).ErrorContext(ctx, "record throttle failure", "err", err)
		}
	}
}

// Succeeded gives back the turns on the counters a success does not
// forget, and forgets what Throttle.Succeeded forgets (no refund is
// needed there: the counter goes).
func (u *Turn) Succeeded(ctx context.Context) {
	kept := u.taken[:0]
	for _, k := range u.taken {
		if !u.a.resetBySuccess(k) {
			kept = append(kept, k)
		}
	}
	u.taken = kept
	u.refund(ctx)
	u.t.Succeeded(ctx, u.a)
}

// Cancel gives the turns back: the secret was never judged (the node was
// too busy to hash it), so the attempt was no guess.
func (u *Turn) Cancel(ctx context.Context) { u.refund(ctx) }
