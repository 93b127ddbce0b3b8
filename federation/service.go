package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// StateTTL is how long a login upstream may take.
const StateTTL = 10 * time.Minute

// Settings is what a connector is built from: its connection, opened
// secrets, and the URLs the upstream sends the browser back to, all derived
// from the tenant's stored issuer.
type Settings struct {
	Tenant       *tenants.Tenant
	Connection   *tenants.Connection
	ClientSecret string
	// SPKey is the SAML service provider's private key (PKCS#8 DER).
	SPKey []byte
	// CallbackURL is where an OAuth/OIDC upstream redirects back.
	CallbackURL string
	// EntityID, ACSURL and MetadataURL are the SAML service provider's.
	EntityID    string
	ACSURL      string
	MetadataURL string
	// HTTPClient is the upstream client (upstream.API), for every request
	// the connector makes; connectors never make one another way.
	HTTPClient *http.Client
	Now        func() time.Time
	// Store is the tenant store, for connectors that keep state of their
	// own (the SAML assertion replay cache).
	Store *tenants.Store
}

// ErrNoUpstreamClient is a connector built without Settings.HTTPClient:
// its libraries would fall back to http.DefaultClient, which connects
// anywhere.
var ErrNoUpstreamClient = errors.New("federation: no upstream client in the settings")

// Factory builds the connector of one connection type.
type Factory func(Settings) (Connector, error)

// Paths of a connection's endpoints on its tenant's host, under
// PathPrefix and the connection's id: the one home of the URLs upstreams
// are told about and that the pages serve.
const (
	PathPrefix   = "/federation/"
	PathCallback = "/callback"      // an OAuth/OIDC upstream redirects back here
	PathSAML     = "/saml"          // the SAML service provider's entity id
	PathACS      = "/saml/acs"      // the SAML assertion consumer service
	PathMetadata = "/saml/metadata" // the SAML service provider's metadata
	PathContinue = "/continue"      // a checked answer continues in the browser
)

// URL returns the absolute URL of endpoint (PathCallback, ...) of
// connection connID at t.
func URL(t *tenants.Tenant, connID, endpoint string) string {
	return t.Issuer + PathPrefix + connID + endpoint
}

// CallbackURL is where an OAuth/OIDC upstream redirects back.
func CallbackURL(t *tenants.Tenant, connID string) string { return URL(t, connID, PathCallback) }

// EntityID is the SAML service provider's entity id.
func EntityID(t *tenants.Tenant, connID string) string { return URL(t, connID, PathSAML) }

// ACSURL is the SAML assertion consumer service.
func ACSURL(t *tenants.Tenant, connID string) string { return URL(t, connID, PathACS) }

// MetadataURL is the SAML service provider's metadata.
func MetadataURL(t *tenants.Tenant, connID string) string { return URL(t, connID, PathMetadata) }

// Service runs upstream logins for every tenant.
type Service struct {
	store     *tenants.Store
	box       *secret.Box
	factories map[string]Factory
	upstream  *upstream.Client

	mu    sync.Mutex
	cache map[string]cached // connection id and host -> connector
}

type cached struct {
	revision  int64
	connector Connector
}

// Config configures a Service.
type Config struct {
	// Factories build connectors by connection type.
	Factories map[string]Factory
	// Upstream is the one client for every request to an upstream
	// (metadata, discovery, JWKS, token, userinfo, profiles); nil means
	// one that allows no host to resolve to an internal address.
	Upstream *upstream.Client
}

// New returns a Service.
func New(cfg Config, store *tenants.Store, box *secret.Box) *Service {
	s := &Service{store: store, box: box, factories: cfg.Factories, upstream: cfg.Upstream, cache: map[string]cached{}}
	if s.upstream == nil {
		s.upstream = upstream.New(upstream.AllowList{}, upstream.Options{})
	}
	return s
}

// Types returns the connection types this service can build.
func (s *Service) Types() []string {
	var out []string
	for t := range s.factories {
		out = append(out, t)
	}
	return out
}

func secretAAD(c *tenants.Connection, what string) []byte {
	return []byte("connection-" + what + "|" + c.TenantID + "|" + c.ID)
}

// SealClientSecret seals an upstream client secret for c (c.ID and
// c.TenantID must be set).
func (s *Service) SealClientSecret(c *tenants.Connection, plain string) {
	if plain == "" {
		c.ClientSecretSealed = nil
		return
	}
	c.ClientSecretSealed = s.box.Seal([]byte(plain), secretAAD(c, "secret"))
}

// Reseal makes the secrets of a copied connection its own: it opens the
// sealed client secret and SP key of from (sealed for from's tenant and id,
// under this server's master key) and seals them for to. A secret sealed
// under another master key, or for other ids, fails to open: an error.
func (s *Service) Reseal(from, to *tenants.Connection) error {
	to.ClientSecretSealed, to.SPKeySealed = nil, nil
	if len(from.ClientSecretSealed) > 0 {
		b, err := s.box.Open(from.ClientSecretSealed, secretAAD(from, "secret"))
		if err != nil {
			return err
		}
		to.ClientSecretSealed = s.box.Seal(b, secretAAD(to, "secret"))
	}
	if len(from.SPKeySealed) > 0 {
		b, err := s.box.Open(from.SPKeySealed, secretAAD(from, "sp-key"))
		if err != nil {
			return err
		}
		to.SPKeySealed = s.box.Seal(b, secretAAD(to, "sp-key"))
	}
	return nil
}

// SealSPKey seals a SAML service provider key (PKCS#8 DER) for c.
func (s *Service) SealSPKey(c *tenants.Connection, der []byte) {
	c.SPKeySealed = s.box.Seal(der, secretAAD(c, "sp-key"))
}

// Settings opens c's secrets and returns what its connector is built from.
func (s *Service) Settings(t *tenants.Tenant, c *tenants.Connection) (Settings, error) {
	st := Settings{
		Tenant: t, Connection: c, CallbackURL: CallbackURL(t, c.ID), EntityID: EntityID(t, c.ID),
		ACSURL: ACSURL(t, c.ID), MetadataURL: MetadataURL(t, c.ID), HTTPClient: s.upstream.HTTP(upstream.API), Now: s.store.Now, Store: s.store,
	}
	if len(c.ClientSecretSealed) > 0 {
		b, err := s.box.Open(c.ClientSecretSealed, secretAAD(c, "secret"))
		if err != nil {
			return st, fmt.Errorf("connection %s: %w", c.Name, err)
		}
		st.ClientSecret = string(b)
	}
	if len(c.SPKeySealed) > 0 {
		b, err := s.box.Open(c.SPKeySealed, secretAAD(c, "sp-key"))
		if err != nil {
			return st, fmt.Errorf("connection %s: %w", c.Name, err)
		}
		st.SPKey = b
	}
	return st, nil
}

// Build returns a new connector for c (for checking a configuration before
// it is saved).
func (s *Service) Build(t *tenants.Tenant, c *tenants.Connection) (Connector, error) {
	f, ok := s.factories[c.Type]
	if !ok {
		return nil, fmt.Errorf("connection type %q is not supported", c.Type)
	}
	st, err := s.Settings(t, c)
	if err != nil {
		return nil, err
	}
	return f(st)
}

// connector returns the (cached) connector of c in the tenant of ctx. A
// connector knows its callback URLs, which are the host's the tenant is
// served at (its own or a custom domain): one is kept per host.
func (s *Service) connector(ctx context.Context, c *tenants.Connection) (Connector, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	key := c.ID + "\x00" + t.Host
	s.mu.Lock()
	e, ok := s.cache[key]
	s.mu.Unlock()
	if ok && e.revision == t.Revision {
		return e.connector, nil
	}
	conn, err := s.Build(t, c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cache[key] = cached{revision: t.Revision, connector: conn}
	s.mu.Unlock()
	return conn, nil
}

// Enabled returns the tenant's enabled connections, for the login page.
func (s *Service) Enabled(ctx context.Context) ([]tenants.Connection, error) {
	cs, err := s.store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := cs[:0]
	for _, c := range cs {
		if c.Enabled {
			out = append(out, c)
		}
	}
	return out, nil
}

// ForEmail returns the enabled connection that claims the domain of email
// (home-realm discovery).
func (s *Service) ForEmail(ctx context.Context, email string) (*tenants.Connection, error) {
	_, domain, ok := strings.Cut(tenants.NormalizeEmail(email), "@")
	if !ok || domain == "" {
		return nil, tenants.ErrNotFound
	}
	cs, err := s.Enabled(ctx)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		if cs[i].Domains.Contains(domain) {
			return &cs[i], nil
		}
	}
	return nil, tenants.ErrNotFound
}

// Start begins a login at connection connID for the auth request arID, bound
// to the browser whose cookie hashes to browserHash.
func (s *Service) Start(ctx context.Context, connID, arID, browserHash, loginHint string) (*Step, error) {
	c, err := s.store.ConnectionByID(ctx, connID)
	if err != nil {
		return nil, err
	}
	if !c.Enabled {
		return nil, tenants.ErrNotFound
	}
	conn, err := s.connector(ctx, c)
	if err != nil {
		return nil, err
	}
	b := Begin{State: secret.Token(32), Nonce: secret.Token(24), Verifier: secret.Token(48), LoginHint: loginHint}
	step, err := conn.Start(ctx, b)
	if err != nil {
		// Starting may ask the upstream (discovery): what comes back goes
		// to the log, and holds nothing of its answer.
		return nil, fmt.Errorf("federation: start a login at connection %s: %w", c.ID, upstream.Safe(err))
	}
	st := &tenants.FederationState{
		ID: secret.Hash(b.State), ConnectionID: c.ID, AuthRequestID: arID, BrowserHash: browserHash,
		Purpose: tenants.FederationLogin, Nonce: b.Nonce, PKCEVerifier: b.Verifier, RequestID: step.RequestID,
		ExpiresAt: s.store.Now().Add(StateTTL),
	}
	if err := s.store.CreateFederationState(ctx, st); err != nil {
		return nil, err
	}
	return step, nil
}

// UnsolicitedConnector is a connector that can take an answer the upstream
// sends on its own, answering no login of ours: a SAML IdP-initiated login.
type UnsolicitedConnector interface {
	// FinishUnsolicited checks an answer that came with no state of ours,
	// with every check Finish makes but the binding to a login, and
	// returns the identity it asserts. An answer that says it answers a
	// request of ours is ErrSolicited (its state is what is missing); every
	// other failure is a *Rejection.
	FinishUnsolicited(ctx context.Context, r *http.Request) (*Identity, error)
}

// ErrSolicited is an answer, arrived without its state, that names a
// request of ours: it is no unsolicited answer, and is refused for the
// state it lacks.
var ErrSolicited = errors.New("federation: the answer is for a request of ours, without its state")

// UnsolicitedTTL is how long the result of an unsolicited answer waits for
// the browser it was posted from, which is sent on to Continue at once.
const UnsolicitedTTL = 2 * time.Minute

// purposeUnsolicited is the purpose of the result of an unsolicited answer
// (next to the purposes of tenants.FederationState): bound to the browser
// the answer was posted from, for no auth request.
const purposeUnsolicited = "unsolicited"

// Result is an upstream answer Callback checked, waiting for Continue.
type Result struct {
	// Token names the result, for Continue.
	Token string
	// Binding is set for an unsolicited answer (SAML IdP-initiated login).
	// No browser started that login, so the result is bound instead to the
	// browser the answer was posted from: the caller hands Binding to it
	// (a cookie on the answer's response, which a cross-site top-level POST
	// may set) and Continue must be given its hash.
	Binding string
}

// Callback checks an upstream's answer: the state must be one this tenant
// issued for connection connID, unused and unexpired; then the connector
// checks the answer itself. The result waits, under the returned token, for
// Continue in the browser that started the login: an answer POSTed by a
// SAML IdP arrives without that browser's SameSite cookies, so the browser
// check comes at the next, same-site request. When browserHash is given
// (a redirect back, which carries the cookies) it is checked first.
//
// An answer without a state of ours goes to a connector that takes
// unsolicited answers (SAML, when IdP-initiated login is on for the
// connection); its result is bound to no auth request and to the browser
// it was posted from (Result.Binding).
func (s *Service) Callback(ctx context.Context, connID, state, browserHash string, r *http.Request) (*Result, error) {
	c, err := s.store.ConnectionByID(ctx, connID)
	if errors.Is(err, tenants.ErrNotFound) {
		// An answer for a connection this tenant does not have: another
		// tenant's (a cross-tenant attempt), or one deleted since.
		if len(connID) > 64 || !utf8.ValidString(connID) {
			connID = ""
		}
		s.audit(ctx, "federation.rejected", "connection", connID, "failure", "unknown connection", nil)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if state == "" || len(state) > 512 {
		return s.unsolicited(ctx, c, browserHash, Reject("missing or malformed state", nil), r)
	}
	st, err := s.store.UseFederationState(ctx, secret.Hash(state))
	if errors.Is(err, tenants.ErrNotFound) {
		return s.unsolicited(ctx, c, browserHash, Reject("unknown, used or expired state", nil), r)
	}
	if err != nil {
		return nil, err
	}
	if st.ConnectionID != c.ID || st.Purpose != tenants.FederationLogin {
		return nil, s.reject(ctx, c, Reject("state of another connection", nil))
	}
	if browserHash != "" && !secret.Equal(browserHash, st.BrowserHash) {
		return nil, s.reject(ctx, c, Reject("state bound to another browser", nil))
	}
	if !c.Enabled {
		return nil, s.reject(ctx, c, Reject("connection disabled", nil))
	}
	conn, err := s.connector(ctx, c)
	if err != nil {
		return nil, err
	}
	id, err := conn.Finish(ctx, st, r)
	if err != nil {
		return nil, s.reject(ctx, c, err)
	}
	token, err := s.result(ctx, c, id, st.AuthRequestID, st.BrowserHash, tenants.FederationResult, StateTTL)
	if err != nil {
		return nil, err
	}
	return &Result{Token: token}, nil
}

// unsolicited checks an answer that came without a state of ours. Only a
// POSTed answer (no browserHash: a redirect back is always one of ours) to
// a connector that takes unsolicited answers may be accepted; otherwise, or
// when the answer names a request of ours after all, it is refused with
// stateErr, as any answer without its state.
func (s *Service) unsolicited(ctx context.Context, c *tenants.Connection, browserHash string, stateErr error, r *http.Request) (*Result, error) {
	if browserHash != "" || !c.Enabled {
		return nil, s.reject(ctx, c, stateErr)
	}
	conn, err := s.connector(ctx, c)
	if err != nil {
		// A connection that cannot be built takes no answer; the answer's
		// own fault is its missing state.
		slog.ErrorContext(ctx, "federation: build connector", "connection", c.ID, "err", err)
		return nil, s.reject(ctx, c, stateErr)
	}
	u, ok := conn.(UnsolicitedConnector)
	if !ok {
		return nil, s.reject(ctx, c, stateErr)
	}
	id, err := u.FinishUnsolicited(ctx, r)
	if errors.Is(err, ErrSolicited) {
		return nil, s.reject(ctx, c, stateErr)
	}
	if err != nil {
		return nil, s.reject(ctx, c, err)
	}
	binding := secret.Token(32)
	token, err := s.result(ctx, c, id, "", secret.Hash(binding), purposeUnsolicited, UnsolicitedTTL)
	if err != nil {
		return nil, err
	}
	return &Result{Token: token, Binding: binding}, nil
}

// result stores an accepted identity for Continue, for auth request arID,
// bound to the browser whose binding hashes to browserHash, and returns
// its token.
func (s *Service) result(ctx context.Context, c *tenants.Connection, id *Identity, arID, browserHash, purpose string, ttl time.Duration) (string, error) {
	if id.Subject == "" || id.Issuer == "" {
		return "", s.reject(ctx, c, Reject("the upstream identity has no issuer or subject", nil))
	}
	// Every connector's identity, solicited or not, is cleaned here,
	// before it is stored, looked up or given to a user.
	id, err := Clean(id)
	if err != nil {
		return "", s.reject(ctx, c, err)
	}
	b, err := json.Marshal(id)
	if err != nil {
		return "", err
	}
	token := secret.Token(32)
	res := &tenants.FederationState{ID: secret.Hash(token), ConnectionID: c.ID, AuthRequestID: arID,
		BrowserHash: browserHash, Purpose: purpose, Identity: string(b), ExpiresAt: s.store.Now().Add(ttl)}
	if err := s.store.CreateFederationState(ctx, res); err != nil {
		return "", err
	}
	return token, nil
}

// Continue takes the result of Callback for connection connID and returns
// the connection, the auth request the login is for, and the identity. A
// connection this tenant does not have, or a result of another, is
// tenants.ErrNotFound. A login's result is
// taken only in the browser that started it (browserHash, the hash of its
// browser cookie); an unsolicited answer's only in the browser it was
// posted from (bindingHash, the hash of the Result's Binding), and its auth
// request is "": it answers none.
func (s *Service) Continue(ctx context.Context, connID, token, browserHash, bindingHash string) (*tenants.Connection, string, *Identity, error) {
	c, err := s.store.ConnectionByID(ctx, connID)
	if err != nil {
		return nil, "", nil, err
	}
	if token == "" || len(token) > 512 {
		return nil, "", nil, ErrExpired
	}
	st, err := s.store.UseFederationState(ctx, secret.Hash(token))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, "", nil, ErrExpired
	}
	if err != nil {
		return nil, "", nil, err
	}
	if st.ConnectionID != c.ID {
		return nil, "", nil, s.reject(ctx, c, Reject("the answer is for another connection", nil))
	}
	switch {
	case st.Purpose == tenants.FederationResult && st.AuthRequestID != "":
		if browserHash == "" || !secret.Equal(browserHash, st.BrowserHash) {
			return c, "", nil, s.reject(ctx, c, Reject("the login was started in another browser", nil))
		}
	case st.Purpose == purposeUnsolicited && st.AuthRequestID == "":
		if bindingHash == "" || !secret.Equal(bindingHash, st.BrowserHash) {
			return c, "", nil, s.reject(ctx, c, Reject("the answer was posted from another browser", nil))
		}
	default:
		return nil, "", nil, ErrExpired
	}
	var id Identity
	if err := json.Unmarshal([]byte(st.Identity), &id); err != nil {
		return nil, "", nil, err
	}
	return c, st.AuthRequestID, &id, nil
}

// ErrExpired is Continue's answer to a result that is unknown, used or
// expired.
var ErrExpired = errors.New("federation: the sign-in result is unknown, used or expired")

// reject writes the audit event of a refused upstream answer and returns
// the *Rejection. Its cause is cut down to what upstream.Safe keeps: the
// libraries' errors quote the upstream's answers (bodies, claims, URLs
// with tokens), and neither the log nor the page may.
func (s *Service) reject(ctx context.Context, c *tenants.Connection, err error) error {
	var found *Rejection
	rej := &Rejection{Reason: "upstream answer refused", Err: upstream.Safe(err)}
	if errors.As(err, &found) {
		rej = &Rejection{Reason: found.Reason, Err: upstream.Safe(found.Err)}
	}
	slog.WarnContext(ctx, "federation: upstream answer refused", "connection", c.ID, "reason", rej.Reason, "err", rej.Err)
	s.audit(ctx, "federation.rejected", "connection", c.ID, "failure", rej.Reason, nil)
	return rej
}

// audit writes an event to the log of the tenant in ctx; the request's
// address, user agent and id come from ctx (tenants.WithOrigin).
func (s *Service) audit(ctx context.Context, action, targetType, targetID, outcome, reason string, after any) {
	ev := &tenants.AuditEvent{Action: action, TargetType: targetType, TargetID: targetID, Outcome: outcome, Reason: reason, ActorKind: "user"}
	if after != nil {
		if b, err := json.Marshal(after); err == nil {
			ev.After = string(b)
		}
	}
	if err := s.store.AppendAudit(ctx, ev); err != nil {
		slog.ErrorContext(ctx, "write audit event", "action", action, "err", err)
	}
}

// Metadata returns the published metadata of connection connID, or
// tenants.ErrNotFound if its type has none.
func (s *Service) Metadata(ctx context.Context, connID string) ([]byte, error) {
	c, err := s.store.ConnectionByID(ctx, connID)
	if err != nil {
		return nil, err
	}
	conn, err := s.connector(ctx, c)
	if err != nil {
		return nil, err
	}
	mp, ok := conn.(MetadataProvider)
	if !ok {
		return nil, tenants.ErrNotFound
	}
	return mp.Metadata(ctx)
}
