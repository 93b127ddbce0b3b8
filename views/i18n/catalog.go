package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Locales holds the message catalogs, one TOML file per language named by
// its BCP 47 tag (en.toml, pt-BR.toml). en.toml is the source: every other
// catalog has its keys (a test checks), and a key missing from one falls
// back to English.
//
//go:embed locales/*.toml
var Locales embed.FS

// Source is the language every other catalog translates from.
var Source = language.English

// Catalog is the parsed catalogs. It is immutable and safe for concurrent
// use.
type Catalog struct {
	bundle *goi18n.Bundle
	// tags are the languages, Source first; names are their BCP 47 forms.
	tags    []language.Tag
	names   []string
	matcher language.Matcher
	// keys is every message id of the source catalog.
	keys map[string]bool
	// raw is each catalog's "other" text of each message, unfilled.
	raw map[language.Tag]map[string]string
	// english maps the English text of each message of ErrorPages to its
	// id.
	english map[string]string
}

// ErrorPages is the namespace of the messages that error pages look up by
// their English text (Localizer.English).
const ErrorPages = "errorpage."

// Load parses the catalogs in fsys (laid out as Locales is).
func Load(fsys fs.FS) (*Catalog, error) {
	b := goi18n.NewBundle(Source)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(fsys, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	c := &Catalog{bundle: b, keys: map[string]bool{}, raw: map[language.Tag]map[string]string{}}
	for _, f := range files {
		buf, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		mf, err := b.ParseMessageFileBytes(buf, path.Base(f))
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", f, err)
		}
		raw := map[string]string{}
		for _, m := range mf.Messages {
			raw[m.ID] = m.Other
		}
		c.raw[mf.Tag] = raw
		if mf.Tag == Source {
			for _, m := range mf.Messages {
				c.keys[m.ID] = true
			}
		}
	}
	c.english = map[string]string{}
	for id, text := range c.raw[Source] {
		if strings.HasPrefix(id, ErrorPages) {
			c.english[text] = id
		}
	}
	c.tags = b.LanguageTags()
	sort.SliceStable(c.tags, func(i, j int) bool { return c.tags[i] == Source && c.tags[j] != Source })
	c.matcher = language.NewMatcher(c.tags)
	for _, t := range c.tags {
		c.names = append(c.names, t.String())
	}
	if len(c.keys) == 0 {
		return nil, fmt.Errorf("catalogs: no %s catalog", Source)
	}
	return c, nil
}

// builtin is the embedded catalogs, parsed once: like the embedded static
// files, they are part of the binary and never change.
var builtin = sync.OnceValue(func() *Catalog {
	c, err := Load(Locales)
	if err != nil {
		panic(err) // the catalogs are tested; a broken one is a build error
	}
	return c
})

// Builtin returns the embedded catalogs.
func Builtin() *Catalog { return builtin() }

// Supported lists the languages, as BCP 47 tags, the source first: what
// discovery advertises as ui_locales_supported.
func (c *Catalog) Supported() []string { return append([]string(nil), c.names...) }

// Tags lists the languages, the source first.
func (c *Catalog) Tags() []language.Tag { return append([]language.Tag(nil), c.tags...) }

// Has reports whether key is a message of the source catalog.
func (c *Catalog) Has(key string) bool { return c.keys[key] }

// Canonical returns the supported language that s names (any case, "pt-br"
// for "pt-BR", "de-DE" for "de"), or "" when none matches well: what a
// stored preference (a user's, a tenant's default) is checked with.
func (c *Catalog) Canonical(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxTag {
		return ""
	}
	t, err := language.Parse(s)
	if err != nil {
		return ""
	}
	if i, ok := match(c.matcher, []language.Tag{t}); ok {
		return c.names[i]
	}
	return ""
}

// source is the "other" text of message id in the language of tag, or
// English when that catalog lacks it.
func (c *Catalog) source(tag language.Tag, id string) string {
	if m, ok := c.raw[tag][id]; ok {
		return m
	}
	return c.raw[Source][id]
}

// Keys lists the message ids of the source catalog, sorted.
func (c *Catalog) Keys() []string {
	out := make([]string, 0, len(c.keys))
	for k := range c.keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
