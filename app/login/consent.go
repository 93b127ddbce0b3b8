package login

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// requested splits an auth request's scopes by audience: the OpenID Connect
// scopes under "", the API's under its audience.
func requested(ar *tenants.AuthRequest) tenants.ScopeSet {
	set := tenants.ScopeSet{}
	for _, s := range ar.Scopes {
		if tenants.StandardScope(s) {
			set[""] = append(set[""], s)
		} else {
			set[ar.Audience] = append(set[ar.Audience], s)
		}
	}
	if ar.Audience != "" {
		if _, ok := set[ar.Audience]; !ok {
			set[ar.Audience] = []string{}
		}
	}
	return set
}

// scopesToConsent returns what the user must still consent to for ar:
// nothing for Gatehouse's own first-party clients of the system tenant
// (the console) and its sign-in intents; everything for the console's Try
// it client (it shows what a first-time user of the application sees, and
// no consent from an earlier try counts) and with prompt=consent; else
// what earlier consents do not cover.
func (h *Handler) scopesToConsent(ctx context.Context, ar *tenants.AuthRequest) (tenants.ScopeSet, error) {
	if ar.Intent != "" {
		return tenants.ScopeSet{}, nil
	}
	if c, err := h.provider.Client(ctx, ar.ClientID); err == nil && c.Internal {
		if t, ok := tenants.FromContext(ctx); ok && t.System {
			return tenants.ScopeSet{}, nil
		}
		return requested(ar), nil
	}
	want := requested(ar)
	if slices.Contains(ar.Prompt, authn.PromptConsent) {
		return want, nil
	}
	have, err := h.store.ConsentFor(ctx, ar.UserID, ar.ClientID)
	if errors.Is(err, tenants.ErrNotFound) {
		return want, nil
	}
	if err != nil {
		return nil, httperr.Internal(err)
	}
	needed := tenants.ScopeSet{}
	for aud, scopes := range want {
		_, known := have.Scopes[aud]
		if !known || !have.Scopes.Covers(aud, scopes) {
			needed[aud] = scopes
		}
	}
	return needed, nil
}

// consentRequest loads the auth request of a consent step: the browser's,
// a client's, authenticated, and its user the session's.
func (h *Handler) consentRequest(c echo.Context, t *tenants.Tenant, id string) (*tenants.AuthRequest, *tenants.Session, error) {
	ar, err := h.request(c, t, id)
	if err != nil {
		return nil, nil, err
	}
	sess, err := h.site.Session(c)
	if err != nil {
		return nil, nil, httperr.Internal(err)
	}
	if sess == nil || ar.Intent != "" || ar.UserID == "" || sess.UserID != ar.UserID {
		return nil, nil, expired()
	}
	return ar, sess, nil
}

// showConsent completes the request when earlier consent covers it, and
// otherwise asks the user, listing the application and its scopes in words.
func (h *Handler) showConsent(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	ar, sess, err := h.consentRequest(c, t, c.QueryParam("id"))
	if err != nil {
		return err
	}
	needed, err := h.scopesToConsent(ctx, ar)
	if err != nil {
		return err
	}
	if len(needed) == 0 {
		loc, err := h.provider.Complete(ctx, ar)
		if err != nil {
			return err
		}
		return web.Deliver(c, web.Meta(t, "Continue"), loc)
	}
	cl, err := h.provider.Client(ctx, ar.ClientID)
	if err != nil {
		return httperr.Internal(err)
	}
	user, err := h.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return httperr.Internal(err)
	}
	v := views.ConsentView{
		Meta:      web.Meta(t, "Allow access"),
		RequestID: ar.ID,
		CSRF:      h.site.CSRF(c, t),
		AppName:   cl.Name,
		UserEmail: displayName(user),
	}
	for _, s := range requested(ar)[""] {
		v.Scopes = append(v.Scopes, views.ConsentScope{Description: tenants.ScopeWords(s)})
	}
	if ar.Audience != "" {
		if g, ok := cl.Grants[ar.Audience]; ok {
			for _, s := range requested(ar)[ar.Audience] {
				desc := s
				for _, sc := range g.API.Scopes {
					if sc.Name == s {
						desc = sc.Description
					}
				}
				v.Scopes = append(v.Scopes, views.ConsentScope{Description: desc, API: g.API.Name})
			}
		}
	}
	return web.Render(c, http.StatusOK, views.ConsentPage(v))
}

// displayName is how a page names the signed-in user: their address, or,
// for an account without one, their name.
func displayName(u *tenants.User) string {
	if u.Email != "" {
		return u.Email
	}
	if u.Name != "" {
		return u.Name
	}
	return "your account"
}

// submitConsent records the user's answer: Allow grants the scopes and
// completes the request; Cancel sends access_denied to the application.
func (h *Handler) submitConsent(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	ar, _, err := h.consentRequest(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	switch c.FormValue("action") {
	case "allow":
	case "deny":
		h.auditConsent(ctx, ar, "consent.denied", "denied")
		return h.provider.Fail(ctx, ar, httperr.AccessDenied, "the user did not allow access")
	default:
		return web.BadForm()
	}
	if _, err := h.store.GrantConsent(ctx, ar.UserID, ar.ClientID, requested(ar)); err != nil {
		return httperr.Internal(err)
	}
	h.auditConsent(ctx, ar, "consent.granted", "success")
	loc, err := h.provider.Complete(ctx, ar)
	if err != nil {
		return err
	}
	return web.Deliver(c, web.Meta(t, "Continue"), loc)
}

// auditConsent records the user's answer to a consent page, with the
// scopes asked for.
func (h *Handler) auditConsent(ctx context.Context, ar *tenants.AuthRequest, action, outcome string) {
	ev := &tenants.AuditEvent{Action: action, ActorKind: "user", ActorID: ar.UserID, TargetType: "client", TargetID: ar.ClientID,
		ClientID: ar.ClientID, Outcome: outcome, Reason: tenants.Truncate("scopes: "+strings.Join(ar.Scopes, " "), 512)}
	if err := h.store.AppendAudit(ctx, ev); err != nil {
		slog.ErrorContext(ctx, "write audit event", "action", action, "err", err)
	}
}
