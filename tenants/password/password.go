// Package password hashes and verifies user passwords with argon2id, stored
// as PHC strings, and says when a stored hash should be upgraded. It also
// bounds how much hashing a node does at once, since every anonymous login
// costs a hash.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultParams follows OWASP's argon2id recommendation: 19 MiB, 2 passes,
// 1 lane.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// MaxLength bounds what is hashed, so that a huge body cannot cost a huge
// hash; there is no truncation: longer passwords are refused.
const MaxLength = 1024

// ErrMismatch is returned by Verify for a wrong password.
var ErrMismatch = errors.New("password does not match")

// ErrBusy is returned when a hash did not get its turn within the bound's
// wait (or its caller gave up first). It says nothing about the password:
// the server answers it with 503 and Retry-After, never as a wrong
// password.
var ErrBusy = errors.New("password: too many password hashes in progress")

// RetryAfter is what a client answered ErrBusy is told to wait: a couple
// of waits, time for the queue to drain.
const RetryAfter = 2 * time.Second

// Bound is how much argon2id work a node does at once.
//
// Each hash holds its memory (Params.Memory KiB; for a stored hash, the m
// of its PHC string) while it runs, and an anonymous POST /login costs one
// (unknown users cost the dummy's): without a bound, memory grows with the
// number of concurrent requests, as the security review saw (48 at once
// took a node from about 70 MiB to 1.4 GiB and more). So every Hash, Verify and
// VerifyDummy first takes its memory from a weighted semaphore of Memory
// KiB, waiting at most Wait for its turn (first come, first served), and
// otherwise fails with ErrBusy. Hashing then holds at most Memory KiB, and
// a node's peak memory is its baseline plus about twice that (argon2's
// blocks are garbage once a hash ends, and the collector lets as much
// again accumulate before it runs).
type Bound struct {
	// Memory is the argon2 memory, in KiB, that hashes in progress may
	// hold together. A hash that needs more than all of it runs alone.
	Memory uint64
	// Wait is how long a hash waits for its turn before ErrBusy.
	Wait time.Duration
}

// DefaultBound is the bound for hashes of p on this node: GOMAXPROCS
// hashes at once (an argon2id lane keeps one core busy, so more at once
// would not finish sooner, only hold more memory while they wait for a
// core), fewer when GOMEMLIMIT is set, so that hashing holds at most a
// quarter of the limit (with the garbage, half), never fewer than one; and
// a wait of one second, ten hashes' time or more (BenchmarkVerifyDefault:
// about 100 ms a hash on a busy two-core machine). With OWASP's 19 MiB on
// two cores: 38 MiB at once.
func DefaultBound(p Params) Bound {
	return bound(p, runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1))
}

func bound(p Params, procs int, memLimit int64) Bound {
	slots := max(1, procs/int(max(p.Threads, 1)))
	if memLimit > 0 && memLimit < math.MaxInt64 && p.Memory > 0 {
		slots = min(slots, max(1, int(memLimit/4/1024/int64(p.Memory))))
	}
	return Bound{Memory: uint64(slots) * uint64(p.Memory), Wait: time.Second}
}

// Hasher hashes with fixed parameters, within a Bound. The zero value is
// not usable; use New.
type Hasher struct {
	p     Params
	dummy string
	// sem holds the argon2 memory (KiB) of the hashes in progress.
	sem      *semaphore.Weighted
	capacity int64
	wait     time.Duration
	// took is a moving average of how long a hash with p takes, in
	// nanoseconds, which Imitate waits.
	took     atomic.Int64
	computed atomic.Uint64
}

// New returns a Hasher with p within b; a zero field of b takes
// DefaultBound's.
func New(p Params, b Bound) *Hasher {
	d := DefaultBound(p)
	if b.Memory == 0 {
		b.Memory = d.Memory
	}
	if b.Wait <= 0 {
		b.Wait = d.Wait
	}
	capacity := int64(min(b.Memory, math.MaxInt64))
	h := &Hasher{p: p, sem: semaphore.NewWeighted(capacity), capacity: capacity, wait: b.Wait}
	// At start-up, outside the bound: nothing else is hashing yet.
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	h.dummy = h.encode(salt, h.compute(p, []byte("gatehouse dummy password for unknown users"), salt))
	return h
}

// acquire waits for the turn of a hash that needs kib of memory.
func (h *Hasher) acquire(ctx context.Context, kib uint32) (release func(), err error) {
	w := min(int64(kib), h.capacity)
	if !h.sem.TryAcquire(w) {
		wctx, cancel := context.WithTimeout(ctx, h.wait)
		err := h.sem.Acquire(wctx, w)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBusy, err)
		}
	}
	return func() { h.sem.Release(w) }, nil
}

// compute runs argon2id, keeping count and, for the Hasher's own
// parameters, the time it takes.
func (h *Hasher) compute(p Params, pw, salt []byte) []byte {
	start := time.Now()
	key := argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	h.computed.Add(1)
	if p.Memory == h.p.Memory && p.Time == h.p.Time && p.Threads == h.p.Threads {
		took := int64(time.Since(start))
		if old := h.took.Load(); old > 0 {
			took = old + (took-old)/8
		}
		h.took.Store(took)
	}
	return key
}

func (h *Hasher) encode(salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.p.Memory, h.p.Time, h.p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Hash returns the PHC string of pw, or ErrBusy.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	release, err := h.acquire(ctx, h.p.Memory)
	if err != nil {
		return "", err
	}
	defer release()
	salt := make([]byte, h.p.SaltLen)
	_, _ = rand.Read(salt)
	return h.encode(salt, h.compute(h.p, []byte(pw), salt)), nil
}

// Verify checks pw against the PHC string encoded: nil, ErrMismatch, an
// error for a malformed hash, or ErrBusy (which is no answer about pw). It
// reports whether the hash should be replaced because its parameters are
// below the Hasher's.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (rehash bool, err error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		if f, ferr := parseStored(encoded); ferr == nil {
			return h.verifyImported(ctx, f, pw)
		}
		return false, err
	}
	if len(pw) > MaxLength {
		return false, ErrMismatch
	}
	release, err := h.acquire(ctx, p.Memory)
	if err != nil {
		return false, err
	}
	defer release()
	p.KeyLen = uint32(len(key))
	if subtle.ConstantTimeCompare(h.compute(p, []byte(pw), salt), key) != 1 {
		return false, ErrMismatch
	}
	return p.Memory < h.p.Memory || p.Time < h.p.Time || p.Threads < h.p.Threads || p.KeyLen < h.p.KeyLen, nil
}

// verifyImported checks pw against a hash imported from another platform,
// within the bound like any other: it holds its own memory or, when it
// needs next to none (bcrypt, PBKDF2), one of the Hasher's hashes' worth,
// since it keeps a core as busy. A match always asks for a rehash: the
// user's next hash is the Hasher's argon2id.
func (h *Hasher) verifyImported(ctx context.Context, f *foreign, pw string) (rehash bool, err error) {
	if len(pw) > MaxLength {
		return false, ErrMismatch
	}
	release, err := h.acquire(ctx, max(f.memory, h.p.Memory))
	if err != nil {
		return false, err
	}
	defer release()
	if !f.verify([]byte(pw)) {
		return false, ErrMismatch
	}
	return true, nil
}

// VerifyDummy spends the work of one Verify on nothing, so that an unknown
// user costs what a wrong password costs. Its only error is ErrBusy.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) error {
	if _, err := h.Verify(ctx, h.dummy, pw); errors.Is(err, ErrBusy) {
		return err
	}
	return nil
}

// Imitate takes as long as a Verify with the Hasher's parameters: it
// queues for its turn as a Verify does (failing with ErrBusy when one
// would), then waits about as long as a hash takes (a moving average of
// the last ones, give or take a tenth), without computing anything or
// holding memory. An attempt that is refused anyway (a throttled login)
// thus costs the node nothing, and neither its answer nor its timing tells
// it from a wrong password.
func (h *Hasher) Imitate(ctx context.Context) error {
	release, err := h.acquire(ctx, h.p.Memory)
	if err != nil {
		return err
	}
	release()
	took := h.took.Load()
	t := time.NewTimer(time.Duration(took - took/10 + mrand.Int64N(took/5+1)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// Computed is how many argon2id hashes the Hasher has computed, for
// monitoring, and for tests that must see that an attempt cost none.
func (h *Hasher) Computed() uint64 { return h.computed.Load() }

func decode(encoded string) (p Params, salt, key []byte, err error) {
	// Only the canonical form Hash writes: Sscanf alone would also take
	// "p=1x", "v=+19" or "m=01", so each field must print back as itself.
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("password: not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version || parts[2] != fmt.Sprintf("v=%d", v) {
		return p, nil, nil, errors.New("password: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) {
		return p, nil, nil, errors.New("password: bad argon2 parameters")
	}
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.Memory > 4*1024*1024 || p.Time > 100 {
		return p, nil, nil, errors.New("password: argon2 parameters out of range")
	}
	b64 := base64.RawStdEncoding.Strict()
	// The decoder skips \r and \n: compare the re-encoding too.
	if salt, err = b64.DecodeString(parts[4]); err != nil || b64.EncodeToString(salt) != parts[4] {
		return p, nil, nil, errors.New("password: bad salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || b64.EncodeToString(key) != parts[5] {
		return p, nil, nil, errors.New("password: bad hash")
	}
	return p, salt, key, nil
}
