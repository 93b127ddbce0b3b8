package api

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

type createUserBody struct {
	Email         string `json:"email" required:"true"`
	Password      string `json:"password" required:"true" doc:"at least 12 characters; stored as an argon2id hash, never shown"`
	Name          string `json:"name"`
	EmailVerified bool   `json:"email_verified"`
}

// updateUserBody is a partial update of a profile: absent (or null) fields
// are left as they are. A new email address is unverified unless
// email_verified says otherwise.
type updateUserBody struct {
	Email         *string `json:"email"`
	EmailVerified *bool   `json:"email_verified"`
	Name          *string `json:"name"`
	GivenName     *string `json:"given_name"`
	FamilyName    *string `json:"family_name"`
	// Metadata objects replace the user's; {} clears.
	UserMetadata *json.RawMessage `json:"user_metadata" doc:"replaces the user's user_metadata: a JSON object of at most 16 KiB; {} clears"`
	AppMetadata  *json.RawMessage `json:"app_metadata" doc:"replaces the user's app_metadata (admins and the API only): a JSON object of at most 16 KiB; {} clears"`
}

type passwordBody struct {
	Password string `json:"password" required:"true" doc:"at least 12 characters; the user's sessions end and their tokens are revoked"`
}

// listUsers answers a page of the tenant's users in email order, matching
// ?q= (part of the email address or name).
func (h *Handler) listUsers(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	q, err := query(c, "q", 200)
	if err != nil {
		return err
	}
	n, err := limit(c)
	if err != nil {
		return err
	}
	after, err := cursor(c, "after")
	if err != nil {
		return err
	}
	spec, err := query(c, "metadata", 200)
	if err != nil {
		return err
	}
	value, err := query(c, "value", 200)
	if err != nil {
		return err
	}
	var p *admin.UserPage
	switch {
	case spec != "" && q != "":
		return badRequest("metadata", "search by q or by metadata, not both")
	case spec != "":
		p, err = h.svc.ListUsersByMetadata(ctx, spec, value, after, n)
	default:
		p, err = h.svc.ListUsers(ctx, q, after, n)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list[*admin.User]{Items: p.Users, Next: encodeCursor(p.Next)})
}

func (h *Handler) createUser(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b createUserBody
	if err := decode(c, &b); err != nil {
		return err
	}
	u, err := h.svc.CreateUser(ctx, admin.CreateUserInput{Email: b.Email, Password: b.Password, Name: b.Name, EmailVerified: b.EmailVerified})
	if err != nil {
		return err
	}
	return created(c, "/tenants/"+t.Slug+"/users/"+u.ID, u)
}

func (h *Handler) getUser(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	u, err := h.svc.GetUser(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (h *Handler) updateUser(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	var b updateUserBody
	if err := decode(c, &b); err != nil {
		return err
	}
	u, err := h.svc.UpdateUser(ctx, id, admin.UpdateUserInput{Email: b.Email, EmailVerified: b.EmailVerified, Name: b.Name, GivenName: b.GivenName, FamilyName: b.FamilyName,
		UserMetadata: b.UserMetadata, AppMetadata: b.AppMetadata})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (h *Handler) deleteUser(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteUser(ctx, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) disableUser(c echo.Context) error { return h.setDisabled(c, true) }

func (h *Handler) enableUser(c echo.Context) error { return h.setDisabled(c, false) }

// setDisabled disables a user (ending their sessions and revoking their
// tokens) or enables them again.
func (h *Handler) setDisabled(c echo.Context, disabled bool) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	u, err := h.svc.SetUserDisabled(ctx, id, disabled)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (h *Handler) setPassword(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	var b passwordBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if err := h.svc.SetUserPassword(ctx, id, b.Password); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listSessions answers a user's active sessions, newest first: a short
// list, not paginated.
func (h *Handler) listSessions(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	ss, err := h.svc.ListSessions(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(ss))
}

func (h *Handler) revokeSession(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	ref, err := pathParam(c, "session_id")
	if err != nil {
		return err
	}
	if err := h.svc.RevokeSession(ctx, id, ref); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listConsents answers the applications a user gave access to: a short
// list, not paginated.
func (h *Handler) listConsents(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	cs, err := h.svc.ListConsents(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(cs))
}

// revokeConsent withdraws a user's consent to an application and revokes
// the tokens the application holds for them.
func (h *Handler) revokeConsent(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	clientID, err := pathParam(c, "client_id")
	if err != nil {
		return err
	}
	if err := h.svc.RevokeConsent(ctx, id, clientID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// resetSent answers a reset email sent.
type resetSent struct {
	Sent bool `json:"sent"`
}

func (h *Handler) sendVerification(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.SendVerification(ctx, id); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, resetSent{Sent: true})
}

// inviteBody is who to invite.
type inviteBody struct {
	Email string `json:"email" doc:"the new user's address: the invitation goes there"`
	Name  string `json:"name,omitempty"`
}

func (h *Handler) inviteUser(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b inviteBody
	if err := decode(c, &b); err != nil {
		return err
	}
	u, err := h.svc.InviteUser(ctx, admin.InviteUserInput{Email: b.Email, Name: b.Name})
	if err != nil {
		return err
	}
	return created(c, "/tenants/"+t.Slug+"/users/"+u.ID, u)
}

func (h *Handler) sendPasswordReset(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.SendPasswordReset(ctx, id); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, resetSent{Sent: true})
}
