package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

type createClaimRuleBody struct {
	Name        string            `json:"name" required:"true" doc:"unique in the tenant, at most 100 characters"`
	Position    int               `json:"position" doc:"rules run in order of position; 0 or absent: after the tenant's last"`
	Enabled     *bool             `json:"enabled" doc:"default true; a disabled rule is skipped"`
	Condition   string            `json:"condition" doc:"CEL expression of type bool over user, client, api, connection and request; empty: always"`
	IDToken     map[string]string `json:"id_token" doc:"claims to add to the ID token: claim name → CEL expression of its (JSON) value; reserved claims are refused"`
	AccessToken map[string]string `json:"access_token" doc:"claims to add to the access token, likewise"`
	Deny        string            `json:"deny" doc:"instead of claims: when the condition holds, the sign-in is refused with this message (at most 300 characters)"`
}

type updateClaimRuleBody struct {
	Name        *string            `json:"name"`
	Position    *int               `json:"position"`
	Enabled     *bool              `json:"enabled"`
	Condition   *string            `json:"condition"`
	IDToken     *map[string]string `json:"id_token" doc:"replaces the rule's ID token claims"`
	AccessToken *map[string]string `json:"access_token" doc:"replaces the rule's access token claims"`
	Deny        *string            `json:"deny"`
}

type previewClaimsBody struct {
	User     string                `json:"user" required:"true" doc:"the user's id or email"`
	Client   string                `json:"client" required:"true" doc:"the client_id"`
	Audience string                `json:"audience" doc:"an API's audience, for the api input"`
	Scopes   []string              `json:"scopes" doc:"the request's scopes"`
	Rules    []updateClaimRuleBody `json:"rules" doc:"draft rules run instead of the tenant's enabled ones (nothing is saved)"`
}

func (b *updateClaimRuleBody) input() admin.ClaimRuleInput {
	return admin.ClaimRuleInput{Name: b.Name, Position: b.Position, Enabled: b.Enabled, Condition: b.Condition, IDToken: b.IDToken, AccessToken: b.AccessToken, Deny: b.Deny}
}

func (h *Handler) listClaimRules(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	rs, err := h.svc.ListClaimRules(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(rs))
}

func (h *Handler) createClaimRule(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b createClaimRuleBody
	if err := decode(c, &b); err != nil {
		return err
	}
	enabled := b.Enabled == nil || *b.Enabled
	r, err := h.svc.CreateClaimRule(ctx, admin.ClaimRuleInput{Name: &b.Name, Position: &b.Position, Enabled: &enabled, Condition: &b.Condition,
		IDToken: &b.IDToken, AccessToken: &b.AccessToken, Deny: &b.Deny})
	if err != nil {
		return err
	}
	return created(c, "/tenants/"+t.Slug+"/claim-rules/"+r.ID, r)
}

func (h *Handler) updateClaimRule(c echo.Context) error {
	ctx, ref, err := h.object(c, "id")
	if err != nil {
		return err
	}
	var b updateClaimRuleBody
	if err := decode(c, &b); err != nil {
		return err
	}
	r, err := h.svc.UpdateClaimRule(ctx, ref, b.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *Handler) previewClaims(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b previewClaimsBody
	if err := decode(c, &b); err != nil {
		return err
	}
	in := admin.PreviewInput{User: b.User, Client: b.Client, Audience: b.Audience, Scopes: b.Scopes}
	if b.Rules != nil {
		in.Rules = make([]admin.ClaimRuleInput, len(b.Rules))
		for i := range b.Rules {
			in.Rules[i] = b.Rules[i].input()
		}
	}
	p, err := h.svc.PreviewClaims(ctx, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
