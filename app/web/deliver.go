package web

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Deliver sends the browser on with an authorization response: a redirect
// with it in the query, or, for response_mode=form_post, a page that
// posts it.
func Deliver(c echo.Context, meta views.Meta, d httperr.Delivery) error {
	if d.FormPost {
		return FormPost(c, meta, d)
	}
	loc, err := d.Location()
	if err != nil {
		return httperr.Internal(err)
	}
	return Redirect(c, loc)
}

// FormPost answers with a page whose form posts d's parameters to d's URI
// and submits itself (OAuth 2.0 Form Post Response Mode §2): every value
// is an escaped attribute of a hidden input, never markup; its CSP lets
// the form go to the redirect URI's origin only.
func FormPost(c echo.Context, meta views.Meta, d httperr.Delivery) error {
	fields := make(map[string]string, len(d.Params))
	for k := range d.Params {
		fields[k] = d.Params.Get(k)
	}
	h := c.Response().Header()
	if src := formActionSource(d.URI); src != "" {
		h.Set("Content-Security-Policy", h.Get("Content-Security-Policy")+"; form-action "+src)
	}
	h.Set("Cache-Control", "no-store")
	return Render(c, http.StatusOK, views.AutoPost(views.AutoPostView{Meta: meta, Action: d.URI, Fields: fields}))
}

// cspSource is what a source expression of ours may hold: nothing that
// ends a directive or the header.
var cspSource = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*:(//[A-Za-z0-9.\-\[\]:]+)?$`)

// formActionSource is the CSP source of uri's origin (scheme://host:port,
// or scheme: for a private-use scheme), "" when it cannot be written as
// one.
func formActionSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return ""
	}
	src := u.Scheme + ":"
	if u.Host != "" {
		src += "//" + u.Host
	}
	if !cspSource.MatchString(src) {
		return ""
	}
	return src
}

// AllowFrames lets the page about to be rendered frame the origins of
// uris (frame-src), and no other: the signed-out page's logout frames. A
// URI whose origin cannot be written as a source is left out (its frame
// stays blank).
func AllowFrames(c echo.Context, uris []string) {
	srcs := []string{"'self'"}
	for _, u := range uris {
		if src := formActionSource(u); src != "" && !slices.Contains(srcs, src) {
			srcs = append(srcs, src)
		}
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", h.Get("Content-Security-Policy")+"; frame-src "+strings.Join(srcs, " "))
}
