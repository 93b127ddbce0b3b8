package console

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// tryState is what the console keeps, in the console session, while a
// "Try it" login is away at the tenant's login page: it binds the callback
// to this session (state), the code to this request (PKCE) and the ID token
// to it (nonce), and names the tenant and application it is about.
type tryState struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
	Slug     string `json:"t"`
	App      string `json:"a"`
	Client   string `json:"c"`
	Expires  int64  `json:"e"`
}

func (h *Handler) tryRedirectURI() string {
	return h.cfg.BaseURL.String() + admin.ConsolePath + "/try/callback"
}

// tryOAuth is the OAuth configuration of the tenant's try client: a
// confidential client whose secret only the nodes know.
func (h *Handler) tryOAuth(t *tenants.Tenant, clientID string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: h.cfg.TrySecret(t.ID),
		Endpoint: oauth2.Endpoint{
			AuthURL:   t.Issuer + "/authorize",
			TokenURL:  t.Issuer + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: h.tryRedirectURI(),
		Scopes:      scopes,
	}
}

// startTry sends the administrator to the tenant's authorization endpoint
// as the tenant's try client, with the tried application's API access.
func (h *Handler) startTry(c echo.Context) error {
	ctx, t, cl, err := h.loadApp(c)
	if err != nil {
		return err
	}
	tc, err := h.svc.TryClient(ctx, cl.ClientID, h.tryRedirectURI())
	if errs := formErrors(err); errs != nil {
		return h.renderApp(c, ctx, t, cl, http.StatusUnprocessableEntity, appEdit{tryErrs: errs})
	}
	if err != nil {
		return err
	}
	st := tryState{State: secret.Token(24), Verifier: oauth2.GenerateVerifier(), Nonce: secret.Token(24), Slug: t.Slug,
		App: cl.ClientID, Client: tc.ClientID, Expires: h.now().Add(admin.TryTTL).Unix()}
	b, _ := json.Marshal(st)
	if err := h.store.SetConsoleTryState(ctx, session(ctx).ID, string(b)); err != nil {
		return err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(st.Verifier), oauth2.SetAuthURLParam("nonce", st.Nonce),
		oauth2.SetAuthURLParam("prompt", "login")}
	if tc.Resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", tc.Resource))
	}
	return c.Redirect(http.StatusSeeOther, h.tryOAuth(t, tc.ClientID, tc.Scopes).AuthCodeURL(st.State, opts...))
}

// tryCallback finishes a "Try it" login: it checks state and iss (RFC
// 9207), exchanges the code in-process, verifies the ID token and its nonce,
// and shows the claims of both tokens. The state is single use.
func (h *Handler) tryCallback(c echo.Context) error {
	ctx := c.Request().Context()
	sess := session(ctx)
	var st tryState
	if sess.TryState == "" || json.Unmarshal([]byte(sess.TryState), &st) != nil {
		return render(c, http.StatusBadRequest, vc.Message(vc.MessageView{Title: "Try it: nothing to finish",
			Text: "This answer does not belong to a \"Try it\" started in this session, or it was used already. Start again from the application's page.",
			Link: admin.ConsolePath, LinkText: "Back to the console"}))
	}
	if err := h.store.SetConsoleTryState(ctx, sess.ID, ""); err != nil {
		return err
	}
	sess.TryState = ""
	// The tenant is checked again: the administrator's access may have
	// changed while they were away.
	ctx, t, err := h.svc.Tenant(ctx, st.Slug)
	if err != nil {
		return err
	}
	// Whatever comes of it, the try is over: the try client keeps no
	// grant beyond it (the code, already issued, is redeemed below), nor
	// the user's consent and tokens once they are shown.
	subject := ""
	defer func() {
		if err := h.svc.EndTry(ctx, subject); err != nil {
			tenants.Logger(ctx).ErrorContext(ctx, "end a try", "tenant", t.Slug, "err", err)
		}
	}()
	cl, err := h.svc.GetClient(ctx, st.App)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "Try it: "+cl.ClientName, "applications", t)
	if err != nil {
		return err
	}
	appLink := vc.TenantURL(t.Slug, "/applications/"+cl.ClientID)
	v := vc.TryResultView{Page: pg, AppName: cl.ClientName, AppLink: appLink, TryAgain: appLink + "/try"}
	fail := func(msg string) error {
		v.Error = msg
		return render(c, http.StatusBadRequest, vc.TryResult(v))
	}
	q := c.QueryParams()
	switch {
	case !secret.Equal(q.Get("state"), st.State) || h.now().Unix() > st.Expires:
		return fail("This sign-in was started in another session or too long ago. Try again.")
	case q.Get("iss") != t.Issuer:
		return fail("The answer did not come from " + t.Issuer + ".")
	case q.Get("error") != "":
		msg := "The sign-in did not complete: " + q.Get("error")
		if d := q.Get("error_description"); d != "" {
			msg += " (" + d + ")"
		}
		return fail(msg + ".")
	}
	octx := oidc.ClientContext(ctx, &http.Client{Transport: h.cfg.Transport, Timeout: 30 * time.Second})
	tok, err := h.tryOAuth(t, st.Client, nil).Exchange(octx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return fail("The code could not be exchanged for tokens: " + exchangeError(err))
	}
	provider, err := oidc.NewProvider(octx, t.Issuer)
	if err != nil {
		return err
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: st.Client}).Verify(octx, raw)
	if err != nil {
		return fail("The ID token did not verify: " + err.Error())
	}
	subject = idt.Subject
	if !secret.Equal(idt.Nonce, st.Nonce) {
		return fail("The ID token's nonce is not the one sent.")
	}
	var idClaims map[string]any
	if err := idt.Claims(&idClaims); err != nil {
		return fail("The ID token's claims could not be read.")
	}
	v.IDClaims = pretty(idClaims)
	v.Subject = idt.Subject
	v.Who = idt.Subject
	if e, ok := idClaims["email"].(string); ok && e != "" {
		v.Who = e
	}
	v.Scope = scopeOf(tok)
	if ac, ok := jwtClaims(tok.AccessToken); ok {
		v.AccessClaims = pretty(ac)
		v.Audience = audienceOf(ac["aud"])
	} else {
		v.AccessNote = "The access token is not a JWT: its claims can only be read by introspection."
	}
	return render(c, http.StatusOK, vc.TryResult(v))
}

// exchangeError is what people are told about a failed exchange: the OAuth
// error code and description, never the raw body.
func exchangeError(err error) string {
	if re, ok := err.(*oauth2.RetrieveError); ok && re.ErrorCode != "" {
		s := re.ErrorCode
		if re.ErrorDescription != "" {
			s += " (" + re.ErrorDescription + ")"
		}
		return s
	}
	return "the token endpoint did not answer as expected"
}

// jwtClaims decodes the payload of a JWT, for display only: the token came
// straight from the token endpoint, in-process.
func jwtClaims(raw string) (map[string]any, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return nil, false
	}
	return m, true
}

func audienceOf(v any) string {
	switch a := v.(type) {
	case string:
		return a
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return strings.Join(out, " ")
	}
	return ""
}

// pretty is claims as indented JSON, keys sorted.
func pretty(m map[string]any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m)
	return strings.TrimSpace(buf.String())
}
