package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

func (h *Handler) keys(c echo.Context) error {
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
	v := vc.KeysView{Page: pg, JWKS: t.Issuer + "/.well-known/jwks.json"}
	for _, k := range ks {
		v.Rows = append(v.Rows, vc.KeyRow{KID: k.KID, Alg: k.Algorithm, Status: k.Status, Created: when(k.CreatedAt),
			Retired: whenPtr(k.RetiredAt), Expires: whenPtr(k.ExpiresAt)})
	}
	return render(c, http.StatusOK, vc.Keys(v))
}

func (h *Handler) rotateKey(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	if _, err := h.svc.RotateKey(ctx, admin.RotateKeyInput{Algorithm: c.FormValue("alg"), Now: c.FormValue("now") == "on"}); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/keys"), "key-rotated")
}
