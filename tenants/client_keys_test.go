package tenants

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestParseClientKeys(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	set := func(keys ...jose.JSONWebKey) string {
		b, _ := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		return string(b)
	}
	many := make([]jose.JSONWebKey, MaxClientJWKSKeys+1)
	for i := range many {
		many[i] = jose.JSONWebKey{Key: &ek.PublicKey}
	}
	for _, tc := range []struct {
		name    string
		raw     string
		wantErr bool
	}{
		{"RSA, EC and Ed25519", set(jose.JSONWebKey{Key: &rk.PublicKey, KeyID: "r"}, jose.JSONWebKey{Key: &ek.PublicKey, KeyID: "e"}, jose.JSONWebKey{Key: edPub, KeyID: "d"}), false},
		{"alg named", set(jose.JSONWebKey{Key: &rk.PublicKey, Algorithm: "PS256"}), false},
		{"private key", set(jose.JSONWebKey{Key: rk}), true},
		{"short RSA", set(jose.JSONWebKey{Key: &small.PublicKey}), true},
		{"P-384", set(jose.JSONWebKey{Key: &p384.PublicKey}), true},
		{"HS256 alg", set(jose.JSONWebKey{Key: &rk.PublicKey, Algorithm: "HS256"}), true},
		{"none alg", set(jose.JSONWebKey{Key: &rk.PublicKey, Algorithm: "none"}), true},
		{"encryption key", set(jose.JSONWebKey{Key: &rk.PublicKey, Use: "enc"}), true},
		{"symmetric key", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, true},
		{"kid twice", set(jose.JSONWebKey{Key: &rk.PublicKey, KeyID: "a"}, jose.JSONWebKey{Key: &ek.PublicKey, KeyID: "a"}), true},
		{"no keys", `{"keys":[]}`, true},
		{"too many keys", set(many...), true},
		{"not JSON", `{`, true},
		{"keys not a list", `{"keys":{}}`, true},
		{"too large", `{"keys":[],"x":"` + strings.Repeat("x", MaxClientJWKSBytes) + `"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClientKeys("jwks", []byte(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			var ve *ValidationError
			if err != nil && (!errors.As(err, &ve) || ve.Field != "jwks") {
				t.Fatalf("err = %#v, want a ValidationError of jwks", err)
			}
		})
	}
	if got := KeyAlgorithms(jose.JSONWebKey{Key: &rk.PublicKey}); !slices.Equal(got, []string{AlgRS256, AlgPS256}) {
		t.Errorf("RSA key algorithms %v", got)
	}
	if got := KeyAlgorithms(jose.JSONWebKey{Key: &rk.PublicKey, Algorithm: AlgPS256}); !slices.Equal(got, []string{AlgPS256}) {
		t.Errorf("PS256 key algorithms %v", got)
	}
}

func TestValidateAuthMethod(t *testing.T) {
	for _, tc := range []struct {
		method  string
		public  bool
		want    string
		wantErr bool
	}{
		{"", false, AuthMethodBasic, false},
		{"", true, AuthMethodNone, false},
		{AuthMethodPrivateKey, false, AuthMethodPrivateKey, false},
		{AuthMethodPrivateKey, true, "", true},
		{AuthMethodSecretJWT, false, AuthMethodSecretJWT, false},
		{AuthMethodSecretJWT, true, "", true},
		{AuthMethodNone, false, "", true},
		{AuthMethodBasic, true, "", true},
		{"tls_client_auth", false, "", true},
	} {
		got, err := ValidateAuthMethod(tc.method, tc.public)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ValidateAuthMethod(%q, %v) = %q, %v", tc.method, tc.public, got, err)
		}
	}
}
