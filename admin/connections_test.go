package admin

import (
	"testing"
	"time"
)

func TestCertExpiry(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		notAfter time.Time
		want     string
	}{
		{"a year left", now.Add(365 * day), CertOK},
		{"31 days left", now.Add(31 * day), CertOK},
		{"30 days left", now.Add(30 * day), CertExpiring},
		{"one second left", now.Add(time.Second), CertExpiring},
		{"expires now", now, CertExpired},
		{"expired yesterday", now.Add(-day), CertExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CertExpiry(tt.notAfter, now); got != tt.want {
				t.Errorf("CertExpiry = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConnectionIdPExpiryIsTheWorst(t *testing.T) {
	var none *ConnectionIdP
	if w, c := none.Expiry(); w != CertOK || c != nil {
		t.Fatalf("nil: %q %v", w, c)
	}
	i := &ConnectionIdP{Certificates: []ConnectionCert{{Subject: "a", Expiry: CertOK}, {Subject: "b", Expiry: CertExpiring}, {Subject: "c", Expiry: CertOK}}}
	if w, c := i.Expiry(); w != CertExpiring || c.Subject != "b" {
		t.Fatalf("got %q %v", w, c)
	}
	i.Certificates = append(i.Certificates, ConnectionCert{Subject: "d", Expiry: CertExpired})
	if w, c := i.Expiry(); w != CertExpired || c.Subject != "d" {
		t.Fatalf("got %q %v", w, c)
	}
}
