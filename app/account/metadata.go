package account

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// metadataPrefix starts the name of each user_metadata field in the
// account page's form ("md.nickname").
const metadataPrefix = "md."

// metadataView returns the fields of t the user may edit, with u's values.
func metadataView(t *tenants.Tenant, u *tenants.User) []views.AccountMetadataField {
	if len(t.UserMetadataFields) == 0 {
		return nil
	}
	obj := map[string]any{}
	_ = json.Unmarshal([]byte(u.UserMetadata), &obj)
	out := make([]views.AccountMetadataField, 0, len(t.UserMetadataFields))
	for _, f := range t.UserMetadataFields {
		v := ""
		switch x := obj[f.Name].(type) {
		case string:
			v = x
		case float64:
			v = strconv.FormatFloat(x, 'g', -1, 64)
		case bool:
			v = strconv.FormatBool(x)
		}
		out = append(out, views.AccountMetadataField{Name: f.Name, Label: f.Title(), Type: f.Type, Value: v, MaxLength: f.Limit()})
	}
	return out
}

// updateMetadata saves the user_metadata fields the tenant lets its users
// edit (tenants.EditUserMetadata): every field of the form must be one of
// them, sent once, of its type and within its length; the other keys of
// user_metadata, and app_metadata, are left as they are. A refused form
// is a 400 that changes nothing.
func (h *Handler) updateMetadata(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	if len(a.t.UserMetadataFields) == 0 {
		return httperr.NotFound()
	}
	if err := c.Request().ParseForm(); err != nil {
		return h.badForm(c, a, "account.err_check")
	}
	edits := map[string]string{}
	for k, vs := range c.Request().PostForm {
		if k == web.CSRFField {
			continue
		}
		name, ok := strings.CutPrefix(k, metadataPrefix)
		if !ok || len(vs) != 1 {
			return h.badForm(c, a, "account.err_check")
		}
		edits[name] = vs[0]
	}
	// The stored object, not the one this request read when it began:
	// what an administrator wrote since stays.
	cur, err := h.store.UserByID(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	next, changed, err := tenants.EditUserMetadata(a.t.UserMetadataFields, cur.UserMetadata, edits)
	if err != nil {
		return h.renderAccount(c, a, "", validationMessage(c, err), http.StatusBadRequest)
	}
	if len(changed) > 0 {
		profile := *cur
		profile.UserMetadata, profile.AppMetadata = next, ""
		if err := h.store.UpdateUserProfile(a.ctx, &profile); err != nil {
			return httperr.Internal(err)
		}
		h.site.Audit(a.ctx, a.u.ID, a.u.Email, "profile.updated", "success", "user_metadata "+strings.Join(changed, ", "))
	}
	return web.Redirect(c, web.PathAccount+"?done=profile")
}
