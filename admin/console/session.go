package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

const (
	sessionCookie = "gh_console"
	loginCookie   = "gh_console_login"
	csrfField     = "csrf_token"
)

func (h *Handler) secure() bool { return h.cfg.BaseURL.Scheme == "https" }

// cookieName adds the __Host- prefix under HTTPS: host-only, Secure, Path=/.
func (h *Handler) cookieName(base string) string {
	if h.secure() {
		return "__Host-" + base
	}
	return base
}

func (h *Handler) setCookie(c echo.Context, base, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: h.cookieName(base), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(), SameSite: http.SameSiteLaxMode})
}

func (h *Handler) cookie(c echo.Context, base string) string {
	ck, err := c.Cookie(h.cookieName(base))
	if err != nil || len(ck.Value) > 4096 {
		return ""
	}
	return ck.Value
}

type sessionKey struct{}

// session returns the console session of the request (set by requireAdmin).
func session(ctx context.Context) *tenants.ConsoleSession {
	s, _ := ctx.Value(sessionKey{}).(*tenants.ConsoleSession)
	return s
}

// requireAdmin is the console's one gate: it loads the administrator's
// session and principal, and refuses every state-changing request whose
// anti-CSRF token or Origin is not this console's.
func (h *Handler) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		raw := h.cookie(c, sessionCookie)
		var sess *tenants.ConsoleSession
		if raw != "" {
			s, err := h.store.ConsoleSessionByID(ctx, secret.Hash(raw))
			if err != nil && !errors.Is(err, tenants.ErrNotFound) {
				return err
			}
			sess = s
		}
		if sess == nil {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusFound, admin.ConsolePath+"/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			return c.Redirect(http.StatusSeeOther, admin.ConsolePath+"/login")
		}
		p, err := h.svc.Authenticate(ctx, admin.KindUser, sess.UserID, sess.Scopes)
		if errors.Is(err, admin.ErrForbidden) {
			_ = h.store.DeleteConsoleSession(ctx, sess.ID)
			h.setCookie(c, sessionCookie, "", -1)
			return forbiddenPage("Your account is no longer an administrator.")
		}
		if err != nil {
			return err
		}
		if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead {
			if err := h.checkCSRF(c, sess.ID); err != nil {
				return err
			}
		}
		ctx = context.WithValue(admin.WithPrincipal(ctx, p), sessionKey{}, sess)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// csrfToken is the anti-CSRF token of the session's forms.
func (h *Handler) csrfToken(sessionID string) string {
	return secret.MAC(h.cfg.CSRFKey, "console-csrf", sessionID)
}

func (h *Handler) checkCSRF(c echo.Context, sessionID string) error {
	if origin := c.Request().Header.Get("Origin"); origin != "" && origin != "null" {
		if origin != h.cfg.BaseURL.Scheme+"://"+h.cfg.BaseURL.Host {
			return csrfPage()
		}
	}
	got := c.Request().Header.Get("X-CSRF-Token")
	if got == "" {
		got = c.FormValue(csrfField)
	}
	if got == "" || !secret.Equal(got, h.csrfToken(sessionID)) {
		return csrfPage()
	}
	return nil
}

// safeNext returns next if it is a path of the console, else the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, admin.ConsolePath) && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		if u, err := url.Parse(next); err == nil && u.Host == "" && u.Scheme == "" {
			return next
		}
	}
	return admin.ConsolePath
}
