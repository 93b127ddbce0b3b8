package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

// listKeys answers every signing key of the tenant, newest first: a short
// list, not paginated.
func (h *Handler) listKeys(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	ks, err := h.svc.ListKeys(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(ks))
}

// rotateKeyBody chooses the key to rotate; no body rotates the RS256 key
// with pre-publication.
type rotateKeyBody struct {
	Alg string `json:"alg" enumFrom:"signing_algorithms" doc:"the algorithm of the key to rotate; defaults to RS256"`
	Now bool   `json:"now" doc:"sign with the new key at once instead of after its pre-publication (after a leak, say); relying parties that cached the JWKS must refetch it"`
}

// rotateKey gives the tenant a new signing key of an algorithm; the
// previous one keeps verifying the tokens it signed until they expire.
func (h *Handler) rotateKey(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b rotateKeyBody
	if err := decodeOptional(c, &b); err != nil {
		return err
	}
	k, err := h.svc.RotateKey(ctx, admin.RotateKeyInput{Algorithm: b.Alg, Now: b.Now})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}

// keyRotationBody sets the tenant's rotation schedule.
type keyRotationBody struct {
	RotationPeriod *int64 `json:"rotation_period" required:"true" doc:"seconds between rotations (at least a day, at most five years), or 0 for never"`
}

func (h *Handler) getKeyRotation(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	v, err := h.svc.GetKeyRotation(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *Handler) setKeyRotation(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b keyRotationBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.RotationPeriod == nil {
		return badRequest("rotation_period", "is required (0 for never)")
	}
	p := *b.RotationPeriod
	if p < 0 || p > int64(admin.MaxKeyRotationPeriod/time.Second) {
		return badRequest("rotation_period", "must be 0 (never) or between one day and five years, in seconds")
	}
	v, err := h.svc.SetKeyRotation(ctx, time.Duration(p)*time.Second)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
