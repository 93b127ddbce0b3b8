package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/httperr"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
)

// handleError is the one place errors become answers: a redirect that
// delivers an authorization error to the client, a JSON body for protocol
// and API endpoints, or an HTML page for people. Internal causes are
// logged and never shown.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := httperr.As(err)
	if e == nil {
		e = fromEcho(err)
	}
	req := c.Request()
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if e.Status >= 500 {
		slog.ErrorContext(req.Context(), "request failed", "method", req.Method, "path", req.URL.Path, "request_id", reqID, "err", e.Error())
	}
	if e.Redirect != nil {
		loc, lerr := e.RedirectLocation()
		if lerr == nil {
			status := http.StatusFound
			if req.Method == http.MethodPost {
				status = http.StatusSeeOther
			}
			_ = c.Redirect(status, loc)
			return
		}
		e = httperr.Internal(lerr)
	}
	if isJSONPath(req.URL.Path) {
		code := e.Code
		switch {
		case e.Status == http.StatusNotFound:
			code = "not_found"
		case code == "":
			code = httperr.InvalidRequest
		}
		body := map[string]string{"error": code}
		if e.Description != "" {
			body["error_description"] = e.Description
		}
		_ = c.JSON(e.Status, body)
		return
	}
	name := "Gatehouse"
	if t, ok := tenants.FromContext(req.Context()); ok {
		name = t.DisplayName
	}
	title := e.Title
	if title == "" {
		title = "This request could not be completed"
	}
	_ = views.Render(req.Context(), c.Response(), e.Status, views.ErrorPage(views.ErrorView{
		Meta:      views.Meta{Title: title, TenantName: name},
		Status:    e.Status,
		Message:   e.Description,
		RequestID: reqID,
	}))
}

// fromEcho turns Echo's own errors (no route, wrong method, body too large,
// bad binding) and anything unexpected into an *httperr.Error.
func fromEcho(err error) *httperr.Error {
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		return httperr.Internal(err)
	}
	switch he.Code {
	case http.StatusNotFound:
		return httperr.NotFound()
	case http.StatusMethodNotAllowed:
		return httperr.Page(he.Code, "Method not allowed", "This address does not accept that kind of request.").WithCode(httperr.InvalidRequest)
	case http.StatusRequestEntityTooLarge:
		return httperr.Page(he.Code, "Request too large", "The request is larger than this server accepts.").WithCode(httperr.InvalidRequest)
	}
	if he.Code >= 500 {
		return httperr.Internal(err)
	}
	return httperr.Page(he.Code, "This request could not be completed", "The request is not valid.").WithCode(httperr.InvalidRequest)
}
