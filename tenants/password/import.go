package password

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Import checks a password hash brought from another platform and returns
// the form Gatehouse stores (and Verify reads), or an error that says why
// it is refused: ErrUnknownFormat, or a malformed hash, or a cost out of
// bounds. raw is the JSON value of the import's password_hash: a string
// (bcrypt $2a$/$2b$/$2y$; argon2id or argon2i PHC; scrypt PHC; PBKDF2 PHC
// $pbkdf2-sha1|sha256|sha512$, in the PHC i=/l= or passlib layout; Django's
// pbkdf2_sha256$…, pbkdf2_sha1$… and argon2$…) or an object (Keycloak's
// credential representation with hashIterations, algorithm, salt; Auth0's
// custom_password_hash with algorithm, hash and salt). No hash is computed.
func Import(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > maxHashedInput {
		return "", importError("too long")
	}
	if len(raw) == 0 || raw[0] != '{' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", importError("must be a string or an object")
		}
		return importString(s)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return "", importError("malformed object")
	}
	if _, ok := probe["algorithm"]; ok {
		if _, ok := probe["hash"]; ok {
			return importAuth0(raw)
		}
	}
	if _, ok := probe["credentialData"]; ok {
		return importKeycloak(raw)
	}
	if _, ok := probe["hashIterations"]; ok {
		return importKeycloak(raw)
	}
	return "", ErrUnknownFormat
}

// checked returns stored if Verify can read it within its bounds.
func checked(stored string) (string, error) {
	if _, err := parseStored(stored); err != nil {
		return "", err
	}
	return stored, nil
}

func importString(s string) (string, error) {
	switch {
	case strings.HasPrefix(s, "$2"):
		return checked(s)
	case strings.HasPrefix(s, "$argon2"), strings.HasPrefix(s, "$scrypt$"), strings.HasPrefix(s, "$digest-"):
		return checked(s)
	case strings.HasPrefix(s, "argon2$argon2"): // Django's Argon2PasswordHasher
		return checked(strings.TrimPrefix(s, "argon2"))
	case strings.HasPrefix(s, "$pbkdf2-"):
		return importPBKDF2PHC(s)
	case strings.HasPrefix(s, "pbkdf2_"):
		return importDjango(s)
	}
	return "", ErrUnknownFormat
}

// pbkdf2Stored is the canonical stored form of a PBKDF2 hash.
func pbkdf2Stored(digest string, iter uint64, salt, key []byte) (string, error) {
	b := base64.RawStdEncoding
	return checked(fmt.Sprintf("$pbkdf2-%s$i=%d$%s$%s", digest, iter, b.EncodeToString(salt), b.EncodeToString(key)))
}

// importPBKDF2PHC reads $pbkdf2-<digest>$i=N[,l=L]$salt$hash (PHC, as Auth0
// and others write it) or passlib's $pbkdf2-<digest>$N$salt$hash (its
// "adapted" base64, with . for +).
func importPBKDF2PHC(s string) (string, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 5 || parts[0] != "" {
		return "", importError("malformed pbkdf2 hash")
	}
	digest := strings.TrimPrefix(parts[1], "pbkdf2-")
	if _, ok := digests[digest]; !ok {
		return "", importError("pbkdf2 digest %q is not supported", digest)
	}
	var iter uint64
	var err error
	if strings.HasPrefix(parts[2], "i=") {
		params := map[string]string{}
		for _, kv := range strings.Split(parts[2], ",") {
			k, v, _ := strings.Cut(kv, "=")
			params[k] = v
		}
		var ok bool
		if iter, ok = param(params, "i", 1, MaxPBKDF2Iter); !ok {
			return "", importError("pbkdf2 iterations out of bounds (1 to %d)", MaxPBKDF2Iter)
		}
		for k := range params {
			if k != "i" && k != "l" {
				return "", importError("malformed pbkdf2 parameters")
			}
		}
		salt, err1 := lenientB64(parts[3])
		key, err2 := lenientB64(parts[4])
		if err1 != nil || err2 != nil {
			return "", importError("malformed pbkdf2 salt or hash")
		}
		if l, ok := params["l"]; ok && l != strconv.Itoa(len(key)) {
			return "", importError("pbkdf2 key length does not match l")
		}
		return pbkdf2Stored(digest, iter, salt, key)
	}
	if iter, err = strconv.ParseUint(parts[2], 10, 64); err != nil || iter < 1 || iter > MaxPBKDF2Iter {
		return "", importError("pbkdf2 iterations out of bounds (1 to %d)", MaxPBKDF2Iter)
	}
	salt, err1 := lenientB64(strings.ReplaceAll(parts[3], ".", "+"))
	key, err2 := lenientB64(strings.ReplaceAll(parts[4], ".", "+"))
	if err1 != nil || err2 != nil {
		return "", importError("malformed pbkdf2 salt or hash")
	}
	return pbkdf2Stored(digest, iter, salt, key)
}

// lenientB64 decodes standard or URL-safe base64, padded or not.
func lenientB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}

// importDjango reads Django's pbkdf2_sha256$<iterations>$<salt>$<base64
// hash> (and pbkdf2_sha1): the salt is used as its UTF-8 bytes.
func importDjango(s string) (string, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 {
		return "", importError("malformed Django hash")
	}
	digest := strings.TrimPrefix(parts[0], "pbkdf2_")
	if _, ok := digests[digest]; !ok || digest == "sha512" {
		return "", importError("Django hasher %q is not supported", parts[0])
	}
	iter, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil || strconv.FormatUint(iter, 10) != parts[1] || iter < 1 || iter > MaxPBKDF2Iter {
		return "", importError("pbkdf2 iterations out of bounds (1 to %d)", MaxPBKDF2Iter)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(parts[3])
	if err != nil || parts[2] == "" {
		return "", importError("malformed Django salt or hash")
	}
	return pbkdf2Stored(digest, iter, []byte(parts[2]), key)
}

// keycloakCredential is Keycloak's credential representation of a
// password, as its realm export writes it: since Keycloak 11 the value and
// salt in secretData and the algorithm and iterations in credentialData
// (each a JSON document in a string), before that at the top level.
type keycloakCredential struct {
	Type              string          `json:"type"`
	SecretData        json.RawMessage `json:"secretData"`
	CredentialData    json.RawMessage `json:"credentialData"`
	HashedSaltedValue string          `json:"hashedSaltedValue"`
	Salt              string          `json:"salt"`
	HashIterations    uint64          `json:"hashIterations"`
	Algorithm         string          `json:"algorithm"`
}

// embedded unmarshals a field that is either a JSON object or a string
// holding one.
func embedded(raw json.RawMessage, v any) error {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = []byte(s)
	}
	return json.Unmarshal(raw, v)
}

func importKeycloak(raw []byte) (string, error) {
	var c keycloakCredential
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", importError("malformed Keycloak credential")
	}
	if c.Type != "" && c.Type != "password" {
		return "", importError("Keycloak credential type %q is not a password", c.Type)
	}
	value := c.HashedSaltedValue
	if len(c.SecretData) > 0 {
		var sd struct {
			Value string `json:"value"`
			Salt  string `json:"salt"`
		}
		var cd struct {
			HashIterations uint64 `json:"hashIterations"`
			Algorithm      string `json:"algorithm"`
		}
		if embedded(c.SecretData, &sd) != nil || embedded(c.CredentialData, &cd) != nil {
			return "", importError("malformed Keycloak secretData or credentialData")
		}
		value, c.Salt, c.HashIterations, c.Algorithm = sd.Value, sd.Salt, cd.HashIterations, cd.Algorithm
	}
	digest := map[string]string{"pbkdf2": "sha1", "pbkdf2-sha256": "sha256", "pbkdf2-sha512": "sha512"}[c.Algorithm]
	if digest == "" {
		return "", importError("Keycloak algorithm %q is not supported", c.Algorithm)
	}
	if c.HashIterations < 1 || c.HashIterations > MaxPBKDF2Iter {
		return "", importError("pbkdf2 iterations out of bounds (1 to %d)", MaxPBKDF2Iter)
	}
	salt, err1 := lenientB64(c.Salt)
	key, err2 := lenientB64(value)
	if err1 != nil || err2 != nil || len(salt) == 0 {
		return "", importError("malformed Keycloak salt or value")
	}
	return pbkdf2Stored(digest, c.HashIterations, salt, key)
}

// auth0Hash is Auth0's custom_password_hash of its bulk user import.
type auth0Hash struct {
	Algorithm string `json:"algorithm"`
	Hash      struct {
		Value    string `json:"value"`
		Encoding string `json:"encoding"`
	} `json:"hash"`
	Salt *struct {
		Value    string `json:"value"`
		Encoding string `json:"encoding"`
		Position string `json:"position"`
	} `json:"salt"`
}

// decodeAs decodes s in Auth0's encoding name (def when empty).
func decodeAs(s, encoding, def string) ([]byte, error) {
	if encoding == "" {
		encoding = def
	}
	switch encoding {
	case "hex":
		return hex.DecodeString(strings.ToLower(s))
	case "base64":
		return lenientB64(s)
	case "utf8":
		return []byte(s), nil
	}
	return nil, fmt.Errorf("encoding %q", encoding)
}

func importAuth0(raw []byte) (string, error) {
	var a auth0Hash
	if err := json.Unmarshal(raw, &a); err != nil {
		return "", importError("malformed custom_password_hash")
	}
	switch a.Algorithm {
	case "bcrypt", "argon2", "pbkdf2":
		// The value is the hash in its own format (PHC, or bcrypt's).
		if a.Salt != nil {
			return "", importError("custom_password_hash: %s takes no separate salt", a.Algorithm)
		}
		s, err := importString(a.Hash.Value)
		if err == ErrUnknownFormat {
			return "", importError("custom_password_hash: not a %s hash", a.Algorithm)
		}
		return s, err
	case "md5", "sha1", "sha256", "sha512":
		key, err := decodeAs(a.Hash.Value, a.Hash.Encoding, "hex")
		if err != nil {
			return "", importError("custom_password_hash: malformed hash value")
		}
		var salt []byte
		pos := "prefix"
		if a.Salt != nil {
			if salt, err = decodeAs(a.Salt.Value, a.Salt.Encoding, "utf8"); err != nil {
				return "", importError("custom_password_hash: malformed salt value")
			}
			if a.Salt.Position != "prefix" && a.Salt.Position != "suffix" {
				return "", importError("custom_password_hash: salt position must be prefix or suffix")
			}
			pos = a.Salt.Position
		}
		b := base64.RawStdEncoding
		return checked(fmt.Sprintf("$digest-%s$pos=%s$%s$%s", a.Algorithm, pos, b.EncodeToString(salt), b.EncodeToString(key)))
	}
	return "", importError("custom_password_hash: algorithm %q is not supported", a.Algorithm)
}
