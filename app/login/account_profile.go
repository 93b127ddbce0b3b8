package login

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// updateProfile saves the signed-in user's name fields (the OIDC profile
// claims name, given_name and family_name).
func (h *Handler) updateProfile(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	name := strings.TrimSpace(c.FormValue("name"))
	given := strings.TrimSpace(c.FormValue("given_name"))
	family := strings.TrimSpace(c.FormValue("family_name"))
	for _, v := range []string{name, given, family} {
		if msg := checkName(v); msg != "" {
			return h.badAccountForm(c, a, msg)
		}
	}
	a.u.Name, a.u.GivenName, a.u.FamilyName = name, given, family
	if err := h.store.UpdateUserProfile(a.ctx, a.u); err != nil {
		return httperr.Internal(err)
	}
	h.auditLogin(c, a.u.ID, a.u.Email, "profile.updated", "success", "")
	return redirect(c, pathAccount+"?done=profile")
}
