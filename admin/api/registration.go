package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

type createInitialAccessTokenBody struct {
	Name            string `json:"name" doc:"what the token is for, for admins"`
	LifetimeSeconds int64  `json:"lifetime_seconds" doc:"how long it works (default 7 days, at most 90)"`
	Uses            int    `json:"uses" doc:"how many applications it may register (default 1, at most 1000)"`
}

func (h *Handler) listInitialAccessTokens(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	ts, err := h.svc.ListInitialAccessTokens(ctx)
	if err != nil {
		return err
	}
	page, err := paginate(c, ts, func(x *admin.InitialAccessToken) string { return x.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) createInitialAccessToken(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b createInitialAccessTokenBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.LifetimeSeconds < 0 || b.LifetimeSeconds > 90*24*3600 {
		return badRequest("lifetime_seconds", "between 60 and 7776000")
	}
	v, err := h.svc.CreateInitialAccessToken(ctx, admin.InitialAccessTokenInput{Name: b.Name, Lifetime: time.Duration(b.LifetimeSeconds) * time.Second, Uses: b.Uses})
	if err != nil {
		return renamed(err, map[string]string{"lifetime": "lifetime_seconds"})
	}
	return created(c, "/tenants/"+t.Slug+"/initial-access-tokens/"+v.ID, v)
}

func (h *Handler) deleteInitialAccessToken(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteInitialAccessToken(ctx, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
