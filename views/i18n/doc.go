// Package i18n owns the languages of Gatehouse's end-user pages and email:
// the message catalogs (TOML files under locales/, embedded, which
// translators edit without touching a template), the choice of a page's
// language from what a request says (Negotiate), and the Localizer that
// pages and email read their words, plurals and dates from, with a
// tenant's own wording laid over the catalog.
package i18n
