package ratelimit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/views/httperr"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newLimiter(burst int, per time.Duration, addresses int) (*Limiter, *clock) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return New(Config{Burst: burst, Per: per, Addresses: addresses, Now: clk.Now}), clk
}

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		ip, want string
	}{
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
	} {
		if got := Key(tc.ip); got.String() != tc.want {
			t.Errorf("Key(%q) = %s, want %s", tc.ip, got, tc.want)
		}
	}
	for _, bad := range []string{"", "example.com", "192.0.2.7:443", "1.2.3.4.5"} {
		if got := Key(bad); got != (netip.Prefix{}) {
			t.Errorf("Key(%q) = %s, want the shared bucket of what is not an address", bad, got)
		}
	}
}

// TestBurstThenRefill: Burst requests at once, then one per Per/Burst,
// with Retry-After saying when.
func TestBurstThenRefill(t *testing.T) {
	l, clk := newLimiter(5, 10*time.Second, 0) // one token every 2 s
	for i := range 5 {
		if ok, _ := l.Allow("192.0.2.1"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("192.0.2.1")
	if ok || wait != 2*time.Second {
		t.Fatalf("over the burst: ok=%v retry after %v, want refused for 2s", ok, wait)
	}
	if ok, _ := l.Allow("192.0.2.2"); !ok {
		t.Fatal("another address is refused")
	}
	clk.Advance(time.Second)
	if ok, wait := l.Allow("192.0.2.1"); ok || wait != time.Second {
		t.Fatalf("half a token later: ok=%v retry after %v, want refused for 1s", ok, wait)
	}
	clk.Advance(time.Second)
	if ok, _ := l.Allow("192.0.2.1"); !ok {
		t.Fatal("refused once a token refilled")
	}
	if ok, _ := l.Allow("192.0.2.1"); ok {
		t.Fatal("allowed two requests for one refilled token")
	}
	clk.Advance(time.Hour)
	for i := range 5 {
		if ok, _ := l.Allow("192.0.2.1"); !ok {
			t.Fatalf("after an hour, request %d of a full burst refused", i+1)
		}
	}
	if ok, _ := l.Allow("192.0.2.1"); ok {
		t.Fatal("the bucket refilled beyond its burst")
	}
}

// TestIPv6ByPrefix: every address of a /64 shares one bucket, as a
// client given a /64 can use any of them; the next /64 is another client.
func TestIPv6ByPrefix(t *testing.T) {
	l, _ := newLimiter(3, time.Minute, 0)
	for i := range 3 {
		if ok, _ := l.Allow(fmt.Sprintf("2001:db8:0:1::%x", i+1)); !ok {
			t.Fatalf("address %d of the /64 refused within the burst", i+1)
		}
	}
	if ok, _ := l.Allow("2001:db8:0:1:ffff:ffff:ffff:fffe"); ok {
		t.Fatal("a fourth address of the same /64 got a fresh bucket")
	}
	if ok, _ := l.Allow("2001:db8:0:2::1"); !ok {
		t.Fatal("the next /64 is refused")
	}
	if l.Len() != 2 {
		t.Errorf("table holds %d buckets, want 2 (one per /64)", l.Len())
	}
}

// TestTableBounded: an attacker with many more addresses than the table holds cannot make the
// table grow beyond its bound; the addresses seen most recently keep their
// state, the least recent make room.
func TestTableBounded(t *testing.T) {
	l, _ := newLimiter(1, time.Hour, 100)
	l.Allow("198.51.100.1") // spent its one token
	for i := range 100_000 {
		l.Allow(fmt.Sprintf("10.%d.%d.%d", byte(i>>16), byte(i>>8), byte(i)))
		if i == 50 {
			if ok, _ := l.Allow("198.51.100.1"); ok {
				t.Fatal("a recently seen address lost its state while the table had room")
			}
		}
		if n := l.Len(); n > 100 {
			t.Fatalf("table holds %d addresses, bound is 100", n)
		}
	}
	if n := l.Len(); n != 100 {
		t.Errorf("table holds %d addresses, want 100", n)
	}
	if _, found := l.table[Key("198.51.100.1")]; found {
		t.Error("the least recently seen address was not the one to make room")
	}
}

// TestConcurrentAllow: a burst is a burst, however many goroutines ask at
// once.
func TestConcurrentAllow(t *testing.T) {
	l, _ := newLimiter(50, time.Hour, 0)
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if ok, _ := l.Allow("192.0.2.9"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("%d of 200 concurrent requests allowed, want the burst of 50", allowed)
	}
}

// TestMiddleware: over the rate, the handler does not run and the answer
// is a 429 with a Retry-After of at least a second.
func TestMiddleware(t *testing.T) {
	l, _ := newLimiter(1, time.Minute, 0)
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	ran := 0
	h := l.Middleware(func(c echo.Context) error { ran++; return c.NoContent(http.StatusOK) })
	call := func() error {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.RemoteAddr = "192.0.2.3:5555"
		return h(e.NewContext(r, httptest.NewRecorder()))
	}
	if err := call(); err != nil || ran != 1 {
		t.Fatalf("first request: %v, handler ran %d times", err, ran)
	}
	err := call()
	he := httperr.As(err)
	if he == nil || he.Status != http.StatusTooManyRequests || he.RetryAfter < time.Second {
		t.Fatalf("over the rate: %v, want 429 with Retry-After", err)
	}
	if ran != 1 {
		t.Fatal("the handler ran over the rate")
	}
}
