// Package password hashes and verifies user passwords with argon2id, stored
// as PHC strings, and says when a stored hash should be upgraded.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
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

// Hasher hashes with fixed parameters. The zero value is not usable; use New.
type Hasher struct {
	p     Params
	dummy string
}

// New returns a Hasher with p.
func New(p Params) *Hasher {
	h := &Hasher{p: p}
	h.dummy = h.Hash("gatehouse dummy password for unknown users")
	return h
}

// Hash returns the PHC string of pw.
func (h *Hasher) Hash(pw string) string {
	salt := make([]byte, h.p.SaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.p.Memory, h.p.Time, h.p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify checks pw against the PHC string encoded. It reports whether the
// hash should be replaced because its parameters are below the Hasher's.
func (h *Hasher) Verify(encoded, pw string) (rehash bool, err error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if len(pw) > MaxLength {
		return false, ErrMismatch
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, ErrMismatch
	}
	return p.Memory < h.p.Memory || p.Time < h.p.Time || p.Threads < h.p.Threads || uint32(len(key)) < h.p.KeyLen, nil
}

// VerifyDummy spends the time of one Verify on nothing, so that an unknown
// user costs what a wrong password costs.
func (h *Hasher) VerifyDummy(pw string) {
	_, _ = h.Verify(h.dummy, pw)
}

func decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("password: not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errors.New("password: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errors.New("password: bad argon2 parameters")
	}
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.Memory > 4*1024*1024 || p.Time > 100 {
		return p, nil, nil, errors.New("password: argon2 parameters out of range")
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, errors.New("password: bad salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, errors.New("password: bad hash")
	}
	return p, salt, key, nil
}
