package email

import (
	"errors"
	"html"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/views/i18n"
)

func TestParse(t *testing.T) {
	allowed := []string{VarUserName, VarLink}
	tests := []struct {
		name, src string
		wantErr   bool
		wantVar   string
	}{
		{name: "plain text", src: "Hello there"},
		{name: "variables", src: "Hello {{user.name}}, open {{ link }}."},
		{name: "a lone closing brace pair is text", src: "a }} b"},
		{name: "unknown variable", src: "Hi {{user.password}}", wantErr: true, wantVar: "user.password"},
		{name: "go template action", src: "{{.Tenant}}", wantErr: true, wantVar: ".Tenant"},
		{name: "function call", src: `{{printf "%s" link}}`, wantErr: true},
		{name: "logic", src: "{{if link}}x{{end}}", wantErr: true, wantVar: "if link"},
		{name: "unclosed", src: "Hi {{user.name", wantErr: true},
		{name: "empty", src: "{{}}", wantErr: true},
		{name: "nested", src: "{{ {{link}} }}", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.src, allowed)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) = %v, want error %v", tt.src, err, tt.wantErr)
			}
			var te *TemplateError
			if tt.wantVar != "" && (!errors.As(err, &te) || te.Variable != tt.wantVar) {
				t.Fatalf("Parse(%q) = %v, want it to name %q", tt.src, err, tt.wantVar)
			}
		})
	}
}

func TestExecuteEscapesValuesOnly(t *testing.T) {
	tpl, err := Parse(`<p>Hello <b>{{user.name}}</b></p>`, []string{VarUserName})
	if err != nil {
		t.Fatal(err)
	}
	got := tpl.Execute(Vars{VarUserName: `<script>alert(1)</script>{{link}}`}, func(_, v string) string { return html.EscapeString(v) })
	if want := `<p>Hello <b>&lt;script&gt;alert(1)&lt;/script&gt;{{link}}</b></p>`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestComposeOverride(t *testing.T) {
	k, _ := KindNamed(KindReset)
	l := i18n.Builtin().For("de")
	b := Branding{Name: "Acme", LogoURL: "https://acme.example/logo.png", Accent: "#ff0000"}
	vars := Vars{VarUserName: `<img src=x onerror=alert(1)>`, VarLink: "https://acme.example/reset/confirm?token=a&b", VarTenantName: "Acme"}
	m, err := Compose(l, b, k, vars, &Override{Subject: "Hallo {{user.name}}\r\nBcc: x@evil", Text: "Link: {{link}}\n\nBis bald"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") || m.Lang != "de" {
		t.Fatalf("subject %q lang %q", m.Subject, m.Lang)
	}
	for _, want := range []string{`<a href="https://acme.example/reset/confirm?token=a&amp;b">`, `src="https://acme.example/logo.png"`, "#ff0000", "<p>Bis bald</p>"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %s:\n%s", want, m.HTML)
		}
	}
	// Without HTML, the text's own markup is text too.
	m, err = Compose(l, b, k, vars, &Override{Subject: "s", Text: "<b>Hallo</b> {{user.name}}"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, "<p>&lt;b&gt;Hallo&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;</p>") {
		t.Fatalf("text as HTML not escaped:\n%s", m.HTML)
	}
	m, err = Compose(l, b, k, vars, &Override{Subject: "s", Text: "t", HTML: "<h1>Hallo {{user.name}}</h1>"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<img src=x") || !strings.Contains(m.HTML, "<h1>Hallo &lt;img src=x onerror=alert(1)&gt;</h1>") {
		t.Fatalf("value not escaped:\n%s", m.HTML)
	}
}

func TestDefaultsOfEveryKindAndLanguage(t *testing.T) {
	cat := i18n.Builtin()
	for _, k := range Kinds() {
		for _, lang := range cat.Supported() {
			l := cat.For(lang)
			d, err := Default(l, Branding{Name: "Acme"}, k)
			if err != nil {
				t.Fatal(err)
			}
			// The default, as a template, is one the tenant may save.
			if field, err := Check(k, d); err != nil {
				t.Fatalf("%s/%s: the default's %s is refused: %v", k.Name, lang, field, err)
			}
			m, err := Compose(l, Branding{Name: "Acme"}, k, Samples(k), nil)
			if err != nil || m.Subject == "" || m.Text == "" || !strings.Contains(m.HTML, `<html lang="`+lang+`">`) {
				t.Fatalf("%s/%s: %v %+v", k.Name, lang, err, m)
			}
			if link := Samples(k)[VarLink]; link != "" && !strings.Contains(m.Text, link) {
				t.Fatalf("%s/%s: the text lacks the link:\n%s", k.Name, lang, m.Text)
			}
		}
	}
}
