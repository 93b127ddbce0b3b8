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
	HTTPClient  *http.Client
	Now         func() time.Time
	// Store is the tenant store, for connectors that keep state of their
	// own (the SAML assertion replay cache).
	Store *tenants.Store
}

// Factory builds the connector of one connection type.
type Factory func(Settings) (Connector, error)

// URLs of a connection, on its tenant's host.
func CallbackURL(t *tenants.Tenant, connID string) string {
	return t.Issuer + "/federation/" + connID + "/callback"
}
func EntityID(t *tenants.Tenant, connID string) string {
	return t.Issuer + "/federation/" + connID + "/saml"
}
func ACSURL(t *tenants.Tenant, connID string) string {
	return t.Issuer + "/federation/" + connID + "/saml/acs"
}
func MetadataURL(t *tenants.Tenant, connID string) string {
	return t.Issuer + "/federation/" + connID + "/saml/metadata"
}

// Service runs upstream logins for every tenant.
type Service struct {
	store     *tenants.Store
	box       *secret.Box
	factories map[string]Factory
	client    *http.Client
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]cached // connection id -> connector
}

type cached struct {
	revision  int64
	connector Connector
}

// Config configures a Service.
type Config struct {
	// Factories build connectors by connection type.
	Factories map[string]Factory
	// HTTPClient talks to upstream providers; nil means a client with a
	// 15-second timeout.
	HTTPClient *http.Client
	Now        func() time.Time
}

// New returns a Service.
func New(cfg Config, store *tenants.Store, box *secret.Box) *Service {
	s := &Service{store: store, box: box, factories: cfg.Factories, client: cfg.HTTPClient, now: cfg.Now, cache: map[string]cached{}}
	if s.client == nil {
		s.client = &http.Client{Timeout: 15 * time.Second}
	}
	if s.now == nil {
		s.now = time.Now
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

// SealSPKey seals a SAML service provider key (PKCS#8 DER) for c.
func (s *Service) SealSPKey(c *tenants.Connection, der []byte) {
	c.SPKeySealed = s.box.Seal(der, secretAAD(c, "sp-key"))
}

// Settings opens c's secrets and returns what its connector is built from.
func (s *Service) Settings(t *tenants.Tenant, c *tenants.Connection) (Settings, error) {
	st := Settings{
		Tenant: t, Connection: c, CallbackURL: CallbackURL(t, c.ID), EntityID: EntityID(t, c.ID),
		ACSURL: ACSURL(t, c.ID), MetadataURL: MetadataURL(t, c.ID), HTTPClient: s.client, Now: s.now, Store: s.store,
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

// connector returns the (cached) connector of c in the tenant of ctx.
func (s *Service) connector(ctx context.Context, c *tenants.Connection) (Connector, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	s.mu.Lock()
	e, ok := s.cache[c.ID]
	s.mu.Unlock()
	if ok && e.revision == t.Revision {
		return e.connector, nil
	}
	conn, err := s.Build(t, c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cache[c.ID] = cached{revision: t.Revision, connector: conn}
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
		return nil, err
	}
	st := &tenants.FederationState{
		ID: secret.Hash(b.State), ConnectionID: c.ID, AuthRequestID: arID, BrowserHash: browserHash,
		Purpose: tenants.FederationLogin, Nonce: b.Nonce, PKCEVerifier: b.Verifier, RequestID: step.RequestID,
		ExpiresAt: s.now().Add(StateTTL),
	}
	if err := s.store.CreateFederationState(ctx, st); err != nil {
		return nil, err
	}
	return step, nil
}

// Callback checks an upstream's answer: the state must be one this tenant
// issued for connection connID, unused and unexpired; then the connector
// checks the answer itself. The result waits, under the returned token, for
// Continue in the browser that started the login: an answer POSTed by a
// SAML IdP arrives without that browser's SameSite cookies, so the browser
// check comes at the next, same-site request. When browserHash is given
// (a redirect back, which carries the cookies) it is checked first.
func (s *Service) Callback(ctx context.Context, connID, state, browserHash string, r *http.Request) (token string, err error) {
	c, err := s.store.ConnectionByID(ctx, connID)
	if errors.Is(err, tenants.ErrNotFound) {
		// An answer for a connection this tenant does not have: another
		// tenant's (a cross-tenant attempt), or one deleted since.
		if len(connID) > 64 || !utf8.ValidString(connID) {
			connID = ""
		}
		s.audit(ctx, "federation.rejected", "connection", connID, "failure", "unknown connection", nil)
		return "", err
	}
	if err != nil {
		return "", err
	}
	if state == "" || len(state) > 512 {
		return "", s.reject(ctx, c, Reject("missing or malformed state", nil))
	}
	st, err := s.store.UseFederationState(ctx, secret.Hash(state))
	if errors.Is(err, tenants.ErrNotFound) {
		return "", s.reject(ctx, c, Reject("unknown, used or expired state", nil))
	}
	if err != nil {
		return "", err
	}
	if st.ConnectionID != c.ID || st.Purpose != tenants.FederationLogin {
		return "", s.reject(ctx, c, Reject("state of another connection", nil))
	}
	if browserHash != "" && !secret.Equal(browserHash, st.BrowserHash) {
		return "", s.reject(ctx, c, Reject("state bound to another browser", nil))
	}
	if !c.Enabled {
		return "", s.reject(ctx, c, Reject("connection disabled", nil))
	}
	conn, err := s.connector(ctx, c)
	if err != nil {
		return "", err
	}
	id, err := conn.Finish(ctx, st, r)
	if err != nil {
		return "", s.reject(ctx, c, err)
	}
	if id.Subject == "" || id.Issuer == "" {
		return "", s.reject(ctx, c, Reject("the upstream identity has no issuer or subject", nil))
	}
	b, err := json.Marshal(id)
	if err != nil {
		return "", err
	}
	token = secret.Token(32)
	res := &tenants.FederationState{ID: secret.Hash(token), ConnectionID: c.ID, AuthRequestID: st.AuthRequestID,
		BrowserHash: st.BrowserHash, Purpose: tenants.FederationResult, Identity: string(b), ExpiresAt: s.now().Add(StateTTL)}
	if err := s.store.CreateFederationState(ctx, res); err != nil {
		return "", err
	}
	return token, nil
}

// Continue takes the result of Callback in the browser that started the
// login, and returns the connection, the auth request it is for, and the
// identity.
func (s *Service) Continue(ctx context.Context, token, browserHash string) (*tenants.Connection, string, *Identity, error) {
	if token == "" || len(token) > 512 {
		return nil, "", nil, tenants.ErrNotFound
	}
	st, err := s.store.UseFederationState(ctx, secret.Hash(token))
	if err != nil {
		return nil, "", nil, err
	}
	c, err := s.store.ConnectionByID(ctx, st.ConnectionID)
	if err != nil {
		return nil, "", nil, err
	}
	if st.Purpose != tenants.FederationResult {
		return nil, "", nil, tenants.ErrNotFound
	}
	if browserHash == "" || !secret.Equal(browserHash, st.BrowserHash) {
		return c, "", nil, s.reject(ctx, c, Reject("the login was started in another browser", nil))
	}
	var id Identity
	if err := json.Unmarshal([]byte(st.Identity), &id); err != nil {
		return nil, "", nil, err
	}
	return c, st.AuthRequestID, &id, nil
}

// reject writes the audit event of a refused upstream answer and returns
// the *Rejection.
func (s *Service) reject(ctx context.Context, c *tenants.Connection, err error) error {
	var rej *Rejection
	if !errors.As(err, &rej) {
		rej = &Rejection{Reason: "upstream answer refused", Err: err}
	}
	slog.WarnContext(ctx, "federation: upstream answer refused", "connection", c.ID, "reason", rej.Reason, "err", rej.Err)
	s.audit(ctx, "federation.rejected", "connection", c.ID, "failure", rej.Reason, nil)
	return rej
}

func (s *Service) audit(ctx context.Context, action, targetType, targetID, outcome, reason string, after any) {
	ev := &tenants.AuditEvent{Action: action, TargetType: targetType, TargetID: targetID, Outcome: outcome, Reason: reason, ActorKind: "user"}
	if after != nil {
		if b, err := json.Marshal(after); err == nil {
			ev.After = string(b)
		}
	}
	if m, ok := auditFrom(ctx); ok {
		ev.IPAddress, ev.UserAgent, ev.RequestID = m.IP, m.UserAgent, m.RequestID
	}
	if err := s.store.AppendAudit(ctx, ev); err != nil {
		slog.ErrorContext(ctx, "write audit event", "action", action, "err", err)
	}
}

// RequestMeta is what audit events record of the request.
type RequestMeta struct{ IP, UserAgent, RequestID string }

type metaKey struct{}

// WithRequestMeta returns ctx carrying m for audit events.
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

func auditFrom(ctx context.Context) (RequestMeta, bool) {
	m, ok := ctx.Value(metaKey{}).(RequestMeta)
	return m, ok
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
