package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/server"
	"github.com/gatehouse-id/gatehouse/migrations"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// node is a running Gatehouse node with a tenant set up like the README's
// quickstart: an API, a machine client, a web client and one user.
type node struct {
	store  *tenants.Store
	srv    *server.Server
	addr   string
	tenant *tenants.Tenant
	tctx   context.Context
	issuer string
	api    string
	worker *admin.Client
	web    *admin.Client
	user   *admin.User
	close  func()
}

// tempDatabase returns a fresh SQLite database URL in a temporary folder,
// and the function that removes it.
func tempDatabase() (string, func(), error) {
	dir, err := os.MkdirTemp("", "gatehouse-load")
	if err != nil {
		return "", nil, err
	}
	return "sqlite:" + filepath.Join(dir, "gatehouse.db"), func() { _ = os.RemoveAll(dir) }, nil
}

// startNode migrates dbURL and serves a node on a loopback port with the
// default password hasher and anonymous rate limit. With trustLoopback, X-Forwarded-For from
// loopback names the client, so that one load generator can stand for
// many client addresses.
func startNode(ctx context.Context, dbURL string, trustLoopback bool, alg string) (*node, error) {
	store, err := tenants.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	sqlDB, err := store.SQLDB()
	if err != nil {
		store.Close()
		return nil, err
	}
	if _, err := migrations.Up(ctx, sqlDB, store.Dialect()); err != nil {
		store.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		store.Close()
		return nil, err
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base, _ := config.ParseBaseURL("http://localhost:" + port)
	key, _ := secret.ParseMasterKey(secret.NewMasterKey())
	cfg := &config.Config{BaseURL: base, Addr: ln.Addr().String(), Mode: config.ModeDevelopment, MasterKey: key, CachePoll: time.Second}
	// What `gatehouse serve` runs with by default.
	if cfg.AnonymousRate, err = config.ParseRate(config.DefaultAnonymousRate); err != nil {
		ln.Close()
		store.Close()
		return nil, err
	}
	if trustLoopback {
		_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
		cfg.TrustedProxies = []*net.IPNet{loopback}
	}
	srv, err := server.New(cfg, server.Deps{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		ln.Close()
		store.Close()
		return nil, err
	}
	bg, cancel := context.WithCancel(ctx)
	srv.Background(bg)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	n := &node{store: store, srv: srv, addr: ln.Addr().String(), close: func() {
		cancel()
		_ = hs.Close()
		store.Close()
	}}

	svc := srv.Admin()
	tv, err := svc.CreateTenant(ctx, admin.CreateTenantInput{Slug: fmt.Sprintf("load%d", time.Now().UnixNano()%1e9), Name: "Load"})
	if err != nil {
		n.close()
		return nil, err
	}
	if n.tctx, n.tenant, err = svc.WithTenant(ctx, tv.Slug); err != nil {
		n.close()
		return nil, err
	}
	n.issuer, n.api = tv.Issuer, "https://api.load.test"
	if _, err := svc.CreateAPI(n.tctx, admin.CreateAPIInput{Audience: n.api, Scopes: []admin.ScopeInput{{Name: "read:orders"}}, SigningAlg: alg}); err != nil {
		n.close()
		return nil, err
	}
	if n.worker, err = svc.CreateClient(n.tctx, admin.CreateClientInput{Name: "worker", GrantTypes: []string{"client_credentials"}, Audiences: []string{n.api}}); err != nil {
		n.close()
		return nil, err
	}
	if n.web, err = svc.CreateClient(n.tctx, admin.CreateClientInput{Name: "web", RedirectURIs: []string{"http://127.0.0.1:9000/cb"}, Audiences: []string{n.api}, IDTokenSignedResponseAlg: alg}); err != nil {
		n.close()
		return nil, err
	}
	if n.user, err = svc.CreateUser(n.tctx, admin.CreateUserInput{Email: "ann@load.test", Password: "correct horse battery staple"}); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// client returns an HTTP client that reaches addr for any host name (Go
// does not resolve *.localhost).
func client(addr string, conns int) *http.Client {
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: conns * 2,
		// In total too: a client that visits 10,000 tenants' hosts once
		// (the warm-up) must not keep a connection open to each.
		MaxIdleConns: conns * 2,
	}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}
