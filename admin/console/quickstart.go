package console

import (
	"go/format"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// quickstartInput is what an application's quickstart is filled with:
// the application's own settings, never a secret (the console keeps only
// its hash; the snippets read it from $CLIENT_SECRET).
type quickstartInput struct {
	Kind       string
	Issuer     string
	ClientID   string
	AuthMethod string
	// Redirect is the first registered redirect URI ("" when none).
	Redirect string
	// Audience and Scopes are the API a machine-to-machine application
	// requests tokens for (its first grant), "" when it has none.
	Audience string
	Scopes   []string
}

// placeholderRedirect stands in for a redirect URI not registered yet.
const placeholderRedirect = "http://localhost:3000/callback"

// quickstart returns the paste-ready configuration of an application for
// the stacks the console documents: Go (golang.org/x/oauth2 and
// coreos/go-oidc), Node (openid-client 6) and Python (Authlib), and for a
// machine-to-machine application the curl command that gets a token.
// Every value comes from the application's settings, so the snippets run
// as shown once CLIENT_SECRET is set.
func quickstart(in quickstartInput) vc.Quickstart {
	q := vc.Quickstart{Endpoints: []vc.Endpoint{
		{Name: "Issuer", URL: in.Issuer},
		{Name: "Discovery", URL: in.Issuer + tenants.PathDiscovery},
		{Name: "Authorization", URL: in.Issuer + tenants.PathAuthorize},
		{Name: "Token", URL: in.Issuer + tenants.PathToken},
		{Name: "Userinfo", URL: in.Issuer + tenants.PathUserinfo},
		{Name: "JWKS", URL: in.Issuer + tenants.PathJWKS},
		{Name: "Logout", URL: in.Issuer + tenants.PathEndSession},
		{Name: "Revocation", URL: in.Issuer + tenants.PathRevoke},
		{Name: "Introspection", URL: in.Issuer + tenants.PathIntrospect},
	}}
	secretEnv := in.AuthMethod != tenants.AuthMethodNone
	if in.Kind == admin.KindMachine {
		q.Endpoints = []vc.Endpoint{q.Endpoints[0], q.Endpoints[1], q.Endpoints[3], q.Endpoints[8]}
		q.Intro = "Set CLIENT_SECRET to the secret shown when the application was created (or rotate it), then request a token."
		if in.Audience == "" {
			q.Note = "The application has no API access yet: grant it an API below, and the snippets name it."
		}
		q.Snippets = []vc.Snippet{
			{ID: "curl", Label: "curl", Code: curlToken(in)},
			{ID: "go", Label: "Go", Code: gofmt(goMachine(in))},
			{ID: "node", Label: "Node", Code: nodeMachine(in)},
			{ID: "python", Label: "Python", Code: pythonMachine(in)},
		}
		return q
	}
	if in.Redirect == "" {
		in.Redirect = placeholderRedirect
		q.Note = "No redirect URI is registered yet: the snippets use " + placeholderRedirect + ". Register it in the settings below, or change both."
	}
	if secretEnv {
		q.Intro = "Set CLIENT_SECRET to the secret shown when the application was created (or rotate it). Each snippet serves /login and the redirect URI's path, signs the user in with the authorization code flow and PKCE, and prints the ID token's claims."
	} else {
		q.Intro = "A public client: no secret, PKCE required. Each snippet serves /login and the redirect URI's path, signs the user in with the authorization code flow and PKCE, and prints the ID token's claims."
	}
	q.Snippets = []vc.Snippet{
		{ID: "go", Label: "Go", Code: gofmt(goWeb(in, secretEnv))},
		{ID: "node", Label: "Node", Code: nodeWeb(in, secretEnv)},
		{ID: "python", Label: "Python", Code: pythonWeb(in, secretEnv)},
	}
	return q
}

// gofmt formats a Go snippet as gofmt would (the source as built when it
// does not parse, which TestQuickstartGoCompiles would catch).
func gofmt(src string) string {
	out, err := format.Source([]byte(src))
	if err != nil {
		return src
	}
	return string(out)
}

// listen returns the port and path a local snippet serves for redirect:
// the redirect URI's own port and path, or 3000 for one that is not on
// this machine.
func listen(redirect string) (port, path string) {
	port, path = "3000", "/callback"
	u, err := url.Parse(redirect)
	if err != nil {
		return port, path
	}
	if u.Path != "" {
		path = u.Path
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65536 {
			port = p
		}
	} else if u.Scheme == "http" {
		port = "80"
	} else if u.Scheme == "https" {
		port = "443"
	}
	if h := u.Hostname(); h != "localhost" && net.ParseIP(h) == nil {
		port = "3000" // behind the application's own web server
	}
	return port, path
}

// quote returns s as a double-quoted literal of Go, JavaScript and Python
// alike (the values are URLs and ids: no quote or backslash survives
// validation, but escape anyway).
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}

// shellQuote returns s single-quoted for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func machineScope(in quickstartInput) string { return strings.Join(in.Scopes, " ") }

func curlToken(in quickstartInput) string {
	var b strings.Builder
	b.WriteString("curl -s -u " + shellQuote(in.ClientID) + `:"$CLIENT_SECRET" \` + "\n")
	b.WriteString("  -d grant_type=client_credentials")
	if in.Audience != "" {
		b.WriteString(` \` + "\n  -d resource=" + shellQuote(in.Audience))
	}
	if len(in.Scopes) > 0 {
		b.WriteString(` \` + "\n  -d scope=" + shellQuote(machineScope(in)))
	}
	b.WriteString(` \` + "\n  " + shellQuote(in.Issuer+tenants.PathToken))
	return b.String()
}

func goMachine(in quickstartInput) string {
	params := ""
	if in.Audience != "" {
		params = "\n\t\tEndpointParams: url.Values{\"resource\": {" + quote(in.Audience) + "}},"
	}
	imports := "\t\"context\"\n\t\"fmt\"\n\t\"log\"\n"
	if in.Audience != "" {
		imports += "\t\"net/url\"\n"
	}
	return `package main

import (
` + imports + `	"os"

	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	cfg := clientcredentials.Config{
		ClientID:     ` + quote(in.ClientID) + `,
		ClientSecret: os.Getenv("CLIENT_SECRET"),
		TokenURL:     ` + quote(in.Issuer+tenants.PathToken) + `,
		Scopes:       []string{` + goStrings(in.Scopes) + `},` + params + `
	}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.AccessToken)
}
`
}

func goStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}

// insecureNode is openid-client's opt-in to an http issuer (development).
func insecureNode(issuer string) (opt, comment string) {
	if strings.HasPrefix(issuer, "http://") {
		return ", { execute: [client.allowInsecureRequests] }", "// http issuer (development): openid-client refuses it without allowInsecureRequests.\n"
	}
	return "", ""
}

// nodeAuth is openid-client's client authentication for method.
func nodeAuth(method string) string {
	switch method {
	case tenants.AuthMethodNone:
		return "client.None()"
	case "client_secret_post":
		return "client.ClientSecretPost(process.env.CLIENT_SECRET)"
	default:
		return "client.ClientSecretBasic(process.env.CLIENT_SECRET)"
	}
}

func nodeMachine(in quickstartInput) string {
	opt, comment := insecureNode(in.Issuer)
	params := []string{}
	if len(in.Scopes) > 0 {
		params = append(params, "scope: "+quote(machineScope(in)))
	}
	if in.Audience != "" {
		params = append(params, "resource: "+quote(in.Audience))
	}
	return `// npm install openid-client   (Node 20 or later; save as token.mjs)
import * as client from 'openid-client'

` + comment + `const config = await client.discovery(new URL(` + quote(in.Issuer) + `), ` + quote(in.ClientID) + `, undefined,
  ` + nodeAuth(in.AuthMethod) + opt + `)
const tokens = await client.clientCredentialsGrant(config, { ` + strings.Join(params, ", ") + ` })
console.log(tokens.access_token)
`
}

func pythonMachine(in quickstartInput) string {
	extra := ""
	if in.Audience != "" {
		extra = ", resource=" + quote(in.Audience)
	}
	scope := ""
	if len(in.Scopes) > 0 {
		scope = ", scope=" + quote(machineScope(in))
	}
	return `# pip install Authlib requests
import os

from authlib.integrations.requests_client import OAuth2Session

session = OAuth2Session(` + quote(in.ClientID) + `, os.environ["CLIENT_SECRET"]` + scope + `)
token = session.fetch_token(` + quote(in.Issuer+tenants.PathToken) + `, grant_type="client_credentials"` + extra + `)
print(token["access_token"])
`
}

// webScopes are the scopes the sign-in snippets ask for.
var webScopes = []string{tenants.ScopeOpenID, tenants.ScopeProfile, tenants.ScopeEmail}

func goWeb(in quickstartInput, secret bool) string {
	port, path := listen(in.Redirect)
	secretLine := ""
	if secret {
		secretLine = "\n\t\tClientSecret: os.Getenv(\"CLIENT_SECRET\"),"
	}
	osImport := ""
	if secret {
		osImport = "\t\"os\"\n"
	}
	return `package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
` + osImport + `
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func main() {
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, ` + quote(in.Issuer) + `)
	if err != nil {
		log.Fatal(err)
	}
	cfg := oauth2.Config{
		ClientID:     ` + quote(in.ClientID) + `,` + secretLine + `
		Endpoint:     provider.Endpoint(),
		RedirectURL:  ` + quote(in.Redirect) + `,
		Scopes:       []string{` + goStrings(webScopes) + `},
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID})

	http.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		state, pkce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		http.SetCookie(w, &http.Cookie{Name: "state", Value: state, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.SetCookie(w, &http.Cookie{Name: "pkce", Value: pkce, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce)), http.StatusFound)
	})
	http.HandleFunc(` + quote(path) + `, func(w http.ResponseWriter, r *http.Request) {
		state, err1 := r.Cookie("state")
		pkce, err2 := r.Cookie("pkce")
		if err1 != nil || err2 != nil || r.URL.Query().Get("state") != state.Value {
			http.Error(w, "state mismatch", http.StatusBadRequest)
			return
		}
		tok, err := cfg.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(pkce.Value))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idToken, err := verifier.Verify(r.Context(), raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var claims map[string]any
		_ = idToken.Claims(&claims)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(claims)
	})
	log.Fatal(http.ListenAndServe(":` + port + `", nil))
}
`
}

func nodeWeb(in quickstartInput, secret bool) string {
	port, path := listen(in.Redirect)
	opt, comment := insecureNode(in.Issuer)
	return `// npm install openid-client   (Node 20 or later; save as app.mjs)
import * as client from 'openid-client'
import http from 'node:http'

` + comment + `const config = await client.discovery(new URL(` + quote(in.Issuer) + `), ` + quote(in.ClientID) + `, undefined,
  ` + nodeAuth(in.AuthMethod) + opt + `)
const redirect_uri = ` + quote(in.Redirect) + `
const pending = new Map() // state -> PKCE verifier; keep it in the user's session in a real app

http.createServer(async (req, res) => {
  const url = new URL(req.url, redirect_uri)
  if (url.pathname === '/login') {
    const code_verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    pending.set(state, code_verifier)
    const to = client.buildAuthorizationUrl(config, {
      redirect_uri, scope: ` + quote(strings.Join(webScopes, " ")) + `, state,
      code_challenge: await client.calculatePKCECodeChallenge(code_verifier), code_challenge_method: 'S256',
    })
    res.writeHead(302, { location: to.href }).end()
  } else if (url.pathname === ` + quote(path) + `) {
    const state = url.searchParams.get('state')
    const tokens = await client.authorizationCodeGrant(config, url, { pkceCodeVerifier: pending.get(state), expectedState: state })
    pending.delete(state)
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tokens.claims(), null, 2))
  } else {
    res.writeHead(404).end()
  }
}).listen(` + port + `)
`
}

func pythonWeb(in quickstartInput, secret bool) string {
	_, path := listen(in.Redirect)
	port, _ := listen(in.Redirect)
	secretLine, method := "", "none"
	if secret {
		secretLine = "\n    client_secret=os.environ[\"CLIENT_SECRET\"],"
		method = "client_secret_basic"
		if in.AuthMethod == "client_secret_post" {
			method = "client_secret_post"
		}
	}
	return `# pip install Authlib Flask requests
import os

from authlib.integrations.flask_client import OAuth
from flask import Flask

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]  # signs the session that keeps state and PKCE
oauth = OAuth(app)
oauth.register(
    "gatehouse",
    client_id=` + quote(in.ClientID) + `,` + secretLine + `
    server_metadata_url=` + quote(in.Issuer+tenants.PathDiscovery) + `,
    client_kwargs={"scope": ` + quote(strings.Join(webScopes, " ")) + `, "code_challenge_method": "S256", "token_endpoint_auth_method": "` + method + `"},
)


@app.route("/login")
def login():
    return oauth.gatehouse.authorize_redirect(` + quote(in.Redirect) + `)


@app.route(` + quote(path) + `)
def callback():
    token = oauth.gatehouse.authorize_access_token()
    return token["userinfo"]


if __name__ == "__main__":
    app.run(port=` + port + `)
`
}
