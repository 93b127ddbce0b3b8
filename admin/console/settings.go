package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// lifetime is one lifetime setting and the unit the console shows it in.
type lifetime struct {
	field string
	unit  time.Duration
	get   func(*admin.Tenant) int64 // seconds
	set   func(*admin.TenantSettings, *time.Duration)
}

var lifetimes = []lifetime{
	{"access_token_lifetime", time.Minute, func(t *admin.Tenant) int64 { return t.AccessTokenLifetimeSeconds },
		func(s *admin.TenantSettings, d *time.Duration) { s.AccessTokenLifetime = d }},
	{"id_token_lifetime", time.Minute, func(t *admin.Tenant) int64 { return t.IDTokenLifetimeSeconds },
		func(s *admin.TenantSettings, d *time.Duration) { s.IDTokenLifetime = d }},
	{"refresh_token_lifetime", 24 * time.Hour, func(t *admin.Tenant) int64 { return t.RefreshTokenLifetimeSeconds },
		func(s *admin.TenantSettings, d *time.Duration) { s.RefreshTokenLifetime = d }},
	{"session_lifetime", time.Hour, func(t *admin.Tenant) int64 { return t.SessionLifetimeSeconds },
		func(s *admin.TenantSettings, d *time.Duration) { s.SessionLifetime = d }},
}

// shown is a lifetime in the unit of the form, rounded: a lifetime set in
// seconds through the API is shown to the nearest unit.
func (l lifetime) shown(t *admin.Tenant) string {
	d := time.Duration(l.get(t)) * time.Second
	return strconv.FormatInt(int64((d+l.unit/2)/l.unit), 10)
}

var signupModes = []struct{ value, label, help string }{
	{tenants.SignupOff, "Nobody", "accounts are created by administrators (or on first federated sign-in)"},
	{tenants.SignupOpen, "Anyone", "with a verified email address"},
	{tenants.SignupDomains, "Only these email domains", "listed below"},
}

var registrationModes = []struct{ value, label, help string }{
	{tenants.RegistrationOff, "Off", "applications are created by administrators only"},
	{tenants.RegistrationToken, "With an initial access token", "an administrator creates one (Client registration page, CLI or management API) for each partner or tool"},
	{tenants.RegistrationOpen, "Anyone", "at /oauth/register, at most 10 an hour per address; registered applications always ask for consent"},
}

var mfaPolicies = []struct{ value, label, help string }{
	{tenants.MFAOff, "Off", "users sign in with one factor"},
	{tenants.MFAOptional, "Optional", "users may add an authenticator app or passkey"},
	{tenants.MFARequired, "Required", "every user enrols a second factor at their next sign-in"},
}

// settingsForm is what the admin typed, when the form comes back.
type settingsForm struct {
	name, logo, accent string
	signup, domains    string
	minLength, mfa     string
	fromName           string
	registration       string
	lifetimes          map[string]string
	grants             []string
	errs               map[string]string
	confirm            string
	deleteErrs         map[string]string
}

func (h *Handler) renderSettings(c echo.Context, ctx context.Context, t *tenants.Tenant, status int, f *settingsForm) error {
	tv, err := h.svc.GetTenant(ctx)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "Settings", "settings", t)
	if err != nil {
		return err
	}
	p, _ := admin.PrincipalFrom(ctx)
	v := vc.SettingsView{Page: pg, Slug: t.Slug, Issuer: t.Issuer, Name: tv.Name, LogoURL: tv.LogoURL, AccentColor: tv.AccentColor,
		CanDelete: p.Operator, Preview: brandingPreview(tv.Name, tv.AccentColor)}
	grants := tv.GrantTypes
	vals := map[string]string{}
	for _, l := range lifetimes {
		vals[l.field] = l.shown(tv)
	}
	if f != nil {
		v.Name, v.LogoURL, v.AccentColor, v.Errors = f.name, f.logo, f.accent, f.errs
		v.Confirm, v.DeleteErrors = f.confirm, f.deleteErrs
		if f.lifetimes != nil {
			vals, grants = f.lifetimes, f.grants
		}
	}
	signup, domains, mfa, registration := tv.SignupMode, strings.Join(tv.SignupDomains, ", "), tv.MFAPolicy, tv.ClientRegistration
	v.PasswordMin, v.EmailFromName = strconv.Itoa(tv.PasswordMinLength), tv.EmailFromName
	if f != nil && f.lifetimes != nil {
		signup, domains, mfa, registration = f.signup, f.domains, f.mfa, f.registration
		v.PasswordMin, v.EmailFromName = f.minLength, f.fromName
	}
	if !t.System {
		for _, m := range registrationModes {
			v.RegistrationModes = append(v.RegistrationModes, vc.Choice{Value: m.value, Label: m.label, Help: m.help, Checked: m.value == registration})
		}
	}
	v.SignupDomains = domains
	for _, m := range signupModes {
		v.SignupModes = append(v.SignupModes, vc.Choice{Value: m.value, Label: m.label, Help: m.help, Checked: m.value == signup})
	}
	for _, m := range mfaPolicies {
		v.MFAPolicies = append(v.MFAPolicies, vc.Choice{Value: m.value, Label: m.label, Help: m.help, Checked: m.value == mfa})
	}
	v.AccessMinutes, v.IDMinutes = vals["access_token_lifetime"], vals["id_token_lifetime"]
	v.RefreshDays, v.SessionHours = vals["refresh_token_lifetime"], vals["session_lifetime"]
	for _, g := range tenants.GrantTypes() {
		v.GrantTypes = append(v.GrantTypes, grantCheck(g, "", slices.Contains(grants, g.Name)))
	}
	return render(c, status, vc.Settings(v))
}

func (h *Handler) settings(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	return h.renderSettings(c, ctx, t, http.StatusOK, nil)
}

func (h *Handler) updateSettings(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	tv, err := h.svc.GetTenant(ctx)
	if err != nil {
		return err
	}
	f := &settingsForm{name: c.FormValue("name"), logo: c.FormValue("logo_url"), accent: c.FormValue("accent_color"),
		lifetimes: map[string]string{}, grants: append([]string{}, formValues(c, "grant_types")...),
		signup: c.FormValue("signup_mode"), domains: c.FormValue("signup_domains"), mfa: c.FormValue("mfa_policy"),
		minLength: strings.TrimSpace(c.FormValue("password_min_length")), fromName: c.FormValue("email_from_name"),
		registration: c.FormValue("client_registration")}
	in := admin.TenantSettings{Name: &f.name, LogoURL: &f.logo, AccentColor: &f.accent, GrantTypes: f.grants,
		SignupMode: &f.signup, SignupDomains: splitList(f.domains), MFAPolicy: &f.mfa, EmailFromName: &f.fromName}
	if _, sent := c.Request().PostForm["client_registration"]; sent {
		in.ClientRegistration = &f.registration
	} else {
		f.registration = tv.ClientRegistration
	}
	if n, perr := strconv.Atoi(f.minLength); perr == nil {
		in.PasswordMinLength = &n
	} else {
		f.errs = map[string]string{"password_min_length": "Enter a whole number from 8 to 64."}
		return h.renderSettings(c, ctx, t, http.StatusUnprocessableEntity, f)
	}
	for _, l := range lifetimes {
		raw := strings.TrimSpace(c.FormValue(l.field))
		f.lifetimes[l.field] = raw
		if raw == l.shown(tv) {
			continue // unchanged: keep the exact value, which may not be a whole number of units
		}
		n, perr := strconv.ParseInt(raw, 10, 64)
		if perr != nil || n < 0 || n > 1_000_000 {
			f.errs = map[string]string{l.field: "Enter a whole number."}
			return h.renderSettings(c, ctx, t, http.StatusUnprocessableEntity, f)
		}
		d := time.Duration(n) * l.unit
		l.set(&in, &d)
	}
	_, err = h.svc.UpdateTenant(ctx, in)
	if f.errs = formErrors(err, "name", "logo_url", "accent_color", "grant_types",
		"access_token_lifetime", "id_token_lifetime", "refresh_token_lifetime", "session_lifetime",
		"signup_mode", "signup_domains", "password_min_length", "mfa_policy", "email_from_name", "client_registration"); f.errs != nil {
		return h.renderSettings(c, ctx, t, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/settings"), "tenant-updated")
}

// deleteTenant deletes the tenant; the form must repeat its slug (the
// browser's confirmation dialog is not enough).
func (h *Handler) deleteTenant(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	confirm := strings.TrimSpace(c.FormValue("confirm"))
	err = h.svc.DeleteTenant(ctx, confirm)
	if errs := formErrors(err, "confirm"); errs != nil {
		return h.renderSettings(c, ctx, t, http.StatusUnprocessableEntity, &settingsForm{confirm: confirm, deleteErrs: errs,
			name: t.DisplayName, logo: t.LogoURL, accent: t.AccentColor})
	}
	if err != nil {
		return err
	}
	return done(c, admin.ConsolePath, "tenant-deleted")
}

// defaultAccent is the pages' accent when a tenant sets none
// (views/static/gatehouse.css).
const defaultAccent = "#3b5bdb"

// brandingPreview is the login page's look with accent (the stored one):
// the colour the pages use for it (tenants.ReadableAccent).
func brandingPreview(name, accent string) vc.BrandingPreview {
	if accent == "" {
		accent = defaultAccent
	}
	a := tenants.ReadableAccent(accent)
	if _, err := tenants.ParseHex(a.Color); err != nil {
		a = tenants.ReadableAccent(defaultAccent)
	}
	return vc.BrandingPreview{Name: name, Given: accent, Accent: a.Color, Ink: a.Ink, Corrected: a.Corrected,
		Contrast: strconv.FormatFloat(a.Contrast, 'f', 1, 64) + ":1"}
}
