package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// webhookState says an endpoint's state in words, and why Gatehouse
// disabled it ("" when it did not).
func webhookState(w *admin.Webhook) (state, notice string) {
	switch {
	case !w.Enabled && w.DisabledReason != "":
		return "Disabled by Gatehouse", w.DisabledReason
	case !w.Enabled:
		return "Disabled", ""
	case w.FailingSince != nil:
		return "Failing since " + whenPtr(w.FailingSince), ""
	}
	return "Enabled", ""
}

func (h *Handler) webhooks(c echo.Context) error {
	return h.renderWebhooks(c, http.StatusOK, vc.WebhooksView{})
}

func (h *Handler) renderWebhooks(c echo.Context, status int, v vc.WebhooksView) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	ws, err := h.svc.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	if v.Page, err = h.page(c, "Webhooks", "webhooks", t); err != nil {
		return err
	}
	v.EventTypes = tenants.WebhookEventTypes()
	for _, w := range ws {
		state, notice := webhookState(w)
		v.Rows = append(v.Rows, vc.WebhookRow{URL: w.URL, Events: strings.Join(w.Events, ", "), Link: vc.TenantURL(t.Slug, "/webhooks/"+w.ID),
			State: state, Notice: notice})
	}
	return render(c, status, vc.Webhooks(v))
}

// eventList reads the events field: types separated by commas or spaces.
func eventList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (h *Handler) createWebhook(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	v := vc.WebhooksView{URL: c.FormValue("url"), Events: c.FormValue("events")}
	w, err := h.svc.CreateWebhook(ctx, admin.WebhookInput{URL: &v.URL, Events: append([]string{}, eventList(v.Events)...)})
	if v.Errors = formErrors(err, "url", "events"); v.Errors != nil {
		return h.renderWebhooks(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return h.showOnce(c, vc.TenantURL(t.Slug, "/webhooks/"+w.ID+"/secret"), shownOnce{Secret: w.Secret})
}

// webhookSecret shows the signing secret that adding or rotating an
// endpoint just made, once.
func (h *Handler) webhookSecret(c echo.Context) error {
	_, t, w, err := h.loadWebhook(c)
	if err != nil {
		return err
	}
	link := vc.TenantURL(t.Slug, "/webhooks/"+w.ID)
	once, ok := h.takeOnce(c, link+"/secret")
	if !ok {
		return done(c, link, "secret-gone")
	}
	title := "Endpoint added"
	if once.Rotated {
		title = "New signing secret"
	}
	pg, err := h.page(c, title, "webhooks", t)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, vc.WebhookSecret(vc.WebhookSecretView{Page: pg, URL: w.URL, Secret: once.Secret, Rotated: once.Rotated,
		Link: link, Note: once.Note}))
}

func (h *Handler) loadWebhook(c echo.Context) (context.Context, *tenants.Tenant, *admin.Webhook, error) {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return nil, nil, nil, err
	}
	w, err := h.svc.GetWebhook(ctx, c.Param("hook"))
	if err != nil {
		return nil, nil, nil, err
	}
	return ctx, t, w, nil
}

func (h *Handler) webhook(c echo.Context) error {
	ctx, t, w, err := h.loadWebhook(c)
	if err != nil {
		return err
	}
	ds, err := h.svc.WebhookDeliveries(ctx, w.ID, "", 50)
	if err != nil {
		return err
	}
	pg, err := h.page(c, w.URL, "webhooks", t)
	if err != nil {
		return err
	}
	state, notice := webhookState(w)
	v := vc.WebhookView{Page: pg, ID: w.ID, URL: w.URL, Events: strings.Join(w.Events, ", "), Enabled: w.Enabled, State: state,
		Notice: notice, Created: when(w.CreatedAt)}
	for _, d := range ds {
		last := d.LastError
		if last == "" && d.LastStatusCode != 0 {
			last = "HTTP " + strconv.Itoa(d.LastStatusCode)
		}
		v.Deliveries = append(v.Deliveries, vc.DeliveryRow{ID: d.ID, EventType: d.EventType, EventID: d.EventID, Status: d.Status,
			Attempts: strconv.Itoa(d.Attempts), Last: last, Created: when(d.CreatedAt),
			Redeliver: vc.TenantURL(t.Slug, "/webhooks/"+w.ID+"/deliveries/"+d.ID+"/redeliver")})
	}
	return render(c, http.StatusOK, vc.Webhook(v))
}

func (h *Handler) setWebhookEnabled(c echo.Context) error {
	ctx, t, w, err := h.loadWebhook(c)
	if err != nil {
		return err
	}
	on := c.FormValue("enabled") == "true"
	if _, err := h.svc.UpdateWebhook(ctx, w.ID, admin.WebhookInput{Enabled: &on}); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/webhooks/"+w.ID), "webhook-updated")
}

func (h *Handler) rotateWebhookSecret(c echo.Context) error {
	ctx, t, w, err := h.loadWebhook(c)
	if err != nil {
		return err
	}
	rot, err := h.svc.RotateWebhookSecret(ctx, w.ID)
	if err != nil {
		return err
	}
	return h.showOnce(c, vc.TenantURL(t.Slug, "/webhooks/"+w.ID+"/secret"), shownOnce{Secret: rot.Secret, Rotated: true,
		Note: "The previous secret signs deliveries too until " + whenPtr(rot.PreviousSecretExpires) + ": update the receiver before then."})
}

func (h *Handler) redeliverWebhook(c echo.Context) error {
	ctx, t, w, err := h.loadWebhook(c)
	if err != nil {
		return err
	}
	if _, err := h.svc.RedeliverWebhook(ctx, w.ID, c.Param("delivery")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/webhooks/"+w.ID), "webhook-redelivered")
}

func (h *Handler) deleteWebhook(c echo.Context) error {
	ctx, t, w, err := h.loadWebhook(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteWebhook(ctx, w.ID); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/webhooks"), "webhook-deleted")
}
