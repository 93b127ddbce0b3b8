package samlidp

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/crewjam/saml"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// requestTTL is how long an AuthnRequest waits for its user to sign in.
const requestTTL = 10 * time.Minute

// Audit actions of the identity provider.
const (
	ActionAssertionIssued = "saml.assertion_issued"
	ActionAssertionDenied = "saml.assertion_denied"
)

// Handler serves every tenant's SAML identity provider.
type Handler struct {
	site     *web.Site
	store    *tenants.Store
	provider *oidc.Provider
	keys     *keyring.Keyring
	factors  authn.FactorsOfUser
}

// Deps are what a Handler is built from.
type Deps struct {
	Site     *web.Site
	Provider *oidc.Provider
	Keys     *keyring.Keyring
	// Factors returns a user's confirmed second factors (mfa.Factors).
	Factors authn.FactorsOfUser
}

// New returns a Handler.
func New(d Deps) *Handler {
	return &Handler{site: d.Site, store: d.Site.Store(), provider: d.Provider, keys: d.Keys, factors: d.Factors}
}

// routes lists the IdP's endpoints: Register mounts them, and tests walk
// every one.
func (h *Handler) routes() []web.Route {
	return []web.Route{
		{Method: http.MethodGet, Path: tenants.PathSAMLIdPMetadata, Handler: h.metadata},
		// The SSO service: an SP sends the browser here by redirect or by
		// a cross-site POST (Bindings §3.4, §3.5). Each stores a request.
		{Method: http.MethodGet, Path: tenants.PathSAMLIdPSSO, Handler: h.sso, Costly: true},
		{Method: http.MethodPost, Path: tenants.PathSAMLIdPSSO, Handler: h.sso, CrossSite: true, Costly: true},
		{Method: http.MethodGet, Path: tenants.PathSAMLIdPContinue, Handler: h.continueSSO},
		// IdP-initiated: a form of the account page's My applications.
		{Method: http.MethodPost, Path: tenants.PathSAMLIdPLaunch + ":app", Handler: h.launch},
		// Single Logout: an SP's LogoutRequest by redirect or cross-site
		// POST, found by its NameID (no cookie needed), and the answers to
		// Gatehouse's own.
		{Method: http.MethodGet, Path: tenants.PathSAMLIdPSLO, Handler: h.slo, Costly: true},
		{Method: http.MethodPost, Path: tenants.PathSAMLIdPSLO, Handler: h.slo, CrossSite: true, Costly: true},
	}
}

// Routes lists the routes without their handlers, for tests that must
// cover every one of them.
func Routes() []web.Route {
	rs := (&Handler{}).routes()
	for i := range rs {
		rs[i].Handler = nil
	}
	return rs
}

// Register adds the endpoints to e behind mw, which must resolve the tenant.
func (h *Handler) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	h.site.Mount(e, h.routes(), mw...)
}

// metadata answers the tenant's IdP metadata (SAML Metadata §2.4.3): its
// entity ID, the SSO service in both bindings, the certificates of its
// published RS256 keys and the NameID formats it gives. ?download=1 makes
// it a file.
func (h *Handler) metadata(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	set, err := h.keys.Keys(ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	certs, err := set.SAMLCertificates()
	if err != nil {
		return httperr.Internal(err)
	}
	var kds []saml.KeyDescriptor
	for _, cert := range certs {
		kds = append(kds, saml.KeyDescriptor{Use: "signing", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
			X509Certificates: []saml.X509Certificate{{Data: encodeCert(cert.Raw)}}}}})
	}
	no := false
	var formats []saml.NameIDFormat
	for _, f := range tenants.SAMLNameIDFormats() {
		formats = append(formats, saml.NameIDFormat(f))
	}
	md := saml.EntityDescriptor{
		EntityID:      t.SAMLIdPEntityID(),
		ValidUntil:    h.store.Now().Add(48 * time.Hour).UTC(),
		CacheDuration: keyring.JWKSMaxAge,
		IDPSSODescriptors: []saml.IDPSSODescriptor{{
			WantAuthnRequestsSigned: &no,
			SSODescriptor: saml.SSODescriptor{
				RoleDescriptor: saml.RoleDescriptor{ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol", KeyDescriptors: kds},
				NameIDFormats:  formats,
				SingleLogoutServices: []saml.Endpoint{
					{Binding: tenants.BindingHTTPRedirect, Location: t.SAMLIdPSLOURL()},
					{Binding: tenants.BindingHTTPPost, Location: t.SAMLIdPSLOURL()},
				},
			},
			SingleSignOnServices: []saml.Endpoint{
				{Binding: tenants.BindingHTTPRedirect, Location: t.SAMLIdPSSOURL()},
				{Binding: tenants.BindingHTTPPost, Location: t.SAMLIdPSSOURL()},
			},
		}},
	}
	b, err := xml.MarshalIndent(md, "", "  ")
	if err != nil {
		return httperr.Internal(err)
	}
	hdr := c.Response().Header()
	hdr.Set("Cache-Control", "public, max-age=300")
	if c.QueryParam("download") != "" {
		hdr.Set("Content-Disposition", `attachment; filename="`+t.Slug+`-idp-metadata.xml"`)
	}
	return c.Blob(http.StatusOK, "application/samlmetadata+xml", append([]byte(xml.Header), b...))
}

// sso is the single sign-on service (Profiles §4.1.4.1). It reads the
// AuthnRequest of either binding, finds its application in this tenant by
// the Issuer (another tenant's application is as unknown as none),
// verifies a signature when there is one (and requires one when the
// application does), checks the request, and stores it: the browser goes
// on to continueSSO with a same-site GET, which sees its session (a
// cross-site POST carries no SameSite=Lax cookie). Until the application
// and its ACS are known, errors are pages.
func (h *Handler) sso(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	var in *inbound
	if c.Request().Method == http.MethodPost {
		in, err = fromPost(c.FormValue("SAMLRequest"), c.FormValue("RelayState"))
	} else {
		in, err = fromRedirect(c.Request().URL.RawQuery)
	}
	if err != nil {
		return badPage(err)
	}
	raw, root, err := parse(in)
	if err != nil {
		return badPage(err)
	}
	app, err := h.store.SAMLAppByEntityID(ctx, raw.Issuer.Value)
	if errors.Is(err, tenants.ErrNotFound) {
		return badPage(bad("The application that sent you here is not registered with %s.", t.DisplayName))
	}
	if err != nil {
		return httperr.Internal(err)
	}
	req, signed, trustedXML, err := verify(app, in, raw, root)
	if err != nil {
		h.audit(ctx, "", app, ActionAssertionDenied, "denied", err.Error())
		return badPage(err)
	}
	ar, err := check(app, req, signed, in.RelayState, t.SAMLIdPSSOURL(), h.store.Now())
	if err != nil {
		return badPage(err)
	}
	if ar.AuthnClasses, ar.AuthnComparison, err = authnContextOf(trustedXML); err != nil {
		return badPage(err)
	}
	if !app.Enabled {
		return h.fail(c, t, answer{InResponseTo: ar.ID, ACS: ar.ACS.URL, RelayState: ar.RelayState}, saml.StatusResponder, saml.StatusRequestDenied,
			"the application is disabled")
	}
	if _, ok := contextNeed(ar.AuthnClasses, ar.AuthnComparison); !ok {
		h.audit(ctx, "", app, ActionAssertionDenied, "denied", "no authentication context Gatehouse can reach was requested")
		return h.fail(c, t, answer{InResponseTo: ar.ID, ACS: ar.ACS.URL, RelayState: ar.RelayState}, saml.StatusRequester, saml.StatusNoAuthnContext,
			"the requested authentication context cannot be satisfied")
	}
	browser := ""
	if in.Binding == tenants.BindingHTTPRedirect {
		browser = secret.Hash(web.EnsureBrowser(c, t))
	}
	sr := &tenants.SAMLRequest{AppID: app.ID, RequestID: ar.ID, ACSURL: ar.ACS.URL, Binding: ar.ACS.Binding, RelayState: ar.RelayState,
		ForceAuthn: ar.ForceAuthn, IsPassive: ar.IsPassive, NameIDFormat: ar.NameIDFormat, AuthnClasses: ar.AuthnClasses, AuthnComparison: ar.AuthnComparison,
		BrowserHash: browser, ExpiresAt: h.store.Now().Add(requestTTL)}
	if err := h.store.CreateSAMLRequest(ctx, sr); err != nil {
		return httperr.Internal(err)
	}
	return c.Redirect(http.StatusSeeOther, tenants.PathSAMLIdPContinue+"?id="+url.QueryEscape(sr.ID))
}

// launch starts an IdP-initiated sign-in to an application (Profiles
// §4.1.5): an unsolicited response to its default ACS, for a user signed
// in here. It is a form of the account page (CSRF-checked).
func (h *Handler) launch(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	id := c.Param("app")
	app, err := h.store.SAMLAppByID(ctx, id)
	if errors.Is(err, tenants.ErrNotFound) || err == nil && !app.Enabled {
		return httperr.Page(http.StatusNotFound, "Application not found", "This application is not available.")
	}
	if err != nil {
		return httperr.Internal(err)
	}
	acs, err := pickACS(app, "", "")
	if err != nil {
		return badPage(err)
	}
	sr := &tenants.SAMLRequest{AppID: app.ID, ACSURL: acs.URL, Binding: acs.Binding, BrowserHash: secret.Hash(web.EnsureBrowser(c, t)),
		ExpiresAt: h.store.Now().Add(requestTTL)}
	if err := h.store.CreateSAMLRequest(ctx, sr); err != nil {
		return httperr.Internal(err)
	}
	return c.Redirect(http.StatusSeeOther, tenants.PathSAMLIdPContinue+"?id="+url.QueryEscape(sr.ID))
}

// continueSSO answers a stored request in the browser that made it: with
// an assertion when the browser's session satisfies it (ForceAuthn: a
// sign-in after the request; the tenant's MFA policy), after a sign-in
// through the login pages otherwise (a sign-in intent that returns here),
// or, for IsPassive, with NoPassive. The request is answered once.
func (h *Handler) continueSSO(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	id := c.QueryParam("id")
	if id == "" || len(id) > 64 {
		return expired()
	}
	sr, err := h.store.SAMLRequestByID(ctx, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return expired()
	}
	if err != nil {
		return httperr.Internal(err)
	}
	browser := secret.Hash(web.EnsureBrowser(c, t))
	if sr.BrowserHash == "" {
		if err := h.store.ClaimSAMLRequest(ctx, sr.ID, browser); err != nil && !errors.Is(err, tenants.ErrConflict) {
			return httperr.Internal(err)
		}
		if sr, err = h.store.SAMLRequestByID(ctx, id); err != nil {
			return expired()
		}
	}
	if !secret.Equal(sr.BrowserHash, browser) {
		return httperr.Page(http.StatusBadRequest, "Sign-in started in another browser",
			"This sign-in belongs to another browser or window. Go back to the application and sign in again from here.")
	}
	app, err := h.store.SAMLAppByID(ctx, sr.AppID)
	if err != nil {
		return expired()
	}
	format := sr.NameIDFormat
	ans := answer{InResponseTo: sr.RequestID, ACS: sr.ACSURL, RelayState: sr.RelayState}
	sess, err := h.site.Session(c)
	if err != nil {
		return httperr.Internal(err)
	}
	now := h.store.Now()
	req := requirement(sr, sess)
	verdict, err := authn.JudgeSession(ctx, t, sess, req, now, h.factors)
	if err != nil {
		return httperr.Internal(err)
	}
	switch verdict {
	case authn.Satisfied:
	case authn.LoginRequired, authn.InteractionRequired:
		if err := h.store.SpendSAMLRequest(ctx, sr.ID); err != nil {
			return completed()
		}
		return h.fail(c, t, ans, saml.StatusResponder, saml.StatusNoPassive, "the user must sign in")
	default:
		ar, err := h.provider.Begin(ctx, oidc.Intent{Kind: tenants.IntentSAML, ReturnTo: tenants.PathSAMLIdPContinue + "?id=" + url.QueryEscape(sr.ID),
			Force: slices.Contains(req.Prompt, authn.PromptLogin), ACR: req.ACR}, browser)
		if err != nil {
			return err
		}
		return web.Redirect(c, web.PathLogin+"?id="+url.QueryEscape(ar.ID))
	}
	if err := h.store.SpendSAMLRequest(ctx, sr.ID); err != nil {
		return completed()
	}
	u, err := h.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return httperr.Internal(err)
	}
	if u.DisabledAt != nil {
		return h.fail(c, t, ans, saml.StatusResponder, saml.StatusRequestDenied, "the account is disabled")
	}
	class, ok := contextClass(sr.AuthnClasses, sr.AuthnComparison, sess.ACR)
	if !ok {
		return h.fail(c, t, ans, saml.StatusRequester, saml.StatusNoAuthnContext, "the requested authentication context cannot be satisfied")
	}
	s := subject{User: u, AuthTime: sess.AuthTime, ACR: sess.ACR, Class: class, SessionIndex: sessionIndex(sess)}
	roleIDs, groupIDs := []string(nil), []string(nil)
	if s.Roles, s.Groups, roleIDs, groupIDs, err = h.rolesAndGroups(ctx, u.ID); err != nil {
		return httperr.Internal(err)
	}
	if !app.Admits(roleIDs, groupIDs) {
		h.audit(ctx, u.ID, app, ActionAssertionDenied, "denied", "the user may not use this application")
		return h.fail(c, t, ans, saml.StatusResponder, saml.StatusRequestDenied, "you may not use this application")
	}
	if format, err = nameIDFormat(app, format); err != nil {
		return h.fail(c, t, ans, saml.StatusRequester, saml.StatusInvalidNameIDPolicy, "the NameID format asked for is not available")
	}
	ans.NameIDFormat = format
	ans.NameID = nameID(app, u, format)
	set, err := h.keys.Keys(ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	key, cert, err := set.SAMLSigner()
	if err != nil {
		return httperr.Internal(err)
	}
	resp, assertionID, err := issue(t, app, signer{key: key, cert: cert}, s, ans, now)
	if err != nil {
		return httperr.Internal(err)
	}
	reason := "assertion " + assertionID + " for " + app.Name
	if sr.RequestID == "" {
		reason += " (IdP-initiated)"
	}
	h.audit(ctx, u.ID, app, ActionAssertionIssued, "success", reason)
	if app.SLOURL != "" {
		// Single Logout finds the session by what the SP was told.
		if err := h.store.RecordSAMLParticipant(ctx, &tenants.SAMLParticipant{AppID: app.ID, UserID: u.ID, SID: tenants.SessionSID(sess),
			NameID: ans.NameID, NameIDFormat: format, SessionIndex: s.SessionIndex, ExpiresAt: sess.ExpiresAt}); err != nil {
			return httperr.Internal(err)
		}
	}
	return h.post(c, t, ans, resp)
}

// requirement is what a stored request asks of the browser's session:
// its RequestedAuthnContext a class (acr_values: a step-up when the
// session is weaker); IsPassive is prompt=none; ForceAuthn a sign-in since the request came
// (prompt=login until the session is newer than the request; sessions keep
// their auth_time in whole seconds, as ID tokens carry it).
func requirement(sr *tenants.SAMLRequest, sess *tenants.Session) authn.Requirement {
	var req authn.Requirement
	req.ACR, _ = contextNeed(sr.AuthnClasses, sr.AuthnComparison)
	if sr.IsPassive {
		req.Prompt = append(req.Prompt, authn.PromptNone)
	}
	if sr.ForceAuthn && (sess == nil || sess.AuthTime.Before(sr.CreatedAt.Truncate(time.Second))) {
		req.Prompt = append(req.Prompt, authn.PromptLogin)
	}
	return req
}

// post sends the browser to the ACS with the response (the HTTP-POST
// binding, Bindings §3.5.4), on a page that submits itself.
func (h *Handler) post(c echo.Context, t *tenants.Tenant, a answer, resp string) error {
	params := url.Values{"SAMLResponse": {resp}}
	if a.RelayState != "" {
		params.Set("RelayState", a.RelayState)
	}
	return web.FormPost(c, web.Meta(t, "Continue"), httperr.Delivery{URI: a.ACS, Params: params, FormPost: true})
}

// fail answers the SP with a non-success status.
func (h *Handler) fail(c echo.Context, t *tenants.Tenant, a answer, top, second, message string) error {
	resp, err := failure(t, a, top, second, message, h.store.Now())
	if err != nil {
		return httperr.Internal(err)
	}
	return h.post(c, t, a, resp)
}

func (h *Handler) audit(ctx context.Context, userID string, app *tenants.SAMLApp, action, outcome, reason string) {
	ev := &tenants.AuditEvent{Action: action, ActorKind: "user", ActorID: userID, TargetType: "saml_app", TargetID: app.ID,
		ClientID: tenants.Truncate(app.EntityID, 255), Outcome: outcome, Reason: tenants.Truncate(reason, 512)}
	if userID == "" {
		ev.ActorKind = "anonymous"
	}
	if err := h.store.AppendAudit(ctx, ev); err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "write audit event", "action", action, "err", err)
	}
}

func badPage(err error) error {
	return httperr.Page(http.StatusBadRequest, "This sign-in request is not valid", "%s", err.Error())
}

func expired() error {
	return httperr.Page(http.StatusBadRequest, "This sign-in has expired", "Sign-in requests are valid for a few minutes. Go back to the application and sign in again.")
}

func completed() error {
	return httperr.Page(http.StatusBadRequest, "This sign-in was already completed", "Go back to the application and sign in again.")
}

// rolesAndGroups returns the names and ids of the roles a user holds
// (directly or through groups) and of the groups they are a member of.
func (h *Handler) rolesAndGroups(ctx context.Context, userID string) (roles, groups, roleIDs, groupIDs []string, err error) {
	rs, err := h.store.EffectiveRoles(ctx, userID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, r := range rs {
		roles, roleIDs = append(roles, r.Role.Name), append(roleIDs, r.Role.ID)
	}
	gs, err := h.store.UserGroups(ctx, userID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, g := range gs {
		groups, groupIDs = append(groups, g.Name), append(groupIDs, g.ID)
	}
	return roles, groups, roleIDs, groupIDs, nil
}

func encodeCert(der []byte) string { return base64.StdEncoding.EncodeToString(der) }
