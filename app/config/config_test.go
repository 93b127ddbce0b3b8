package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreDevelopmentWithGeneratedKey(t *testing.T) {
	dir := t.TempDir()
	c, err := config.Load(env(map[string]string{"GATEHOUSE_DATA_DIR": dir}), config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != config.ModeDevelopment || c.BaseURL.String() != "http://localhost:8080" || c.Addr != ":8080" ||
		c.DatabaseURL != "sqlite:"+filepath.Join(dir, "gatehouse.db") {
		t.Fatalf("defaults: %+v", c)
	}
	if !c.UpstreamAllowHosts.Empty() {
		t.Fatalf("development allows upstream hosts by default: %s", c.UpstreamAllowHosts)
	}
	if !strings.Contains(c.MasterKeyNotice, "generated") || len(c.MasterKey) != 32 {
		t.Fatalf("notice %q", c.MasterKeyNotice)
	}
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key: %v %v", fi, err)
	}
	again, err := config.Load(env(map[string]string{"GATEHOUSE_DATA_DIR": dir}), config.Overrides{})
	if err != nil || string(again.MasterKey) != string(c.MasterKey) || strings.Contains(again.MasterKeyNotice, "generated") {
		t.Fatalf("second start must reuse the key: %v %q", err, again.MasterKeyNotice)
	}
}

func TestLoad(t *testing.T) {
	key := secret.NewMasterKey()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(*testing.T, *config.Config)
	}{
		{"production is inferred from a real host", map[string]string{"GATEHOUSE_BASE_URL": "https://id.example.com", "GATEHOUSE_MASTER_KEY": key}, "",
			func(t *testing.T, c *config.Config) {
				if c.Mode != config.ModeProduction || !c.UpstreamAllowHosts.Empty() {
					t.Fatal(c.Mode, c.UpstreamAllowHosts)
				}
			}},
		{"production logs JSON", map[string]string{"GATEHOUSE_BASE_URL": "https://id.example.com", "GATEHOUSE_MASTER_KEY": key}, "",
			func(t *testing.T, c *config.Config) {
				if c.LogFormat != config.LogJSON {
					t.Fatal(c.LogFormat)
				}
			}},
		{"development logs text", map[string]string{"GATEHOUSE_MASTER_KEY": key}, "",
			func(t *testing.T, c *config.Config) {
				if c.LogFormat != config.LogText {
					t.Fatal(c.LogFormat)
				}
			}},
		{"log format set", map[string]string{"GATEHOUSE_MASTER_KEY": key, "GATEHOUSE_LOG_FORMAT": "json"}, "",
			func(t *testing.T, c *config.Config) {
				if c.LogFormat != config.LogJSON {
					t.Fatal(c.LogFormat)
				}
			}},
		{"unknown log format", map[string]string{"GATEHOUSE_MASTER_KEY": key, "GATEHOUSE_LOG_FORMAT": "logfmt"}, "GATEHOUSE_LOG_FORMAT", nil},
		{"production needs a master key", map[string]string{"GATEHOUSE_BASE_URL": "https://id.example.com"}, "GATEHOUSE_MASTER_KEY is required", nil},
		{"production needs https", map[string]string{"GATEHOUSE_BASE_URL": "http://id.example.com", "GATEHOUSE_MASTER_KEY": key}, "production needs https", nil},
		{"explicit production on localhost needs a key", map[string]string{"GATEHOUSE_MODE": "production", "GATEHOUSE_BASE_URL": "https://localhost"}, "GATEHOUSE_MASTER_KEY is required", nil},
		{"constant master key", map[string]string{"GATEHOUSE_MASTER_KEY": strings.Repeat("00", 32)}, "constant byte pattern", nil},
		{"short master key", map[string]string{"GATEHOUSE_MASTER_KEY": "c2hvcnQ="}, "32 random bytes", nil},
		{"hex master key", map[string]string{"GATEHOUSE_MASTER_KEY": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}, "", nil},
		{"key and key file", map[string]string{"GATEHOUSE_MASTER_KEY": key, "GATEHOUSE_MASTER_KEY_FILE": "/x"}, "not both", nil},
		{"base URL with path", map[string]string{"GATEHOUSE_BASE_URL": "http://localhost:8080/id"}, "must not have a path", nil},
		{"base URL IP", map[string]string{"GATEHOUSE_BASE_URL": "http://127.0.0.1:8080"}, "must be a host name", nil},
		{"base URL scheme", map[string]string{"GATEHOUSE_BASE_URL": "ftp://localhost"}, "want http(s)", nil},
		{"bad mode", map[string]string{"GATEHOUSE_MODE": "staging"}, "GATEHOUSE_MODE", nil},
		{"trusted proxies", map[string]string{"GATEHOUSE_MASTER_KEY": key, "GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.10 ::1"}, "",
			func(t *testing.T, c *config.Config) {
				if len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.168.1.10/32" {
					t.Fatal(c.TrustedProxies)
				}
			}},
		{"bad proxy", map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "example.com"}, "not an IP or CIDR", nil},
		{"upstream hosts allowed to be internal", map[string]string{"GATEHOUSE_UPSTREAM_ALLOW_HOSTS": "keycloak, localhost:5556,[::1]:8443"}, "",
			func(t *testing.T, c *config.Config) {
				if c.UpstreamAllowHosts.String() != "keycloak,localhost:5556,[::1]:8443" ||
					!c.UpstreamAllowHosts.Allows("localhost", "5556") || c.UpstreamAllowHosts.Allows("localhost", "5557") {
					t.Fatal(c.UpstreamAllowHosts)
				}
			}},
		{"an upstream host that is a URL", map[string]string{"GATEHOUSE_UPSTREAM_ALLOW_HOSTS": "http://localhost:5556"}, "GATEHOUSE_UPSTREAM_ALLOW_HOSTS", nil},
		{"an upstream wildcard", map[string]string{"GATEHOUSE_UPSTREAM_ALLOW_HOSTS": "*.internal"}, "GATEHOUSE_UPSTREAM_ALLOW_HOSTS", nil},
		{"anonymous rate limit by default", map[string]string{}, "",
			func(t *testing.T, c *config.Config) {
				if c.AnonymousRate != (config.Rate{Requests: 30, Per: 30 * time.Second}) {
					t.Fatal(c.AnonymousRate)
				}
			}},
		{"anonymous rate limit set", map[string]string{"GATEHOUSE_ANONYMOUS_RATE_LIMIT": "100/1m"}, "",
			func(t *testing.T, c *config.Config) {
				if c.AnonymousRate != (config.Rate{Requests: 100, Per: time.Minute}) {
					t.Fatal(c.AnonymousRate)
				}
			}},
		{"anonymous rate limit off", map[string]string{"GATEHOUSE_ANONYMOUS_RATE_LIMIT": "off"}, "",
			func(t *testing.T, c *config.Config) {
				if c.AnonymousRate != (config.Rate{}) {
					t.Fatal(c.AnonymousRate)
				}
			}},
		{"key cache size", map[string]string{"GATEHOUSE_KEY_CACHE_SIZE": "20000"}, "",
			func(t *testing.T, c *config.Config) {
				if c.KeyCacheSize != 20000 {
					t.Fatal(c.KeyCacheSize)
				}
			}},
		{"key cache size of none", map[string]string{"GATEHOUSE_KEY_CACHE_SIZE": "0"}, "GATEHOUSE_KEY_CACHE_SIZE", nil},
		{"key cache size not a number", map[string]string{"GATEHOUSE_KEY_CACHE_SIZE": "1e9"}, "GATEHOUSE_KEY_CACHE_SIZE", nil},
		{"anonymous rate limit without a duration", map[string]string{"GATEHOUSE_ANONYMOUS_RATE_LIMIT": "30"}, "GATEHOUSE_ANONYMOUS_RATE_LIMIT", nil},
		{"anonymous rate limit of none", map[string]string{"GATEHOUSE_ANONYMOUS_RATE_LIMIT": "0/1s"}, "GATEHOUSE_ANONYMOUS_RATE_LIMIT", nil},
		{"anonymous rate limit too fast", map[string]string{"GATEHOUSE_ANONYMOUS_RATE_LIMIT": "30/1ms"}, "a second or more", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["GATEHOUSE_DATA_DIR"] = t.TempDir()
			c, err := config.Load(env(tc.env), config.Overrides{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}
