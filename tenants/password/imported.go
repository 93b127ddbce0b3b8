package password

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Bounds on the cost of an imported hash. An imported hash is verified at
// an anonymous login, so its parameters decide what a guess costs the
// server: each bound admits what the platforms people leave use by
// default (bcrypt 10–12, Django's 600,000 PBKDF2 iterations, Keycloak's
// 27,500–210,000, OWASP's argon2id and scrypt settings) and refuses what
// would make a guess a denial of service.
const (
	MinBcryptCost    = 10
	MaxBcryptCost    = 14
	MaxPBKDF2Iter    = 1_000_000
	MaxArgon2Memory  = 256 * 1024 // KiB
	MaxArgon2Time    = 10
	MaxArgon2Threads = 16
	MaxScryptMemory  = 256 * 1024 // KiB: 128·N·r bytes
	MaxScryptCost    = 1 << 20    // N·r·p, the work of the mixing (ln=17, r=8, p=1)
	maxHashedInput   = 4096       // bytes of a stored hash (JSON forms included)
)

// ErrUnknownFormat is returned by Import for a hash in no format Gatehouse
// verifies.
var ErrUnknownFormat = errors.New("unknown password hash format")

// importError is a refused imported hash, with the reason shown to the
// admin who imported it (it never contains the hash).
func importError(format string, args ...any) error {
	return fmt.Errorf("password_hash: "+format, args...)
}

// scheme is a stored hash format Verify understands besides the Hasher's
// own argon2id: the registry below is the one list of them.
type scheme struct {
	name string
	// match reports whether a stored hash is in the scheme.
	match func(stored string) bool
	// parse checks a stored hash (its bounds included) and returns what
	// verifies a password against it.
	parse func(stored string) (*foreign, error)
}

// foreign verifies passwords against one imported hash.
type foreign struct {
	// memory is what a verification holds, in KiB (0: next to nothing,
	// though it takes a core, so it queues as one of the Hasher's).
	memory uint32
	verify func(pw []byte) bool
}

// schemes is the registry of imported formats, in their canonical stored
// form (what Import writes).
var schemes = []scheme{
	{name: "bcrypt", match: func(s string) bool { return strings.HasPrefix(s, "$2") }, parse: parseBcrypt},
	{name: "argon2", match: func(s string) bool { return strings.HasPrefix(s, "$argon2i$") || strings.HasPrefix(s, "$argon2id$") }, parse: parseArgon2},
	{name: "scrypt", match: func(s string) bool { return strings.HasPrefix(s, "$scrypt$") }, parse: parseScrypt},
	{name: "pbkdf2", match: func(s string) bool { return strings.HasPrefix(s, "$pbkdf2-") }, parse: parsePBKDF2},
	{name: "salted digest", match: func(s string) bool { return strings.HasPrefix(s, "$digest-") }, parse: parseDigest},
}

// parseStored returns the verifier of a stored hash in any imported format.
func parseStored(stored string) (*foreign, error) {
	if len(stored) > maxHashedInput {
		return nil, importError("too long")
	}
	for _, s := range schemes {
		if s.match(stored) {
			return s.parse(stored)
		}
	}
	return nil, ErrUnknownFormat
}

var bcryptRE = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)

func parseBcrypt(s string) (*foreign, error) {
	if !bcryptRE.MatchString(s) {
		return nil, importError("malformed bcrypt hash")
	}
	cost, err := strconv.Atoi(s[4:6])
	if err != nil || cost < MinBcryptCost || cost > MaxBcryptCost {
		return nil, importError("bcrypt cost %s is out of bounds (%d to %d)", s[4:6], MinBcryptCost, MaxBcryptCost)
	}
	hashed := []byte(s)
	return &foreign{verify: func(pw []byte) bool {
		// bcrypt reads 72 bytes at most; a longer password is refused
		// rather than truncated.
		return len(pw) <= 72 && bcrypt.CompareHashAndPassword(hashed, pw) == nil
	}}, nil
}

// phc splits a PHC string $id$params$salt$hash (with or without a v=
// field) into its parts; params are k=v pairs.
func phc(s string) (id string, version string, params map[string]string, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if parts[0] != "" || len(parts) < 5 || len(parts) > 6 {
		return "", "", nil, nil, nil, importError("not a PHC string")
	}
	id = parts[1]
	rest := parts[2:]
	if len(parts) == 6 {
		version, rest = rest[0], rest[1:]
	}
	params = map[string]string{}
	for _, kv := range strings.Split(rest[0], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" || params[k] != "" {
			return "", "", nil, nil, nil, importError("malformed %s parameters", id)
		}
		params[k] = v
	}
	if salt, err = b64(rest[1]); err != nil {
		return "", "", nil, nil, nil, importError("malformed %s salt", id)
	}
	if key, err = b64(rest[2]); err != nil || len(key) < 16 || len(key) > 128 {
		return "", "", nil, nil, nil, importError("malformed %s hash", id)
	}
	return id, version, params, salt, key, nil
}

// b64 decodes PHC's base64 (standard alphabet, no padding), accepting
// only the canonical form.
func b64(s string) ([]byte, error) {
	enc := base64.RawStdEncoding.Strict()
	b, err := enc.DecodeString(s)
	if err != nil || enc.EncodeToString(b) != s {
		return nil, errors.New("bad base64")
	}
	return b, nil
}

// param reads the decimal parameter k of params within [lo, hi], in its
// canonical form (no sign, no leading zero).
func param(params map[string]string, k string, lo, hi uint64) (uint64, bool) {
	v, ok := params[k]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != v || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

func parseArgon2(s string) (*foreign, error) {
	id, version, params, salt, key, err := phc(s)
	if err != nil {
		return nil, err
	}
	if version != "v=19" {
		return nil, importError("argon2 version %q is not supported (only v=19)", version)
	}
	if len(params) != 3 {
		return nil, importError("malformed argon2 parameters")
	}
	p, okP := param(params, "p", 1, MaxArgon2Threads)
	t, okT := param(params, "t", 1, MaxArgon2Time)
	m, okM := param(params, "m", 8*p, MaxArgon2Memory)
	if !okM || !okT || !okP {
		return nil, importError("argon2 parameters out of bounds (m up to %d KiB, t up to %d, p up to %d)", MaxArgon2Memory, MaxArgon2Time, MaxArgon2Threads)
	}
	if len(salt) < 8 {
		return nil, importError("argon2 salt too short")
	}
	f := argon2.IDKey
	if id == "argon2i" {
		f = argon2.Key
	}
	return &foreign{memory: uint32(m), verify: func(pw []byte) bool {
		return subtle.ConstantTimeCompare(f(pw, salt, uint32(t), uint32(m), uint8(p), uint32(len(key))), key) == 1
	}}, nil
}

func parseScrypt(s string) (*foreign, error) {
	_, version, params, salt, key, err := phc(s)
	if err != nil {
		return nil, err
	}
	if version != "" || len(params) != 3 {
		return nil, importError("malformed scrypt parameters")
	}
	ln, okN := param(params, "ln", 1, 24)
	r, okR := param(params, "r", 1, 32)
	p, okP := param(params, "p", 1, 16)
	if !okN || !okR || !okP {
		return nil, importError("scrypt parameters out of bounds")
	}
	n := uint64(1) << ln
	mem := 128 * n * r / 1024
	if mem > MaxScryptMemory || n*r*p > MaxScryptCost {
		return nil, importError("scrypt cost out of bounds (128·N·r up to %d KiB, N·r·p up to %d)", MaxScryptMemory, MaxScryptCost)
	}
	return &foreign{memory: uint32(mem), verify: func(pw []byte) bool {
		got, err := scrypt.Key(pw, salt, int(n), int(r), int(p), len(key))
		return err == nil && subtle.ConstantTimeCompare(got, key) == 1
	}}, nil
}

// digests are the hash functions of PBKDF2 and of salted digests, by the
// name the stored forms use.
var digests = map[string]func() hash.Hash{
	"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New,
}

func parsePBKDF2(s string) (*foreign, error) {
	id, version, params, salt, key, err := phc(s)
	if err != nil {
		return nil, err
	}
	h, ok := digests[strings.TrimPrefix(id, "pbkdf2-")]
	if !ok || version != "" || len(params) != 1 {
		return nil, importError("malformed pbkdf2 hash")
	}
	iter, ok := param(params, "i", 1, MaxPBKDF2Iter)
	if !ok {
		return nil, importError("pbkdf2 iterations out of bounds (1 to %d)", MaxPBKDF2Iter)
	}
	return &foreign{verify: func(pw []byte) bool {
		got, err := pbkdf2.Key(h, string(pw), salt, int(iter), len(key))
		return err == nil && subtle.ConstantTimeCompare(got, key) == 1
	}}, nil
}

// The stored form of a salted digest (Auth0's md5/sha1/sha256/sha512
// imports): $digest-<alg>$pos=prefix|suffix$<salt>$<hash>, salt and hash in
// PHC base64 (the salt may be empty).
var digestsOnce = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New,
}

func parseDigest(s string) (*foreign, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 5 || parts[0] != "" {
		return nil, importError("malformed salted digest")
	}
	h, ok := digestsOnce[strings.TrimPrefix(parts[1], "digest-")]
	if !ok || (parts[2] != "pos=prefix" && parts[2] != "pos=suffix") {
		return nil, importError("malformed salted digest")
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[3])
	if err != nil || base64.RawStdEncoding.EncodeToString(salt) != parts[3] {
		return nil, importError("malformed salt")
	}
	key, err := b64(parts[4])
	if err != nil || len(key) != h().Size() {
		return nil, importError("malformed digest")
	}
	prefix := parts[2] == "pos=prefix"
	return &foreign{verify: func(pw []byte) bool {
		d := h()
		if prefix {
			d.Write(salt)
			d.Write(pw)
		} else {
			d.Write(pw)
			d.Write(salt)
		}
		return subtle.ConstantTimeCompare(d.Sum(nil), key) == 1
	}}, nil
}
