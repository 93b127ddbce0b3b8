package server

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// maxMultipartMemory is what a multipart form may hold in memory; the
// body limit bounds it anyway.
const maxMultipartMemory = 64 << 10

// refuseBadText answers 400 to a request whose path, query, form
// (URL-encoded or multipart: every parser a handler can reach, the media
// type read as net/http reads it — any case, any parameters) or Basic
// credentials hold a
// NUL byte or invalid UTF-8: no identifier, token or name can contain
// them, and PostgreSQL refuses them in text, so they are stopped before
// any handler (or database) sees them. A form that cannot be parsed is
// refused the same way.
func refuseBadText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		field, bad := "path", !clean(r.URL.Path)
		if !bad {
			field, bad = badValue(r.URL.Query())
		}
		// The media type as net/http's parsers read it: a prefix test
		// would let "Multipart/Form-Data" past this filter into FormValue.
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		// net/http reads a URL-encoded body for POST, PUT and PATCH only,
		// but a multipart one for any method (a GET /authorize with one
		// reaches FormParams).
		if !bad && (ct == "multipart/form-data" || r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
			switch ct {
			case "multipart/form-data":
				if err := r.ParseMultipartForm(maxMultipartMemory); err != nil {
					field, bad = "form", true
					break
				}
				field, bad = badValue(r.MultipartForm.Value)
				for name, files := range r.MultipartForm.File {
					for _, fh := range files {
						if !bad && (!clean(name) || !clean(fh.Filename)) {
							field, bad = name, true
						}
					}
				}
				if !bad {
					field, bad = badValue(r.PostForm)
				}
			case "application/x-www-form-urlencoded":
				if err := r.ParseForm(); err != nil {
					field, bad = "form", true
				} else {
					field, bad = badValue(r.PostForm)
				}
			}
		}
		if user, pass, ok := r.BasicAuth(); !bad && ok {
			u, _ := url.QueryUnescape(user)
			p, _ := url.QueryUnescape(pass)
			field, bad = "Authorization", !clean(user) || !clean(pass) || !clean(u) || !clean(p)
		}
		if bad {
			e := httperr.OAuth(httperr.InvalidRequest, "%s holds a NUL byte or invalid UTF-8, or cannot be read", field)
			e.Field = field
			return e
		}
		return next(c)
	}
}

// badValue returns the name of a parameter of v that is not clean text.
func badValue(v url.Values) (string, bool) {
	for k, vs := range v {
		if !clean(k) {
			return "parameter name", true
		}
		for _, s := range vs {
			if !clean(s) {
				return k, true
			}
		}
	}
	return "", false
}

func clean(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
