package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
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

// rotateKey gives the tenant a new signing key; the previous one keeps
// verifying the tokens it signed until they expire.
func (h *Handler) rotateKey(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	k, err := h.svc.RotateKey(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}
