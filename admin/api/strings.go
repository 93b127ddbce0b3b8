package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type setStringBody struct {
	Text string `json:"text" required:"true" doc:"the tenant's words for the message in this language; {{.Name}} places a variable the catalog's message has (consent.heading has {{.App}})"`
}

func (h *Handler) listStrings(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	ss, err := h.svc.ListStrings(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(ss))
}

// stringRef reads the language and message id a route names.
func (h *Handler) stringRef(c echo.Context) (locale, id string, err error) {
	if locale, err = pathParam(c, "locale"); err != nil {
		return "", "", err
	}
	id, err = pathParam(c, "message")
	return locale, id, err
}

func (h *Handler) setString(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	locale, id, err := h.stringRef(c)
	if err != nil {
		return err
	}
	var b setStringBody
	if err := decode(c, &b); err != nil {
		return err
	}
	s, err := h.svc.SetString(ctx, locale, id, b.Text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

func (h *Handler) deleteString(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	locale, id, err := h.stringRef(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteString(ctx, locale, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
