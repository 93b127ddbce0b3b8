package ratelimit

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Config is what a Limiter allows.
type Config struct {
	// Burst is how many requests an address may make at once.
	Burst int
	// Per is how long an address's burst takes to refill: it may make
	// Burst requests per Per on average.
	Per time.Duration
	// Addresses bounds the table; zero means DefaultAddresses.
	Addresses int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultAddresses is how many addresses a Limiter remembers by default:
// some 210 bytes each, so about 6.5 MiB at most (measured with
// runtime.MemStats on amd64).
const DefaultAddresses = 1 << 15

// Limiter is a token bucket per client address (IPv4, or IPv6 by /64; see
// Key): each address holds up to Burst tokens, refilled at Burst per Per,
// and each request takes one; a request finding none is refused with 429
// and the time until there is one again (Retry-After).
//
// It protects this node's CPU and memory, so its state lives in this
// node's memory: a client spreading requests over n nodes gets n times the
// rate, which is fine for what it protects, each node's own resources.
// (Credential throttling is another matter: it protects accounts, whose
// guesses must count on every node, and lives in the database.)
//
// The table is bounded (Addresses entries): when it is full, the address
// seen least recently makes room. An address whose bucket has refilled
// loses nothing by it; a client with more addresses than the table holds
// can make buckets start over, and then what bounds the node's memory is
// the bound on password hashing (tenants/password.Bound), which does not
// depend on addresses.
type Limiter struct {
	rate  float64 // tokens per second
	burst float64
	max   int
	now   func() time.Time

	mu    sync.Mutex
	table map[netip.Prefix]*list.Element
	lru   list.List // of *bucket, most recently seen first
}

type bucket struct {
	key    netip.Prefix
	tokens float64
	at     time.Time
}

// New returns a Limiter; cfg.Burst and cfg.Per must be positive.
func New(cfg Config) *Limiter {
	l := &Limiter{rate: float64(cfg.Burst) / cfg.Per.Seconds(), burst: float64(cfg.Burst), max: cfg.Addresses, now: cfg.Now,
		table: map[netip.Prefix]*list.Element{}}
	if l.max <= 0 {
		l.max = DefaultAddresses
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// Key is the bucket of a client address: the address itself for IPv4
// (IPv4-mapped IPv6 included), its /64 for IPv6, since a subscriber is
// usually given a whole /64 and could otherwise use a new address for
// every request. What is not an address shares one bucket.
func Key(ip string) netip.Prefix {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap().WithZone("")
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// Allow takes a token of ip's bucket. When there is none it reports false
// and how long until there is one.
func (l *Limiter) Allow(ip string) (ok bool, retryAfter time.Duration) {
	key, now := Key(ip), l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, found := l.table[key]; found {
		l.lru.MoveToFront(e)
		b = e.Value.(*bucket)
		if d := now.Sub(b.at).Seconds(); d > 0 {
			b.tokens = math.Min(l.burst, b.tokens+d*l.rate)
		}
		b.at = now
	} else {
		if len(l.table) >= l.max {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.table, old.Value.(*bucket).key)
		}
		b = &bucket{key: key, tokens: l.burst, at: now}
		l.table[key] = l.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// Len is how many addresses the table holds.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.table)
}

// Middleware refuses a request over its address's rate with 429 and
// Retry-After, before its handler runs. The address is the request's
// origin (tenants.Origin, which believes X-Forwarded-For from the
// configured proxies only).
func (l *Limiter) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		o, _ := tenants.OriginFrom(c.Request().Context())
		if ok, wait := l.Allow(o.IP); !ok {
			return httperr.TooManyRequests(max(wait, time.Second))
		}
		return next(c)
	}
}
