package console

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

func TestQuickstart(t *testing.T) {
	const iss = "https://acme.example.com"
	tests := []struct {
		name        string
		in          quickstartInput
		want        []string // in every snippet
		wantNot     []string // in no snippet
		wantSnippet []string // ids, in order
		wantNote    bool
	}{
		{name: "web", in: quickstartInput{Kind: admin.KindWeb, Issuer: iss, ClientID: "cid-web", AuthMethod: "client_secret_basic", Redirect: "http://localhost:8081/cb"},
			want: []string{iss, `"cid-web"`, `"http://localhost:8081/cb"`, "CLIENT_SECRET", "/cb", "8081"}, wantSnippet: []string{"go", "node", "python"}},
		{name: "spa is public", in: quickstartInput{Kind: admin.KindSPA, Issuer: iss, ClientID: "cid-spa", AuthMethod: "none", Redirect: "https://app.example.com/auth/done"},
			want: []string{iss, `"cid-spa"`, `"https://app.example.com/auth/done"`, `"/auth/done"`, "3000"}, wantNot: []string{"CLIENT_SECRET"}, wantSnippet: []string{"go", "node", "python"}},
		{name: "no redirect yet", in: quickstartInput{Kind: admin.KindNative, Issuer: iss, ClientID: "cid-n", AuthMethod: "none"},
			want: []string{placeholderRedirect}, wantSnippet: []string{"go", "node", "python"}, wantNote: true},
		{name: "machine", in: quickstartInput{Kind: admin.KindMachine, Issuer: iss, ClientID: "cid-m", AuthMethod: "client_secret_basic", Audience: "https://api.example.com", Scopes: []string{"read:orders", "write:orders"}},
			want: []string{iss, "cid-m", "https://api.example.com", "read:orders", "write:orders", "CLIENT_SECRET"}, wantSnippet: []string{"curl", "go", "node", "python"}},
		{name: "machine without API", in: quickstartInput{Kind: admin.KindMachine, Issuer: iss, ClientID: "cid-m", AuthMethod: "client_secret_basic"},
			want: []string{"cid-m"}, wantNot: []string{"resource"}, wantSnippet: []string{"curl", "go", "node", "python"}, wantNote: true},
		{name: "http issuer", in: quickstartInput{Kind: admin.KindWeb, Issuer: "http://acme.localhost:8080", ClientID: "c", AuthMethod: "client_secret_post", Redirect: "http://localhost:9/cb"},
			want: []string{"http://acme.localhost:8080"}, wantSnippet: []string{"go", "node", "python"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := quickstart(tt.in)
			var ids []string
			for _, s := range q.Snippets {
				ids = append(ids, s.ID)
				for _, w := range tt.want {
					if !strings.Contains(s.Code, w) {
						t.Errorf("%s snippet lacks %q:\n%s", s.ID, w, s.Code)
					}
				}
				for _, w := range tt.wantNot {
					if strings.Contains(s.Code, w) {
						t.Errorf("%s snippet has %q:\n%s", s.ID, w, s.Code)
					}
				}
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantSnippet, ",") {
				t.Errorf("snippets %v, want %v", ids, tt.wantSnippet)
			}
			if (q.Note != "") != tt.wantNote {
				t.Errorf("note %q, want one: %v", q.Note, tt.wantNote)
			}
			if len(q.Endpoints) == 0 || q.Endpoints[0].URL != tt.in.Issuer {
				t.Errorf("endpoints %v", q.Endpoints)
			}
		})
	}
	if q := quickstart(quickstartInput{Kind: admin.KindWeb, Issuer: "http://x", ClientID: "c", AuthMethod: "client_secret_post"}); !strings.Contains(q.Snippets[1].Code, "allowInsecureRequests") ||
		!strings.Contains(q.Snippets[1].Code, "ClientSecretPost") || !strings.Contains(q.Snippets[2].Code, "client_secret_post") {
		t.Errorf("an http issuer with client_secret_post:\n%s\n%s", q.Snippets[1].Code, q.Snippets[2].Code)
	}
}

// TestQuickstartGoCompiles builds every Go snippet against the module's
// own golang.org/x/oauth2 and go-oidc: paste-ready means it compiles.
func TestQuickstartGoCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	ins := []quickstartInput{
		{Kind: admin.KindWeb, Issuer: "https://a.example", ClientID: "c", AuthMethod: "client_secret_basic", Redirect: "http://localhost:8081/cb"},
		{Kind: admin.KindSPA, Issuer: "https://a.example", ClientID: "c", AuthMethod: "none"},
		{Kind: admin.KindMachine, Issuer: "https://a.example", ClientID: "c", AuthMethod: "client_secret_basic", Audience: "https://api", Scopes: []string{"read"}},
		{Kind: admin.KindMachine, Issuer: "https://a.example", ClientID: "c", AuthMethod: "client_secret_basic"},
	}
	for i, in := range ins {
		var code string
		for _, s := range quickstart(in).Snippets {
			if s.ID == "go" {
				code = s.Code
			}
		}
		dir := t.TempDir()
		file := filepath.Join(dir, "main.go")
		if err := os.WriteFile(file, []byte(code), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "out"), file)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("snippet %d (%s) does not build: %v\n%s\n%s", i, in.Kind, err, out, code)
		}
	}
}
