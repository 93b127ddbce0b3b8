package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/admin/api"
	"github.com/gatehouse-id/gatehouse/admin/console"
	"github.com/gatehouse-id/gatehouse/app/account"
	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/login"
	"github.com/gatehouse-id/gatehouse/app/metrics"
	"github.com/gatehouse-id/gatehouse/app/mfa"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/passkey"
	"github.com/gatehouse-id/gatehouse/app/ratelimit"
	"github.com/gatehouse-id/gatehouse/app/samlidp"
	"github.com/gatehouse-id/gatehouse/app/tracing"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/federation"
	fedoidc "github.com/gatehouse-id/gatehouse/federation/oidc"
	"github.com/gatehouse-id/gatehouse/federation/saml"
	"github.com/gatehouse-id/gatehouse/federation/social"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/mail"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/webhook"
)

// Server is a Gatehouse node.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	store    *tenants.Store
	cache    *cache.Cache
	keys     *keyring.Keyring
	admin    *admin.Service
	provider *oidc.Provider
	echo     *echo.Echo
	// consoleSecret is the console's client secret at the system tenant,
	// derived from the master key so that every node knows it.
	consoleSecret string
	system        *admin.System
	fed           *federation.Service
	metrics       *metrics.Metrics
	metricsAddr   net.Addr
	tracing       *tracing.Tracing
	// anonymous guards the endpoints that store rows for anyone (the
	// per-address rate limit of the pages' Costly routes); nil for none.
	anonymous []echo.MiddlewareFunc
	// site is the pages' plumbing; its Localize middleware gives every
	// request to a tenant its language.
	site *web.Site
	// webhooks drains the webhook outbox; webhooksDone is closed when the
	// dispatcher Background started has stopped.
	webhooks     *webhook.Dispatcher
	webhooksDone chan struct{}
	// warm is set once Bootstrap loaded the system tenant into the cache;
	// schemaOK once the schema was found at this binary's version;
	// draining from the start of a shutdown. Readiness needs the first
	// two and not the third.
	warm, schemaOK, draining atomic.Bool
}

// Connectors are the upstream connection types this build supports.
func Connectors() map[string]federation.Factory {
	return map[string]federation.Factory{
		tenants.ConnectionOIDC:      fedoidc.New,
		tenants.ConnectionGoogle:    social.NewGoogle,
		tenants.ConnectionGitHub:    social.NewGitHub,
		tenants.ConnectionMicrosoft: social.NewMicrosoft,
		tenants.ConnectionApple:     social.NewApple,
		tenants.ConnectionSAML:      saml.New,
	}
}

// mailer is how the node sends email: the configured SMTP server; in
// development without one, the outbox; otherwise none.
func mailer(cfg *config.Config, deps Deps) mail.Sender {
	switch {
	case deps.Mail != nil:
		return deps.Mail
	case cfg.SMTP != nil:
		return &mail.SMTP{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
			TLS: cfg.SMTP.TLS, From: cfg.SMTP.From}
	case cfg.Mode == config.ModeDevelopment:
		return &mail.Outbox{Store: deps.Store}
	}
	return nil
}

// Federation returns the upstream login service.
func (s *Server) Federation() *federation.Service { return s.fed }

// Deps are what a Server is built from besides its configuration.
type Deps struct {
	Store *tenants.Store
	// Hasher hashes passwords; nil means argon2id with OWASP's parameters,
	// within the default bound on concurrent hashing (password.DefaultBound).
	Hasher *password.Hasher
	// Upstream is how the node reaches upstream servers besides
	// GATEHOUSE_UPSTREAM_ALLOW_HOSTS: the zero value is DNS, the system's
	// certificate authorities and the default limits. Tests give a
	// resolver of their fake host names, their fakes' authority and short
	// limits; every request still goes through the one guarded client,
	// and no option reaches an address the allow list does not allow.
	Upstream upstream.Options
	// Mail, if set, sends email instead of what the configuration says.
	Mail mail.Sender
	// Metrics are the node's collectors, for one server only (it adds
	// its cache and database pool to them); nil makes a registry of the
	// node's own.
	Metrics *metrics.Metrics
	// Logger is the node's logger (NewLogger); nil is NewLogger to
	// standard error. Every request's context and the background work's
	// carry it (tenants.WithLogger), so no package logs to slog's default.
	Logger *slog.Logger
	// Tracing, if set, makes spans of requests, statements and upstream
	// fetches (tracing.New); the caller shuts it down after the server.
	Tracing *tracing.Tracing
}

// New builds a Server. The store must be migrated.
func New(cfg *config.Config, deps Deps) (*Server, error) {
	box, err := secret.NewBox(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	hasher := deps.Hasher
	if hasher == nil {
		p := password.DefaultParams()
		hasher = password.New(p, password.DefaultBound(p))
	}
	s := &Server{cfg: cfg, store: deps.Store, metrics: deps.Metrics, log: deps.Logger, tracing: deps.Tracing}
	if s.tracing.On() {
		if err := deps.Store.Use(s.tracing.GORM(deps.Store.Dialect())); err != nil {
			return nil, fmt.Errorf("tracing: %w", err)
		}
		deps.Upstream.Wrap = s.tracing.Transport
	}
	if s.log == nil {
		s.log = NewLogger(cfg, os.Stderr)
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	s.cache = cache.New(deps.Store, cache.Config{Poll: cfg.CachePoll, Tenants: cfg.CacheTenants, Clients: cfg.CacheClients, Access: cfg.CacheAccess})
	s.metrics.WatchCache(s.cache.Stats)
	deps.Store.ObserveAudit(s.metrics.AuditEvent)
	deps.Store.ObserveReadRetries(s.metrics.ReadRetried)
	if db, err := deps.Store.SQLDB(); err == nil {
		s.metrics.WatchDB(db)
	}
	s.keys = keyring.New(deps.Store, box, keyring.Config{CacheSize: cfg.KeyCacheSize})
	// One guarded client for every request the node makes on a tenant's
	// behalf: upstream logins and webhooks.
	out := upstream.New(cfg.UpstreamAllowHosts, deps.Upstream)
	s.fed = federation.New(federation.Config{Factories: Connectors(), Upstream: out}, deps.Store, box)
	sealer := webhook.NewSealer(box)
	s.consoleSecret = admin.ConsoleSecret(box)

	s.provider, err = oidc.New(deps.Store, s.cache, s.keys, box, out)
	if err != nil {
		return nil, fmt.Errorf("build OpenID provider: %w", err)
	}
	s.provider.Observe(s.metrics)
	s.provider.SetDPoPNonceKey(box.Derive("gatehouse dpop nonce v1", 32))
	// One dispatcher drains the webhook and back-channel logout outboxes,
	// through the guarded client; the provider signs the logout tokens.
	s.webhooks = webhook.New(webhook.Config{Poll: cfg.WebhookPoll, Retry: cfg.WebhookRetry}, deps.Store, out, sealer, s.provider, s.log, s.metrics)
	common, err := password.LoadCommon()
	if err != nil {
		return nil, fmt.Errorf("load common passwords: %w", err)
	}
	trySecret := func(tenantID string) string { return admin.TrySecret(box, tenantID) }
	// The account pages send an administrator's emails to users (reset,
	// verification, invitation); they are built below.
	var acct *account.Handler
	sender := mailer(cfg, deps)
	var userMail admin.UserMail
	if sender != nil {
		userMail = accountMail{&acct}
	}
	s.admin = admin.New(admin.Config{BaseURL: cfg.BaseURL, OnChange: s.invalidate, Federation: s.fed, Common: common, TrySecret: trySecret,
		Webhooks: sealer, Upstream: out, Secrets: box, Mail: sender, UserMail: userMail, Resolver: admin.NewResolver(cfg.DNSResolver)},
		deps.Store, s.keys, hasher)
	_, devOutbox := sender.(*mail.Outbox)
	site := web.New(deps.Store, box.Derive("gatehouse csrf v1", 32))
	s.site = site
	if r := cfg.AnonymousRate; r.Requests > 0 {
		limit := ratelimit.New(ratelimit.Config{Burst: r.Requests, Per: r.Per}).Middleware
		site.Limit(limit)
		s.anonymous = []echo.MiddlewareFunc{limit}
	}
	throttle := authn.NewThrottle(deps.Store)
	factors := mfa.New(deps.Store, box)
	passkeys := passkey.New(deps.Store)
	idp := samlidp.New(samlidp.Deps{Site: site, Provider: s.provider, Keys: s.keys, Factors: factors.Confirmed})
	signin := login.New(login.Config{EmailEnabled: sender != nil}, login.Deps{Site: site, Provider: s.provider, Federation: s.fed,
		Hasher: hasher, Throttle: throttle, Factors: factors, Passkeys: passkeys, Logouts: idp.LogoutFrames})
	acct = account.New(account.Deps{Site: site, Provider: s.provider, Federation: s.fed, Hasher: hasher, Common: common,
		Mail: sender, Throttle: throttle, Factors: factors, Passkeys: passkeys, SignIn: signin})
	con := console.New(console.Config{
		BaseURL:       cfg.BaseURL,
		ConsoleSecret: s.consoleSecret,
		TrySecret:     trySecret,
		CSRFKey:       box.Derive("gatehouse console csrf v1", 32),
		Sealer:        box,
		SystemTenant:  s.systemTenant,
		Transport:     inProcess{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) })},
		Outbox:        devOutbox,
	}, s.admin, deps.Store)
	mgmt := api.New(s.admin, s.verifyManagementToken)
	s.echo = s.routes(signin, acct, idp, con, mgmt)
	return s, nil
}

// Bootstrap makes sure the system tenant, the management API and the
// console's client exist, and returns a one-time setup link when no
// operator exists yet ("" otherwise). Every node may run it at start-up.
func (s *Server) Bootstrap(ctx context.Context) (setupLink string, err error) {
	if s.system, err = s.admin.EnsureSystem(ctx, s.consoleSecret); err != nil {
		return "", err
	}
	if _, err := s.systemTenant(ctx); err != nil {
		return "", err
	}
	s.warm.Store(true)
	// Start-up (migrations, templates, the engine) leaves garbage the
	// runtime would return to the OS only slowly: an idle node's RSS
	// should be what it uses.
	defer debug.FreeOSMemory()
	need, err := s.admin.NeedsSetup(ctx)
	if err != nil || !need {
		return "", err
	}
	return s.admin.NewSetupLink(ctx)
}

// systemTenant returns the system tenant, through the cache (so that its
// revision, and with it its keys, stay current).
func (s *Server) systemTenant(ctx context.Context) (*tenants.Tenant, error) {
	return s.cache.TenantByHost(ctx, admin.SystemSlug+"."+s.cfg.BaseURL.Hostname())
}

// verifyManagementToken verifies a bearer token of the management API: an
// access token of the system tenant.
func (s *Server) verifyManagementToken(ctx context.Context, raw string) (*api.Token, error) {
	sys, err := s.systemTenant(ctx)
	if err != nil {
		return nil, err
	}
	info, err := s.provider.VerifyAccessToken(tenants.WithTenant(ctx, sys), raw)
	if err != nil {
		return nil, err
	}
	return &api.Token{Subject: info.Subject, ClientID: info.ClientID, Audience: info.Audience, Scopes: info.Scopes, UserToken: info.UserToken}, nil
}

// invalidate is called after this node changed a tenant's cached data.
func (s *Server) invalidate(tenantID string) {
	s.cache.Invalidate(tenantID)
	s.keys.Forget(tenantID)
}

// Handler returns the HTTP handler of the node.
func (s *Server) Handler() http.Handler { return s.echo }

// Admin returns the management services, which the CLI also uses.
func (s *Server) Admin() *admin.Service { return s.admin }

// expiredGrace is how long rows are kept past their expiry, so that a
// replayed code, refresh token or assertion is still recognised (and
// revokes what the first use got) rather than looking unknown.
const expiredGrace = 24 * time.Hour

// Sweep deletes expired rows once, as Background does every 10 minutes,
// and returns how many went.
func (s *Server) Sweep(ctx context.Context) (int64, error) {
	n, err := s.store.DeleteExpired(ctx, expiredGrace)
	if err != nil {
		return n, err
	}
	// Every node prunes the change feed; deleting what is gone is a no-op.
	pruned, err := s.store.PruneTenantChanges(ctx, s.store.Now().Add(-changeFeedHorizon))
	if err != nil {
		return n + pruned, err
	}
	hooks, err := s.store.PruneWebhookDeliveries(ctx, s.store.Now().Add(-webhookLogHorizon))
	if err != nil {
		return n + pruned + hooks, err
	}
	// Finished logout deliveries: their audit events outlive them.
	logouts, err := s.store.PruneLogoutDeliveries(ctx, s.store.Now().Add(-webhookLogHorizon))
	return n + pruned + hooks + logouts, err
}

// webhookLogHorizon is how long a finished webhook delivery and its log
// are kept.
const webhookLogHorizon = 30 * 24 * time.Hour

// changeFeedHorizon is how long the change feed keeps a change: a node
// that did not read it for longer (it was partitioned away, or stopped)
// drops its whole cache.
const changeFeedHorizon = time.Hour

// Background runs the node's background work until ctx ends: polling for
// changes other nodes made, keeping RSA keys generated ahead of need,
// rotating keys on schedule, delivering webhooks, running user import jobs, and deleting expired
// rows.
func (s *Server) Background(ctx context.Context) {
	ctx = tenants.WithLogger(ctx, s.log)
	go s.cache.Run(ctx)
	go s.keys.Run(ctx)
	done := make(chan struct{})
	s.webhooksDone = done
	go func() {
		defer close(done)
		s.webhooks.Run(ctx)
	}()
	// User import jobs: whichever node is free takes the next chunk.
	go s.admin.RunImportJobs(ctx, time.Second)
	go func() {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "delete expired rows", "err", err)
			} else if n > 0 {
				s.log.InfoContext(ctx, "deleted expired rows", "rows", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// ListenAndServe serves on the configured address until ctx ends, then
// shuts down gracefully: readiness turns red, the listener closes, idle
// connections close and in-flight requests finish, then batched audit
// events are written, all within the configured ShutdownTimeout. ready,
// if not nil, receives the bound address.
func (s *Server) ListenAndServe(ctx context.Context, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	var msrv *http.Server
	if s.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", s.cfg.MetricsAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		s.metricsAddr = mln.Addr()
		msrv = &http.Server{Handler: s.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
	}
	bg, cancel := context.WithCancel(ctx)
	defer cancel()
	s.Background(bg)
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return s.shutdown(context.WithoutCancel(ctx), srv, errc, cancel)
}

// MetricsAddr returns the address the metrics listener is bound to, once
// ListenAndServe started it; nil without GATEHOUSE_METRICS_ADDR.
func (s *Server) MetricsAddr() net.Addr { return s.metricsAddr }

// MetricsHandler serves the metrics listener: /metrics, and the probes
// /livez and /readyz for probes that do not go through the public port.
// It is never mounted on the public listener.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	if s.cfg.MetricsPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		if failed := s.readiness(r.Context()); len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, `{"failed":%q,"status":"unavailable"}`+"\n", strings.Join(failed, ","))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	return mux
}

// shutdown stops srv gracefully within the configured timeout: requests in
// flight finish, batched audit events (and the webhook deliveries they
// enqueue) are written, then the background work stops (stopBackground)
// and the webhook deliveries being sent finish and are recorded.
func (s *Server) shutdown(ctx context.Context, srv *http.Server, errc <-chan error, stopBackground func()) error {
	s.draining.Store(true)
	start := time.Now()
	s.log.InfoContext(ctx, "shutting down: finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout)
	ctx, stop := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer stop()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: in-flight requests did not finish within %s: %w", s.cfg.ShutdownTimeout, err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := s.store.FlushAudit(ctx); err != nil {
		return fmt.Errorf("shutdown: audit events not written within %s: %w", s.cfg.ShutdownTimeout, err)
	}
	stopBackground()
	if s.webhooksDone != nil {
		select {
		case <-s.webhooksDone:
		case <-ctx.Done():
			return fmt.Errorf("shutdown: webhook deliveries in flight not finished within %s: %w", s.cfg.ShutdownTimeout, ctx.Err())
		}
	}
	s.log.InfoContext(ctx, "shut down", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (s *Server) ipExtractor() echo.IPExtractor {
	if len(s.cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range s.cfg.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// accountMail is the account pages' emails an administrator sends a user
// (admin.UserMail), bound late: the account pages are built after the
// management service.
type accountMail struct{ h **account.Handler }

func (m accountMail) SendReset(ctx context.Context, t *tenants.Tenant, u *tenants.User) error {
	return (*m.h).SendReset(ctx, t, u)
}

func (m accountMail) SendVerification(ctx context.Context, t *tenants.Tenant, u *tenants.User) error {
	return (*m.h).SendVerification(ctx, t, u)
}

func (m accountMail) SendInvitation(ctx context.Context, t *tenants.Tenant, u *tenants.User) error {
	return (*m.h).SendInvitation(ctx, t, u)
}
