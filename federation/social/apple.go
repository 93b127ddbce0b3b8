package social

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// Sign in with Apple's endpoints and issuer (Apple's "Authenticating users
// with Sign in with Apple"): the one home of each.
const (
	appleIssuer  = "https://appleid.apple.com"
	appleAuthURL = appleIssuer + "/auth/authorize"
	appleToken   = appleIssuer + "/auth/token"
	appleJWKS    = appleIssuer + "/auth/keys"
	// AppleRelayDomain is the domain of Apple's private relay addresses
	// ("Hide My Email").
	AppleRelayDomain = "privaterelay.appleid.com"
)

// appleSecretLifetime is how long a client secret Gatehouse makes is
// valid (Apple allows six months; a short one limits a leaked one), and
// appleSecretReuse how long one is used before a new one is made.
const (
	appleSecretLifetime = 10 * time.Minute
	appleSecretReuse    = 5 * time.Minute
)

var appleID = regexp.MustCompile(`^[A-Z0-9]{10}$`)

// Apple logs users in with their Apple ID. Its client secret is a JWT
// (ES256) signed with the team's private key (.p8, sealed at rest as the
// connection's client secret), made on demand and reused briefly. Apple
// answers with response_mode=form_post: a cross-site POST to the callback,
// which carries the user's name — on the first sign-in only — in the user
// form field.
type Apple struct {
	base
	teamID, keyID string
	key           *ecdsa.PrivateKey
	oauth         *oauth2.Config
	verifier      *gooidc.IDTokenVerifier

	mu         sync.Mutex
	secret     string
	secretMade time.Time
}

var _ federation.Connector = (*Apple)(nil)

// ParseAppleKey reads a Sign in with Apple private key: a PKCS#8 PEM (the
// .p8 file Apple gives) of a P-256 ECDSA key.
func ParseAppleKey(pemText string) (*ecdsa.PrivateKey, error) {
	block, rest := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil || len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errors.New("is not a PEM private key (the .p8 file)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("is not a PKCS#8 private key (the .p8 file)")
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, errors.New("is not a P-256 (ES256) key")
	}
	return ek, nil
}

// ValidAppleID reports whether v looks like an Apple team or key id (ten
// upper-case letters and digits).
func ValidAppleID(v string) bool { return appleID.MatchString(v) }

// NewApple builds the connector of an Apple connection: the Services ID
// as client id, the team and key ids from the configuration, the private
// key as the client secret.
func NewApple(st federation.Settings) (federation.Connector, error) {
	c := st.Connection
	if st.HTTPClient == nil {
		return nil, federation.ErrNoUpstreamClient
	}
	if c.ClientID == "" {
		return nil, fmt.Errorf("apple connection %s: the Services ID is required", c.Name)
	}
	cfg, err := federation.ParseConfig(c)
	if err != nil {
		return nil, err
	}
	if !ValidAppleID(cfg.AppleTeamID) || !ValidAppleID(cfg.AppleKeyID) {
		return nil, fmt.Errorf("apple connection %s: team id and key id are ten letters and digits", c.Name)
	}
	key, err := ParseAppleKey(st.ClientSecret)
	if err != nil {
		return nil, fmt.Errorf("apple connection %s: the private key %w", c.Name, err)
	}
	a := &Apple{base: base{st: st, name: "Apple"}, teamID: cfg.AppleTeamID, keyID: cfg.AppleKeyID, key: key,
		oauth: &oauth2.Config{ClientID: c.ClientID, RedirectURL: st.CallbackURL, Scopes: []string{"name", "email"},
			Endpoint: oauth2.Endpoint{AuthURL: appleAuthURL, TokenURL: appleToken, AuthStyle: oauth2.AuthStyleInParams}}}
	ks := gooidc.NewRemoteKeySet(a.ctx(context.Background()), appleJWKS)
	a.verifier = gooidc.NewVerifier(appleIssuer, ks, &gooidc.Config{ClientID: c.ClientID, Now: st.Now})
	return a, nil
}

// clientSecret returns a client secret for the token endpoint: a JWT
// signed ES256 with the team's key, iss the team id, sub the Services ID,
// aud Apple, kid the key id; made again after appleSecretReuse.
func (a *Apple) clientSecret() (string, error) {
	now := a.st.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.secret != "" && now.Sub(a.secretMade) < appleSecretReuse && !now.Before(a.secretMade) {
		return a.secret, nil
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: a.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", a.keyID))
	if err != nil {
		return "", err
	}
	s, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: a.teamID, Subject: a.st.Connection.ClientID, Audience: jwt.Audience{appleIssuer},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(appleSecretLifetime))}).Serialize()
	if err != nil {
		return "", err
	}
	a.secret, a.secretMade = s, now
	return a.secret, nil
}

// Start sends the browser to Apple with Gatehouse's state, nonce and PKCE
// challenge, asking for the name and email scopes (which make Apple answer
// by form_post).
func (a *Apple) Start(_ context.Context, b federation.Begin) (*federation.Step, error) {
	u, err := authURL(a.oauth.AuthCodeURL(b.State), b.Verifier, map[string]string{"nonce": b.Nonce, "response_mode": "form_post"})
	if err != nil {
		return nil, err
	}
	// Apple wants spaces in scope as %20.
	return &federation.Step{RedirectURL: strings.ReplaceAll(u, "+", "%20")}, nil
}

// appleClaims are the claims of Apple's ID token Gatehouse reads; Apple
// sends the booleans as strings or as booleans.
type appleClaims struct {
	Email          string          `json:"email"`
	EmailVerified  json.RawMessage `json:"email_verified"`
	IsPrivateEmail json.RawMessage `json:"is_private_email"`
}

// appleUser is the user form field of the first sign-in.
type appleUser struct {
	Name struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"name"`
}

// maxAppleUser bounds the user form field.
const maxAppleUser = 4096

// Finish reads Apple's form_post answer (code, user), exchanges the code
// with a fresh client secret and the PKCE verifier, and verifies the ID
// token against Apple's JWKS (issuer, audience the Services ID, expiry,
// nonce). The identity is Apple's sub. The address counts as verified when
// Apple says so and a private relay address is what it claims to be
// (is_private_email exactly for addresses at privaterelay.appleid.com);
// the name comes only from the user field, which Apple sends on the first
// sign-in only (nothing else in the answer is signed; the name is only
// ever used to fill in a new account).
func (a *Apple) Finish(ctx context.Context, st *tenants.FederationState, r *http.Request) (*federation.Identity, error) {
	if r.Method != http.MethodPost {
		return nil, federation.Reject("Apple answers by form_post; this answer came another way", nil)
	}
	if e := r.PostFormValue("error"); e != "" {
		if e == "user_cancelled_authorize" {
			return nil, federation.Reject("the sign-in was cancelled at Apple (user_cancelled_authorize)", nil)
		}
		if !errorCode.MatchString(e) {
			e = "an unknown error"
		}
		return nil, federation.Reject("Apple answered "+e, nil)
	}
	code := r.PostFormValue("code")
	if code == "" || len(code) > 1024 {
		return nil, federation.Reject("the answer has no code", nil)
	}
	secret, err := a.clientSecret()
	if err != nil {
		return nil, federation.Reject("the Apple client secret cannot be made", err)
	}
	cfg := *a.oauth
	cfg.ClientSecret = secret
	tok, err := a.exchange(ctx, &cfg, code, st.PKCEVerifier)
	if err != nil {
		return nil, err
	}
	idt, _, err := a.verifyIDToken(ctx, a.verifier, appleIssuer, tok, st.Nonce)
	if err != nil {
		return nil, err
	}
	var c appleClaims
	if err := idt.Claims(&c); err != nil {
		return nil, federation.Reject("the ID token's claims cannot be read", err)
	}
	relay := strings.HasSuffix(strings.ToLower(c.Email), "@"+AppleRelayDomain)
	id := &federation.Identity{Issuer: appleIssuer, Subject: idt.Subject, Email: c.Email,
		EmailVerified: truthy(c.EmailVerified) && truthy(c.IsPrivateEmail) == relay}
	if raw := r.PostFormValue("user"); raw != "" && len(raw) <= maxAppleUser {
		var u appleUser
		if json.Unmarshal([]byte(raw), &u) == nil {
			id.GivenName, id.FamilyName = clip(u.Name.FirstName), clip(u.Name.LastName)
			id.Name = strings.TrimSpace(id.GivenName + " " + id.FamilyName)
		}
	}
	return id, nil
}

// clip keeps a name the user form gives to a sane length.
func clip(s string) string { return tenants.Truncate(strings.TrimSpace(s), 100) }
