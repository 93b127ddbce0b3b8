package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// LanguageCookie remembers the language picked with the switcher in this
// browser, and when (Unix milliseconds): "de.1764763200000".
const LanguageCookie = "gh_lang"

// languageCookieAge is how long the browser keeps the choice: a year.
const languageCookieAge = 365 * 24 * 3600

// PathLanguage is where the language switcher's links lead.
const PathLanguage = views.PathLanguage

// choice reads the language cookie: a supported language and when it was
// picked, or "".
func choice(c echo.Context, t *tenants.Tenant) (string, time.Time) {
	for _, v := range CookieValues(c, t, LanguageCookie) {
		lang, at, ok := strings.Cut(v, ".")
		ms, err := strconv.ParseInt(at, 10, 64)
		if lang = i18n.Builtin().Canonical(lang); ok && err == nil && lang != "" {
			return lang, time.UnixMilli(ms)
		}
	}
	return "", time.Time{}
}

// prefs is what the request says of its language before a page knows its
// authorization request or user.
func prefs(c echo.Context, t *tenants.Tenant) i18n.Prefs {
	p := i18n.Prefs{AcceptLanguage: c.Request().Header.Get("Accept-Language"), Default: t.DefaultLocale}
	p.Choice, p.ChoiceAt = choice(c, t)
	return p
}

// Localize is middleware that puts the request's Localizer in its context,
// chosen from the language cookie, Accept-Language and the tenant's
// default (pages that know more call Speak), with the tenant's own
// wording, read only when a message is. Requests to no tenant (the apex)
// get none: the source language.
func (s *Site) Localize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if t, ok := tenants.FromContext(r.Context()); ok {
			c.SetRequest(r.WithContext(s.localized(r.Context(), prefs(c, t))))
		}
		return next(c)
	}
}

func (s *Site) localized(ctx context.Context, p i18n.Prefs) context.Context {
	cat := i18n.Builtin()
	own := func(lang string) map[string]string { return s.wording.get(ctx, s.store, lang) }
	return i18n.WithLocalizer(ctx, cat.Localizer(cat.Negotiate(p), own))
}

// wording keeps tenants' own wording by tenant, revision and language:
// every change of it bumps the tenant's revision, which the tenant in a
// request's context carries (the node's cache follows the change feed),
// so a page reads it from the database once per change and node.
type wording struct {
	mu sync.Mutex
	m  map[wordingKey]map[string]string
}

type wordingKey struct {
	tenant   string
	revision int64
	lang     string
}

// maxWording bounds the entries kept; past it, the map starts again.
const maxWording = 4096

func (w *wording) get(ctx context.Context, store *tenants.Store, lang string) map[string]string {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil
	}
	k := wordingKey{t.ID, t.Revision, lang}
	w.mu.Lock()
	m, ok := w.m[k]
	w.mu.Unlock()
	if ok {
		return m
	}
	m, err := store.TenantStrings(ctx, lang)
	if err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "read tenant wording", "lang", lang, "err", err)
		return nil // not kept: the next page tries again
	}
	w.mu.Lock()
	if w.m == nil || len(w.m) >= maxWording {
		w.m = map[wordingKey]map[string]string{}
	}
	w.m[k] = m
	w.mu.Unlock()
	return m
}

// Speak chooses the language of the rest of the request again, now that
// the page knows the authorization request it belongs to (its ui_locales)
// or the signed-in user (their saved language); either may be nil.
func (s *Site) Speak(c echo.Context, ar *tenants.AuthRequest, u *tenants.User) {
	r := c.Request()
	c.SetRequest(r.WithContext(i18n.WithLocalizer(r.Context(), s.Localizer(c, ar, u))))
}

// Localizer is the language the request's pages would speak with ar and
// u known (either may be nil), without changing the request's: an email
// to u is in u's language, and the page that sent it must not tell.
func (s *Site) Localizer(c echo.Context, ar *tenants.AuthRequest, u *tenants.User) *i18n.Localizer {
	ctx := c.Request().Context()
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return i18n.From(ctx)
	}
	p := prefs(c, t)
	if ar != nil {
		p.UILocales, p.RequestAt = ar.UILocales, ar.CreatedAt
	}
	if u != nil {
		p.Saved = u.Locale
	}
	return i18n.From(s.localized(ctx, p))
}

// T is message key in the language of the request.
func T(c echo.Context, key string, args ...any) string {
	return views.T(c.Request().Context(), key, args...)
}

// Here is the path and query of the request, for the language switcher
// to come back to.
func Here(c echo.Context) string { return c.Request().URL.RequestURI() }

// chooseLanguage is the language switcher's link: it remembers the
// language in the browser's cookie and goes back to the page. It changes
// nothing stored (a GET); the choice reaches the account at the next
// sign-in, or from the account page's form.
func (s *Site) chooseLanguage(c echo.Context) error {
	t, _, err := Tenant(c)
	if err != nil {
		return err
	}
	if lang := i18n.Builtin().Canonical(c.QueryParam("lang")); lang != "" {
		RememberLanguage(c, t, lang, s.store.Now())
	}
	return c.Redirect(http.StatusSeeOther, LocalPath(c.QueryParam("next")))
}

// RememberLanguage keeps lang, picked at now, in the browser's cookie.
func RememberLanguage(c echo.Context, t *tenants.Tenant, lang string, now time.Time) {
	SetCookie(c, t, LanguageCookie, lang+"."+strconv.FormatInt(now.UnixMilli(), 10), languageCookieAge)
}

// LocalPath returns next when it is a path on this host ("/login?id=x"),
// else "/": never another site (no "//host", no "/\host", no scheme).
func LocalPath(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	return next
}

// LanguageRoutes are the routes of the language switcher.
func (s *Site) LanguageRoutes() []Route {
	return []Route{{Method: http.MethodGet, Path: PathLanguage, Handler: s.chooseLanguage}}
}

// saveChoice saves the browser's language choice, if any, as the language
// of the user who just signed in.
func (s *Site) saveChoice(c echo.Context, t *tenants.Tenant, userID string) {
	lang, _ := choice(c, t)
	if lang == "" || userID == "" {
		return
	}
	ctx := c.Request().Context()
	if err := s.store.SetUserLocale(ctx, userID, lang); err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "save the user's language", "err", err)
	}
}
