package web

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// DeviceTTL is how long a browser is remembered as one that signed in to
// an account, in seconds (OWASP "device cookies": throttling judges it by
// its own failures, so that an attack on the account from elsewhere never
// locks its owner out).
const DeviceTTL = 180 * 24 * 3600

// Device returns the id of the browser's device cookie (DeviceCookie, or
// TrustedDeviceCookie) when it proves an earlier sign-in to the account
// named account (an email address) at t, or "".
func (s *Site) Device(c echo.Context, t *tenants.Tenant, cookie, account string) string {
	if account == "" {
		return ""
	}
	for _, v := range CookieValues(c, t, cookie) {
		id, mac, ok := strings.Cut(v, ".")
		if ok && id != "" && secret.Equal(mac, s.deviceMAC(t, cookie, account, id)) {
			return id
		}
	}
	return ""
}

// RememberDevice sets the device cookie for the account named account.
func (s *Site) RememberDevice(c echo.Context, t *tenants.Tenant, cookie, account string) {
	id := secret.Token(16)
	SetCookie(c, t, cookie, id+"."+s.deviceMAC(t, cookie, account, id), DeviceTTL)
}

func (s *Site) deviceMAC(t *tenants.Tenant, cookie, account, id string) string {
	purpose := "device"
	if cookie != DeviceCookie {
		purpose = cookie
	}
	return s.MAC(purpose, t.ID, secret.Hash(tenants.NormalizeEmail(account)), id)
}
