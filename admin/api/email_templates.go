package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

type emailTemplateBody struct {
	Subject string `json:"subject" required:"true" doc:"one line, at most 250 bytes; {{variable}} places a value"`
	HTML    string `json:"html" doc:"the content below the tenant's logo in the branded layout, at most 32 KiB; values are HTML-escaped; empty makes the HTML part of text"`
	Text    string `json:"text" required:"true" doc:"the plain-text body, at most 16 KiB"`
}

func (b emailTemplateBody) input() admin.EmailTemplateInput {
	return admin.EmailTemplateInput{Subject: b.Subject, HTML: b.HTML, Text: b.Text}
}

func (h *Handler) listEmailTemplates(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	ts, err := h.svc.ListEmailTemplates(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(ts))
}

// emailTemplateRef reads the kind and language a route names.
func (h *Handler) emailTemplateRef(c echo.Context) (kind, locale string, err error) {
	if kind, err = pathParam(c, "kind"); err != nil {
		return "", "", err
	}
	locale, err = pathParam(c, "locale")
	return kind, locale, err
}

func (h *Handler) getEmailTemplate(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	kind, locale, err := h.emailTemplateRef(c)
	if err != nil {
		return err
	}
	et, err := h.svc.EmailTemplate(ctx, kind, locale)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, et)
}

func (h *Handler) setEmailTemplate(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	kind, locale, err := h.emailTemplateRef(c)
	if err != nil {
		return err
	}
	var b emailTemplateBody
	if err := decode(c, &b); err != nil {
		return err
	}
	et, err := h.svc.SetEmailTemplate(ctx, kind, locale, b.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, et)
}

func (h *Handler) deleteEmailTemplate(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	kind, locale, err := h.emailTemplateRef(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteEmailTemplate(ctx, kind, locale); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) previewEmailTemplate(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	kind, locale, err := h.emailTemplateRef(c)
	if err != nil {
		return err
	}
	var b emailTemplateBody
	if err := decode(c, &b); err != nil {
		return err
	}
	in := b.input()
	p, err := h.svc.PreviewEmail(ctx, kind, locale, &in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
