package views

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
)

// Render writes page as an HTML answer with status. The page is rendered
// into a buffer first: a component that fails leaves the answer unwritten,
// so the error handler can still answer with a clean error page instead of
// half a page under a 200.
func Render(ctx context.Context, w http.ResponseWriter, status int, page templ.Component) error {
	var buf bytes.Buffer
	if err := page.Render(ctx, &buf); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
