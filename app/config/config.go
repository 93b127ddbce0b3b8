// Package config reads Gatehouse's configuration from GATEHOUSE_*
// environment variables (and command-line overrides), validates it once, and
// provides the master key, generating one in development mode.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Modes Gatehouse runs in.
const (
	ModeDevelopment = "development"
	ModeProduction  = "production"
)

// Log formats: slog's key=value text, or one JSON object a line.
const (
	LogText = "text"
	LogJSON = "json"
)

// Config is Gatehouse's validated configuration.
type Config struct {
	// BaseURL is the apex: the console lives here and tenant acme is served
	// at acme.<BaseURL host>.
	BaseURL *url.URL
	// Addr is the listen address.
	Addr string
	// DatabaseURL names PostgreSQL (postgres://...) or the embedded SQLite
	// (sqlite:PATH).
	DatabaseURL string
	// DataDir holds the embedded database and, in development, the master key.
	DataDir string
	// Mode is ModeDevelopment or ModeProduction.
	Mode string
	// MasterKey seals signing keys and derives the other server keys.
	MasterKey []byte
	// MasterKeyNotice says where the master key came from, when it was
	// generated, for the operator to read.
	MasterKeyNotice string
	// TrustedProxies are the networks whose X-Forwarded-For (client IP) and
	// X-Forwarded-Host headers are believed. The scheme is never taken from
	// a request: issuers come from configuration.
	TrustedProxies []*net.IPNet
	// CachePoll is how often each node checks for configuration changes
	// made by other nodes.
	CachePoll time.Duration
	// WebhookPoll is how often each node looks for webhook deliveries due
	// (a delivery leaves within about that of its event), and
	// WebhookRetry the wait after a delivery's first failure (doubled
	// after each further one, up to an hour).
	WebhookPoll, WebhookRetry time.Duration
	// MetricsAddr, when set (GATEHOUSE_METRICS_ADDR), is where the node
	// serves Prometheus metrics and its probes, apart from the public
	// listener.
	MetricsAddr string
	// MetricsPprof serves Go's profiler at /debug/pprof/ on the metrics
	// listener (GATEHOUSE_METRICS_PPROF=true; off by default: a profile
	// shows what the process is doing, and a CPU profile costs CPU).
	MetricsPprof bool
	// ShutdownTimeout bounds a graceful shutdown (GATEHOUSE_SHUTDOWN_TIMEOUT):
	// how long a node stopping on SIGTERM waits for in-flight requests and
	// batched writes before it exits anyway.
	ShutdownTimeout time.Duration
	// KeyCacheSize is how many tenants' signing keys a node keeps
	// in memory (GATEHOUSE_KEY_CACHE_SIZE; 0: keyring.DefaultCacheSize).
	KeyCacheSize int
	// CacheTenants, CacheClients and CacheAccess are how many tenants,
	// clients and users' access a node keeps in memory
	// (GATEHOUSE_CACHE_TENANTS, GATEHOUSE_CACHE_CLIENTS,
	// GATEHOUSE_CACHE_ACCESS; 0: the cache's defaults).
	CacheTenants, CacheClients, CacheAccess int
	// AnonymousRate is how often one client address may make, on one
	// node, the requests an anonymous client can make costly (a password
	// hash, a stored row, an email): the authorization endpoint, sign-in,
	// sign-up, password reset and the like. The zero Rate is no limit;
	// Load's default is DefaultAnonymousRate.
	AnonymousRate Rate
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// LogFormat is LogText or LogJSON (GATEHOUSE_LOG_FORMAT; text in
	// development mode, JSON in production).
	LogFormat string
	// SMTP is how email is sent; nil means not configured (development
	// mode then keeps mail in an outbox).
	SMTP *SMTP
	// UpstreamAllowHosts are the upstream hosts (SAML IdPs, OpenID
	// providers) that may resolve to loopback and private addresses, from
	// GATEHOUSE_UPSTREAM_ALLOW_HOSTS; empty in every mode by default.
	UpstreamAllowHosts upstream.AllowList
	// DNSResolver is the DNS server (host:port) custom domain checks ask,
	// from GATEHOUSE_DNS_RESOLVER; empty asks the system's resolver.
	DNSResolver string
}

// Rate is Requests at once, refilled evenly over Per (a token bucket).
type Rate struct {
	Requests int
	Per      time.Duration
}

// DefaultAnonymousRate (GATEHOUSE_ANONYMOUS_RATE_LIMIT's default) allows a
// burst of 30 costly anonymous requests from one address, then one a
// second: some ten sign-ins at once from behind one NAT, and about one
// password hash a second from an attacker's address.
const DefaultAnonymousRate = "30/30s"

// ParseRate reads "N/DURATION" (such as 30/30s) or "off".
func ParseRate(s string) (Rate, error) {
	if s == "off" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	r := Rate{}
	var err error
	if r.Requests, err = strconv.Atoi(n); !ok || err != nil || r.Requests < 1 {
		return Rate{}, fmt.Errorf("%q: want requests/duration, such as 30/30s, or off", s)
	}
	if r.Per, err = time.ParseDuration(per); err != nil || r.Per < time.Second {
		return Rate{}, fmt.Errorf("%q: want a duration of a second or more after the /", s)
	}
	return r, nil
}

// SMTP configures the mail server.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS is "starttls" (default), "tls" or "none".
	TLS  string
	From string
}

// Overrides are command-line values that win over the environment.
type Overrides struct {
	DatabaseURL string
	Addr        string
	BaseURL     string
	// ExistingDatabase refuses, before anything is written, to go on
	// without GATEHOUSE_DATABASE_URL (or DatabaseURL) when the embedded
	// database does not exist yet: a management command never creates an
	// installation (only serve and migrate do).
	ExistingDatabase bool
}

// ErrNoDatabase is Load's error with Overrides.ExistingDatabase when there
// is no database to work on.
var ErrNoDatabase = errors.New("no database")

// DefaultShutdownTimeout is GATEHOUSE_SHUTDOWN_TIMEOUT's default: within
// Kubernetes' default grace period of 30 s.
const DefaultShutdownTimeout = 25 * time.Second

// Load reads the configuration from getenv and overrides.
func Load(getenv func(string) string, o Overrides) (*Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := &Config{
		Addr:        first(o.Addr, get("GATEHOUSE_ADDR", ":8080")),
		DataDir:     get("GATEHOUSE_DATA_DIR", "data"),
		CachePoll:   time.Second,
		WebhookPoll: time.Second, WebhookRetry: 10 * time.Second,
		MetricsAddr: get("GATEHOUSE_METRICS_ADDR", ""),
	}
	base, err := ParseBaseURL(first(o.BaseURL, get("GATEHOUSE_BASE_URL", "http://localhost:8080")))
	if err != nil {
		return nil, err
	}
	c.BaseURL = base
	embedded := filepath.Join(c.DataDir, "gatehouse.db")
	c.DatabaseURL = first(o.DatabaseURL, get("GATEHOUSE_DATABASE_URL", "sqlite:"+embedded))
	if o.ExistingDatabase && c.DatabaseURL == "sqlite:"+embedded {
		if _, err := os.Stat(embedded); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: GATEHOUSE_DATABASE_URL is not set and %s does not exist "+
				"(start the server with gatehouse serve, or create it with gatehouse migrate, in this folder; or set GATEHOUSE_DATABASE_URL or GATEHOUSE_DATA_DIR)", ErrNoDatabase, embedded)
		}
	}

	c.Mode = get("GATEHOUSE_MODE", "")
	switch c.Mode {
	case "":
		c.Mode = ModeProduction
		if isLocal(base.Hostname()) {
			c.Mode = ModeDevelopment
		}
	case ModeDevelopment, ModeProduction:
	default:
		return nil, fmt.Errorf("GATEHOUSE_MODE must be %q or %q", ModeDevelopment, ModeProduction)
	}
	if c.Mode == ModeProduction && base.Scheme != "https" {
		return nil, fmt.Errorf("GATEHOUSE_BASE_URL %s: production needs https (set GATEHOUSE_MODE=development to try Gatehouse over http)", base)
	}

	if err := c.loadMasterKey(get("GATEHOUSE_MASTER_KEY", ""), get("GATEHOUSE_MASTER_KEY_FILE", "")); err != nil {
		return nil, err
	}
	for _, cidr := range strings.FieldsFunc(get("GATEHOUSE_TRUSTED_PROXIES", ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		if !strings.Contains(cidr, "/") {
			if ip := net.ParseIP(cidr); ip != nil && ip.To4() != nil {
				cidr += "/32"
			} else {
				cidr += "/128"
			}
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, fmt.Errorf("GATEHOUSE_TRUSTED_PROXIES: %q is not an IP or CIDR", cidr)
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	if c.ShutdownTimeout, err = time.ParseDuration(get("GATEHOUSE_SHUTDOWN_TIMEOUT", DefaultShutdownTimeout.String())); err != nil ||
		c.ShutdownTimeout < time.Second || c.ShutdownTimeout > 10*time.Minute {
		return nil, fmt.Errorf("GATEHOUSE_SHUTDOWN_TIMEOUT: want a duration from 1s to 10m, such as 25s")
	}
	if v := get("GATEHOUSE_KEY_CACHE_SIZE", ""); v != "" {
		if c.KeyCacheSize, err = strconv.Atoi(v); err != nil || c.KeyCacheSize < 1 || c.KeyCacheSize > 10_000_000 {
			return nil, fmt.Errorf("GATEHOUSE_KEY_CACHE_SIZE: want a number of tenants from 1 to 10000000")
		}
	}
	for _, v := range []struct {
		name string
		n    *int
		what string
	}{{"GATEHOUSE_CACHE_TENANTS", &c.CacheTenants, "tenants"}, {"GATEHOUSE_CACHE_CLIENTS", &c.CacheClients, "clients"},
		{"GATEHOUSE_CACHE_ACCESS", &c.CacheAccess, "users' access"}} {
		if s := get(v.name, ""); s != "" {
			if *v.n, err = strconv.Atoi(s); err != nil || *v.n < 1 || *v.n > 10_000_000 {
				return nil, fmt.Errorf("%s: want a number of %s from 1 to 10000000", v.name, v.what)
			}
		}
	}
	if c.AnonymousRate, err = ParseRate(get("GATEHOUSE_ANONYMOUS_RATE_LIMIT", DefaultAnonymousRate)); err != nil {
		return nil, fmt.Errorf("GATEHOUSE_ANONYMOUS_RATE_LIMIT %w", err)
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("GATEHOUSE_LOG_LEVEL", "info"))); err != nil {
		return nil, fmt.Errorf("GATEHOUSE_LOG_LEVEL: %w", err)
	}
	format := LogText
	if c.Mode == ModeProduction {
		format = LogJSON
	}
	switch v := get("GATEHOUSE_METRICS_PPROF", "false"); v {
	case "true", "false":
		c.MetricsPprof = v == "true"
	default:
		return nil, fmt.Errorf("GATEHOUSE_METRICS_PPROF must be true or false, not %q", v)
	}
	switch c.LogFormat = get("GATEHOUSE_LOG_FORMAT", format); c.LogFormat {
	case LogText, LogJSON:
	default:
		return nil, fmt.Errorf("GATEHOUSE_LOG_FORMAT must be %q or %q", LogText, LogJSON)
	}
	if c.UpstreamAllowHosts, err = upstream.ParseAllowList(get("GATEHOUSE_UPSTREAM_ALLOW_HOSTS", "")); err != nil {
		return nil, fmt.Errorf("GATEHOUSE_UPSTREAM_ALLOW_HOSTS: %w", err)
	}
	if c.DNSResolver = get("GATEHOUSE_DNS_RESOLVER", ""); c.DNSResolver != "" {
		if _, port, err := net.SplitHostPort(c.DNSResolver); err != nil || port == "" {
			return nil, fmt.Errorf("GATEHOUSE_DNS_RESOLVER: want host:port, such as 127.0.0.1:53")
		}
	}
	if host := get("GATEHOUSE_SMTP_HOST", ""); host != "" {
		smtp := &SMTP{Host: host, Username: get("GATEHOUSE_SMTP_USERNAME", ""), Password: get("GATEHOUSE_SMTP_PASSWORD", ""),
			TLS: get("GATEHOUSE_SMTP_TLS", "starttls"), From: get("GATEHOUSE_SMTP_FROM", "")}
		port, err := strconv.Atoi(get("GATEHOUSE_SMTP_PORT", "587"))
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("GATEHOUSE_SMTP_PORT: want a port number")
		}
		smtp.Port = port
		switch smtp.TLS {
		case "starttls", "tls", "none":
		default:
			return nil, fmt.Errorf("GATEHOUSE_SMTP_TLS must be starttls, tls or none")
		}
		if a, err := mail.ParseAddress(smtp.From); err != nil || a.Name != "" {
			return nil, fmt.Errorf("GATEHOUSE_SMTP_FROM must be the sender's address, such as no-reply@example.com")
		}
		if file := get("GATEHOUSE_SMTP_PASSWORD_FILE", ""); file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("GATEHOUSE_SMTP_PASSWORD_FILE: %w", err)
			}
			smtp.Password = strings.TrimRight(string(b), "\r\n")
		}
		c.SMTP = smtp
	}
	return c, nil
}

// ParseBaseURL checks an apex URL: http or https, a host, no path.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("GATEHOUSE_BASE_URL %q: want http(s)://host[:port]", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("GATEHOUSE_BASE_URL %q: must not have a path, query or user", raw)
	}
	if net.ParseIP(u.Hostname()) != nil {
		return nil, fmt.Errorf("GATEHOUSE_BASE_URL %q: must be a host name, since tenants are its subdomains", raw)
	}
	u.Path = ""
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

// isLocal reports whether host names this machine (base URLs are host
// names, never IP addresses).
func isLocal(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (c *Config) loadMasterKey(value, file string) error {
	if value != "" && file != "" {
		return errors.New("set GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE, not both")
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("GATEHOUSE_MASTER_KEY_FILE: %w", err)
		}
		value = string(b)
	}
	if value != "" {
		k, err := secret.ParseMasterKey(value)
		if err != nil {
			return fmt.Errorf("GATEHOUSE_MASTER_KEY: %w", err)
		}
		c.MasterKey = k
		return nil
	}
	if c.Mode == ModeProduction {
		return errors.New("GATEHOUSE_MASTER_KEY is required in production (generate one with: openssl rand -base64 32)")
	}
	path := filepath.Join(c.DataDir, "master.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return fmt.Errorf("create data folder: %w", err)
		}
		key := secret.NewMasterKey()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.WriteString(key + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("write development master key: %w", err)
		}
		c.MasterKeyNotice = "development mode: generated a master key into " + path + "; set GATEHOUSE_MASTER_KEY in production"
		b, err = os.ReadFile(path)
		if err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("read development master key: %w", err)
	} else {
		c.MasterKeyNotice = "development mode: using the master key in " + path
	}
	k, err := secret.ParseMasterKey(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.MasterKey = k
	return nil
}
