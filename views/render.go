package views

import (
	"context"
	"net/http"

	"github.com/a-h/templ"
)

// Render writes page as an HTML answer with status.
func Render(ctx context.Context, w http.ResponseWriter, status int, page templ.Component) error {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(status)
	return page.Render(ctx, w)
}
