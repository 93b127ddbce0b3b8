package tenants

import (
	"errors"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// clientSecretAAD binds a sealed client secret to its tenant and client, so
// that a sealed value copied to another client's row does not open. The
// current and the previous secret share it: a rotation moves the sealed
// value from one column to the other unchanged.
func clientSecretAAD(tenantID, clientID string) []byte {
	return []byte("client secret\x00" + tenantID + "\x00" + clientID)
}

// SealClientSecret seals the secret of client clientID of tenant tenantID
// under box (AES-256-GCM under the master key, as the keyring seals
// signing keys), for a client_secret_jwt client.
func SealClientSecret(box *secret.Box, tenantID, clientID, plain string) []byte {
	return box.Seal([]byte(plain), clientSecretAAD(tenantID, clientID))
}

// ErrNoSealedSecret is returned by ClientSecrets for a client whose secret
// is not sealed (no client_secret_jwt client, or a box that cannot open it).
var ErrNoSealedSecret = errors.New("tenants: the client's secret is not kept sealed")

// ClientSecrets opens the sealed secrets of c that may verify an HMAC
// client assertion at now: its current one and, during a rotation's grace
// period, its previous one.
func ClientSecrets(box *secret.Box, c *Client, now time.Time) ([][]byte, error) {
	if box == nil || len(c.SecretSealed) == 0 {
		return nil, ErrNoSealedSecret
	}
	aad := clientSecretAAD(c.TenantID, c.ClientID)
	cur, err := box.Open(c.SecretSealed, aad)
	if err != nil {
		return nil, err
	}
	out := [][]byte{cur}
	if len(c.PreviousSecretSealed) > 0 && c.PreviousSecretExpiresAt != nil && now.Before(*c.PreviousSecretExpiresAt) {
		prev, err := box.Open(c.PreviousSecretSealed, aad)
		if err != nil {
			return nil, err
		}
		out = append(out, prev)
	}
	return out, nil
}
