package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/mail"
	"github.com/gatehouse-id/gatehouse/views/email"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// Audit actions of email templates.
const (
	ActionEmailTemplateSet     = "email_template.updated"
	ActionEmailTemplateDeleted = "email_template.deleted"
	// ActionEmailTemplateTest is a test message sent to the administrator.
	ActionEmailTemplateTest = "email_template.test_sent"
)

// ErrNoTestAddress refuses a test email to a principal without an address
// (a management client, the CLI).
var ErrNoTestAddress = errors.New("only an administrator signed in to the console has an address to send a test to")

// EmailVariable is a variable an email's templates may name.
type EmailVariable struct {
	Name        string `json:"name" doc:"placed as {{name}}"`
	Description string `json:"description"`
	Sample      string `json:"sample" doc:"the value previews and test messages show"`
}

// EmailTemplate is the public view of a tenant's template of one kind of
// email in one language, or of the built-in email it would replace.
type EmailTemplate struct {
	Kind   string `json:"kind" doc:"the kind of email, one of views/email's vocabulary (the kinds GET /tenants/{slug}/email-templates/{kind}/{locale} lists)"`
	Locale string `json:"locale" doc:"the language (BCP 47), one of the catalogs'"`
	Custom bool   `json:"custom" doc:"true when the tenant has its own template; false shows the built-in email, written as a template to start from"`
	// Subject, HTML and Text are in the template language.
	Subject   string          `json:"subject"`
	HTML      string          `json:"html" doc:"the content below the tenant's logo in the branded layout (not a whole document); empty makes it of text"`
	Text      string          `json:"text"`
	Variables []EmailVariable `json:"variables" doc:"the variables this kind offers; any other is refused"`
	UpdatedAt *time.Time      `json:"updated_at,omitempty"`
}

// EmailTemplateInput is a template to save, preview or test.
type EmailTemplateInput struct {
	Subject string
	HTML    string
	Text    string
}

// EmailPreview is an email as a user would receive it, with sample values.
type EmailPreview struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html" doc:"a whole HTML document: show it only sandboxed"`
	Locale  string `json:"locale"`
}

// emailRef checks the kind and language a path names: either unknown
// names nothing (ErrNotFound).
func emailRef(kind, locale string) (email.Kind, *i18n.Localizer, error) {
	k, ok := email.KindNamed(kind)
	if !ok {
		return email.Kind{}, nil, fmt.Errorf("email kind %q: %w", kind, tenants.ErrNotFound)
	}
	cat := i18n.Builtin()
	if cat.Canonical(locale) != locale {
		return email.Kind{}, nil, fmt.Errorf("language %q: %w", locale, tenants.ErrNotFound)
	}
	return k, cat.For(locale), nil
}

func variablesView(k email.Kind) []EmailVariable {
	var out []EmailVariable
	for _, v := range email.VariablesOf(k) {
		out = append(out, EmailVariable{Name: v.Name, Description: v.Description, Sample: v.Sample})
	}
	return out
}

func emailTemplateView(k email.Kind, et *tenants.EmailTemplate) *EmailTemplate {
	at := et.UpdatedAt
	return &EmailTemplate{Kind: et.Kind, Locale: et.Locale, Custom: true, Subject: et.Subject, HTML: et.HTML, Text: et.Text,
		Variables: variablesView(k), UpdatedAt: &at}
}

// checkEmailTemplate validates a template of kind k: bounded, plain text
// (no NUL, a one-line subject), and naming only the variables of k. The
// error names the part at fault.
func checkEmailTemplate(k email.Kind, in EmailTemplateInput) error {
	for _, f := range []struct {
		name, v  string
		max      int
		required bool
	}{
		{"subject", in.Subject, tenants.MaxEmailSubjectLength, true},
		{"html", in.HTML, tenants.MaxEmailHTMLLength, false},
		{"text", in.Text, tenants.MaxEmailTextLength, true},
	} {
		switch {
		case f.required && strings.TrimSpace(f.v) == "":
			return tenants.Invalid(f.name, "is required (delete the template to send the built-in email again)")
		case len(f.v) > f.max:
			return tenants.Invalid(f.name, "must be at most %d bytes", f.max)
		case !utf8.ValidString(f.v) || strings.ContainsRune(f.v, 0):
			return tenants.Invalid(f.name, "must be valid UTF-8 without NUL")
		}
	}
	if strings.ContainsAny(in.Subject, "\r\n") {
		return tenants.Invalid("subject", "must be one line")
	}
	if field, err := email.Check(k, email.Override{Subject: in.Subject, HTML: in.HTML, Text: in.Text}); err != nil {
		return tenants.Invalid(field, "%s", err.Error())
	}
	return nil
}

// ListEmailTemplates returns the tenant's own email templates, by kind and
// language.
func (s *Service) ListEmailTemplates(ctx context.Context) ([]*EmailTemplate, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	rows, err := s.store.ListEmailTemplates(ctx)
	if err != nil {
		return nil, err
	}
	out := []*EmailTemplate{}
	for i := range rows {
		if k, ok := email.KindNamed(rows[i].Kind); ok {
			out = append(out, emailTemplateView(k, &rows[i]))
		}
	}
	return out, nil
}

// EmailTemplate returns the tenant's template of kind in locale, or the
// built-in email written as a template (Custom false) when it has none.
func (s *Service) EmailTemplate(ctx context.Context, kind, locale string) (*EmailTemplate, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	k, l, err := emailRef(kind, locale)
	if err != nil {
		return nil, err
	}
	et, err := s.store.EmailTemplate(ctx, kind, locale)
	if err == nil {
		return emailTemplateView(k, et), nil
	}
	if !errors.Is(err, tenants.ErrNotFound) {
		return nil, err
	}
	d, err := email.Default(l, brandOf(t), k)
	if err != nil {
		return nil, err
	}
	return &EmailTemplate{Kind: kind, Locale: locale, Subject: d.Subject, HTML: d.HTML, Text: d.Text, Variables: variablesView(k)}, nil
}

// SetEmailTemplate saves the tenant's template of kind in locale.
func (s *Service) SetEmailTemplate(ctx context.Context, kind, locale string, in EmailTemplateInput) (*EmailTemplate, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	k, _, err := emailRef(kind, locale)
	if err != nil {
		return nil, err
	}
	if err := checkEmailTemplate(k, in); err != nil {
		return nil, err
	}
	var before *EmailTemplate
	if old, err := s.store.EmailTemplate(ctx, kind, locale); err == nil {
		before = emailTemplateView(k, old)
	}
	et := &tenants.EmailTemplate{Kind: kind, Locale: locale, Subject: strings.TrimSpace(in.Subject), HTML: in.HTML, Text: in.Text}
	if err := s.store.SetEmailTemplate(ctx, et); err != nil {
		return nil, err
	}
	v := emailTemplateView(k, et)
	return v, s.audit(ctx, t, ActionEmailTemplateSet, "email_template", kind+"/"+locale, before, v)
}

// DeleteEmailTemplate removes the tenant's template of kind in locale: the
// built-in email is sent again.
func (s *Service) DeleteEmailTemplate(ctx context.Context, kind, locale string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	k, _, err := emailRef(kind, locale)
	if err != nil {
		return err
	}
	old, err := s.store.EmailTemplate(ctx, kind, locale)
	if err != nil {
		return err
	}
	if err := s.store.DeleteEmailTemplate(ctx, kind, locale); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionEmailTemplateDeleted, "email_template", kind+"/"+locale, emailTemplateView(k, old), nil)
}

// PreviewEmail composes the email of kind in locale with sample values,
// as a user would receive it: from in, a draft, when given (checked as a
// save would check it), else from the tenant's template or the built-in
// email.
func (s *Service) PreviewEmail(ctx context.Context, kind, locale string, in *EmailTemplateInput) (*EmailPreview, error) {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return nil, err
	}
	m, err := s.composeSample(ctx, t, kind, locale, in)
	if err != nil {
		return nil, err
	}
	return &EmailPreview{Subject: m.Subject, Text: m.Text, HTML: m.HTML, Locale: m.Lang}, nil
}

func (s *Service) composeSample(ctx context.Context, t *tenants.Tenant, kind, locale string, in *EmailTemplateInput) (email.Message, error) {
	k, l, err := emailRef(kind, locale)
	if err != nil {
		return email.Message{}, err
	}
	vars := email.Samples(k)
	vars[email.VarTenantName] = t.DisplayName
	var o *email.Override
	if in != nil {
		if err := checkEmailTemplate(k, *in); err != nil {
			return email.Message{}, err
		}
		o = &email.Override{Subject: in.Subject, HTML: in.HTML, Text: in.Text}
	} else if et, err := s.store.EmailTemplate(ctx, kind, locale); err == nil {
		o = &email.Override{Subject: et.Subject, HTML: et.HTML, Text: et.Text}
	} else if !errors.Is(err, tenants.ErrNotFound) {
		return email.Message{}, err
	}
	return email.Compose(l, brandOf(t), k, vars, o)
}

// SendTestEmail sends the email of kind in locale, with sample values, to
// the signed-in administrator's own address (never another), from in
// when given, as PreviewEmail composes it. It returns the address.
func (s *Service) SendTestEmail(ctx context.Context, kind, locale string, in *EmailTemplateInput) (string, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return "", err
	}
	p, err := principal(ctx)
	if err != nil {
		return "", err
	}
	to, ok := tenants.PlainEmail(p.Name)
	if p.Kind != KindUser || !ok {
		return "", tenants.Invalid("to", "%s", ErrNoTestAddress.Error())
	}
	if s.mail == nil {
		return "", tenants.Invalid("to", "%s", ErrNoMail.Error())
	}
	m, err := s.composeSample(ctx, t, kind, locale, in)
	if err != nil {
		return "", err
	}
	if err := s.mail.Send(ctx, mail.ForTenant(t, to, m.Subject, m.Text, m.HTML, m.Lang)); err != nil {
		return "", fmt.Errorf("send test email: %w", err)
	}
	return to, s.audit(ctx, t, ActionEmailTemplateTest, "email_template", kind+"/"+locale, nil, map[string]string{"to": to, "subject": m.Subject})
}

// brandOf is how the email of tenant t looks: its sender name, logo and
// accent colour (views/email checks the last two again before use).
func brandOf(t *tenants.Tenant) email.Branding {
	return email.Branding{Name: t.SenderName(), LogoURL: t.LogoURL, Accent: t.AccentColor}
}
