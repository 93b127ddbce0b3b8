package i18n

import (
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Bounds on what a request may make the negotiation parse.
const (
	// maxTag is the longest language tag read (BCP 47 allows long ones;
	// no language Gatehouse speaks needs more).
	maxTag = 35
	// maxList is the longest ui_locales or Accept-Language value read,
	// and maxEntries the most entries of it considered.
	maxList    = 512
	maxEntries = 16
)

// Prefs is what a request says about the language its page should be in.
type Prefs struct {
	// UILocales is the ui_locales of the authorization request the page
	// belongs to (OpenID Connect Core §3.1.2.1): space-separated BCP 47
	// tags, most preferred first. RequestAt is when the request was made.
	UILocales string
	RequestAt time.Time
	// Saved is the signed-in user's saved language.
	Saved string
	// Choice is the language picked with the switcher in this browser (the
	// cookie), at ChoiceAt.
	Choice   string
	ChoiceAt time.Time
	// AcceptLanguage is the browser's Accept-Language header (RFC 9110
	// §12.5.4).
	AcceptLanguage string
	// Default is the tenant's default language.
	Default string
}

// Negotiate returns the index in supported (which must not be empty) of
// the language of a page, from p, the first of these that names a
// supported language:
//
//  1. the switcher's choice, when made after the authorization request
//     began: the person at the page overrules the application's hint;
//  2. ui_locales of the authorization request;
//  3. the signed-in user's saved language;
//  4. the switcher's choice made earlier in this browser;
//  5. Accept-Language, in order of quality;
//  6. the tenant's default;
//  7. supported[0].
//
// A value that names no supported language (or cannot be parsed) is
// passed over, never an error: these are hints.
func Negotiate(supported []language.Tag, p Prefs) int {
	return negotiate(language.NewMatcher(supported), p)
}

// negotiate is Negotiate with the supported languages' matcher, which a
// catalog builds once: building one costs more than the rest of a
// request to the token endpoint.
func negotiate(m language.Matcher, p Prefs) int {
	choice := parseOne(p.Choice)
	freshChoice := choice != nil && p.UILocales != "" && !p.RequestAt.IsZero() && p.ChoiceAt.After(p.RequestAt)
	for _, cand := range [][]language.Tag{
		pick(freshChoice, choice),
		parseList(p.UILocales),
		parseOne(p.Saved),
		choice,
		parseAccept(p.AcceptLanguage),
		parseOne(p.Default),
	} {
		if i, ok := match(m, cand); ok {
			return i
		}
	}
	return 0
}

func pick(ok bool, t []language.Tag) []language.Tag {
	if !ok {
		return nil
	}
	return t
}

// match returns the index of the supported language that best serves
// desired, and false when none does at least with high confidence ("pt"
// is pt-BR, "de-AT" is de; "zh" is nothing Gatehouse speaks).
func match(m language.Matcher, desired []language.Tag) (int, bool) {
	if len(desired) == 0 {
		return 0, false
	}
	_, i, conf := m.Match(desired...)
	return i, conf >= language.High
}

func parseOne(s string) []language.Tag {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxTag {
		return nil
	}
	t, err := language.Parse(s)
	if err != nil {
		return nil
	}
	return []language.Tag{t}
}

// parseList reads a space-separated list of tags (ui_locales).
func parseList(s string) []language.Tag {
	if len(s) > maxList {
		s = s[:maxList]
	}
	var tags []language.Tag
	for _, f := range strings.Fields(s) {
		if len(tags) == maxEntries {
			break
		}
		tags = append(tags, parseOne(f)...)
	}
	return tags
}

// parseAccept reads Accept-Language, best quality first; "*" and entries
// of quality 0 say nothing.
func parseAccept(s string) []language.Tag {
	if s == "" || len(s) > maxList {
		return nil
	}
	tags, q, err := language.ParseAcceptLanguage(s)
	if err != nil {
		return nil
	}
	var out []language.Tag
	for i, t := range tags {
		if q[i] <= 0 || t == language.Und || len(out) == maxEntries {
			continue
		}
		out = append(out, t)
	}
	return out
}
