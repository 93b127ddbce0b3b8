package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/login"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Server is a Gatehouse node.
type Server struct {
	cfg      *config.Config
	store    *tenants.Store
	cache    *cache.Cache
	keys     *keyring.Keyring
	admin    *admin.Service
	provider *oidc.Provider
	echo     *echo.Echo
}

// Deps are what a Server is built from besides its configuration.
type Deps struct {
	Store *tenants.Store
	// Hasher hashes passwords; nil means argon2id with OWASP's parameters.
	Hasher *password.Hasher
}

// New builds a Server. The store must be migrated.
func New(cfg *config.Config, deps Deps) (*Server, error) {
	box, err := secret.NewBox(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	hasher := deps.Hasher
	if hasher == nil {
		hasher = password.New(password.DefaultParams())
	}
	s := &Server{cfg: cfg, store: deps.Store}
	s.cache = cache.New(deps.Store, cfg.CachePoll)
	s.keys = keyring.New(deps.Store, box)
	s.admin = admin.New(admin.Config{BaseURL: cfg.BaseURL, OnChange: s.invalidate}, deps.Store, s.keys, hasher)

	var cryptoKey [32]byte
	copy(cryptoKey[:], box.Derive("gatehouse op crypto v1", 32))
	s.provider, err = oidc.New(oidc.Config{CryptoKey: cryptoKey}, deps.Store, s.cache, s.keys)
	if err != nil {
		return nil, fmt.Errorf("build OpenID provider: %w", err)
	}
	pages := login.New(login.Config{CSRFKey: box.Derive("gatehouse csrf v1", 32)}, s.provider, deps.Store, hasher)
	s.echo = s.routes(pages)
	return s, nil
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

// Background runs the node's background work until ctx ends: polling for
// changes other nodes made, and deleting expired rows.
func (s *Server) Background(ctx context.Context) {
	go s.cache.Run(ctx)
	go func() {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			if n, err := s.store.DeleteExpired(ctx, 24*time.Hour); err != nil && ctx.Err() == nil {
				slog.WarnContext(ctx, "delete expired rows", "err", err)
			} else if n > 0 {
				slog.InfoContext(ctx, "deleted expired rows", "rows", n)
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
// shuts down gracefully. ready, if not nil, receives the bound address.
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
	shutdown, stop := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
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
