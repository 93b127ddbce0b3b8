package samlidp

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/tenants"
)

func testApp() *tenants.SAMLApp {
	return &tenants.SAMLApp{ID: "app", EntityID: "urn:sp", NameIDFormat: tenants.NameIDEmail, NameIDSource: tenants.NameIDSourceEmail, NameIDSalt: "salt",
		ACS: tenants.SAMLEndpoints{{URL: "https://sp.example.com/acs", Binding: tenants.BindingHTTPPost, Index: 1},
			{URL: "https://sp.example.com/acs2", Binding: tenants.BindingHTTPPost, Index: 2}}}
}

func TestCheck(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	const sso = "https://acme.example.com/saml/idp/sso"
	yes := true
	base := func() *saml.AuthnRequest {
		return &saml.AuthnRequest{ID: "id-1", Version: "2.0", IssueInstant: now, Issuer: &saml.Issuer{Value: "urn:sp"}}
	}
	tests := []struct {
		name    string
		edit    func(*saml.AuthnRequest)
		signed  bool
		wantACS string
		wantErr bool
	}{
		{name: "default ACS", wantACS: "https://sp.example.com/acs"},
		{name: "by index", edit: func(r *saml.AuthnRequest) { r.AssertionConsumerServiceIndex = "2" }, wantACS: "https://sp.example.com/acs2"},
		{name: "by URL", edit: func(r *saml.AuthnRequest) { r.AssertionConsumerServiceURL = "https://sp.example.com/acs2" }, wantACS: "https://sp.example.com/acs2"},
		{name: "URL not registered", edit: func(r *saml.AuthnRequest) { r.AssertionConsumerServiceURL = "https://sp.example.com/acs/" }, wantErr: true},
		{name: "URL of another case", edit: func(r *saml.AuthnRequest) { r.AssertionConsumerServiceURL = "https://SP.example.com/acs" }, wantErr: true},
		{name: "unknown index", edit: func(r *saml.AuthnRequest) { r.AssertionConsumerServiceIndex = "3" }, wantErr: true},
		{name: "no ID", edit: func(r *saml.AuthnRequest) { r.ID = "" }, wantErr: true},
		{name: "version", edit: func(r *saml.AuthnRequest) { r.Version = "1.1" }, wantErr: true},
		{name: "old", edit: func(r *saml.AuthnRequest) { r.IssueInstant = now.Add(-6 * time.Minute) }, wantErr: true},
		{name: "future", edit: func(r *saml.AuthnRequest) { r.IssueInstant = now.Add(6 * time.Minute) }, wantErr: true},
		{name: "small skew", edit: func(r *saml.AuthnRequest) { r.IssueInstant = now.Add(2 * time.Minute) }, wantACS: "https://sp.example.com/acs"},
		{name: "destination given and wrong", edit: func(r *saml.AuthnRequest) { r.Destination = "https://beta.example.com/saml/idp/sso" }, wantErr: true},
		{name: "destination right", edit: func(r *saml.AuthnRequest) { r.Destination = sso }, wantACS: "https://sp.example.com/acs"},
		{name: "signed without destination", signed: true, wantErr: true},
		{name: "signed with destination", edit: func(r *saml.AuthnRequest) { r.Destination = sso }, signed: true, wantACS: "https://sp.example.com/acs"},
		{name: "redirect response binding", edit: func(r *saml.AuthnRequest) { r.ProtocolBinding = tenants.BindingHTTPRedirect }, wantErr: true},
		{name: "force and passive", edit: func(r *saml.AuthnRequest) { r.ForceAuthn, r.IsPassive = &yes, &yes }, wantACS: "https://sp.example.com/acs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			if tt.edit != nil {
				tt.edit(r)
			}
			got, err := check(testApp(), r, tt.signed, "", sso, now)
			var e errBadRequest
			if tt.wantErr {
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want errBadRequest", err)
				}
				return
			}
			if err != nil || got.ACS.URL != tt.wantACS {
				t.Fatalf("check = %+v, %v; want ACS %s", got, err, tt.wantACS)
			}
		})
	}
}

func TestNameIDFormat(t *testing.T) {
	tests := []struct {
		asked, want string
		wantErr     bool
	}{
		{"", tenants.NameIDEmail, false},
		{tenants.NameIDUnspecified, tenants.NameIDEmail, false},
		{tenants.NameIDPersistent, tenants.NameIDPersistent, false},
		{tenants.NameIDTransient, tenants.NameIDTransient, false},
		{"urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName", "", true},
	}
	for _, tt := range tests {
		got, err := nameIDFormat(testApp(), tt.asked)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("nameIDFormat(%q) = %q, %v; want %q", tt.asked, got, err, tt.want)
		}
	}
}

func TestNameID(t *testing.T) {
	u := &tenants.User{ID: "u1", Email: "ann@acme.test"}
	a, b := testApp(), testApp()
	b.NameIDSalt = "other"
	if got := nameID(a, u, tenants.NameIDEmail); got != u.Email {
		t.Errorf("email NameID %q", got)
	}
	pa, pb := nameID(a, u, tenants.NameIDPersistent), nameID(b, u, tenants.NameIDPersistent)
	if pa == pb || pa != nameID(a, u, tenants.NameIDPersistent) || pa == u.ID {
		t.Errorf("persistent NameIDs %q and %q: want stable per application, different between them", pa, pb)
	}
	if nameID(a, u, tenants.NameIDTransient) == nameID(a, u, tenants.NameIDTransient) {
		t.Error("two transient NameIDs are the same")
	}
	a.NameIDSource = tenants.NameIDSourceUserID
	if got := nameID(a, u, tenants.NameIDUnspecified); got != u.ID {
		t.Errorf("unspecified from user_id: %q", got)
	}
}

func TestAdmits(t *testing.T) {
	tests := []struct {
		name          string
		access        string
		roles, groups tenants.Strings
		userRoles     []string
		userGroups    []string
		want          bool
	}{
		{name: "everyone", access: tenants.SAMLAccessEveryone, want: true},
		{name: "role held", access: tenants.SAMLAccessRoles, roles: tenants.Strings{"r1", "r2"}, userRoles: []string{"r2"}, want: true},
		{name: "role not held", access: tenants.SAMLAccessRoles, roles: tenants.Strings{"r1"}, userRoles: []string{"r2"}, userGroups: []string{"r1"}},
		{name: "group member", access: tenants.SAMLAccessGroups, groups: tenants.Strings{"g1"}, userGroups: []string{"g1"}, want: true},
		{name: "not a member", access: tenants.SAMLAccessGroups, groups: tenants.Strings{"g1"}, userRoles: []string{"g1"}},
		{name: "unknown mode", access: "admins"},
		{name: "disabled", access: "disabled"},
	}
	for _, tt := range tests {
		a := testApp()
		a.Access, a.AccessRoles, a.AccessGroups, a.Enabled = tt.access, tt.roles, tt.groups, true
		if got := a.Admits(tt.userRoles, tt.userGroups); got != tt.want {
			t.Errorf("%s: mayUse = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRequirement(t *testing.T) {
	created := time.Date(2026, 12, 3, 12, 0, 0, 500, time.UTC)
	old := &tenants.Session{AuthTime: created.Add(-time.Minute)}
	same := &tenants.Session{AuthTime: created.Truncate(time.Second)}
	tests := []struct {
		name        string
		force, pass bool
		sess        *tenants.Session
		want        []string
	}{
		{name: "plain", sess: old},
		{name: "passive", pass: true, sess: old, want: []string{authn.PromptNone}},
		{name: "force, old session", force: true, sess: old, want: []string{authn.PromptLogin}},
		{name: "force, no session", force: true, want: []string{authn.PromptLogin}},
		{name: "force, signed in since", force: true, sess: same},
		{name: "force and passive", force: true, pass: true, sess: old, want: []string{authn.PromptNone, authn.PromptLogin}},
	}
	for _, tt := range tests {
		got := requirement(&tenants.SAMLRequest{ForceAuthn: tt.force, IsPassive: tt.pass, CreatedAt: created}, tt.sess)
		if !slices.Equal(got.Prompt, tt.want) {
			t.Errorf("%s: prompt %v, want %v", tt.name, got.Prompt, tt.want)
		}
	}
}

func TestFromRedirectBounds(t *testing.T) {
	for name, q := range map[string]string{
		"none":      "",
		"repeated":  "SAMLRequest=a&SAMLRequest=b",
		"not b64":   "SAMLRequest=%%%",
		"not flate": "SAMLRequest=PHgvPg%3D%3D",
	} {
		if _, err := fromRedirect(q); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A small request that inflates to megabytes is refused unread.
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 9)
	_, _ = w.Write(make([]byte, 4<<20))
	_ = w.Close()
	if _, err := fromRedirect("SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))); err == nil {
		t.Error("a DEFLATE bomb was accepted")
	}
}
