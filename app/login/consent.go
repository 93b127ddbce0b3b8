package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// requested splits an auth request's scopes by audience: the OpenID Connect
// scopes under "", the API's under its audience.
func requested(ar *tenants.AuthRequest) tenants.ScopeSet { return scopeSet(ar.Scopes, ar.Audience) }

// scopeSet splits scopes asked for audience: the OpenID Connect scopes
// under "", the API's under its audience.
func scopeSet(scopes []string, audience string) tenants.ScopeSet {
	set := tenants.ScopeSet{}
	for _, s := range scopes {
		if tenants.StandardScope(s) {
			set[""] = append(set[""], s)
		} else {
			set[audience] = append(set[audience], s)
		}
	}
	if audience != "" {
		if _, ok := set[audience]; !ok {
			set[audience] = []string{}
		}
	}
	return set
}

// scopesToConsent returns what the user must still consent to for ar:
// nothing for Gatehouse's own first-party clients of the system tenant
// (the console) and its sign-in intents; everything for the console's Try
// it client (it shows what a first-time user of the application sees, and
// no consent from an earlier try counts) and with prompt=consent; else
// what earlier consents do not cover — which, for a client whose consent
// is skip (the tenant's own application), it records as an implicit
// consent (audited consent.implicit), so that nothing is left to ask. A
// client that registered itself asks every time.
func (h *Handler) scopesToConsent(ctx context.Context, ar *tenants.AuthRequest) (tenants.ScopeSet, error) {
	if ar.Intent != "" {
		return tenants.ScopeSet{}, nil
	}
	ar, err := h.grantable(ctx, ar)
	if err != nil {
		return nil, err
	}
	cl, err := h.provider.Client(ctx, ar.ClientID)
	if err == nil && cl.Internal {
		if t, ok := tenants.FromContext(ctx); ok && t.System {
			return tenants.ScopeSet{}, nil
		}
		return requested(ar), nil
	}
	if err == nil && cl.Registered {
		// A client that registered itself (RFC 7591) is nobody's word:
		// the user is asked every time (RFC 7591 §5, "impersonation").
		return requested(ar), nil
	}
	want := requested(ar)
	if slices.Contains(ar.Prompt, authn.PromptConsent) {
		return want, nil
	}
	needed := want
	have, err := h.store.ConsentFor(ctx, ar.UserID, ar.ClientID)
	switch {
	case errors.Is(err, tenants.ErrNotFound):
	case err != nil:
		return nil, httperr.Internal(err)
	default:
		needed = tenants.ScopeSet{}
		for aud, scopes := range want {
			_, known := have.Scopes[aud]
			if !known || !have.Scopes.Covers(aud, scopes) {
				needed[aud] = scopes
			}
		}
	}
	if len(needed) > 0 && cl != nil && cl.SkipsConsent() {
		// A first-party application: the consent is recorded, implicit,
		// without asking; the account page shows it and can revoke it.
		if _, err := h.store.GrantImplicitConsent(ctx, ar.UserID, ar.ClientID, needed); err != nil {
			return nil, httperr.Internal(err)
		}
		h.auditConsent(ctx, ar, "consent.implicit", "success")
		return tenants.ScopeSet{}, nil
	}
	return needed, nil
}

// grantable returns a copy of ar with only the scopes its user may be
// granted now (an RBAC API drops the API scopes the user's roles do not
// hold): what the consent page asks for, shows and records.
func (h *Handler) grantable(ctx context.Context, ar *tenants.AuthRequest) (*tenants.AuthRequest, error) {
	scopes, err := h.provider.GrantableScopes(ctx, ar)
	if err != nil {
		return nil, httperr.Internal(err)
	}
	g := *ar
	g.Scopes = scopes
	return &g, nil
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
		return web.Deliver(c, web.Meta(t, "autopost.title"), loc)
	}
	cl, err := h.provider.Client(ctx, ar.ClientID)
	if err != nil {
		return httperr.Internal(err)
	}
	if ar, err = h.grantable(ctx, ar); err != nil {
		return err
	}
	user, err := h.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return httperr.Internal(err)
	}
	v := views.ConsentView{
		Meta:         web.Meta(t, "consent.title"),
		RequestID:    ar.ID,
		CSRF:         h.site.CSRF(c, t),
		AppName:      cl.Name,
		UserEmail:    displayName(user),
		SwitchAction: web.PathConsentSwitch,
		AppLogo:      cl.LogoURI,
	}
	v.Scopes = consentScopes(cl, ar.Scopes, ar.Audience)
	return web.Render(c, http.StatusOK, views.ConsentPage(v))
}

// consentScopes lists scopes asked for audience in words: the OpenID
// Connect ones by the vocabulary, an API's by its own descriptions.
func consentScopes(cl *cache.Client, scopes []string, audience string) []views.ConsentScope {
	set := scopeSet(scopes, audience)
	var out []views.ConsentScope
	for _, s := range set[""] {
		out = append(out, views.ConsentScope{Description: web.ScopeKey(s)})
	}
	if audience != "" {
		if g, ok := cl.Grants[audience]; ok {
			for _, s := range set[audience] {
				desc := s
				for _, sc := range g.API.Scopes {
					if sc.Name == s {
						desc = sc.Description
					}
				}
				out = append(out, views.ConsentScope{Description: desc, API: g.API.Name})
			}
		}
	}
	return out
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
	granted, err := h.grantable(ctx, ar)
	if err != nil {
		return err
	}
	if _, err := h.store.GrantConsent(ctx, ar.UserID, ar.ClientID, requested(granted)); err != nil {
		return httperr.Internal(err)
	}
	h.auditConsent(ctx, granted, "consent.granted", "success")
	loc, err := h.provider.Complete(ctx, ar)
	if err != nil {
		return err
	}
	return web.Deliver(c, web.Meta(t, "autopost.title"), loc)
}

// auditConsent records the user's answer to a consent page, with the
// scopes asked for.
func (h *Handler) auditConsent(ctx context.Context, ar *tenants.AuthRequest, action, outcome string) {
	h.auditAnswer(ctx, ar.UserID, ar.ClientID, action, outcome, "scopes: "+strings.Join(ar.Scopes, " "))
}

// auditAnswer records a user's answer to a client's request.
func (h *Handler) auditAnswer(ctx context.Context, userID, clientID, action, outcome, reason string) {
	ev := &tenants.AuditEvent{Action: action, ActorKind: "user", ActorID: userID, TargetType: "client", TargetID: clientID,
		ClientID: clientID, Outcome: outcome, Reason: tenants.Truncate(reason, 512)}
	if err := h.store.AppendAudit(ctx, ev); err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "write audit event", "action", action, "err", err)
	}
}

// switchAccount is the consent page's "Not you? Use another account": it
// signs the browser out (every session its cookies name, as signing out
// does), forgets who signed in for the request, and returns to the login
// page of the same authorization request, which stays bound to this
// browser. Only a request at its consent step, of this browser and of the
// session's user, can be switched.
func (h *Handler) switchAccount(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	ar, sess, err := h.consentRequest(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	if err := h.store.SetAuthenticated(ctx, ar.ID, tenants.Authentication{}); err != nil {
		return expired() // a code was issued meanwhile: the request is over
	}
	if err := h.site.SignOut(c, t); err != nil {
		return httperr.Internal(err)
	}
	h.site.Audit(ctx, sess.UserID, "", "login.account_switched", "success", "signed out at the consent page to use another account")
	return web.Redirect(c, web.PathLogin+"?id="+url.QueryEscape(ar.ID))
}
