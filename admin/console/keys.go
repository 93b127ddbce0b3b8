package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// algOptions are the supported signing algorithms, selected one first
// chosen (the default when selected is empty).
func algOptions(selected string) []vc.Option {
	if selected == "" {
		selected = tenants.DefaultSigningAlgorithm
	}
	var out []vc.Option
	for _, a := range tenants.SigningAlgorithms() {
		out = append(out, vc.Option{Value: a, Label: tenants.SigningAlgorithmLabel(a), Selected: a == selected})
	}
	return out
}

func (h *Handler) keys(c echo.Context) error { return h.renderKeys(c, http.StatusOK, "", nil) }

// renderKeys renders the keys page; days and errs are the schedule form as
// submitted when it comes back with errors.
func (h *Handler) renderKeys(c echo.Context, status int, days string, errs map[string]string) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	ks, err := h.svc.ListKeys(ctx)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "Signing keys", "keys", t)
	if err != nil {
		return err
	}
	if errs == nil {
		days = strconv.FormatInt(t.KeyRotationSeconds/int64(24*time.Hour/time.Second), 10)
	}
	v := vc.KeysView{Page: pg, JWKS: t.Issuer + "/.well-known/jwks.json", Algs: algOptions(""),
		PrePublish: strconv.Itoa(int(keyring.PrePublish/time.Minute)) + " minutes", RotationDays: days, Errors: errs}
	for _, k := range ks {
		v.Rows = append(v.Rows, vc.KeyRow{KID: k.KID, Alg: k.Algorithm, Status: k.Status, Created: when(k.CreatedAt),
			Activates: when(k.ActivatesAt), Retired: whenPtr(k.RetiredAt), Expires: whenPtr(k.ExpiresAt)})
	}
	return render(c, status, vc.Keys(v))
}

func (h *Handler) rotateKey(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	now := c.FormValue("now") == "on"
	_, err = h.svc.RotateKey(ctx, admin.RotateKeyInput{Algorithm: c.FormValue("alg"), Now: now})
	if errs := formErrors(err, "alg"); errs != nil {
		return h.renderKeys(c, http.StatusUnprocessableEntity, "", errs)
	}
	if err != nil {
		return err
	}
	if now {
		return done(c, vc.TenantURL(t.Slug, "/keys"), "key-rotated-now")
	}
	return done(c, vc.TenantURL(t.Slug, "/keys"), "key-rotated")
}

func (h *Handler) setKeyRotation(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(c.FormValue("rotation_period"))
	days, perr := strconv.Atoi(raw)
	if perr != nil || days < 0 || days > int(admin.MaxKeyRotationPeriod/(24*time.Hour)) {
		return h.renderKeys(c, http.StatusUnprocessableEntity, tenants.Truncate(raw, 20),
			map[string]string{"rotation_period": "Give a number of days between 1 and 1825, or 0 for never."})
	}
	_, err = h.svc.SetKeyRotation(ctx, time.Duration(days)*24*time.Hour)
	if errs := formErrors(err, "rotation_period"); errs != nil {
		return h.renderKeys(c, http.StatusUnprocessableEntity, raw, errs)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/keys"), "key-scheduled")
}
