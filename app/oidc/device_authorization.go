package oidc

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// The device authorization grant (RFC 8628): its endpoint, its page, and
// what it asks of devices.
const (
	// PathDeviceAuthorization is the device authorization endpoint
	// (RFC 8628 §3.1).
	PathDeviceAuthorization = "/oauth/device_authorization"
	// PathDevice is the verification URI (RFC 8628 §3.2): the page where
	// the user enters the user code.
	PathDevice = "/device"
	// deviceCodeTTL is how long the user has to enter the code and answer.
	deviceCodeTTL = 10 * time.Minute
	// deviceInterval is how long a device waits between polls at first;
	// deviceBackoff is what every early poll adds to it (§3.5).
	deviceInterval = 5 * time.Second
	deviceBackoff  = 5 * time.Second
)

// User codes (RFC 8628 §6.1): 8 characters of an alphabet of 20
// consonants — no vowels, so no words; no digits, so no 0/O or 1/I; case
// does not matter — shown as XXXX-XXXX. That is 20^8 ≈ 2^34.5 codes, of
// which a tenant has at most a few thousand pending at once; with guessing
// throttled per address (authn.DeviceCodeRules) a guess succeeds about
// once in millions of lifetimes of a code.
const (
	UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength   = 8
)

// newUserCode draws a user code, uniformly.
func newUserCode() string {
	b := make([]byte, userCodeLength)
	n := big.NewInt(int64(len(UserCodeAlphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic(err) // crypto/rand does not fail
		}
		b[i] = UserCodeAlphabet[k.Int64()]
	}
	return string(b)
}

// NormalizeUserCode returns a user code as typed in its stored form: upper
// case, without the dash or spaces people type or leave out. It reports
// false when what remains cannot be a user code.
func NormalizeUserCode(typed string) (string, bool) {
	if len(typed) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case strings.ContainsRune(UserCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != userCodeLength {
		return "", false
	}
	return b.String(), true
}

// FormatUserCode shows a stored user code the way people read it: XXXX-XXXX.
func FormatUserCode(code string) string {
	if len(code) != userCodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// deviceAuthorizationResponse is the answer of the device authorization
// endpoint (RFC 8628 §3.2).
type deviceAuthorizationResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// DeviceAuthorization is the device authorization endpoint (RFC 8628
// §3.1, §3.2). The client authenticates as at the token endpoint (a public
// client by its client_id) and must be allowed the device grant, as must
// the tenant; the scopes and resource are checked as at /authorize. It
// answers a device code (stored as its hash), a user code, the verification
// URIs on the tenant's issuer, and the polling interval.
func (p *Provider) DeviceAuthorization(ctx context.Context, r *http.Request) (*Response, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	form, err := ParseForm(r)
	if err != nil {
		return nil, err
	}
	c, err := p.clientFor(ctx, t, r, form, tenants.GrantDeviceCode)
	if err != nil {
		return nil, err
	}
	scopes, audience, err := p.resolveScopes(c.Client, strings.Fields(form.Get("scope")), resources(form))
	if err != nil {
		return nil, err
	}
	deviceCode := secret.Token(32)
	d := &tenants.DeviceAuthorization{
		ClientID:        c.ClientID,
		DeviceCodeHash:  secret.Hash(deviceCode),
		Scopes:          scopes,
		Audience:        audience,
		IntervalSeconds: int64(deviceInterval / time.Second),
		ExpiresAt:       p.now().Add(deviceCodeTTL),
	}
	// A user code the tenant already holds is drawn again; twice in a row
	// is as good as impossible.
	for range 3 {
		d.ID, d.UserCode = "", newUserCode()
		if err = p.store.CreateDeviceAuthorization(ctx, d); !errors.Is(err, tenants.ErrAlreadyExists) {
			break
		}
	}
	if errors.Is(err, tenants.ErrNotFound) {
		// The client was deleted since this node cached it.
		return nil, invalidClient("client authentication failed", basicChallenge(t.Issuer))
	}
	if err != nil {
		return nil, serverError(err)
	}
	shown := FormatUserCode(d.UserCode)
	return jsonAnswer(&deviceAuthorizationResponse{
		DeviceCode:              deviceCode,
		UserCode:                shown,
		VerificationURI:         t.Issuer + PathDevice,
		VerificationURIComplete: t.Issuer + PathDevice + "?" + url.Values{"user_code": {shown}}.Encode(),
		ExpiresIn:               int64(deviceCodeTTL / time.Second),
		Interval:                d.IntervalSeconds,
	}), nil
}

// The device authorization is this package's: the pages find it by the
// code the user typed ([Provider.DeviceByUserCode]), show it again by id
// ([Provider.Device]) and record the user's answer ([Provider.ApproveDevice],
// [Provider.DenyDevice]); the token endpoint redeems it (token_device.go).

// ErrUnknownUserCode is what DeviceByUserCode says of a code that names no
// pending device authorization of the tenant: a wrong guess.
var ErrUnknownUserCode = errors.New("oidc: unknown user code")

// DeviceByUserCode returns the pending device authorization whose user
// code is typed (in any case, with or without the dash), or
// ErrUnknownUserCode.
func (p *Provider) DeviceByUserCode(ctx context.Context, typed string) (*tenants.DeviceAuthorization, error) {
	code, ok := NormalizeUserCode(typed)
	if !ok {
		return nil, ErrUnknownUserCode
	}
	d, err := p.store.DeviceAuthorizationByUserCode(ctx, code)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, ErrUnknownUserCode
	}
	if err != nil {
		return nil, httperr.Internal(err)
	}
	return d, nil
}

// Device returns the pending device authorization id for the page that
// asks the user; its errors are pages.
func (p *Provider) Device(ctx context.Context, id string) (*tenants.DeviceAuthorization, error) {
	if id == "" || len(id) > 64 {
		return nil, deviceGone()
	}
	d, err := p.store.DeviceAuthorizationByID(ctx, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, deviceGone()
	}
	if err != nil {
		return nil, httperr.Internal(err)
	}
	if d.Status != tenants.DevicePending {
		return nil, deviceGone()
	}
	return d, nil
}

// ApproveDevice records that the user signed in as a approved d: the
// device's next poll gets tokens for that sign-in.
func (p *Provider) ApproveDevice(ctx context.Context, d *tenants.DeviceAuthorization, a tenants.Authentication) error {
	return answered(p.store.ApproveDeviceAuthorization(ctx, d.ID, a))
}

// DenyDevice records that the user refused d: the device's next poll gets
// access_denied.
func (p *Provider) DenyDevice(ctx context.Context, d *tenants.DeviceAuthorization) error {
	return answered(p.store.DenyDeviceAuthorization(ctx, d.ID))
}

func answered(err error) error {
	switch {
	case errors.Is(err, tenants.ErrConflict):
		return deviceGone()
	case err != nil:
		return httperr.Internal(err)
	}
	return nil
}

func deviceGone() error {
	return httperr.Page(http.StatusBadRequest, "This code has expired or was already used",
		"Codes are valid for a few minutes and can be used once. Start again on your device to get a new code.")
}
