package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

func (h *Handler) users(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	q, after, back := strings.TrimSpace(c.QueryParam("q")), c.QueryParam("after"), backTrail(c)
	pg, err := h.page(c, "Users", "users", t)
	if err != nil {
		return err
	}
	v := vc.UsersView{Page: pg, Query: q}
	p, err := h.svc.ListUsers(ctx, q, after, pageSize)
	if v.Errors = formErrors(err, "q"); v.Errors != nil {
		return render(c, http.StatusUnprocessableEntity, vc.Users(v))
	}
	if err != nil {
		return err
	}
	for _, u := range p.Users {
		v.Rows = append(v.Rows, vc.UserRow{Email: u.Email, Name: u.Name, Link: vc.TenantURL(t.Slug, "/users/"+u.ID),
			Disabled: u.Disabled, Verified: u.EmailVerified, LastLogin: whenPtr(u.LastLoginAt)})
	}
	v.Pager = pager(url.Values{"q": {q}}, vc.TenantURL(t.Slug, "/users"), "after", after, back, p.Next)
	return render(c, http.StatusOK, vc.Users(v))
}

func (h *Handler) renderNewUser(c echo.Context, t *tenants.Tenant, status int, v vc.NewUserView) error {
	pg, err := h.page(c, "New user", "users", t)
	if err != nil {
		return err
	}
	v.Page, v.MinLen, v.CanMail = pg, strconv.Itoa(t.MinPasswordLength()), h.svc.CanMail()
	return render(c, status, vc.NewUser(v))
}

func (h *Handler) newUser(c echo.Context) error {
	_, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	return h.renderNewUser(c, t, http.StatusOK, vc.NewUserView{})
}

func (h *Handler) createUser(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	v := vc.NewUserView{Email: c.FormValue("email"), Name: c.FormValue("name"), Verified: c.FormValue("email_verified") == "true"}
	u, err := h.svc.CreateUser(ctx, admin.CreateUserInput{Email: v.Email, Name: v.Name, Password: c.FormValue("password"), EmailVerified: v.Verified})
	if errors.Is(err, tenants.ErrAlreadyExists) {
		err = tenants.Invalid("email", "a user with this email address exists already")
	}
	if v.Errors = formErrors(err, "email", "name", "password"); v.Errors != nil {
		return h.renderNewUser(c, t, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "user-created")
}

// loadUser resolves the tenant and the :user of the path: every user route
// answers "not found" for a user of another tenant before it looks at its
// form.
func (h *Handler) loadUser(c echo.Context) (context.Context, *tenants.Tenant, *admin.User, error) {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := h.svc.GetUser(ctx, c.Param("user"))
	if err != nil {
		return nil, nil, nil, err
	}
	return ctx, t, u, nil
}

// userEdit is what the admin typed in a user's forms when one comes back
// with errors.
type userEdit struct {
	email, name, given, family *string
	verified                   *bool
	errs, passwordErrs         map[string]string
	roleErrs                   map[string]string
	userMetadata, appMetadata  *string
	metadataErrs               map[string]string
	alert                      string
}

func (h *Handler) renderUser(c echo.Context, ctx context.Context, t *tenants.Tenant, u *admin.User, status int, e userEdit) error {
	pg, err := h.page(c, u.Email, "users", t)
	if err != nil {
		return err
	}
	ss, err := h.svc.ListSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	cs, err := h.svc.ListConsents(ctx, u.ID)
	if err != nil {
		return err
	}
	v := vc.UserView{Page: pg, ID: u.ID, Email: u.Email, Verified: u.EmailVerified, Disabled: u.Disabled, Created: when(u.CreatedAt),
		LastLogin: whenPtr(u.LastLoginAt), FormEmail: u.Email, FormVerified: u.EmailVerified, FormName: u.Name, FormGiven: u.GivenName,
		FormFamily: u.FamilyName, Errors: e.errs, PasswordErrors: e.passwordErrs, MinLen: strconv.Itoa(t.MinPasswordLength())}
	for _, f := range []struct {
		v   *string
		dst *string
	}{{e.email, &v.FormEmail}, {e.name, &v.FormName}, {e.given, &v.FormGiven}, {e.family, &v.FormFamily}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if e.verified != nil {
		v.FormVerified = *e.verified
	}
	v.FormUserMetadata, v.FormAppMetadata, v.MetadataErrors = indentJSON(u.UserMetadata), indentJSON(u.AppMetadata), e.metadataErrs
	if e.userMetadata != nil {
		v.FormUserMetadata, v.FormAppMetadata = *e.userMetadata, *e.appMetadata
	}
	for _, s := range ss {
		v.Sessions = append(v.Sessions, vc.SessionRow{Ref: s.ID, Started: when(s.AuthTime), LastSeen: when(s.LastSeenAt), Expires: when(s.ExpiresAt),
			IP: s.IPAddress, UserAgent: s.UserAgent, Methods: strings.Join(s.AMR, ", ")})
	}
	for _, co := range cs {
		row := vc.ConsentRow{ClientID: co.ClientID, AppName: co.ClientName, Granted: when(co.CreatedAt)}
		auds := make([]string, 0, len(co.Scopes))
		for aud := range co.Scopes {
			auds = append(auds, aud)
		}
		slices.Sort(auds)
		for _, aud := range auds {
			for _, s := range co.Scopes[aud] {
				if aud != "" {
					s = s + " (" + aud + ")"
				}
				row.Scopes = append(row.Scopes, s)
			}
		}
		v.Consents = append(v.Consents, row)
	}
	if v.Access, err = h.userAccess(ctx, t, u.ID, e.roleErrs); err != nil {
		return err
	}
	v.CanMail, v.Alert = h.svc.CanMail(), e.alert
	signIns, err := h.svc.UserSignIns(ctx, u.ID, 20)
	switch {
	case errors.Is(err, admin.ErrForbidden):
		// An administrator who may not read the audit log sees no history.
	case err != nil:
		return err
	default:
		v.ShowSignIns = true
	}
	for _, s := range signIns {
		row := vc.SignInRow{Time: when(s.Time), OK: s.Outcome == "success", What: signInWords(s.Action, s.Outcome), Reason: s.Reason,
			IP: s.IPAddress, UserAgent: s.UserAgent, App: s.ClientID}
		v.SignIns = append(v.SignIns, row)
	}
	xs, err := h.svc.UserIdentities(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, x := range xs {
		v.Identities = append(v.Identities, vc.IdentityRow{ID: x.ID, Connection: x.Connection, Email: x.Email, Subject: x.Subject, Linked: x.LinkedAt})
	}
	return render(c, status, vc.UserPage(v))
}

func (h *Handler) user(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	return h.renderUser(c, ctx, t, u, http.StatusOK, userEdit{})
}

func (h *Handler) updateUser(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	email, name, given, family := c.FormValue("email"), c.FormValue("name"), c.FormValue("given_name"), c.FormValue("family_name")
	verified := c.FormValue("email_verified") == "true"
	in := admin.UpdateUserInput{Email: &email, Name: &name, GivenName: &given, FamilyName: &family}
	// What the box says is what is saved (console.js unchecks it when the
	// address is edited).
	in.EmailVerified = &verified
	_, err = h.svc.UpdateUser(ctx, u.ID, in)
	if errs := formErrors(err, "email", "name", "given_name", "family_name"); errs != nil {
		return h.renderUser(c, ctx, t, u, http.StatusUnprocessableEntity, userEdit{email: &email, name: &name, given: &given, family: &family,
			verified: &verified, errs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "user-updated")
}

// updateUserMetadata replaces a user's user_metadata and app_metadata
// with the JSON objects of the form (checked by the service: objects of at
// most admin.MaxMetadata bytes; empty clears).
func (h *Handler) updateUserMetadata(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	um, am := c.FormValue("user_metadata"), c.FormValue("app_metadata")
	raw := func(s string) *json.RawMessage {
		r := json.RawMessage("null")
		if strings.TrimSpace(s) != "" {
			r = json.RawMessage(s)
		}
		return &r
	}
	_, err = h.svc.UpdateUser(ctx, u.ID, admin.UpdateUserInput{UserMetadata: raw(um), AppMetadata: raw(am)})
	if errs := formErrors(err, "user_metadata", "app_metadata"); errs != nil {
		return h.renderUser(c, ctx, t, u, http.StatusUnprocessableEntity, userEdit{userMetadata: &um, appMetadata: &am, metadataErrs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "user-updated")
}

// indentJSON shows a metadata object for editing ("" for none).
func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if len(raw) == 0 || string(raw) == "{}" || json.Indent(&b, raw, "", "  ") != nil {
		return ""
	}
	return b.String()
}

func (h *Handler) setDisabled(c echo.Context, disabled bool) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	if _, err := h.svc.SetUserDisabled(ctx, u.ID, disabled); err != nil {
		return err
	}
	flash := "user-enabled"
	if disabled {
		flash = "user-disabled"
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), flash)
}

func (h *Handler) disableUser(c echo.Context) error { return h.setDisabled(c, true) }

func (h *Handler) enableUser(c echo.Context) error { return h.setDisabled(c, false) }

func (h *Handler) setPassword(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	err = h.svc.SetUserPassword(ctx, u.ID, c.FormValue("password"))
	if errs := formErrors(err, "password"); errs != nil {
		return h.renderUser(c, ctx, t, u, http.StatusUnprocessableEntity, userEdit{passwordErrs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "password-set")
}

func (h *Handler) deleteUser(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users"), "user-deleted")
}

func (h *Handler) revokeSession(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	if err := h.svc.RevokeSession(ctx, u.ID, c.Param("session")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "session-revoked")
}

func (h *Handler) revokeConsent(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	if err := h.svc.RevokeConsent(ctx, u.ID, c.Param("client")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "consent-revoked")
}

// signInWords says what a sign-in event of the audit log was.
func signInWords(action, outcome string) string {
	switch action {
	case "login.succeeded":
		return "Signed in"
	case "login.throttled":
		return "Throttled"
	case "login.failed":
		if outcome == "denied" {
			return "Refused"
		}
		return "Failed"
	}
	if outcome == "success" {
		return strings.TrimPrefix(action, "login.")
	}
	return strings.TrimPrefix(action, "login.") + " (" + outcome + ")"
}

func (h *Handler) inviteUser(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	v := vc.NewUserView{InviteEmail: c.FormValue("email"), InviteName: c.FormValue("name")}
	u, err := h.svc.InviteUser(ctx, admin.InviteUserInput{Email: v.InviteEmail, Name: v.InviteName})
	if errors.Is(err, tenants.ErrAlreadyExists) {
		err = tenants.Invalid("email", "a user with this email address exists already: send them a reset link from their page")
	}
	if v.InviteErrors = formErrors(err, "email", "name"); v.InviteErrors != nil {
		return h.renderNewUser(c, t, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "user-invited")
}

// userMail sends the user an email by send, and comes back to their page.
func (h *Handler) userMail(c echo.Context, send func(ctx context.Context, userID string) error, flash string) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	err = send(ctx, u.ID)
	if errs := fieldErrors(err); errs != nil {
		return h.renderUser(c, ctx, t, u, http.StatusUnprocessableEntity, userEdit{alert: firstError(errs)})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), flash)
}

func (h *Handler) sendUserReset(c echo.Context) error {
	return h.userMail(c, h.svc.SendPasswordReset, "reset-sent")
}

func (h *Handler) sendUserVerification(c echo.Context) error {
	return h.userMail(c, h.svc.SendVerification, "verification-sent")
}

func (h *Handler) unlinkUserIdentity(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	err = h.svc.UnlinkUserIdentity(ctx, u.ID, c.Param("identity"))
	if errs := fieldErrors(err); errs != nil {
		return h.renderUser(c, ctx, t, u, http.StatusUnprocessableEntity, userEdit{alert: firstError(errs)})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "identity-unlinked")
}

// firstError is the message of a form's errors, for an alert.
func firstError(errs map[string]string) string {
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return errs[keys[0]]
}
