package cli

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"time"
)

// devCallback is `gatehouse dev callback`: a one-shot redirect-URI
// receiver for trying the authorization code flow by hand. It listens on
// the loopback address of --redirect-uri, waits for the one redirect the
// browser brings back, checks its state, prints {"code", "state", "iss"}
// and exits; an OAuth error in the redirect is printed and fails the
// command. Nothing but loopback is listened on, and only one answer is
// taken.
func devCallback(ctx context.Context, env Env, args []string) error {
	f := newFlags("dev callback", env)
	redirect := f.String("redirect-uri", "http://127.0.0.1:9000/cb", "the redirect URI registered for the client (http, on a loopback address)")
	state := f.String("state", "", "the state sent in the authorization request; a redirect without it is refused")
	timeout := f.Duration("timeout", 5*time.Minute, "how long to wait for the browser")
	if err := f.parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*redirect)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return errors.New("dev callback: --redirect-uri must be an http URL with a port, such as http://127.0.0.1:9000/cb")
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("dev callback: --redirect-uri must be on a loopback address (127.0.0.1 or [::1]), not %q", u.Hostname())
	}
	if *state == "" {
		return errors.New("dev callback: --state is required: pass the state of the authorization request, so that another page cannot hand in a code")
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return fmt.Errorf("dev callback: listen on %s: %w", u.Host, err)
	}
	type result struct {
		code, state, iss string
		err              error
	}
	got := make(chan result, 1)
	page := func(w http.ResponseWriter, status int, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!doctype html><title>gatehouse dev callback</title><p>%s</p>", html.EscapeString(msg))
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(*state)) != 1 {
			// Not the answer to our request: keep waiting for it.
			page(w, http.StatusBadRequest, "This redirect does not carry the state of the request; it was ignored.")
			return
		}
		res := result{code: q.Get("code"), state: q.Get("state"), iss: q.Get("iss")}
		if e := q.Get("error"); e != "" {
			res.err = fmt.Errorf("dev callback: the authorization server answered %s: %s", e, q.Get("error_description"))
		} else if res.code == "" {
			res.err = errors.New("dev callback: the redirect carries no code")
		}
		select {
		case got <- res:
		default:
			page(w, http.StatusConflict, "An answer was taken already.")
			return
		}
		if res.err != nil {
			page(w, http.StatusOK, "The sign-in did not succeed; see the terminal.")
			return
		}
		page(w, http.StatusOK, "Signed in: the code is in the terminal. You can close this window.")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // closed below
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut) //nolint:errcheck // best effort: the answer is in
	}()
	fmt.Fprintf(env.Stderr, "waiting for the browser at %s (for %v)\n", u.String(), *timeout)
	timer := time.NewTimer(*timeout)
	defer timer.Stop()
	select {
	case res := <-got:
		if res.err != nil {
			return res.err
		}
		return printJSON(env.Stdout, map[string]string{"code": res.code, "state": res.state, "iss": res.iss})
	case <-timer.C:
		return fmt.Errorf("dev callback: no redirect came within %v", *timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}
