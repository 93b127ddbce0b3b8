package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	vc "github.com/gatehouse-id/gatehouse/views/console"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// pageSize is how many rows a paged listing (users, audit) shows.
const pageSize = 25

// formErrors turns a validation error into the messages of a form's
// fields; an error about a field the form does not show goes to "form", at
// the top of the form. It returns nil for any other error.
func formErrors(err error, fields ...string) map[string]string {
	errs := fieldErrors(err)
	if errs == nil {
		return nil
	}
	for f, msg := range errs {
		if f != "form" && !slices.Contains(fields, f) {
			delete(errs, f)
			f = "form"
		}
		errs[f] = sentence(msg)
	}
	return errs
}

// sentence makes a service's message ("must not be empty") a sentence.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	if r := msg[0]; r >= 'a' && r <= 'z' {
		msg = string(r-'a'+'A') + msg[1:]
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// lines splits a textarea into its non-empty, trimmed lines. The result is
// never nil: an empty textarea means "none".
func lines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// splitList splits a comma- or space-separated list; an empty field is an
// empty (not absent) list, so clearing the field clears the setting.
func splitList(s string) []string {
	out := []string{}
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		out = append(out, v)
	}
	return out
}

// formValues returns every value of a form field (the request form must
// be parsed, as FormValue does).
func formValues(c echo.Context, name string) []string {
	if _, err := c.FormParams(); err != nil {
		return nil
	}
	return c.Request().Form[name]
}

// when formats a time for people.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// whenExact is a time to the second, with its zone, for the audit log.
func whenExact(t time.Time) string {
	return t.UTC().Format("2 Jan 2006, 15:04:05 MST")
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return when(*t)
}

// done redirects after a change to path, with a flash message.
func done(c echo.Context, path, flash string) error {
	return c.Redirect(http.StatusSeeOther, path+"?done="+flash)
}

// notFound answers a path the console has nothing at.
func notFound() error { return httperr.NotFound() }

// pager builds the previous and next links of a listing paged by cursor:
// base carries the filters, cur is the cursor of this page, back the
// cursors of the pages before it, next the cursor of the next page.
func pager(base url.Values, path, param, cur string, back []string, next string) vc.Pager {
	link := func(cursor string, trail []string) string {
		q := url.Values{}
		for k, v := range base {
			if len(v) > 0 && v[0] != "" {
				q[k] = v
			}
		}
		if cursor != "" {
			q.Set(param, cursor)
		}
		if len(trail) > 0 {
			q["back"] = trail
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
	var p vc.Pager
	if cur != "" {
		prev, trail := "", []string(nil)
		if len(back) > 0 {
			prev, trail = back[len(back)-1], back[:len(back)-1]
		}
		p.Prev = link(prev, trail)
	}
	if next != "" {
		trail := append(slices.Clone(back), cur)
		if len(trail) > 50 { // a long walk forgets its oldest pages
			trail = trail[len(trail)-50:]
		}
		p.Next = link(next, trail)
	}
	return p
}

// backTrail reads the cursors of the pages before this one.
func backTrail(c echo.Context) []string {
	b := c.QueryParams()["back"]
	if len(b) > 50 {
		b = b[len(b)-50:]
	}
	return b
}
