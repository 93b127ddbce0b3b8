package login

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// revokeSession signs one of the user's sessions out (another browser;
// this one signs out at /logout).
func (h *Handler) revokeSession(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	sessions, err := h.store.ListSessions(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	handle := c.Param("session")
	for _, s := range sessions {
		if s.ID == a.sess.ID || h.sessionHandle(a.t, s.ID) != handle {
			continue
		}
		err := h.store.DeleteUserSession(a.ctx, a.u.ID, s.ID)
		if err != nil && !errors.Is(err, tenants.ErrNotFound) {
			return httperr.Internal(err)
		}
		h.auditLogin(c, a.u.ID, a.u.Email, "session.revoked", "success", "by the user")
		return redirect(c, pathAccount+"?done=session-revoked")
	}
	return httperr.NotFound()
}

// revokeApp removes an application's access: the user's consent to it
// and every token family it holds for the user (its refresh tokens stop
// working at once).
func (h *Handler) revokeApp(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	clientID := c.Param("client")
	err = h.store.RevokeConsent(a.ctx, a.u.ID, clientID)
	if errors.Is(err, tenants.ErrNotFound) {
		return httperr.NotFound()
	}
	if err != nil {
		return httperr.Internal(err)
	}
	h.auditLogin(c, a.u.ID, a.u.Email, "consent.revoked", "success", "client "+truncate(clientID, 100))
	return redirect(c, pathAccount+"?done=app-revoked")
}
