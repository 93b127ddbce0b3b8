package login

import (
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// deviceFor returns the id of the browser's device cookie when it proves
// an earlier sign-in to the account of email at t, or "".
func (h *Handler) deviceFor(c echo.Context, t *tenants.Tenant, email string) string {
	return h.site.Device(c, t, web.DeviceCookie, email)
}

// rememberDevice sets the device cookie for the account of email.
func (h *Handler) rememberDevice(c echo.Context, t *tenants.Tenant, email string) {
	h.site.RememberDevice(c, t, web.DeviceCookie, email)
}

// trustedDeviceFor returns the id of the browser's cookie that proves an
// earlier two-factor sign-in to the account of email, or "": a browser
// whose second-factor failures are judged by themselves only. A password
// alone never earns it, so whoever only knows the password gets no more
// tries at the second factor by signing in again.
func (h *Handler) trustedDeviceFor(c echo.Context, t *tenants.Tenant, email string) string {
	return h.site.Device(c, t, web.TrustedDeviceCookie, email)
}
