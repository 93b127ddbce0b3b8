package email

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"

	"github.com/a-h/templ"

	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// Message is a composed email, before it is addressed.
type Message struct {
	Subject, Text, HTML string
	// Lang is the BCP 47 tag of the words.
	Lang string
}

// Override is a tenant's own template of one kind of email in one
// language. HTML is the content of the branded layout (what goes below the
// logo), not a whole document; without it, the HTML part is the text,
// its paragraphs kept and its link made a link.
type Override struct {
	Subject, HTML, Text string
}

// defaultAccent is the button colour of a tenant without an accent colour.
const defaultAccent = "#1f6feb"

var accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func accentOf(b Branding) string {
	if accentPattern.MatchString(b.Accent) {
		return b.Accent
	}
	return defaultAccent
}

func logo(b Branding) string {
	if strings.HasPrefix(b.LogoURL, "https://") {
		return b.LogoURL
	}
	return ""
}

func headerStyle(b Branding) string {
	return "border-bottom: 3px solid " + accentOf(b) + "; padding-bottom: .75em; margin-bottom: 1em;"
}

func buttonStyle(accent string) string {
	return "display: inline-block; padding: .6em 1.2em; background: " + accent + "; color: #fff; text-decoration: none; border-radius: 6px;"
}

// Check parses every part of o against the variables of k, naming the
// part at fault ("subject", "html", "text") in its error.
func Check(k Kind, o Override) (field string, err error) {
	for _, f := range []struct{ name, src string }{{"subject", o.Subject}, {"html", o.HTML}, {"text", o.Text}} {
		if _, err := Parse(f.src, k.Variables); err != nil {
			return f.name, err
		}
	}
	return "", nil
}

// Compose writes the email of kind k in the language of l for the values
// vars: from o, the tenant's template, when there is one, else the
// built-in words of the catalogs (with the tenant's own wording). The HTML
// part is always in the tenant's branded layout, and every value placed in
// it is HTML-escaped.
func Compose(l *i18n.Localizer, b Branding, k Kind, vars Vars, o *Override) (Message, error) {
	if o != nil {
		return composeOverride(l, b, k, vars, o)
	}
	bd := defaultContent(l, k, vars)
	var txt strings.Builder
	for _, p := range bd.Before {
		txt.WriteString(p + "\n\n")
	}
	if bd.Link != "" {
		txt.WriteString(bd.LinkText + ":\n" + bd.Link + "\n\n")
	}
	for _, p := range bd.After {
		txt.WriteString(p + "\n\n")
	}
	txt.WriteString("-- \n" + b.Name + "\n")
	h, err := render(layout(l.Lang(), b, defaultBody(bd, accentOf(b))))
	if err != nil {
		return Message{}, err
	}
	return Message{Subject: l.T(subjectKey(k)), Text: txt.String(), HTML: h, Lang: l.Lang()}, nil
}

func composeOverride(l *i18n.Localizer, b Branding, k Kind, vars Vars, o *Override) (Message, error) {
	subject, err := Parse(o.Subject, k.Variables)
	if err != nil {
		return Message{}, fmt.Errorf("subject: %w", err)
	}
	text, err := Parse(o.Text, k.Variables)
	if err != nil {
		return Message{}, fmt.Errorf("text: %w", err)
	}
	plain := func(_, v string) string { return v }
	m := Message{Subject: oneLine(subject.Execute(vars, plain)), Text: text.Execute(vars, plain), Lang: l.Lang()}
	var content string
	if strings.TrimSpace(o.HTML) != "" {
		t, err := Parse(o.HTML, k.Variables)
		if err != nil {
			return Message{}, fmt.Errorf("html: %w", err)
		}
		content = t.Execute(vars, func(_, v string) string { return html.EscapeString(v) })
	} else {
		content = textAsHTML(text, vars)
	}
	if m.HTML, err = render(layout(l.Lang(), b, templ.Raw(content))); err != nil {
		return Message{}, err
	}
	return m, nil
}

// textAsHTML is the HTML part of a template without one: its text
// escaped, blank lines making paragraphs, the link a link.
func textAsHTML(t *Template, vars Vars) string {
	const sep = "\x00"
	escaped := t.Execute(vars, func(name, v string) string {
		e := html.EscapeString(v)
		if name == VarLink && v != "" {
			return sep + `<a href="` + e + `">` + e + `</a>` + sep
		}
		return sep + e + sep
	})
	// The literal text is escaped here; the values, between sep, were
	// escaped above.
	var b strings.Builder
	for i, s := range strings.Split(escaped, sep) {
		if i%2 == 0 {
			s = html.EscapeString(s)
		}
		b.WriteString(s)
	}
	var out strings.Builder
	for _, p := range strings.Split(strings.ReplaceAll(b.String(), "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out.WriteString("<p>" + strings.ReplaceAll(p, "\n", "<br>") + "</p>\n")
		}
	}
	return out.String()
}

// oneLine keeps a subject on one line: a value with a line break cannot
// add a header.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

func render(c templ.Component) (string, error) {
	var buf bytes.Buffer
	if err := c.Render(context.Background(), io.Writer(&buf)); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// subjectKey is the catalog's subject of k.
func subjectKey(k Kind) string {
	switch k.Name {
	case KindVerify:
		return "email.verify.subject"
	case KindSignupExisting:
		return "email.signup_existing.subject"
	case KindReset:
		return "email.reset.subject"
	case KindInvite:
		return "email.invite.subject"
	case KindChangeEmail:
		return "email.change_email.subject"
	case KindEmailChanged:
		return "email.email_changed.subject"
	case KindPasswordChanged:
		return "email.password_changed.subject"
	case KindMethodAdded:
		return "email.method_added.subject"
	}
	return "email.unlinked.subject"
}

// defaultContent is what the built-in email of k says, in the words of l.
func defaultContent(l *i18n.Localizer, k Kind, v Vars) body {
	tenant := v[VarTenantName]
	var b body
	switch k.Name {
	case KindVerify:
		b = body{Before: []string{l.T("email.verify.body", "Tenant", tenant)}, LinkText: l.T("email.verify.link"),
			After: []string{l.T("email.verify.after")}}
	case KindSignupExisting:
		b = body{Before: []string{l.T("email.signup_existing.body", "Tenant", tenant), l.T("email.signup_existing.forgot")},
			LinkText: l.T("email.signup_existing.link"), After: []string{l.T("email.signup_existing.after")}}
	case KindReset:
		b = body{Before: []string{l.T("email.reset.body", "Tenant", tenant)}, LinkText: l.T("email.reset.link"),
			After: []string{l.T("email.reset.after")}}
	case KindInvite:
		b = body{Before: []string{l.T("email.invite.body", "Tenant", tenant)}, LinkText: l.T("email.invite.link"),
			After: []string{l.T("email.invite.after")}}
	case KindChangeEmail:
		b = body{Before: []string{l.T("email.change_email.body", "Tenant", tenant)}, LinkText: l.T("email.change_email.link"),
			After: []string{l.T("email.change_email.after")}}
	case KindEmailChanged:
		b = body{Before: []string{l.T("email.email_changed.body", "Tenant", tenant, "Email", v[VarNewEmail]),
			l.T("email.email_changed.contact", "Tenant", tenant)}}
	case KindPasswordChanged:
		b = body{Before: []string{l.T("email.password_changed.body", "Tenant", tenant), l.T("email.password_changed.reset")},
			LinkText: l.T("email.password_changed.link")}
	case KindMethodAdded:
		b = body{Before: []string{l.T("email.method_added.body", "Tenant", tenant, "Method", v[VarMethod]), l.T("email.method_added.reset")},
			LinkText: l.T("email.method_added.link")}
	case KindUnlinked:
		b = body{Before: []string{l.T("email.unlinked.body", "Tenant", tenant, "Methods", v[VarMethods]), l.T("email.unlinked.after")}}
	}
	if b.LinkText != "" {
		b.Link = v[VarLink]
		b.CopyLink = l.T("email.copy_link", "Link", b.Link)
	}
	return b
}

// Default returns the built-in email of k in the language of l written in
// the template language: the catalog's words with {{variable}} where the
// values go, and the HTML content without its layout. It is where a
// tenant's own template starts from.
func Default(l *i18n.Localizer, b Branding, k Kind) (Override, error) {
	vars := Vars{}
	for _, name := range k.Variables {
		vars[name] = "{{" + name + "}}"
	}
	bd := defaultContent(l, k, vars)
	var txt strings.Builder
	for _, p := range bd.Before {
		txt.WriteString(p + "\n\n")
	}
	if bd.Link != "" {
		txt.WriteString(bd.LinkText + ":\n" + bd.Link + "\n\n")
	}
	for _, p := range bd.After {
		txt.WriteString(p + "\n\n")
	}
	txt.WriteString("-- \n{{" + VarTenantName + "}}\n")
	h, err := render(defaultBody(bd, accentOf(b)))
	if err != nil {
		return Override{}, err
	}
	return Override{Subject: l.T(subjectKey(k)), HTML: h, Text: txt.String()}, nil
}
