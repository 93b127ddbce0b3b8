package login

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// The device page (RFC 8628 §3.3): the user enters the code a device
// shows, signs in (the sign-in pages, as an intent that returns here), and
// answers on the consent page, which says a device asked. The code is the
// secret: guesses are throttled per address and tenant
// (authn.DeviceCodeRules), and once found the request travels as a handle
// bound to this browser, never as the code. Package oidc owns the device
// authorization; this page only asks it.

// errWrongUserCode is the answer to a code that names no pending request,
// and to a throttled attempt alike.
const errWrongUserCode = "device.wrong_code"

// deviceHandle names device authorization id for this browser only: the
// id and a MAC over it, the tenant and the browser cookie.
func (h *Handler) deviceHandle(c echo.Context, t *tenants.Tenant, id string) string {
	return id + "." + h.site.MAC("device-request", t.ID, web.EnsureBrowser(c, t), id)
}

// deviceID returns the device authorization id a handle names, if the
// handle was made for this browser.
func (h *Handler) deviceID(c echo.Context, t *tenants.Tenant, handle string) (string, bool) {
	id, mac, ok := strings.Cut(handle, ".")
	browser := web.BrowserID(c, t)
	if !ok || id == "" || len(handle) > 256 || browser == "" {
		return "", false
	}
	return id, secret.Equal(mac, h.site.MAC("device-request", t.ID, browser, id))
}

// showDevice is the verification URI. With a handle (h) it asks the
// signed-in user to answer the device's request; else it asks for the
// code, filled in from verification_uri_complete's user_code.
func (h *Handler) showDevice(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if handle := c.QueryParam("h"); handle != "" {
		return h.showDeviceConsent(c, t, handle)
	}
	code := c.QueryParam("user_code")
	if len(code) > 64 {
		code = ""
	}
	return h.renderDeviceCode(c, t, code, "", http.StatusOK)
}

func (h *Handler) renderDeviceCode(c echo.Context, t *tenants.Tenant, code, msg string, status int) error {
	return web.Render(c, status, views.DeviceCodePage(views.DeviceCodeView{
		Meta: web.Meta(t, "device.title"), CSRF: h.site.CSRF(c, t), UserCode: code, Error: msg,
	}))
}

// submitDeviceCode looks the typed code up, after the attempt took its
// turn on the throttle: a wrong code and a throttled attempt get the same
// answer. A found code goes on to the consent step, by its handle.
func (h *Handler) submitDeviceCode(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	typed := tenants.Truncate(c.FormValue("user_code"), 64)
	attempt := authn.Attempt{Action: "device", Rules: authn.DeviceCodeRules, Tenant: t.ID, Address: web.ClientIP(ctx)}
	turn := h.throttle.Begin(ctx, attempt)
	if turn.Refuse {
		h.site.Audit(ctx, "", "", "device.throttled", "denied", "too many wrong user codes")
		return h.renderDeviceCode(c, t, typed, errWrongUserCode, http.StatusBadRequest)
	}
	turn.Wait(ctx)
	d, err := h.provider.DeviceByUserCode(ctx, typed)
	if errors.Is(err, oidc.ErrUnknownUserCode) {
		turn.Failed(ctx)
		h.site.Audit(ctx, "", "", "device.code_rejected", "failure", "unknown or expired user code")
		return h.renderDeviceCode(c, t, typed, errWrongUserCode, http.StatusBadRequest)
	}
	if err != nil {
		turn.Cancel(ctx)
		return err
	}
	turn.Succeeded(ctx)
	return web.Redirect(c, oidc.PathDevice+"?h="+url.QueryEscape(h.deviceHandle(c, t, d.ID)))
}

// deviceRequest loads the device authorization a handle names for this
// browser, and the user whose session satisfies the tenant's sign-in
// policy (nil without one).
func (h *Handler) deviceRequest(c echo.Context, t *tenants.Tenant, handle string) (*tenants.DeviceAuthorization, *tenants.Session, *tenants.User, error) {
	ctx := c.Request().Context()
	id, ok := h.deviceID(c, t, handle)
	if !ok {
		return nil, nil, nil, expired()
	}
	d, err := h.provider.Device(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	sess, err := h.site.Session(c)
	if err != nil {
		return nil, nil, nil, httperr.Internal(err)
	}
	v, err := authn.JudgeSession(ctx, t, sess, authn.Requirement{}, h.store.Now(), h.factors.Confirmed)
	if err != nil {
		return nil, nil, nil, httperr.Internal(err)
	}
	if v != authn.Satisfied {
		return d, nil, nil, nil
	}
	u, err := h.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return nil, nil, nil, httperr.Internal(err)
	}
	if u.DisabledAt != nil {
		return d, nil, nil, nil
	}
	return d, sess, u, nil
}

// showDeviceConsent asks the signed-in user to answer the device's
// request, every time (a device's request is where remote phishing aims,
// RFC 8628 §5.4: no earlier consent answers it); without a session it
// sends the browser to sign in first, coming back here.
func (h *Handler) showDeviceConsent(c echo.Context, t *tenants.Tenant, handle string) error {
	ctx := c.Request().Context()
	d, sess, u, err := h.deviceRequest(c, t, handle)
	if err != nil {
		return err
	}
	if sess == nil {
		ar, err := h.provider.Begin(ctx, oidc.Intent{Kind: tenants.IntentDevice, ReturnTo: oidc.PathDevice + "?h=" + url.QueryEscape(handle)},
			secret.Hash(web.EnsureBrowser(c, t)))
		if err != nil {
			return err
		}
		return web.Redirect(c, web.PathLogin+"?id="+url.QueryEscape(ar.ID))
	}
	cl, err := h.provider.Client(ctx, d.ClientID)
	if err != nil {
		return expired()
	}
	return web.Render(c, http.StatusOK, views.ConsentPage(views.ConsentView{
		Meta:       web.Meta(t, "device.allow_title"),
		RequestID:  handle,
		CSRF:       h.site.CSRF(c, t),
		AppName:    cl.Name,
		UserEmail:  displayName(u),
		Scopes:     consentScopes(cl, d.Scopes, d.Audience),
		Action:     web.PathDeviceConsent,
		DeviceCode: oidc.FormatUserCode(d.UserCode),
	}))
}

// submitDeviceConsent records the signed-in user's answer: Allow grants
// the scopes and approves the request for this sign-in; Cancel denies it.
// Either way the device learns it at its next poll.
func (h *Handler) submitDeviceConsent(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	d, sess, _, err := h.deviceRequest(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	if sess == nil {
		return expired()
	}
	cl, err := h.provider.Client(ctx, d.ClientID)
	if err != nil {
		return expired()
	}
	reason := "device authorization; scopes: " + strings.Join(d.Scopes, " ")
	switch c.FormValue("action") {
	case "allow":
	case "deny":
		if err := h.provider.DenyDevice(ctx, d); err != nil {
			return err
		}
		h.auditAnswer(ctx, sess.UserID, d.ClientID, "consent.denied", "denied", reason)
		return web.Render(c, http.StatusOK, views.DeviceDonePage(views.DeviceDoneView{Meta: web.Meta(t, "device.denied"), AppName: cl.Name}))
	default:
		return web.BadForm()
	}
	if _, err := h.store.GrantConsent(ctx, sess.UserID, d.ClientID, scopeSet(d.Scopes, d.Audience)); err != nil {
		return httperr.Internal(err)
	}
	if err := h.provider.ApproveDevice(ctx, d, fromSession(sess)); err != nil {
		return err
	}
	h.auditAnswer(ctx, sess.UserID, d.ClientID, "consent.granted", "success", reason)
	return web.Render(c, http.StatusOK, views.DeviceDonePage(views.DeviceDoneView{Meta: web.Meta(t, "device.connected"), Approved: true, AppName: cl.Name}))
}
