package login

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// deviceTTL is how long a browser is remembered as one that signed in to
// an account (OWASP "device cookies": throttling judges it by its own
// failures, so that an attack on the account from elsewhere never locks it
// out).
const deviceTTL = 180 * 24 * 3600

// deviceFor returns the id of the browser's device cookie when it proves
// an earlier sign-in to the account of email at t, or "".
func (h *Handler) deviceFor(c echo.Context, t *tenants.Tenant, email string) string {
	for _, v := range web.CookieValues(c, t, web.DeviceCookie) {
		id, mac, ok := strings.Cut(v, ".")
		if ok && id != "" && secret.Equal(mac, h.deviceMAC(t, email, id)) {
			return id
		}
	}
	return ""
}

// rememberDevice sets the device cookie for the account of email.
func (h *Handler) rememberDevice(c echo.Context, t *tenants.Tenant, email string) {
	id := secret.Token(16)
	web.SetCookie(c, t, web.DeviceCookie, id+"."+h.deviceMAC(t, email, id), deviceTTL)
}

func (h *Handler) deviceMAC(t *tenants.Tenant, email, id string) string {
	return h.site.MAC("device", t.ID, secret.Hash(tenants.NormalizeEmail(email)), id)
}
