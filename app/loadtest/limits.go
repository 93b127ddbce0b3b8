package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse-id/gatehouse/tenants/password"
)

// limits are this machine's own ceilings for what a token or a sign-in
// costs, measured with every core busy: RSA-2048 PKCS #1 v1.5 SHA-256
// signatures (RS256), ECDSA P-256 SHA-256 signatures (ES256) and argon2id
// hashes with the parameters users' passwords are hashed with.
type limits struct {
	rsa, ecdsa, argon2 float64 // per second
	procs              int
	params             password.Params
}

// measureLimits runs each operation on GOMAXPROCS goroutines for d.
func measureLimits(d time.Duration) (*limits, error) {
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
	l := &limits{procs: runtime.GOMAXPROCS(0), params: p}
	msg := []byte(`{"alg":"RS256","kid":"k"}.{"iss":"https://load.test","sub":"worker","aud":"https://api.load.test"}`)
	l.rsa = perSecond(d, func() {
		sum := sha256.Sum256(msg)
		_, _ = rsa.SignPKCS1v15(nil, rk, crypto.SHA256, sum[:])
	})
	l.ecdsa = perSecond(d, func() {
		sum := sha256.Sum256(msg)
		_, _ = ecdsa.SignASN1(rand.Reader, ek, sum[:])
	})
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	l.argon2 = perSecond(d, func() {
		_ = argon2.IDKey([]byte("correct horse battery staple"), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	})
	return l, nil
}

// perSecond runs op on every core for d and returns how many it did a
// second (each goroutine does at least one).
func perSecond(d time.Duration, op func()) float64 {
	var n atomic.Int64
	start := time.Now()
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
	return float64(n.Load()) / time.Since(start).Seconds()
}
