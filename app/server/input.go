package server

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// refuseBadText answers 400 to a request whose query, form or Basic
// credentials hold a NUL byte or invalid UTF-8: no identifier, token or
// name can contain them, and PostgreSQL refuses them in text, so they are
// stopped before any handler (or database) sees them.
func refuseBadText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		bad := !cleanValues(r.URL.Query())
		if !bad && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
			ct := r.Header.Get("Content-Type")
			if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
				if err := r.ParseForm(); err == nil {
					bad = !cleanValues(r.PostForm)
				}
			}
		}
		if user, pass, ok := r.BasicAuth(); !bad && ok {
			u, _ := url.QueryUnescape(user)
			p, _ := url.QueryUnescape(pass)
			bad = !clean(user) || !clean(pass) || !clean(u) || !clean(p)
		}
		if bad {
			return httperr.OAuth(httperr.InvalidRequest, "the request holds a NUL byte or invalid UTF-8")
		}
		return next(c)
	}
}

func cleanValues(v url.Values) bool {
	for k, vs := range v {
		if !clean(k) {
			return false
		}
		for _, s := range vs {
			if !clean(s) {
				return false
			}
		}
	}
	return true
}

func clean(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
