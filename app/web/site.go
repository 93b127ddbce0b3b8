package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Site is the plumbing the pages of every tenant share: sessions, anti-CSRF
// tokens, route tables.
type Site struct {
	store   *tenants.Store
	csrfKey []byte
	// limit guards the routes marked Costly; nil means none.
	limit echo.MiddlewareFunc
	// wording keeps tenants' own wording of the catalogs' messages.
	wording wording
}

// New returns a Site over store whose anti-CSRF tokens are keyed by
// csrfKey (the same on every node).
func New(store *tenants.Store, csrfKey []byte) *Site {
	return &Site{store: store, csrfKey: csrfKey}
}

// Limit guards the routes marked Costly with mw (the per-address rate
// limit of package ratelimit). Call it before Mount.
func (s *Site) Limit(mw echo.MiddlewareFunc) { s.limit = mw }

// Store returns the store the site reads sessions from.
func (s *Site) Store() *tenants.Store { return s.store }

// MAC returns an HMAC, under the site's key, of parts: for values the
// pages hand out and must recognise (session handles, device cookies).
func (s *Site) MAC(parts ...string) string { return secret.MAC(s.csrfKey, parts...) }

// Tenant returns the tenant of the request, resolved by the server.
func Tenant(c echo.Context) (*tenants.Tenant, context.Context, error) {
	ctx := c.Request().Context()
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, nil, httperr.NotFound()
	}
	return t, ctx, nil
}

// ClientIP is the client's address, as the request's origin carries it
// (the server honours X-Forwarded-For from trusted proxies only).
func ClientIP(ctx context.Context) string {
	o, _ := tenants.OriginFrom(ctx)
	return o.IP
}

// Meta is the layout data of a page of t; title is in the request's
// language (T).
func Meta(t *tenants.Tenant, title string) views.Meta {
	m := views.Meta{Title: title, TenantName: t.DisplayName, LogoURL: t.LogoURL}
	if t.AccentColor != "" {
		m.BrandingCSS = PathBranding + "?v=" + strconv.FormatInt(t.Revision, 10)
	}
	return m
}

// Render writes a page.
func Render(c echo.Context, status int, page templ.Component) error {
	return views.Render(c.Request().Context(), c.Response(), status, page)
}

// Redirect sends the browser on: 303 after a form POST (never 307, which
// would re-post the password), 302 otherwise.
func Redirect(c echo.Context, to string) error {
	status := http.StatusFound
	if c.Request().Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	return c.Redirect(status, to)
}

// BadForm is the answer to a form or query that cannot be read.
func BadForm() error {
	return httperr.Page(http.StatusBadRequest, "This request is not valid", "The request could not be read.")
}

// Audit writes an event about a user's sign-in or account to the log of
// the tenant in ctx; the request's address, user agent and id come from
// ctx. The email address of an attempt for no known user is kept only as
// a hash.
func (s *Site) Audit(ctx context.Context, userID, email, action, outcome, reason string) {
	ev := &tenants.AuditEvent{Action: action, ActorKind: "user", ActorID: userID, TargetType: "user", TargetID: userID,
		Outcome: outcome, Reason: tenants.Truncate(reason, 512)}
	if userID == "" && email != "" {
		ev.ActorName = "email sha256:" + secret.Hash(tenants.NormalizeEmail(email))[:16]
	} else {
		ev.ActorName = tenants.Truncate(email, 254)
	}
	if err := s.store.AppendAudit(ctx, ev); err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "write audit event", "action", action, "err", err)
	}
}

// errNoSession marks a request whose session was looked up and not found.
var errNoSession = errors.New("no session")
