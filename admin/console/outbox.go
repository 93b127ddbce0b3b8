package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// outbox shows operators the development outbox; without one (SMTP is
// configured, or production) the page does not exist.
func (h *Handler) outbox(c echo.Context) error {
	if !h.cfg.Outbox {
		return tenants.ErrNotFound
	}
	ms, err := h.svc.Outbox(c.Request().Context(), 50)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "Outbox", "", nil)
	if err != nil {
		return err
	}
	v := vc.OutboxView{Page: pg}
	for _, m := range ms {
		v.Rows = append(v.Rows, vc.OutboxRow{Tenant: m.TenantSlug, To: m.To, Subject: m.Subject, Body: m.Body, When: when(m.CreatedAt)})
	}
	return render(c, http.StatusOK, vc.Outbox(v))
}
