package api

import (
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

type createTenantBody struct {
	Slug string `json:"slug" required:"true" doc:"DNS label of 1-32 lower-case letters, digits and inner hyphens; the tenant is served at <slug>.<apex host>"`
	Name string `json:"name" doc:"display name; defaults to the slug"`
}

func (h *Handler) listTenants(c echo.Context) error {
	ts, err := h.svc.ListTenants(c.Request().Context())
	if err != nil {
		return err
	}
	page, err := paginate(c, ts, func(t *admin.Tenant) string { return t.Slug })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) createTenant(c echo.Context) error {
	var b createTenantBody
	if err := decode(c, &b); err != nil {
		return err
	}
	t, err := h.svc.CreateTenant(c.Request().Context(), admin.CreateTenantInput{Slug: b.Slug, Name: b.Name})
	if err != nil {
		return err
	}
	return created(c, "/tenants/"+t.Slug, t)
}

func (h *Handler) getTenant(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	t, err := h.svc.GetTenant(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// updateTenantBody is a partial update: absent fields are left as they are.
// Lifetimes are in seconds.
type updateTenantBody struct {
	Name                               *string                 `json:"name"`
	LogoURL                            *string                 `json:"logo_url" doc:"https URL of the logo on the login pages; empty removes it"`
	AccentColor                        *string                 `json:"accent_color" doc:"colour like #3b5bdb; empty restores the default"`
	GrantTypes                         []string                `json:"grant_types" enumFrom:"grant_types" doc:"grant types the tenant allows, each with the grant it needs if any; a grant left out is refused to every client"`
	AccessTokenLifetime                *int64                  `json:"access_token_lifetime" doc:"seconds, 60 to 86400"`
	IDTokenLifetime                    *int64                  `json:"id_token_lifetime" doc:"seconds, 60 to 86400"`
	RefreshTokenLifetime               *int64                  `json:"refresh_token_lifetime" doc:"seconds, 3600 to 31536000"`
	SessionLifetime                    *int64                  `json:"session_lifetime" doc:"seconds, 300 to 7776000"`
	SignupMode                         *string                 `json:"signup_mode" enum:"off,open,domains" doc:"who may create an account on the login page"`
	SignupDomains                      []string                `json:"signup_domains" doc:"email domains allowed to sign up when signup_mode is domains"`
	PasswordMinLength                  *int                    `json:"password_min_length" doc:"shortest password accepted, 8 to 64"`
	MFAPolicy                          *string                 `json:"mfa_policy" enum:"off,optional,required" doc:"whether users may, or must, use a second factor"`
	EmailFromName                      *string                 `json:"email_from_name" doc:"sender name of the tenant's email; empty uses the tenant name"`
	EmailReplyTo                       *string                 `json:"email_reply_to" doc:"where answers to the tenant's email go (Reply-To); empty for none"`
	DefaultLocale                      *string                 `json:"default_locale" doc:"language (BCP 47: en, de, es, fr, ja, pt-BR) of the pages and email when a request names none Gatehouse speaks (ui_locales, the user's choice, Accept-Language); empty is English"`
	RequirePushedAuthorizationRequests *bool                   `json:"require_pushed_authorization_requests" doc:"every application must push its authorization requests to /oauth/par (RFC 9126) before /authorize"`
	TokenExchangeImpersonation         *bool                   `json:"token_exchange_impersonation" doc:"a token exchange (RFC 8693) without an actor_token issues a token without act: the application impersonates the subject; off, every exchanged token names its actor"`
	UserMetadataFields                 []tenants.MetadataField `json:"user_metadata_fields" doc:"the user_metadata fields users may edit on their account page, each {name, label, type: string|number|boolean, max_length (strings, 1 to 1000)}; at most 20. Replaces the list ([] for none). Other keys of user_metadata, and app_metadata, only admins change"`
	ClientRegistration                 *string                 `json:"client_registration" enum:"off,token,open" doc:"who may register applications at the tenant's registration endpoint (RFC 7591/7592): off (the default), token (with an initial access token an admin creates) or open (anyone, throttled per address)"`
}

// seconds turns a lifetime in seconds into a duration; a value too large
// for a duration becomes the largest one (which the service refuses), not
// an overflow that could land in range.
func seconds(v *int64) *time.Duration {
	if v == nil {
		return nil
	}
	d := time.Duration(math.MaxInt64)
	if *v < 0 {
		d = -1
	} else if *v <= math.MaxInt64/int64(time.Second) {
		d = time.Duration(*v) * time.Second
	}
	return &d
}

func (h *Handler) updateTenant(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b updateTenantBody
	if err := decode(c, &b); err != nil {
		return err
	}
	t, err := h.svc.UpdateTenant(ctx, admin.TenantSettings{
		Name: b.Name, LogoURL: b.LogoURL, AccentColor: b.AccentColor, GrantTypes: b.GrantTypes,
		AccessTokenLifetime: seconds(b.AccessTokenLifetime), IDTokenLifetime: seconds(b.IDTokenLifetime),
		RefreshTokenLifetime: seconds(b.RefreshTokenLifetime), SessionLifetime: seconds(b.SessionLifetime),
		SignupMode: b.SignupMode, SignupDomains: b.SignupDomains, PasswordMinLength: b.PasswordMinLength,
		MFAPolicy: b.MFAPolicy, EmailFromName: b.EmailFromName, DefaultLocale: b.DefaultLocale, EmailReplyTo: b.EmailReplyTo,
		RequirePushedAuthorizationRequests: b.RequirePushedAuthorizationRequests,
		TokenExchangeImpersonation:         b.TokenExchangeImpersonation,
		ClientRegistration:                 b.ClientRegistration,
		UserMetadataFields:                 b.UserMetadataFields,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// deleteTenant deletes a tenant; the API's caller confirms by naming it in
// the path, so no further confirmation is asked.
func (h *Handler) deleteTenant(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteTenant(ctx, t.Slug); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) overview(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	o, err := h.svc.Overview(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}
