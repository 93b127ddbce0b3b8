package social

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

// TestParseAppleKey takes a .p8 (PKCS#8 P-256) and refuses other keys.
func TestParseAppleKey(t *testing.T) {
	p8 := func(k any) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	tests := []struct {
		name    string
		pem     string
		wantErr bool
	}{
		{name: "p8", pem: p8(ec)},
		{name: "p8 with spaces around", pem: "\n  " + p8(ec) + "\n\n"},
		{name: "P-384", pem: p8(ec384), wantErr: true},
		{name: "RSA", pem: p8(rk), wantErr: true},
		{name: "not PEM", pem: "MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg", wantErr: true},
		{name: "two blocks", pem: p8(ec) + p8(ec), wantErr: true},
		{name: "empty", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseAppleKey(tt.pem); (err != nil) != tt.wantErr {
				t.Fatalf("ParseAppleKey: %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
	for id, want := range map[string]bool{"TEAM123456": true, "team123456": false, "TEAM12345": false, "TEAM1234567": false, "": false} {
		if ValidAppleID(id) != want {
			t.Errorf("ValidAppleID(%q) = %v", id, !want)
		}
	}
}
