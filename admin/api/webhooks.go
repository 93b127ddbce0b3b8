package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

type createWebhookBody struct {
	URL    string   `json:"url" required:"true" doc:"where deliveries are POSTed: an https URL; http only for a host in GATEHOUSE_UPSTREAM_ALLOW_HOSTS"`
	Events []string `json:"events" required:"true" enumFrom:"webhook_events" doc:"the event types delivered; * for every one"`
}

// updateWebhookBody is a partial update.
type updateWebhookBody struct {
	URL     *string  `json:"url"`
	Events  []string `json:"events" enumFrom:"webhook_events" doc:"replaces the event types delivered"`
	Enabled *bool    `json:"enabled" doc:"false stops deliveries (they wait); true resumes them and forgets the endpoint's failures"`
}

// webhookEventEnum is the event vocabulary (tenants.WebhookEventTypes),
// each with the audit actions it announces.
func webhookEventEnum() (values, descriptions []string) {
	values, descriptions = []string{tenants.WebhookAllEvents}, []string{"every event type"}
	for _, t := range tenants.WebhookEventTypes() {
		values = append(values, t)
		descriptions = append(descriptions, "audit action "+strings.Join(tenants.WebhookEventActions(t), ", "))
	}
	return values, descriptions
}

func (h *Handler) listWebhooks(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	ws, err := h.svc.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	page, err := paginate(c, ws, func(w *admin.Webhook) string { return w.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) createWebhook(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b createWebhookBody
	if err := decode(c, &b); err != nil {
		return err
	}
	w, err := h.svc.CreateWebhook(ctx, admin.WebhookInput{URL: &b.URL, Events: b.Events})
	if err != nil {
		return err
	}
	return created(c, "/tenants/"+t.Slug+"/webhooks/"+w.ID, w)
}

func (h *Handler) getWebhook(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	w, err := h.svc.GetWebhook(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (h *Handler) updateWebhook(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	var b updateWebhookBody
	if err := decode(c, &b); err != nil {
		return err
	}
	w, err := h.svc.UpdateWebhook(ctx, id, admin.WebhookInput{URL: b.URL, Events: b.Events, Enabled: b.Enabled})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (h *Handler) deleteWebhook(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) rotateWebhookSecret(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	w, err := h.svc.RotateWebhookSecret(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

// listWebhookDeliveries answers a page of an endpoint's deliveries, newest
// first; next is the ?before= of the following page.
func (h *Handler) listWebhookDeliveries(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	n, err := limit(c)
	if err != nil {
		return err
	}
	before, err := cursor(c, "before")
	if err != nil {
		return err
	}
	ds, err := h.svc.WebhookDeliveries(ctx, id, before, n+1)
	if err != nil {
		return err
	}
	page := items(ds)
	if len(ds) > n {
		page.Items = ds[:n]
		page.Next = encodeCursor(ds[n-1].ID)
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) redeliverWebhook(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	delivery, err := pathParam(c, "delivery")
	if err != nil {
		return err
	}
	d, err := h.svc.RedeliverWebhook(ctx, id, delivery)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, d)
}
