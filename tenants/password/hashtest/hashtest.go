// Package hashtest makes password hashes in the formats of other
// platforms, as their exports carry them, for tests of the import: each
// fixture is the JSON value of an import line's password_hash.
package hashtest

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Fixture is a hash of a password in one format.
type Fixture struct {
	Name string
	// JSON is the value of password_hash: a JSON string or object.
	JSON json.RawMessage
}

func str(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func obj(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func salt(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

var phc = base64.RawStdEncoding

func pbkdf(h func() hash.Hash, pw string, s []byte, iter, n int) []byte {
	k, err := pbkdf2.Key(h, pw, s, iter, n)
	if err != nil {
		panic(err)
	}
	return k
}

// Bcrypt is pw's bcrypt hash of cost, with version prefix v ("2a", "2b",
// "2y").
func Bcrypt(pw string, cost int, v string) string {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		panic(err)
	}
	return "$" + v + string(b[3:])
}

// All returns a hash of pw in every format the import reads, with small
// costs where the format allows (iterations are what they cost at login).
func All(pw string) []Fixture {
	s := salt(16)
	a2id := argon2.IDKey([]byte(pw), s, 1, 1024, 1, 32)
	a2i := argon2.Key([]byte(pw), s, 2, 1024, 1, 32)
	sc, err := scrypt.Key([]byte(pw), s, 1<<10, 8, 1, 32)
	if err != nil {
		panic(err)
	}
	djangoSalt := "Vg2Tqf6rNeWQ"
	sum := sha256.Sum256(append([]byte("pepper"), pw...))
	sum512 := sha512.Sum512(append([]byte(pw), "pepper"...))
	ab64 := func(b []byte) string { // passlib's adapted base64
		out := []byte(phc.EncodeToString(b))
		for i, c := range out {
			if c == '+' {
				out[i] = '.'
			}
		}
		return string(out)
	}
	return []Fixture{
		{"bcrypt $2a$", str(Bcrypt(pw, 10, "2a"))},
		{"bcrypt $2b$", str(Bcrypt(pw, 10, "2b"))},
		{"bcrypt $2y$", str(Bcrypt(pw, 10, "2y"))},
		{"argon2id PHC", str(fmt.Sprintf("$argon2id$v=19$m=1024,t=1,p=1$%s$%s", phc.EncodeToString(s), phc.EncodeToString(a2id)))},
		{"argon2i PHC", str(fmt.Sprintf("$argon2i$v=19$m=1024,t=2,p=1$%s$%s", phc.EncodeToString(s), phc.EncodeToString(a2i)))},
		{"scrypt PHC", str(fmt.Sprintf("$scrypt$ln=10,r=8,p=1$%s$%s", phc.EncodeToString(s), phc.EncodeToString(sc)))},
		{"pbkdf2-sha1 PHC", str(fmt.Sprintf("$pbkdf2-sha1$i=1000,l=20$%s$%s", phc.EncodeToString(s), phc.EncodeToString(pbkdf(sha1.New, pw, s, 1000, 20))))},
		{"pbkdf2-sha256 PHC", str(fmt.Sprintf("$pbkdf2-sha256$i=1000$%s$%s", phc.EncodeToString(s), phc.EncodeToString(pbkdf(sha256.New, pw, s, 1000, 32))))},
		{"pbkdf2-sha512 passlib", str(fmt.Sprintf("$pbkdf2-sha512$1000$%s$%s", ab64(s), ab64(pbkdf(sha512.New, pw, s, 1000, 64))))},
		{"Django pbkdf2_sha256", str(fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", 1000, djangoSalt,
			base64.StdEncoding.EncodeToString(pbkdf(sha256.New, pw, []byte(djangoSalt), 1000, 32))))},
		{"Django pbkdf2_sha1", str(fmt.Sprintf("pbkdf2_sha1$%d$%s$%s", 1000, djangoSalt,
			base64.StdEncoding.EncodeToString(pbkdf(sha1.New, pw, []byte(djangoSalt), 1000, 20))))},
		{"Keycloak credential (secretData)", obj(map[string]any{
			"type":           "password",
			"secretData":     string(obj(map[string]any{"value": base64.StdEncoding.EncodeToString(pbkdf(sha256.New, pw, s, 1000, 64)), "salt": base64.StdEncoding.EncodeToString(s), "additionalParameters": map[string]any{}})),
			"credentialData": string(obj(map[string]any{"hashIterations": 1000, "algorithm": "pbkdf2-sha256", "additionalParameters": map[string]any{}})),
		})},
		{"Keycloak credential (legacy)", obj(map[string]any{
			"type": "password", "hashedSaltedValue": base64.StdEncoding.EncodeToString(pbkdf(sha512.New, pw, s, 1000, 64)),
			"salt": base64.StdEncoding.EncodeToString(s), "hashIterations": 1000, "algorithm": "pbkdf2-sha512",
		})},
		{"Auth0 bcrypt", obj(map[string]any{"algorithm": "bcrypt", "hash": map[string]any{"value": Bcrypt(pw, 10, "2b")}})},
		{"Auth0 sha256 salt prefix", obj(map[string]any{"algorithm": "sha256",
			"hash": map[string]any{"value": hex.EncodeToString(sum[:]), "encoding": "hex"},
			"salt": map[string]any{"value": "pepper", "position": "prefix", "encoding": "utf8"}})},
		{"Auth0 sha512 salt suffix base64", obj(map[string]any{"algorithm": "sha512",
			"hash": map[string]any{"value": base64.StdEncoding.EncodeToString(sum512[:]), "encoding": "base64"},
			"salt": map[string]any{"value": "pepper", "position": "suffix"}})},
		{"Auth0 pbkdf2", obj(map[string]any{"algorithm": "pbkdf2", "hash": map[string]any{"value": fmt.Sprintf("$pbkdf2-sha256$i=1000,l=32$%s$%s",
			phc.EncodeToString(s), phc.EncodeToString(pbkdf(sha256.New, pw, s, 1000, 32)))}})},
	}
}
