package socialtest

import (
	"crypto/ecdsa"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AppleClient is a Services ID registered at the fake Apple, with the team
// and the key whose public half checks its client secrets.
type AppleClient struct {
	ServiceID, TeamID, KeyID string
	Key                      *ecdsa.PublicKey
}

// AddAppleClient registers a Services ID at the fake Apple.
func (f *Fake) AddAppleClient(c AppleClient) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apple[c.ServiceID] = c
}

// AppleSecrets returns the client secrets Apple's token endpoint accepted,
// oldest first.
func (f *Fake) AppleSecrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.secrets)
}

// applePost is the page Apple answers with under response_mode=form_post:
// a form the browser posts to the redirect URI (cross-site).
var applePost = template.Must(template.New("apple").Parse(`<!doctype html><html><body onload="document.forms[0].submit()">` +
	`<form method="post" action="{{.Action}}">{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}</form></body></html>`))

// appleAuthorize approves the request at once for Apple's user and answers
// by form_post, as Apple does when the name or email scope is asked for:
// code and state, and on the user's first sign-in to this Services ID the
// user field with their name (never again after).
func (f *Fake) appleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.asked[Apple] = append(f.asked[Apple], q)
	_, known := f.apple[q.Get("client_id")]
	user, hasUser := f.users[Apple]
	tm := f.tamper[Apple]
	delete(f.tamper, Apple)
	f.mu.Unlock()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case !known || err != nil || redirect.Host == "" || !hasUser:
		http.Error(w, "invalid_client", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || q.Get("response_mode") != "form_post":
		http.Error(w, "response_type code with response_mode form_post expected", http.StatusBadRequest)
		return
	}
	fields := map[string]string{"state": q.Get("state")}
	if tm.Deny {
		fields["error"] = "user_cancelled_authorize"
	} else {
		code := "c" + token(24)
		f.mu.Lock()
		f.codes[code] = &grant{provider: Apple, clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), nonce: q.Get("nonce"),
			challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), scope: q.Get("scope"), user: user, tamper: tm}
		seen := f.appleSeen[q.Get("client_id")+"|"+user.Subject]
		f.appleSeen[q.Get("client_id")+"|"+user.Subject] = true
		f.mu.Unlock()
		fields["code"] = code
		if !seen {
			u := map[string]any{"name": map[string]string{"firstName": user.GivenName, "lastName": user.FamilyName}}
			if user.Email != "" {
				u["email"] = user.Email
			}
			b, _ := json.Marshal(u)
			fields["user"] = string(b)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = applePost.Execute(w, map[string]any{"Action": redirect.String(), "Fields": fields})
}

// appleTokenEndpoint redeems a code for a client that authenticates with
// a client secret JWT: ES256, signed by the Services ID's registered key
// (kid its key id), iss the team id, sub the Services ID, aud
// https://appleid.apple.com, unexpired and valid at most six months.
func (f *Fake) appleTokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.tokenError(w, Apple, "invalid_request", err.Error())
		return
	}
	id, secret := r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	f.mu.Lock()
	c, known := f.apple[id]
	g := f.codes[r.PostFormValue("code")]
	delete(f.codes, r.PostFormValue("code"))
	f.mu.Unlock()
	if !known || !appleSecretOK(c, secret) {
		f.tokenError(w, Apple, "invalid_client", "")
		return
	}
	switch {
	case r.PostFormValue("grant_type") != "authorization_code", g == nil || g.provider != Apple || g.clientID != id,
		r.PostFormValue("redirect_uri") != g.redirectURI, !pkceOK(g, r.PostFormValue("code_verifier")):
		f.tokenError(w, Apple, "invalid_grant", "")
		return
	}
	f.mu.Lock()
	f.secrets = append(f.secrets, secret)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": "a" + token(24), "token_type": "Bearer", "expires_in": 3600,
		"refresh_token": "r" + token(24), "id_token": f.idToken(g)})
}

func appleSecretOK(c AppleClient, secret string) bool {
	tok, err := jwt.ParseSigned(secret, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(tok.Headers) != 1 || tok.Headers[0].KeyID != c.KeyID {
		return false
	}
	var cl jwt.Claims
	if err := tok.Claims(c.Key, &cl); err != nil {
		return false
	}
	now := time.Now()
	if cl.Expiry == nil || cl.IssuedAt == nil || cl.Expiry.Time().Sub(cl.IssuedAt.Time()) > 183*24*time.Hour {
		return false
	}
	return cl.ValidateWithLeeway(jwt.Expected{Issuer: c.TeamID, Subject: c.ServiceID, AnyAudience: jwt.Audience{"https://appleid.apple.com"}, Time: now}, 0) == nil
}
