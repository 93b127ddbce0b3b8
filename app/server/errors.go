package server

import (
	"encoding/json"
	"errors"
	"github.com/gatehouse-id/gatehouse/app/tracing"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/views"
	vc "github.com/gatehouse-id/gatehouse/views/console"
	"github.com/gatehouse-id/gatehouse/views/httperr"
	"github.com/gatehouse-id/gatehouse/views/i18n"
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
		e = fromDomain(err)
	}
	if e == nil {
		e = fromEcho(err)
	}
	if e.Status == http.StatusInternalServerError && tenants.Unavailable(err) {
		e = unavailable(e, err)
	}
	req := c.Request()
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if e.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	} else if e.Status >= 500 {
		s.log.ErrorContext(req.Context(), "request failed", "method", req.Method, "path", req.URL.Path, "err", e.Error())
	}
	if e.Challenge != "" {
		c.Response().Header().Set("WWW-Authenticate", e.Challenge)
	}
	if e.DPoPNonce != "" {
		c.Response().Header().Set("DPoP-Nonce", e.DPoPNonce)
	}
	if e.Redirect != nil && e.Redirect.FormPost {
		name := "Gatehouse"
		if t, ok := tenants.FromContext(req.Context()); ok {
			name = t.DisplayName
		}
		if ferr := web.FormPost(c, views.Meta{Title: "Continue", TenantName: name}, e.Delivery()); ferr == nil {
			return
		}
		e = httperr.Internal(errors.New("render the form_post answer"))
	} else if e.Redirect != nil {
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
	if strings.HasPrefix(req.URL.Path, admin.APIPath+"/") || req.URL.Path == admin.APIPath {
		writeProblem(c, e)
		return
	}
	if isJSONPath(req.URL.Path) {
		code := e.Code
		switch {
		case e.Status == http.StatusNotFound:
			code = "not_found"
		case code == "":
			code = httperr.InvalidRequest
		}
		// Protocol errors are never cached (RFC 6749 §5.1, §5.2).
		c.Response().Header().Set("Cache-Control", "no-store")
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
		title = "error.title"
	}
	// Handlers write an error page's words in English (as logs and JSON
	// answers carry them); the page says them in its language when the
	// catalogs have them (errorpage.*).
	l := i18n.From(req.Context())
	view := views.ErrorView{
		Meta:      views.Meta{Title: l.English(title), TenantName: name},
		Status:    e.Status,
		Message:   l.English(e.Description),
		RequestID: reqID,
		TraceID:   tracing.TraceID(req.Context()),
	}
	s.wayBack(req, e, &view)
	_ = views.Render(req.Context(), c.Response(), e.Status, views.ErrorPage(view))
}

// wayBack fills what an error page offers beyond its message: the way back
// (to the application, at an address it registered, else to the tenant's
// account page, never to an address the request brought), and in
// development mode what a developer needs to fix a refused redirect_uri.
func (s *Server) wayBack(req *http.Request, e *httperr.Error, view *views.ErrorView) {
	_, onTenant := tenants.FromContext(req.Context())
	switch {
	case e.Back != nil:
		view.Back = &views.BackLink{URL: e.Back.URL, Name: e.Back.Name}
	case onTenant && req.URL.Path != web.PathAccount:
		view.AccountURL = web.PathAccount
	}
	if m := e.Mismatch; m != nil && s.cfg.Mode == config.ModeDevelopment {
		view.Mismatch = &views.MismatchView{Rejected: m.Rejected, Registered: m.Registered,
			EditURL: s.cfg.BaseURL.String() + vc.TenantURL(m.Tenant, "/applications/"+url.PathEscape(m.ClientID))}
	}
}

// databaseRetryAfter is what a client refused during a database outage is
// told to wait: connections are retried at once, so a restart or failover
// is usually over by then.
const databaseRetryAfter = time.Second

// unavailable turns a failure caused by an unreachable database (what
// would be a 500) into a 503 with Retry-After and temporarily_unavailable,
// for every endpoint at once: OAuth's JSON, the management API's problem
// document, a page, or an authorization error at the client's redirect
// URI. Handlers need not know.
func unavailable(e *httperr.Error, err error) *httperr.Error {
	u := httperr.Unavailable(databaseRetryAfter).WithCause(err)
	u.Redirect = e.Redirect
	return u
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

// fromDomain maps the domain's errors to answers: what does not exist (or
// belongs to a tenant the caller may not see) is 404, a missing scope or
// role 403, bad input 400 naming the field, a taken name or the removal of
// the last operator 409, a password hash that did not get its turn 503
// with Retry-After.
func fromDomain(err error) *httperr.Error {
	var ve *tenants.ValidationError
	switch {
	case errors.As(err, &ve):
		return &httperr.Error{Status: http.StatusBadRequest, Code: "validation_failed", Title: "Invalid input", Description: ve.Message, Field: ve.Field, Err: err}
	case errors.Is(err, tenants.ErrNotFound):
		e := httperr.NotFound()
		e.Code = "not_found"
		return e
	case errors.Is(err, tenants.ErrAlreadyExists):
		return &httperr.Error{Status: http.StatusConflict, Code: "already_exists", Title: "Already exists", Description: err.Error()}
	case errors.Is(err, tenants.ErrLastOperator):
		return &httperr.Error{Status: http.StatusConflict, Code: "last_operator", Title: "The last operator stays",
			Description: "Gatehouse needs an operator: make another administrator an operator first."}
	case errors.Is(err, tenants.ErrConflict):
		return &httperr.Error{Status: http.StatusConflict, Code: "conflict", Title: "Conflict", Description: "The resource changed meanwhile; reload and try again."}
	case errors.Is(err, admin.ErrForbidden):
		return &httperr.Error{Status: http.StatusForbidden, Code: "forbidden", Title: "Not allowed", Description: "Your role or credentials do not allow this."}
	case errors.Is(err, password.ErrBusy):
		return httperr.Busy(password.RetryAfter).WithCause(err)
	case errors.Is(err, admin.ErrUnauthenticated):
		return &httperr.Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Title: "Sign in required", Description: "Authenticate to use this."}
	}
	return nil
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Code   string         `json:"code,omitempty"`
	Errors []problemField `json:"errors,omitempty"`
}

type problemField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// writeProblem answers a management API error as application/problem+json.
func writeProblem(c echo.Context, e *httperr.Error) {
	p := problem{Type: "about:blank", Title: e.Title, Status: e.Status, Detail: e.Description, Code: e.Code}
	if p.Title == "" {
		p.Title = http.StatusText(e.Status)
	}
	if p.Code != "" {
		p.Type = "https://gatehouse.dev/problems/" + strings.ReplaceAll(p.Code, "_", "-")
	}
	if e.Field != "" {
		p.Errors = []problemField{{Field: e.Field, Message: e.Description}}
	}
	if e.Status == http.StatusUnauthorized {
		challenge := `Bearer realm="gatehouse"`
		if e.Code == httperr.InvalidToken {
			challenge += `, error="invalid_token"`
		}
		c.Response().Header().Set("WWW-Authenticate", challenge)
	}
	b, _ := json.Marshal(p)
	_ = c.Blob(e.Status, "application/problem+json", b)
}
