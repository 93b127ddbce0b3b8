package admin

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// TenantString is the public view of a tenant's own wording of a message
// of the catalogs in one language.
type TenantString struct {
	Locale    string    `json:"locale" doc:"the language (BCP 47), one of the catalogs'"`
	MessageID string    `json:"message_id" doc:"the catalog's id of the message, such as consent.heading"`
	Text      string    `json:"text" doc:"the tenant's words; {{.Name}} places a variable the catalog's message has"`
	Default   string    `json:"default" doc:"the catalog's words in this language, which the tenant's replace"`
	UpdatedAt time.Time `json:"updated_at"`
}

// variables finds the {{.Name}}s of a message.
var variables = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func stringView(ts *tenants.TenantString) *TenantString {
	return &TenantString{Locale: ts.Locale, MessageID: ts.MessageID, Text: ts.Text,
		Default: i18n.Builtin().For(ts.Locale).Source(ts.MessageID), UpdatedAt: ts.UpdatedAt}
}

// ListStrings returns the tenant's own wording, by language and message.
func (s *Service) ListStrings(ctx context.Context) ([]*TenantString, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	rows, err := s.store.ListTenantStrings(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*TenantString, len(rows))
	for i := range rows {
		out[i] = stringView(&rows[i])
	}
	return out, nil
}

// checkString validates a tenant's wording of message id in locale: a
// language of the catalogs, a message the English catalog has, and text
// that names only the variables the message has.
func checkString(locale, id, text string) error {
	cat := i18n.Builtin()
	if cat.Canonical(locale) != locale {
		return tenants.Invalid("locale", "must be one of %s", strings.Join(cat.Supported(), ", "))
	}
	if !cat.Has(id) {
		return tenants.Invalid("message_id", "is not a message of the catalogs")
	}
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return tenants.Invalid("text", "is required (delete the string to show the catalog's words again)")
	case len(text) > tenants.MaxTenantStringLength || !utf8.ValidString(text):
		return tenants.Invalid("text", "must be valid UTF-8 of at most %d bytes", tenants.MaxTenantStringLength)
	}
	var allowed []string
	for _, m := range variables.FindAllStringSubmatch(cat.For("en").Source(id), -1) {
		allowed = append(allowed, m[1])
	}
	for _, m := range variables.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(allowed, m[1]) {
			return tenants.Invalid("text", "names {{.%s}}, which this message does not have (it has: %s)", m[1], strings.Join(allowed, ", "))
		}
	}
	return nil
}

// SetString saves the tenant's wording of a message in a language.
func (s *Service) SetString(ctx context.Context, locale, id, text string) (*TenantString, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if err := checkString(locale, id, text); err != nil {
		return nil, err
	}
	ts := &tenants.TenantString{Locale: locale, MessageID: id, Text: strings.TrimSpace(text)}
	if err := s.store.SetTenantString(ctx, ts); err != nil {
		return nil, err
	}
	s.changed(t)
	v := stringView(ts)
	return v, s.audit(ctx, t, ActionTenantUpdated, "tenant_string", locale+"/"+id, nil, v)
}

// DeleteString removes the tenant's wording of a message in a language.
func (s *Service) DeleteString(ctx context.Context, locale, id string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTenantString(ctx, locale, id); err != nil {
		return err
	}
	s.changed(t)
	return s.audit(ctx, t, ActionTenantUpdated, "tenant_string", locale+"/"+id, map[string]string{"locale": locale, "message_id": id}, nil)
}
