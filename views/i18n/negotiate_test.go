package i18n

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestNegotiate(t *testing.T) {
	supported := []language.Tag{language.English, language.German, language.French, language.Spanish,
		language.MustParse("pt-BR"), language.Japanese}
	began := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	before, after := began.Add(-time.Hour), began.Add(time.Minute)
	tests := []struct {
		name string
		p    Prefs
		want string
	}{
		{"nothing: the first supported", Prefs{}, "en"},
		{"tenant default", Prefs{Default: "fr"}, "fr"},
		{"Accept-Language beats the default", Prefs{AcceptLanguage: "de-DE,de;q=0.9,en;q=0.5", Default: "fr"}, "de"},
		{"Accept-Language by quality, not order", Prefs{AcceptLanguage: "en;q=0.2, ja;q=0.9"}, "ja"},
		{"Accept-Language passes over what is not spoken", Prefs{AcceptLanguage: "zh-CN, es;q=0.5"}, "es"},
		{"Accept-Language q=0 says nothing", Prefs{AcceptLanguage: "de;q=0", Default: "fr"}, "fr"},
		{"Accept-Language wildcard says nothing", Prefs{AcceptLanguage: "*", Default: "ja"}, "ja"},
		{"Portuguese is Brazilian", Prefs{AcceptLanguage: "pt"}, "pt-BR"},
		{"a region of a language spoken", Prefs{AcceptLanguage: "de-AT"}, "de"},
		{"the browser's earlier choice beats Accept-Language", Prefs{Choice: "es", ChoiceAt: before, AcceptLanguage: "de"}, "es"},
		{"saved beats the browser's earlier choice", Prefs{Saved: "ja", Choice: "es", ChoiceAt: before, AcceptLanguage: "de"}, "ja"},
		{"ui_locales beats saved and the browser", Prefs{UILocales: "ja", RequestAt: began, Saved: "fr", AcceptLanguage: "de"}, "ja"},
		{"ui_locales first spoken one", Prefs{UILocales: "zh ko fr-CA de", RequestAt: began}, "fr"},
		{"ui_locales of nothing spoken falls through", Prefs{UILocales: "zh", RequestAt: began, AcceptLanguage: "de"}, "de"},
		{"a choice made before the request yields to ui_locales", Prefs{UILocales: "ja", RequestAt: began, Choice: "de", ChoiceAt: before}, "ja"},
		{"a choice made during the request beats ui_locales", Prefs{UILocales: "ja", RequestAt: began, Choice: "de", ChoiceAt: after}, "de"},
		{"garbage everywhere", Prefs{UILocales: "!!! ???", Saved: "not a tag", Choice: "x", AcceptLanguage: ";;;,", Default: "--"}, "en"},
		{"a huge Accept-Language is not read", Prefs{AcceptLanguage: strings.Repeat("zz,", 1000) + "de", Default: "fr"}, "fr"},
		{"a huge tag is not read", Prefs{Saved: "de-" + strings.Repeat("x", 100), Default: "fr"}, "fr"},
		{"case does not matter", Prefs{Saved: "PT-br"}, "pt-BR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := supported[Negotiate(supported, tt.p)].String(); got != tt.want {
				t.Errorf("Negotiate(%+v) = %s, want %s", tt.p, got, tt.want)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	c := Builtin()
	for in, want := range map[string]string{"de": "de", "de-DE": "de", "pt-br": "pt-BR", "PT": "pt-BR", "ja-JP": "ja",
		"": "", "zh": "", "xx-invalid-!": ""} {
		if got := c.Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkNegotiate is the negotiation every request to a tenant makes:
// with the catalog's matcher, and with one built for the call (what every
// request paid until the catalog's was used).
func BenchmarkNegotiate(b *testing.B) {
	c := Builtin()
	p := Prefs{AcceptLanguage: "de-DE,de;q=0.9,en;q=0.8", Default: "en"}
	b.Run("catalog", func(b *testing.B) {
		for b.Loop() {
			c.Negotiate(p)
		}
	})
	b.Run("new-matcher", func(b *testing.B) {
		tags := c.Tags()
		for b.Loop() {
			Negotiate(tags, p)
		}
	})
}
