package i18n

import (
	"context"
	"html"
	"strconv"
	"strings"
	"sync"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Overrides returns a tenant's own wording in one language: message id to
// text. It is called at most once per Localizer, when the first message is
// looked up, so answers that show no words cost no query.
type Overrides func(lang string) map[string]string

// Localizer speaks one language: the words, plurals and dates of a page or
// an email. The zero value is not usable; nil speaks the source language.
type Localizer struct {
	cat  *Catalog
	tag  language.Tag
	name string
	loc  *goi18n.Localizer

	overrides Overrides
	once      sync.Once
	own       map[string]string
}

// Localizer returns a Localizer for the index-th supported language (as
// Negotiate returns), with the tenant's wording from overrides (nil for
// none).
func (c *Catalog) Localizer(index int, overrides Overrides) *Localizer {
	if index < 0 || index >= len(c.tags) {
		index = 0
	}
	return &Localizer{cat: c, tag: c.tags[index], name: c.names[index],
		loc: goi18n.NewLocalizer(c.bundle, c.names[index]), overrides: overrides}
}

// Negotiate is Negotiate over the catalog's languages.
func (c *Catalog) Negotiate(p Prefs) int { return negotiate(c.matcher, p) }

// For returns the Localizer of the supported language lang names (the
// source language when none), without tenant wording: for an email to a
// user whose language is stored.
func (c *Catalog) For(lang string) *Localizer {
	return c.Localizer(c.Negotiate(Prefs{Default: lang}), nil)
}

func (l *Localizer) orDefault() *Localizer {
	if l == nil {
		return Builtin().Localizer(0, nil)
	}
	return l
}

// Lang is the BCP 47 tag of the language, for <html lang>.
func (l *Localizer) Lang() string { return l.orDefault().name }

func (l *Localizer) tenantText(key string) (string, bool) {
	if l.overrides == nil {
		return "", false
	}
	l.once.Do(func() { l.own = l.overrides(l.name) })
	s, ok := l.own[key]
	return s, ok
}

// T returns message key with args, given as name, value pairs ("App",
// "Acme"), filled in for {{.App}}. A key no catalog has comes back as
// itself, so a missing message shows, not a blank.
func (l *Localizer) T(key string, args ...any) string {
	l = l.orDefault()
	data := templateData(args)
	if s, ok := l.tenantText(key); ok {
		return fill(s, data)
	}
	msg, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil && msg == "" {
		return key
	}
	return msg
}

// N is T for a message whose words depend on the number n, in the plural
// forms of the language (CLDR: "one" and "other" in English and German;
// French and Portuguese say "one" for 0 and 1; Japanese has one form).
// {{.Count}} is n.
func (l *Localizer) N(key string, n int, args ...any) string {
	l = l.orDefault()
	data := templateData(args)
	data["Count"] = n
	if s, ok := l.tenantText(key); ok {
		return fill(s, data)
	}
	msg, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data, PluralCount: n})
	if err != nil && msg == "" {
		return key
	}
	return msg
}

// monthKeys name the months in the catalogs, January first.
var monthKeys = [12]string{"date.january", "date.february", "date.march", "date.april", "date.may", "date.june",
	"date.july", "date.august", "date.september", "date.october", "date.november", "date.december"}

// Date writes the day of t (in UTC) as the language does: "3 December
// 2026", "3. Dezember 2026", "2026年12月3日".
func (l *Localizer) Date(t time.Time) string {
	t = t.UTC()
	return l.T("date.day", "Day", t.Day(), "Month", l.T(monthKeys[t.Month()-1]), "MonthNumber", int(t.Month()), "Year", t.Year())
}

// Minute writes the day and time of t in UTC, to the minute.
func (l *Localizer) Minute(t time.Time) string {
	t = t.UTC()
	return l.T("date.minute", "Date", l.Date(t), "Time", t.Format("15:04"))
}

func templateData(args []any) map[string]any {
	data := make(map[string]any, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			data[k] = args[i+1]
		}
	}
	return data
}

// fill puts data into a tenant's text: {{.Name}} (spaces allowed inside
// the braces) becomes the value of Name, and nothing else in the text is
// read as a template — a tenant's words cannot call anything. An unknown
// name is left as written.
func fill(s string, data map[string]any) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		v, ok := data[strings.TrimPrefix(name, ".")]
		b.WriteString(s[:i])
		if ok && strings.HasPrefix(name, ".") {
			b.WriteString(str(v))
		} else {
			b.WriteString(s[i : i+j+2])
		}
		s = s[i+j+2:]
	}
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	default:
		return ""
	}
}

// HTMLWith returns message key as HTML: its text escaped, with the
// placeholder {{.Name}} as value wrapped in tag (say "strong"), so that
// each language places the emphasis where its word order needs it.
func (l *Localizer) HTMLWith(key, name, value, tag string, args ...any) string {
	const mark = "\x00"
	s := l.T(key, append(args, name, mark)...)
	parts := strings.Split(s, mark)
	for i := range parts {
		parts[i] = html.EscapeString(parts[i])
	}
	return strings.Join(parts, "<"+tag+">"+html.EscapeString(value)+"</"+tag+">")
}

type ctxKey struct{}

// WithLocalizer returns ctx carrying l.
func WithLocalizer(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the Localizer in ctx, or nil (which speaks the source
// language).
func From(ctx context.Context) *Localizer {
	l, _ := ctx.Value(ctxKey{}).(*Localizer)
	return l
}

// Source returns message key as the catalog has it, its {{.Name}}s
// unfilled (the "other" form of a plural): what a tenant's wording of it
// is checked against.
func (l *Localizer) Source(key string) string {
	l = l.orDefault()
	return l.cat.source(l.tag, key)
}

// English returns s, English text of an error page, in the Localizer's
// language when a message of ErrorPages has that text, else s as it is
// (a text with a value in it, a tenant's own words).
func (l *Localizer) English(s string) string {
	l = l.orDefault()
	if id, ok := l.cat.english[s]; ok {
		return l.T(id)
	}
	return s
}
