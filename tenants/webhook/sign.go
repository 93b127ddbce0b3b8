package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// secretPrefix starts every signing secret (Standard Webhooks: the
// base64 of the key after it).
const secretPrefix = "whsec_"

// secretSize is the bytes of a signing key: 256 bits, HMAC-SHA256's block
// of strength.
const secretSize = 32

// Headers of a delivery (Standard Webhooks §"Webhook headers").
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// NewSecret returns a fresh signing secret, "whsec_" and the base64 of 32
// random bytes.
func NewSecret() string {
	b := make([]byte, secretSize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

var errSecret = errors.New("webhook: not a whsec_ secret")

// key returns the HMAC key of a secret.
func key(s string) ([]byte, error) {
	raw, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, errSecret
	}
	k, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(k) < 16 {
		return nil, errSecret
	}
	return k, nil
}

// Signature returns the signature of a message under one secret:
// "v1," and the base64 HMAC-SHA256 of "id.timestamp.body".
func Signature(whsec, id string, ts time.Time, body []byte) (string, error) {
	k, err := key(whsec)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// Sign sets the headers of a delivery of message id with body at ts, signed
// with every secret (the current one, and during a rotation the previous
// one), space-separated.
func Sign(h http.Header, secrets []string, id string, ts time.Time, body []byte) error {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Signature(s, id, ts, body)
		if err != nil {
			return err
		}
		sigs = append(sigs, sig)
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return nil
}

// Sealer seals signing secrets at rest under the master key, each bound to
// its tenant and endpoint.
type Sealer struct{ box *secret.Box }

// NewSealer returns a Sealer for box.
func NewSealer(box *secret.Box) *Sealer { return &Sealer{box: box} }

func aad(tenantID, endpointID string) []byte {
	return []byte("webhook secret\x00" + tenantID + "\x00" + endpointID)
}

// Seal seals the secret of an endpoint.
func (s *Sealer) Seal(tenantID, endpointID, whsec string) []byte {
	return s.box.Seal([]byte(whsec), aad(tenantID, endpointID))
}

// Open opens a secret Seal sealed ("" for none sealed).
func (s *Sealer) Open(tenantID, endpointID string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	b, err := s.box.Open(sealed, aad(tenantID, endpointID))
	return string(b), err
}
