package login

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

const (
	pathMFA   = "/login/mfa"
	pathEnrol = "/login/enrol"
)

// totpOptions are the parameters of Gatehouse's TOTP codes (RFC 6238, the
// ones every authenticator app supports), with one step of clock skew.
var totpOptions = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

func totpAAD(f *tenants.MFAFactor) []byte { return []byte("totp|" + f.TenantID + "|" + f.ID) }

// totpState is what a TOTP factor remembers: the last time step a code was
// accepted for, so that no code works twice.
type totpState struct {
	LastStep int64 `json:"last_step"`
}

// checkTOTP checks code against the user's confirmed (or, for enrolment,
// unconfirmed) TOTP factor f, refusing a code of a step already used.
func (h *Handler) checkTOTP(ctx context.Context, f *tenants.MFAFactor, code string) bool {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return false
	}
	raw, err := h.box.Open(f.SecretSealed, totpAAD(f))
	if err != nil {
		return false
	}
	var st totpState
	_ = json.Unmarshal([]byte(f.Credential), &st)
	now := h.now()
	for skew := int64(-1); skew <= 1; skew++ {
		step := now.Unix()/30 + skew
		if step <= st.LastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(string(raw), time.Unix(step*30, 0), totpOptions)
		if err == nil && secret.Equal(want, code) {
			b, _ := json.Marshal(totpState{LastStep: step})
			return h.store.UseFactor(ctx, f.ID, string(b)) == nil
		}
	}
	return false
}

// normalizeRecovery turns what a user typed into the form recovery codes
// are hashed in.
func normalizeRecovery(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
}

// newRecoveryCodes makes ten codes, stores their hashes (replacing any
// older codes) and returns them to show once.
func (h *Handler) newRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes := make([]string, 10)
	hashes := make([]string, 10)
	for i := range codes {
		raw := strings.ToLower(secret.Token(8))
		raw = strings.NewReplacer("-", "a", "_", "b").Replace(raw)[:10]
		codes[i] = raw[:5] + "-" + raw[5:]
		hashes[i] = secret.Hash(normalizeRecovery(codes[i]))
	}
	return codes, h.store.ReplaceRecoveryCodes(ctx, userID, hashes)
}

// showMFA shows the second step of a login.
func (h *Handler) showMFA(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	st, err := h.loadStep(c, t, c.QueryParam("step"), tenants.StepMFA)
	if err != nil {
		return err
	}
	return h.renderMFA(c, ctx, t, st, c.QueryParam("step"), "", http.StatusOK)
}

func (h *Handler) renderMFA(c echo.Context, ctx context.Context, t *tenants.Tenant, st *tenants.LoginStep, token, msg string, status int) error {
	factors, err := h.confirmedFactors(ctx, st.UserID)
	if err != nil {
		return httperr.Internal(err)
	}
	v := views.MFAView{Meta: meta(t, "Two-step verification"), Step: token, Error: msg}
	for _, f := range factors {
		v.HasTOTP = v.HasTOTP || f.Type == tenants.FactorTOTP
		v.HasWebAuthn = v.HasWebAuthn || f.Type == tenants.FactorWebAuthn
	}
	if ar, err := h.store.AuthRequestByID(ctx, st.AuthRequestID); err == nil {
		v.OnlyWebAuthn = requiredACR(ar) == ACRPhishingResistant
	}
	sess, _ := h.currentSession(c, ctx, t)
	v.CSRF = h.csrfToken(t, ensureBrowser(c, t), sessionID(sess))
	return render(c, status, views.MFAPage(v))
}

// stepRequest is a form posted at a step of a login (second factor,
// enrolment): its tenant, step, authorization request, user, and the
// throttle keys of its attempts.
type stepRequest struct {
	t     *tenants.Tenant
	ctx   context.Context
	token string
	st    *tenants.LoginStep
	ar    *tenants.AuthRequest
	u     *tenants.User
	keys  []throttleKey
}

// stepForm checks a form posted at a step of purpose (its anti-CSRF token,
// its step, the request and user it belongs to).
func (h *Handler) stepForm(c echo.Context, purpose string) (*stepRequest, error) {
	t, ctx, err := tenant(c)
	if err != nil {
		return nil, err
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return nil, httperr.Internal(err)
	}
	if err := h.checkCSRF(c, t, sessionID(sess)); err != nil {
		return nil, err
	}
	token := c.FormValue("step")
	st, err := h.loadStep(c, t, token, purpose)
	if err != nil {
		return nil, err
	}
	ar, err := h.loadRequest(c, t, st.AuthRequestID)
	if err != nil {
		return nil, err
	}
	u, err := h.store.UserByID(ctx, st.UserID)
	if err != nil || u.DisabledAt != nil {
		return nil, expired()
	}
	return &stepRequest{t: t, ctx: ctx, token: token, st: st, ar: ar, u: u, keys: keysFor(t, "mfa", u.Email, c.RealIP())}, nil
}

// submitMFA checks a TOTP or recovery code for the second step.
func (h *Handler) submitMFA(c echo.Context) error {
	sr, err := h.stepForm(c, tenants.StepMFA)
	if err != nil {
		return err
	}
	t, ctx, token, st, ar, u, keys := sr.t, sr.ctx, sr.token, sr.st, sr.ar, sr.u, sr.keys
	if h.throttled(ctx, keys) {
		h.auditLogin(c, u.ID, u.Email, "mfa.throttled", "denied", "too many failed codes")
		return h.renderMFA(c, ctx, t, st, token, errWrongCode, http.StatusUnauthorized)
	}
	var data stepData
	_ = json.Unmarshal([]byte(st.Data), &data)
	method := ""
	if code := c.FormValue("code"); code != "" {
		factors, err := h.confirmedFactors(ctx, u.ID)
		if err != nil {
			return httperr.Internal(err)
		}
		for i := range factors {
			if factors[i].Type == tenants.FactorTOTP && h.checkTOTP(ctx, &factors[i], code) {
				method = amrOTP
				break
			}
		}
	} else if rc := c.FormValue("recovery_code"); rc != "" && len(rc) <= 64 {
		if err := h.store.UseRecoveryCode(ctx, u.ID, secret.Hash(normalizeRecovery(rc))); err == nil {
			method = amrOTP
			h.auditLogin(c, u.ID, u.Email, "mfa.recovery_code_used", "success", "")
		}
	}
	if method == "" || requiredACR(ar) == ACRPhishingResistant {
		h.failed(ctx, keys)
		h.auditLogin(c, u.ID, u.Email, "mfa.failed", "failure", "wrong code")
		return h.renderMFA(c, ctx, t, st, token, errWrongCode, http.StatusUnauthorized)
	}
	if _, err := h.store.UseLoginStep(ctx, st.ID); err != nil {
		return expired()
	}
	h.succeeded(ctx, keys)
	return h.finishLogin(c, t, ar, u, firstFactor{amr: withMFA(data.AMR, method), idp: data.IDP, acr: ACRMFA})
}

const errWrongCode = "That code is not right. Try again."

// withMFA adds method and "mfa" to the methods of the first factor.
func withMFA(amr []string, method string) []string {
	out := append([]string{}, amr...)
	for _, m := range []string{method, amrMFA} {
		if m != "" && !containsString(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// pendingTOTP returns the user's unconfirmed TOTP factor, making one (with
// a new secret, sealed) if there is none, and its key for display.
func (h *Handler) pendingTOTP(ctx context.Context, t *tenants.Tenant, u *tenants.User) (*tenants.MFAFactor, *otp.Key, error) {
	fs, err := h.store.ListFactors(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	for i := range fs {
		f := &fs[i]
		if f.Type == tenants.FactorTOTP && !f.Confirmed {
			raw, err := h.box.Open(f.SecretSealed, totpAAD(f))
			if err != nil {
				return nil, nil, err
			}
			key, err := otp.NewKeyFromURL(totpURL(t, u, string(raw)))
			return f, key, err
		}
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: t.DisplayName, AccountName: u.Email, SecretSize: 20, Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, nil, err
	}
	f := &tenants.MFAFactor{ID: tenants.NewID(), TenantID: t.ID, UserID: u.ID, Type: tenants.FactorTOTP, Name: "Authenticator app"}
	f.SecretSealed = h.box.Seal([]byte(key.Secret()), totpAAD(f))
	if err := h.store.CreateFactor(ctx, f); err != nil {
		return nil, nil, err
	}
	return f, key, nil
}

func totpURL(t *tenants.Tenant, u *tenants.User, secretB32 string) string {
	v := url.Values{"secret": {secretB32}, "issuer": {t.DisplayName}, "period": {"30"}, "digits": {"6"}, "algorithm": {"SHA1"}}
	return "otpauth://totp/" + url.PathEscape(t.DisplayName+":"+u.Email) + "?" + v.Encode()
}

func qrDataURL(key *otp.Key) (string, error) {
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

// showEnrol asks a user whom the tenant requires MFA of to set up an
// authenticator app before the login completes.
func (h *Handler) showEnrol(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	token := c.QueryParam("step")
	st, err := h.loadStep(c, t, token, tenants.StepEnrol)
	if err != nil {
		return err
	}
	return h.renderEnrol(c, ctx, t, st, token, "", http.StatusOK)
}

func (h *Handler) renderEnrol(c echo.Context, ctx context.Context, t *tenants.Tenant, st *tenants.LoginStep, token, msg string, status int) error {
	u, err := h.store.UserByID(ctx, st.UserID)
	if err != nil {
		return expired()
	}
	_, key, err := h.pendingTOTP(ctx, t, u)
	if err != nil {
		return httperr.Internal(err)
	}
	qr, err := qrDataURL(key)
	if err != nil {
		return httperr.Internal(err)
	}
	sess, _ := h.currentSession(c, ctx, t)
	return render(c, status, views.EnrolPage(views.EnrolView{Meta: meta(t, "Two-step verification"), Step: token,
		CSRF: h.csrfToken(t, ensureBrowser(c, t), sessionID(sess)), Action: pathEnrol, QR: qr, Secret: key.Secret(), Error: msg,
		WebAuthn: h.webauthnEnabled()}))
}

// submitEnrol confirms the new authenticator with its first code, then
// completes the login and shows the recovery codes once.
func (h *Handler) submitEnrol(c echo.Context) error {
	sr, err := h.stepForm(c, tenants.StepEnrol)
	if err != nil {
		return err
	}
	t, ctx, token, st, ar, u, keys := sr.t, sr.ctx, sr.token, sr.st, sr.ar, sr.u, sr.keys
	f, _, err := h.pendingTOTP(ctx, t, u)
	if err != nil {
		return httperr.Internal(err)
	}
	if h.throttled(ctx, keys) || !h.checkTOTP(ctx, f, c.FormValue("code")) {
		h.failed(ctx, keys)
		return h.renderEnrol(c, ctx, t, st, token, errWrongCode, http.StatusUnauthorized)
	}
	if _, err := h.store.UseLoginStep(ctx, st.ID); err != nil {
		return expired()
	}
	h.succeeded(ctx, keys)
	h.auditLogin(c, u.ID, u.Email, "mfa.enrolled", "success", "totp")
	codes, err := h.newRecoveryCodes(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	var data stepData
	_ = json.Unmarshal([]byte(st.Data), &data)
	if err := h.establish(c, t, ar, u, firstFactor{amr: withMFA(data.AMR, amrOTP), idp: data.IDP, acr: ACRMFA}); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RecoveryCodesPage(views.RecoveryCodesView{Meta: meta(t, "Recovery codes"), Codes: codes,
		Continue: pathConsent + "?id=" + url.QueryEscape(ar.ID)}))
}
