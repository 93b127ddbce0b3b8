package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type addDomainBody struct {
	Domain string `json:"domain" required:"true" doc:"the host, such as login.acme.com (no scheme, port or path)"`
}

func (h *Handler) listDomains(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	ds, err := h.svc.ListDomains(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(ds))
}

func (h *Handler) addDomain(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b addDomainBody
	if err := decode(c, &b); err != nil {
		return err
	}
	d, err := h.svc.AddDomain(ctx, b.Domain)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (h *Handler) getDomain(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	host, err := pathParam(c, "domain")
	if err != nil {
		return err
	}
	d, err := h.svc.GetDomain(ctx, host)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *Handler) verifyDomain(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	host, err := pathParam(c, "domain")
	if err != nil {
		return err
	}
	d, err := h.svc.VerifyDomain(ctx, host)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *Handler) removeDomain(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	host, err := pathParam(c, "domain")
	if err != nil {
		return err
	}
	if err := h.svc.RemoveDomain(ctx, host); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
