package i18n

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// The languages Gatehouse speaks: a catalog added or lost is a decision.
var wantLanguages = []string{"de", "en", "es", "fr", "ja", "pt-BR"}

// catalogMessages parses every catalog on its own: message id to message.
func catalogMessages(t *testing.T) map[string]map[string]*goi18n.Message {
	t.Helper()
	files, err := fs.Glob(Locales, "locales/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]*goi18n.Message{}
	for _, f := range files {
		buf, err := fs.ReadFile(Locales, f)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := goi18n.ParseMessageFileBytes(buf, path.Base(f), map[string]goi18n.UnmarshalFunc{"toml": toml.Unmarshal})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ms := map[string]*goi18n.Message{}
		for _, m := range mf.Messages {
			ms[m.ID] = m
		}
		out[mf.Tag.String()] = ms
	}
	return out
}

// forms lists the plural forms of m besides "other".
func forms(m *goi18n.Message) map[string]bool {
	fs := map[string]bool{}
	for f, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many} {
		if s != "" {
			fs[f] = true
		}
	}
	return fs
}

// usedForms are the plural forms besides "other" that go-i18n's plural
// rule (CLDR) of lang chooses for some count: found by asking it to
// choose for counts that reach every form of the languages spoken.
func usedForms(t *testing.T, lang string) map[string]bool {
	t.Helper()
	b := goi18n.NewBundle(language.English)
	tag := language.MustParse(lang)
	if err := b.AddMessages(tag, &goi18n.Message{ID: "probe", Zero: "zero", One: "one", Two: "two", Few: "few",
		Many: "many", Other: "other"}); err != nil {
		t.Fatal(err)
	}
	l := goi18n.NewLocalizer(b, lang)
	fs := map[string]bool{}
	for _, n := range []any{0, 1, 2, 3, 5, 11, 21, 101, 1000000, "1.5", "0.5"} {
		s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: "probe", PluralCount: n})
		if err != nil {
			t.Fatal(err)
		}
		if s != "other" {
			fs[s] = true
		}
	}
	return fs
}

// TestCatalogsComplete fails when a catalog lacks a key the English one
// has, has one English does not, or has a plural message without every
// form its language's plural rule (CLDR) uses — or with one it never uses.
func TestCatalogsComplete(t *testing.T) {
	cats := catalogMessages(t)
	var langs []string
	for l := range cats {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	if strings.Join(langs, " ") != strings.Join(wantLanguages, " ") {
		t.Errorf("catalogs %v, want %v", langs, wantLanguages)
	}
	en := cats["en"]
	for _, lang := range langs {
		ms := cats[lang]
		rule := usedForms(t, lang)
		for id, src := range en {
			m, ok := ms[id]
			switch {
			case !ok:
				t.Errorf("%s.toml lacks %q", lang, id)
				continue
			case strings.TrimSpace(m.Other) == "":
				t.Errorf("%s.toml: %q is empty", lang, id)
			}
			if len(forms(src)) == 0 {
				if len(forms(m)) != 0 {
					t.Errorf("%s.toml: %q has plural forms; English has none", lang, id)
				}
				continue
			}
			for f := range rule {
				if !forms(m)[f] {
					t.Errorf("%s.toml: plural %q lacks the form %q", lang, id, f)
				}
			}
			for f := range forms(m) {
				if !rule[f] {
					t.Errorf("%s.toml: plural %q has the form %q, which %s never uses", lang, id, f, lang)
				}
			}
		}
		for id := range ms {
			if _, ok := en[id]; !ok {
				t.Errorf("%s.toml has %q, which en.toml has not", lang, id)
			}
		}
	}
}

// sources returns the text of the templates and Go files (tests aside)
// that can use a message: the end-user views and the app.
func sources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	// The password policy's refusals name the messages the pages say
	// them with.
	for _, p := range []string{"../../tenants/password_policy.go"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = string(b)
	}
	for _, root := range []string{"..", "../../app"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "console" || d.Name() == "e2e" || d.Name() == "locales" {
					return filepath.SkipDir
				}
				return nil
			}
			name := d.Name()
			if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_templ.go") ||
				(!strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, ".templ")) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[p] = string(b)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

var (
	quoted = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)"`)
	// lookups are the calls that take a message id as their first string.
	lookups = regexp.MustCompile(`\b(?:T|N|Strong|HTMLWith|Text)\((?:ctx, |c, )?"([^"]+)"`)
	// keyish are message ids handed to a view model (a title, a heading,
	// an error) that its template passes through T.
	keyish = regexp.MustCompile(`(?m)(?:Meta\([\w.]+, |(?:Heading|Message|Detail|LinkText|Error|Title|Notice|Flash): |const err\w* = |^\s*"[\w-]+":\s+)"([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)"`)
)

// TestCatalogKeysUsed fails when en.toml has a key that no template or
// code names (a message left behind), or when a template or code looks up
// a key en.toml has not (it would show as the bare key).
func TestCatalogKeysUsed(t *testing.T) {
	en := catalogMessages(t)["en"]
	used := map[string]bool{}
	for p, src := range sources(t) {
		for _, m := range quoted.FindAllStringSubmatch(src, -1) {
			used[m[1]] = true
		}
		for _, m := range keyish.FindAllStringSubmatch(src, -1) {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s hands the page %q, which en.toml has not", p, m[1])
			}
		}
		for _, m := range lookups.FindAllStringSubmatch(src, -1) {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s looks up %q, which en.toml has not", p, m[1])
			}
		}
	}
	var all strings.Builder
	for _, src := range sources(t) {
		all.WriteString(src)
	}
	for id, m := range en {
		// An error page's message is looked up by its English text:
		// the code must say it, exactly.
		if strings.HasPrefix(id, ErrorPages) {
			if !strings.Contains(all.String(), strconv.Quote(m.Other)) {
				t.Errorf("en.toml has %q, whose English %q no code says", id, m.Other)
			}
			continue
		}
		if !used[id] {
			t.Errorf("en.toml has %q, which no template or code uses", id)
		}
	}
}

func TestPluralsAndDates(t *testing.T) {
	c := Builtin()
	day := time.Date(2026, 12, 3, 14, 5, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		lang, got, want string
	}{
		{"en", c.For("en").N("account.recovery_left", 1), "1 unused recovery code."},
		{"en", c.For("en").N("account.recovery_left", 0), "0 unused recovery codes."},
		{"de", c.For("de").N("account.recovery_left", 1), "1 unbenutzter Wiederherstellungscode."},
		{"de", c.For("de").N("account.recovery_left", 10), "10 unbenutzte Wiederherstellungscodes."},
		{"fr", c.For("fr").N("account.recovery_left", 0), "0 code de récupération inutilisé."},
		{"fr", c.For("fr").N("account.recovery_left", 2), "2 codes de récupération inutilisés."},
		{"ja", c.For("ja").N("account.recovery_left", 1), "未使用のリカバリーコード：1 個"},
		{"en", c.For("en").Date(day), "3 December 2026"},
		{"de", c.For("de").Date(day), "3. Dezember 2026"},
		{"fr", c.For("fr").Date(day), "3 décembre 2026"},
		{"es", c.For("es").Date(day), "3 de diciembre de 2026"},
		{"pt-BR", c.For("pt-BR").Date(day), "3 de dezembro de 2026"},
		{"ja", c.For("ja").Date(day), "2026年12月3日"},
		{"de", c.For("de").Minute(day), "3. Dezember 2026, 13:05 UTC"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.lang, tt.got, tt.want)
		}
	}
}

func TestErrorPagesByEnglish(t *testing.T) {
	c := Builtin()
	de := c.For("de")
	if got := de.English("This form has expired"); got != "Dieses Formular ist abgelaufen" {
		t.Errorf("English(a catalog's error text) = %q", got)
	}
	if got := de.English("There is no account here for your Okta sign-in."); got != "There is no account here for your Okta sign-in." {
		t.Errorf("English(text no catalog has) = %q", got)
	}
}

func TestTenantWording(t *testing.T) {
	c := Builtin()
	own := func(lang string) map[string]string {
		if lang != "de" {
			return nil
		}
		return map[string]string{"consent.heading": "{{.App}} bittet um {{ .App }} {{.Missing}} {{call .X}}"}
	}
	l := c.Localizer(c.Negotiate(Prefs{Default: "de"}), own)
	if got, want := l.T("consent.heading", "App", "<Acme>"), "<Acme> bittet um <Acme> {{.Missing}} {{call .X}}"; got != want {
		t.Errorf("T = %q, want %q", got, want)
	}
	if got, want := l.HTMLWith("consent.heading", "App", "<Acme>", "strong"),
		"<strong>&lt;Acme&gt;</strong> bittet um <strong>&lt;Acme&gt;</strong> {{.Missing}} {{call .X}}"; got != want {
		t.Errorf("HTMLWith = %q, want %q", got, want)
	}
	if got := l.T("consent.allow"); got != "Erlauben" {
		t.Errorf("a key the tenant did not override: %q", got)
	}
	en := c.Localizer(0, own)
	if got := en.T("consent.heading", "App", "Acme"); got != "Acme wants to access your account" {
		t.Errorf("English, which the tenant did not override: %q", got)
	}
	if got := l.T("no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
}
