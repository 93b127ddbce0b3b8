// Package secret owns Gatehouse's handling of secrets at rest: random
// tokens, their hashes, and the master-key box that seals keys.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Token returns a random URL-safe token of n bytes of entropy (n >= 16).
func Token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the hex SHA-256 of a high-entropy secret (token, code, client
// secret, session id). A fast hash is right for these: they cannot be
// guessed, so there is nothing for a slow hash to protect.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Equal compares two strings in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// MasterKeySize is the length in bytes of the master key (AES-256).
const MasterKeySize = 32

// ParseMasterKey decodes a master key given as 64 hex digits or as standard
// or URL-safe base64 of 32 bytes.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("master key is empty")
	}
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == MasterKeySize {
			if allSame(b) {
				return nil, errors.New("master key is a constant byte pattern; generate a random one")
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("master key must be %d random bytes, as 64 hex digits or base64", MasterKeySize)
}

func allSame(b []byte) bool {
	for _, c := range b[1:] {
		if c != b[0] {
			return false
		}
	}
	return true
}

// NewMasterKey returns a fresh random master key, base64-encoded.
func NewMasterKey() string {
	b := make([]byte, MasterKeySize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Box seals and opens secrets with AES-256-GCM under a key derived from the
// master key. It also derives the other keys Gatehouse needs from the
// master key, each for one purpose.
type Box struct {
	master []byte
	aead   cipher.AEAD
}

// NewBox returns a Box for a 32-byte master key.
func NewBox(master []byte) (*Box, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("master key must be %d bytes", MasterKeySize)
	}
	b := &Box{master: append([]byte(nil), master...)}
	block, err := aes.NewCipher(b.Derive("gatehouse seal v1", 32))
	if err != nil {
		return nil, err
	}
	b.aead, err = cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Derive returns n bytes derived from the master key for purpose (HKDF-SHA256).
func (b *Box) Derive(purpose string, n int) []byte {
	k, err := hkdf.Key(sha256.New, b.master, nil, purpose, n)
	if err != nil {
		panic(err) // only for n beyond 255*32, a programming error
	}
	return k
}

// Seal encrypts plaintext; aad binds it to its context (for a signing key,
// the tenant and key id) so that a sealed value cannot be moved elsewhere.
func (b *Box) Seal(plaintext, aad []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, plaintext, aad)
}

// Open decrypts what Seal returned for the same aad.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("secret: sealed value too short")
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, errors.New("secret: cannot open sealed value (wrong master key?)")
	}
	return out, nil
}

// MAC returns the base64url HMAC-SHA256 of msg under key.
func MAC(key []byte, msg ...string) string {
	m := hmac.New(sha256.New, key)
	for _, s := range msg {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
