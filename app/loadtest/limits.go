package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse-id/gatehouse/tenants/password"
)

// rates are how often something happens: a second of wall-clock time, and
// a second of this process's CPU time (user and system). On a machine
// others share, the first moves with their load; the second much less.
type rates struct{ wall, cpu float64 }

// limits are this machine's own ceilings for what a token or a sign-in
// costs, measured with every core busy: RSA-2048 PKCS #1 v1.5 SHA-256
// signatures (RS256), ECDSA P-256 SHA-256 signatures (ES256) and argon2id
// hashes with the parameters users' passwords are hashed with. Each is
// measured before and after the scenarios; the rates are their means.
type limits struct {
	rsa, ecdsa, argon2 rates
	before, after      [3]rates // rsa, ecdsa, argon2
	procs              int
	params             password.Params
}

// limiter measures the limits; it holds the keys.
type limiter struct {
	d      time.Duration
	rk     *rsa.PrivateKey
	ek     *ecdsa.PrivateKey
	params password.Params
	salt   []byte
}

func newLimiter(d time.Duration) (*limiter, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	// What Gatehouse hashes passwords with (app/server: password.DefaultParams).
	p := password.DefaultParams()
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	return &limiter{d: d, rk: rk, ek: ek, params: p, salt: salt}, nil
}

var limitMessage = []byte(`{"alg":"RS256","kid":"k"}.{"iss":"https://load.test","sub":"worker","aud":"https://api.load.test"}`)

// measure runs each operation on GOMAXPROCS goroutines for the limiter's
// duration: RSA, ECDSA, argon2id.
func (l *limiter) measure() [3]rates {
	return [3]rates{
		perSecond(l.d, func() {
			sum := sha256.Sum256(limitMessage)
			_, _ = rsa.SignPKCS1v15(nil, l.rk, crypto.SHA256, sum[:])
		}),
		perSecond(l.d, func() {
			sum := sha256.Sum256(limitMessage)
			_, _ = ecdsa.SignASN1(rand.Reader, l.ek, sum[:])
		}),
		perSecond(l.d, func() {
			_ = argon2.IDKey([]byte("correct horse battery staple"), l.salt, l.params.Time, l.params.Memory, l.params.Threads, l.params.KeyLen)
		}),
	}
}

// combine makes the limits of a measurement before and after.
func (l *limiter) combine(before, after [3]rates) *limits {
	mean := func(i int) rates {
		return rates{(before[i].wall + after[i].wall) / 2, (before[i].cpu + after[i].cpu) / 2}
	}
	return &limits{rsa: mean(0), ecdsa: mean(1), argon2: mean(2), before: before, after: after, procs: runtime.GOMAXPROCS(0), params: l.params}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times (100
// on every architecture Go supports).
const clockTicks = 100

// processCPU is the CPU time (user and system, all threads) of process
// pid, from /proc/PID/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the name.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// perSecond runs op on every core for d (each goroutine at least once).
func perSecond(d time.Duration, op func()) rates {
	var n atomic.Int64
	start, cpu0 := time.Now(), cpuTime()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				op()
				n.Add(1)
				if !time.Now().Before(deadline) {
					return
				}
			}
		})
	}
	wg.Wait()
	r := rates{wall: float64(n.Load()) / time.Since(start).Seconds()}
	if cpu := cpuTime() - cpu0; cpu > 0 {
		r.cpu = float64(n.Load()) / cpu.Seconds()
	}
	return r
}

// signatures returns the limit of the signatures alg makes and its name;
// zero rates when this machine's limit for alg is not measured (EdDSA).
func (l *limits) signatures(alg string) (rates, string) {
	switch alg {
	case "", "RS256":
		return l.rsa, "RSA-2048"
	case "PS256":
		// RSASSA-PSS costs what PKCS #1 v1.5 does: one private-key operation.
		return l.rsa, "RSA-2048 (PSS)"
	case "ES256":
		return l.ecdsa, "ECDSA P-256"
	}
	return rates{}, alg
}
