package mfa

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Factors checks and sets up second factors in the tenant of each call's
// context. TOTP secrets are sealed under the master key.
type Factors struct {
	store *tenants.Store
	box   *secret.Box
}

// New returns Factors over store, sealing with box.
func New(store *tenants.Store, box *secret.Box) *Factors { return &Factors{store: store, box: box} }

// totpOptions are the parameters of Gatehouse's TOTP codes (RFC 6238, the
// ones every authenticator app supports), with one step of clock skew.
var totpOptions = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

func totpAAD(f *tenants.MFAFactor) []byte { return []byte("totp|" + f.TenantID + "|" + f.ID) }

// totpState is what a TOTP factor remembers: the last time step a code was
// accepted for, so that no code works twice.
type totpState struct {
	LastStep int64 `json:"last_step"`
}

// Confirmed returns the user's usable second factors (TOTP and WebAuthn).
func (m *Factors) Confirmed(ctx context.Context, userID string) ([]tenants.MFAFactor, error) {
	fs, err := m.store.ListFactors(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := fs[:0]
	for _, f := range fs {
		if f.Confirmed {
			out = append(out, f)
		}
	}
	return out, nil
}

// CheckTOTP checks code against TOTP factor f (confirmed, or, for
// enrolment, not yet), refusing a code of a time step already used. Of two
// submissions of one code, sequential or concurrent, only one passes: the
// step is claimed with a compare-and-swap on what the factor remembers.
// A factor checked for the first time is confirmed by it.
func (m *Factors) CheckTOTP(ctx context.Context, f *tenants.MFAFactor, code string) bool {
	code = strings.TrimSpace(code)
	if f == nil || f.Type != tenants.FactorTOTP || len(code) != 6 {
		return false
	}
	raw, err := m.box.Open(f.SecretSealed, totpAAD(f))
	if err != nil {
		return false
	}
	var st totpState
	_ = json.Unmarshal([]byte(f.Credential), &st)
	now := m.store.Now()
	for skew := int64(-1); skew <= 1; skew++ {
		step := now.Unix()/30 + skew
		if step <= st.LastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(string(raw), time.Unix(step*30, 0), totpOptions)
		if err == nil && secret.Equal(want, code) {
			b, _ := json.Marshal(totpState{LastStep: step})
			return m.store.SwapFactorCredential(ctx, f.ID, f.Credential, string(b)) == nil
		}
	}
	return false
}

// pendingTTL is how long a TOTP factor that was never confirmed is kept.
const pendingTTL = time.Hour

// Pending returns the unconfirmed TOTP factor of the user's sign-in
// signInID (an authorization request enrolling at sign-in, or a session's
// sign-in on the account page), making one (with a new secret, sealed) if
// there is none, and its key for display. The secret belongs to that
// sign-in alone: another browser or session of the user never reads it
// nor replaces it, so nobody can make a user scan a secret they know, or
// learn the one the user is scanning. Unconfirmed factors of other
// sign-ins older than pendingTTL are dropped.
func (m *Factors) Pending(ctx context.Context, t *tenants.Tenant, u *tenants.User, signInID string) (*tenants.MFAFactor, *otp.Key, error) {
	if signInID == "" {
		return nil, nil, errors.New("mfa: a pending factor belongs to a sign-in")
	}
	fs, err := m.store.ListFactors(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	now := m.store.Now()
	for i := range fs {
		f := &fs[i]
		if f.Type != tenants.FactorTOTP || f.Confirmed {
			continue
		}
		if f.AddedSignIn != signInID {
			if now.Sub(f.CreatedAt) > pendingTTL {
				_ = m.store.DeleteFactor(ctx, u.ID, f.ID)
			}
			continue
		}
		raw, err := m.box.Open(f.SecretSealed, totpAAD(f))
		if err != nil {
			return nil, nil, err
		}
		key, err := otp.NewKeyFromURL(totpURL(t, u, string(raw)))
		return f, key, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: t.DisplayName, AccountName: accountName(u), SecretSize: 20, Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, nil, err
	}
	f := &tenants.MFAFactor{ID: tenants.NewID(), TenantID: t.ID, UserID: u.ID, Type: tenants.FactorTOTP, Name: "Authenticator app", AddedSignIn: signInID}
	f.SecretSealed = m.box.Seal([]byte(key.Secret()), totpAAD(f))
	if err := m.store.CreateFactor(ctx, f); err != nil {
		return nil, nil, err
	}
	return f, key, nil
}

// accountName is how an authenticator app lists the account.
func accountName(u *tenants.User) string {
	if u.Email != "" {
		return u.Email
	}
	if u.Name != "" {
		return u.Name
	}
	return u.ID
}

func totpURL(t *tenants.Tenant, u *tenants.User, secretB32 string) string {
	v := url.Values{"secret": {secretB32}, "issuer": {t.DisplayName}, "period": {"30"}, "digits": {"6"}, "algorithm": {"SHA1"}}
	return "otpauth://totp/" + url.PathEscape(t.DisplayName+":"+accountName(u)) + "?" + v.Encode()
}

// QR returns key as a PNG QR code in a data: URL.
func QR(key *otp.Key) (string, error) {
	img, err := key.Image(200, 200)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// normalizeRecovery turns what a user typed into the form recovery codes
// are hashed in.
func normalizeRecovery(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
}

// NewRecoveryCodes makes ten codes, stores their hashes (replacing any
// older codes) and returns them to show once.
func (m *Factors) NewRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes := make([]string, 10)
	hashes := make([]string, 10)
	for i := range codes {
		code, err := recoveryCode(rand.Reader)
		if err != nil {
			return nil, err
		}
		codes[i] = code
		hashes[i] = secret.Hash(normalizeRecovery(codes[i]))
	}
	return codes, m.store.ReplaceRecoveryCodes(ctx, userID, hashes)
}

// recoveryAlphabet is what recovery codes are written in: lower-case
// letters and digits without the ones people mistake for others (0 and
// o, 1, i and l), 31 symbols.
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// recoveryCode draws a code of ten symbols of recoveryAlphabet, uniformly
// from r (rejection sampling: no symbol is likelier than another), about
// 49.5 bits, written xxxxx-xxxxx.
func recoveryCode(r io.Reader) (string, error) {
	const n = len(recoveryAlphabet)
	limit := 256 - 256%n // bytes at or above it would favour the first symbols
	out := make([]byte, 0, 11)
	buf := make([]byte, 1)
	for len(out) < 11 {
		if len(out) == 5 {
			out = append(out, '-')
			continue
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		if int(buf[0]) >= limit {
			continue
		}
		out = append(out, recoveryAlphabet[int(buf[0])%n])
	}
	return string(out), nil
}

// UseRecoveryCode spends the user's recovery code typed, if it is one
// and, when madeBefore is set, was made no later than that (a step-up of
// a session spends only codes the user had when the session signed in).
func (m *Factors) UseRecoveryCode(ctx context.Context, userID, typed string, madeBefore time.Time) bool {
	if typed == "" || len(typed) > 64 {
		return false
	}
	hash := secret.Hash(normalizeRecovery(typed))
	if !madeBefore.IsZero() {
		return m.store.UseRecoveryCodeMadeBefore(ctx, userID, hash, madeBefore) == nil
	}
	return m.store.UseRecoveryCode(ctx, userID, hash) == nil
}
