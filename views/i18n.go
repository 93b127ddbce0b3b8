package views

import (
	"context"
	"net/url"

	"github.com/a-h/templ"

	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// T is message key in the language of the page in ctx, with args as name,
// value pairs for the message's {{.Name}}s (see i18n.Localizer.T). Text
// that is no message id comes back as it is: view-model fields that carry
// a message id (a title, an error) may also carry words already chosen.
func T(ctx context.Context, key string, args ...any) string {
	return i18n.From(ctx).T(key, args...)
}

// N is message key for the number n, in the plural forms of the page's
// language.
func N(ctx context.Context, key string, n int, args ...any) string {
	return i18n.From(ctx).N(key, n, args...)
}

// Lang is the BCP 47 tag of the page's language.
func Lang(ctx context.Context) string { return i18n.From(ctx).Lang() }

// Strong is message key with {{.Name}} as value in <strong>, escaped.
func Strong(ctx context.Context, key, name, value string, args ...any) templ.Component {
	return templ.Raw(i18n.From(ctx).HTMLWith(key, name, value, "strong", args...))
}

// PathLanguage is where the language switcher's links lead.
const PathLanguage = "/language"

// Language is one language a page can be shown in, named in itself.
type Language struct {
	Tag  string
	Name string
}

// Languages lists the languages of the catalogs.
func Languages() []Language {
	c := i18n.Builtin()
	var out []Language
	for _, tag := range c.Supported() {
		out = append(out, Language{Tag: tag, Name: c.For(tag).T("language.name")})
	}
	return out
}

// LanguageURL is the switcher's link to lang, coming back to here.
func LanguageURL(lang, here string) string {
	return PathLanguage + "?" + url.Values{"lang": {lang}, "next": {here}}.Encode()
}
