package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

func (h *Handler) claimRules(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	return h.renderClaimRules(c, ctx, t, http.StatusOK, vc.ClaimRulesView{})
}

func (h *Handler) renderClaimRules(c echo.Context, ctx context.Context, t *tenants.Tenant, status int, v vc.ClaimRulesView) error {
	rs, err := h.svc.ListClaimRules(ctx)
	if err != nil {
		return err
	}
	if v.Page, err = h.page(c, "Claim rules", "claim-rules", t); err != nil {
		return err
	}
	v.Reserved = strings.Join(claimrules.Reserved(), ", ")
	for _, r := range rs {
		v.Rows = append(v.Rows, vc.ClaimRuleRow{Position: strconv.Itoa(r.Position), Name: r.Name, Enabled: r.Enabled, Condition: r.Condition,
			IDToken: claimLines(r.IDToken), Access: claimLines(r.AccessToken), Deny: r.Deny,
			DeleteLink: vc.TenantURL(t.Slug, "/claim-rules/"+r.ID+"/delete")})
	}
	return render(c, status, vc.ClaimRules(v))
}

// claimLines writes claims as the editor reads them: "name = expression",
// by name.
func claimLines(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, e := range m {
		out = append(out, k+" = "+e)
	}
	slices.Sort(out)
	return out
}

// parseClaims reads the editor's claims: one a line, "name = expression".
func parseClaims(field, text string) (map[string]string, error) {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, expr, ok := strings.Cut(line, "=")
		name, expr = strings.TrimSpace(name), strings.TrimSpace(expr)
		if !ok || name == "" || expr == "" {
			return nil, tenants.Invalid(field, "write one claim a line: name = expression")
		}
		if _, dup := out[name]; dup {
			return nil, tenants.Invalid(field, "claim %s is given twice", tenants.Truncate(name, 60))
		}
		out[name] = expr
	}
	return out, nil
}

// ruleFormErrors shows a rule's problem next to its field: a claim's
// problem (id_token.<claim>) next to its token's field.
func ruleFormErrors(err error) map[string]string {
	var ve *tenants.ValidationError
	if errors.As(err, &ve) {
		field, _, _ := strings.Cut(ve.Field, ".")
		err = tenants.Invalid(field, "%s", ve.Message)
	}
	return formErrors(err, "name", "condition", "id_token", "access_token", "deny")
}

func (h *Handler) createClaimRule(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	v := vc.ClaimRulesView{FormName: c.FormValue("name"), FormCond: c.FormValue("condition"), FormID: c.FormValue("id_token"),
		FormAccess: c.FormValue("access_token"), FormDeny: c.FormValue("deny")}
	id, err := parseClaims("id_token", v.FormID)
	var access map[string]string
	if err == nil {
		access, err = parseClaims("access_token", v.FormAccess)
	}
	if err == nil {
		enabled := true
		_, err = h.svc.CreateClaimRule(ctx, admin.ClaimRuleInput{Name: &v.FormName, Enabled: &enabled, Condition: &v.FormCond,
			IDToken: &id, AccessToken: &access, Deny: &v.FormDeny})
	}
	if v.Errors = ruleFormErrors(err); v.Errors != nil {
		return h.renderClaimRules(c, ctx, t, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/claim-rules"), "rule-created")
}

func (h *Handler) previewClaimRules(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	v := vc.ClaimRulesView{PreviewUser: strings.TrimSpace(c.FormValue("user")), PreviewClient: strings.TrimSpace(c.FormValue("client"))}
	p, err := h.svc.PreviewClaims(ctx, admin.PreviewInput{User: v.PreviewUser, Client: v.PreviewClient})
	switch {
	case errors.Is(err, tenants.ErrNotFound):
		v.PreviewErrors = map[string]string{"form": "There is no such user or application in this tenant."}
		return h.renderClaimRules(c, ctx, t, http.StatusUnprocessableEntity, v)
	case err != nil:
		if v.PreviewErrors = formErrors(err, "user", "client"); v.PreviewErrors != nil {
			return h.renderClaimRules(c, ctx, t, http.StatusUnprocessableEntity, v)
		}
		return err
	}
	v.Ran = true
	switch {
	case p.Denied != nil:
		v.Denied = p.Denied.Rule + ": " + p.Denied.Message
	case p.Failed != nil:
		v.Failed = p.Failed.Rule + " (" + p.Failed.Field + "): " + p.Failed.Message
	default:
		id, _ := json.MarshalIndent(p.IDToken, "", "  ")
		access, _ := json.MarshalIndent(p.AccessToken, "", "  ")
		v.IDToken, v.AccessToken = string(id), string(access)
	}
	return h.renderClaimRules(c, ctx, t, http.StatusOK, v)
}

func (h *Handler) deleteClaimRule(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteClaimRule(ctx, c.Param("rule")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/claim-rules"), "rule-deleted")
}
