package console

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// onceCookie carries a secret shown once (a new client or webhook secret)
// across the redirect after the POST that made it, so that reloading the
// page that shows it never repeats the POST (which would create a second
// application or rotate the secret again).
const onceCookie = "gh_console_once"

// onceTTL is how long the secret waits for its page.
const onceTTL = 5 * time.Minute

// shownOnce is what a one-time page shows.
type shownOnce struct {
	Secret  string `json:"s"`
	Note    string `json:"n,omitempty"`
	Rotated bool   `json:"r,omitempty"`
	Expires int64  `json:"e"`
}

// onceAAD binds a sealed secret to the console session and the page that
// shows it: it opens nowhere else.
func onceAAD(sessionID, path string) []byte {
	return []byte("gatehouse console once v1\x00" + sessionID + "\x00" + path)
}

// showOnce seals v for the page at path and redirects there (303).
func (h *Handler) showOnce(c echo.Context, path string, v shownOnce) error {
	v.Expires = h.now().Add(onceTTL).Unix()
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sealed := h.cfg.Sealer.Seal(raw, onceAAD(session(c.Request().Context()).ID, path))
	h.setCookie(c, onceCookie, base64.RawURLEncoding.EncodeToString(sealed), int(onceTTL/time.Second))
	return c.Redirect(http.StatusSeeOther, path)
}

// takeOnce returns the secret sealed for the page at path, and forgets it:
// a second look (a reload, the back button) finds nothing.
func (h *Handler) takeOnce(c echo.Context, path string) (shownOnce, bool) {
	var v shownOnce
	raw := h.cookie(c, onceCookie)
	if raw == "" {
		return v, false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return v, false
	}
	plain, err := h.cfg.Sealer.Open(sealed, onceAAD(session(c.Request().Context()).ID, path))
	if err != nil || json.Unmarshal(plain, &v) != nil || h.now().Unix() > v.Expires {
		return shownOnce{}, false
	}
	h.setCookie(c, onceCookie, "", -1)
	c.Response().Header().Set("Cache-Control", "no-store")
	return v, true
}
