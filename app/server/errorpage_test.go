package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/server"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestErrorPageWayBackAndRedirectMismatch: an authorization request whose
// redirect_uri is not registered gets an error page that leads back to
// the application at an address it registered (never the one sent), and,
// in development mode only, shows the refused URI beside the registered
// ones with a link to edit the application in the console. A page whose
// application is unknown leads to the tenant's account page.
func TestErrorPageWayBackAndRedirectMismatch(t *testing.T) {
	for _, mode := range []string{config.ModeDevelopment, config.ModeProduction} {
		t.Run(mode, func(t *testing.T) {
			base := "http://localhost:8080"
			if mode == config.ModeProduction {
				base = "https://localhost:8080"
			}
			env := map[string]string{"GATEHOUSE_BASE_URL": base, "GATEHOUSE_MODE": mode,
				"GATEHOUSE_MASTER_KEY": secret.NewMasterKey(), "GATEHOUSE_DATA_DIR": t.TempDir()}
			cfg, err := config.Load(func(k string) string { return env[k] }, config.Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			store := storetest.Open(t, storetest.SQLiteURL(t))
			tn := storetest.MustTenant(t, store, "acme")
			ctx := tenants.WithTenant(context.Background(), tn)
			registered := []string{"com.example.app:/cb", "https://app.example.com/callback", "https://app.example.com/other"}
			if err := store.CreateClient(ctx, &tenants.Client{ClientID: "shop", Name: "Shop & Co", ApplicationType: "web",
				TokenEndpointAuthMethod: tenants.AuthMethodNone, RedirectURIs: registered,
				GrantTypes: tenants.Strings{tenants.GrantAuthorizationCode}}, nil); err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(cfg, server.Deps{Store: store, Logger: server.NewLogger(cfg, io.Discard)})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv.Handler())
			defer hs.Close()
			get := func(q url.Values) (int, string) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, hs.URL+"/authorize?"+q.Encode(), nil)
				req.Host = "acme.localhost:8080"
				resp, err := hs.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}

			rejected := `https://evil.example/cb?x="><script>alert(1)</script>`
			status, body := get(url.Values{"client_id": {"shop"}, "redirect_uri": {rejected}, "response_type": {"code"}, "scope": {"openid"}})
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400:\n%s", status, body)
			}
			if !strings.Contains(body, `id="way-back" class="button" href="https://app.example.com/"`) || !strings.Contains(body, "Back to Shop &amp; Co") {
				t.Errorf("no way back to the application's registered address:\n%s", body)
			}
			if strings.Contains(body, "<script>") || strings.Contains(body, `href="https://evil.example`) {
				t.Errorf("the refused URI is a link or unescaped:\n%s", body)
			}
			dev := strings.Contains(body, "For the developer")
			if dev != (mode == config.ModeDevelopment) {
				t.Fatalf("developer section shown %v in %s mode:\n%s", dev, mode, body)
			}
			if mode == config.ModeDevelopment {
				for _, want := range append([]string{
					`<code id="rejected-redirect-uri">https://evil.example/cb?x=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</code>`,
					`id="edit-application" href="` + base + `/admin/t/acme/applications/shop"`,
				}, registered...) {
					if !strings.Contains(body, want) {
						t.Errorf("no %q in the development page:\n%s", want, body)
					}
				}
			} else {
				for _, secretish := range append([]string{"evil.example", "/admin/t/acme"}, registered[0], registered[2]) {
					if strings.Contains(body, secretish) {
						t.Errorf("production page shows %q:\n%s", secretish, body)
					}
				}
			}

			// An unknown application: the way back is the account page.
			status, body = get(url.Values{"client_id": {"nobody"}, "redirect_uri": {"https://evil.example/"}, "response_type": {"code"}})
			if status != http.StatusBadRequest || !strings.Contains(body, `id="way-back" href="/account"`) || strings.Contains(body, "evil.example") {
				t.Errorf("unknown client: %d\n%s", status, body)
			}
		})
	}
}
