package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// declareMetadataFields lets f's users edit nickname (a string of at most
// 20), shoe_size (a number) and newsletter (a boolean), and gives the
// user keys only an admin may change: tier in user_metadata, plan in
// app_metadata.
func declareMetadataFields(t *testing.T, e *env, f *fixture) {
	t.Helper()
	svc := e.srv.Admin()
	if _, err := svc.UpdateTenant(f.adminCtx(), admin.TenantSettings{UserMetadataFields: []tenants.MetadataField{
		{Name: "nickname", Label: "Nickname", Type: tenants.MetadataString, MaxLength: 20},
		{Name: "shoe_size", Label: "Shoe size", Type: tenants.MetadataNumber},
		{Name: "newsletter", Label: "Newsletter", Type: tenants.MetadataBoolean},
	}}); err != nil {
		t.Fatal(err)
	}
	um, am := json.RawMessage(`{"tier":"gold"}`), json.RawMessage(`{"plan":"pro"}`)
	if _, err := svc.UpdateUser(f.adminCtx(), f.userID, admin.UpdateUserInput{UserMetadata: &um, AppMetadata: &am}); err != nil {
		t.Fatal(err)
	}
}

// TestAccountMetadataAttacks posts the account page's metadata form as an
// attacker would: undeclared keys (another user_metadata key, app_metadata),
// huge values, wrong types, a repeated field, no anti-CSRF token. Each is
// refused (400, or 403 without the token) and nothing changes; the
// declared fields save, audited.
func TestAccountMetadataAttacks(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		// Without declared fields the form does not exist.
		p := f.accountPage(b)
		if strings.Contains(p.body, `id="account-metadata"`) {
			t.Fatal("a metadata form with no fields declared")
		}
		if q := f.accountPost(b, field(t, csrfField, p.body), "/account/metadata", url.Values{"md.nickname": {"x"}}); q.status != http.StatusNotFound {
			t.Fatalf("metadata form with no fields declared: %d", q.status)
		}
		declareMetadataFields(t, e, f)
		p = f.accountPage(b)
		for _, want := range []string{`id="account-metadata"`, `name="md.nickname"`, `maxlength="20"`, `name="md.shoe_size"`, `name="md.newsletter"`, "Shoe size"} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("account page lacks %s:\n%s", want, p.body)
			}
		}
		csrf := field(t, csrfField, p.body)
		stored := func() (string, string) {
			u := f.user(t, f.email)
			return u.UserMetadata, u.AppMetadata
		}
		um0, am0 := stored()
		for name, form := range map[string]url.Values{
			"another user_metadata key": {"md.tier": {"platinum"}},
			"app_metadata":              {"app_metadata": {`{"plan":"enterprise"}`}},
			"app_metadata as a field":   {"md.plan": {"enterprise"}},
			"a field without prefix":    {"nickname": {"x"}},
			"huge string":               {"md.nickname": {strings.Repeat("A", 21)}},
			"huge form":                 {"md.nickname": {strings.Repeat("A", 200000)}},
			"control characters":        {"md.nickname": {"a\x00b"}},
			"number not a number":       {"md.shoe_size": {"big"}},
			"number infinite":           {"md.shoe_size": {"1e400"}},
			"boolean not a boolean":     {"md.newsletter": {"yes"}},
			"a field twice":             {"md.nickname": {"a", "b"}},
			"a declared and an unknown": {"md.nickname": {"ok"}, "md.__proto__": {"x"}},
		} {
			q := f.accountPost(b, csrf, "/account/metadata", form)
			// A body over the server's cap is refused before it is read.
			if q.status != http.StatusBadRequest && (name != "huge form" || q.status != http.StatusRequestEntityTooLarge) {
				t.Errorf("%s: %d, want 400", name, q.status)
			}
			if um, am := stored(); um != um0 || am != am0 {
				t.Fatalf("%s changed the metadata: %s %s", name, um, am)
			}
		}
		if q := b.post(f.issuer+"/account/metadata", url.Values{"md.nickname": {"Annie"}}); q.status != http.StatusForbidden {
			t.Fatalf("without the anti-CSRF token: %d", q.status)
		}
		q := f.accountPost(b, csrf, "/account/metadata", url.Values{"md.nickname": {"Annie"}, "md.shoe_size": {"38.5"}, "md.newsletter": {"true"}})
		if !strings.Contains(q.body, "Your profile was saved.") || !strings.Contains(q.body, `value="Annie"`) {
			t.Fatalf("saving metadata: %d\n%s", q.status, q.body)
		}
		um, am := stored()
		if um != `{"newsletter":true,"nickname":"Annie","shoe_size":38.5,"tier":"gold"}` || am != am0 {
			t.Fatalf("stored user_metadata %s, app_metadata %s", um, am)
		}
		// Clearing a field removes the key; the admin's key stays.
		f.accountPost(b, csrf, "/account/metadata", url.Values{"md.nickname": {""}})
		if um, _ := stored(); um != `{"newsletter":true,"shoe_size":38.5,"tier":"gold"}` {
			t.Fatalf("after clearing nickname: %s", um)
		}
		f.audited(t, "profile.updated")
	})
}

// TestAccountMetadataBrowser edits the declared fields in Chromium, and an
// admin edits the user's metadata as JSON on the console's user page.
func TestAccountMetadataBrowser(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	declareMetadataFields(t, e, f)
	ctx := newBrowser(t)
	shots := screenshotDir(t)
	user, pass := chromedp.CSS(`input[autocomplete="username"]`), chromedp.CSS(`input[autocomplete="current-password"]`)
	run(t, ctx, "sign in to the account page",
		chromedp.Navigate(f.issuer+"/account"),
		chromedp.WaitVisible(user),
		chromedp.SendKeys(user, f.email),
		chromedp.SendKeys(pass, f.password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("account-metadata")),
	)
	run(t, ctx, "edit the fields",
		chromedp.SendKeys(chromedp.ID("md-nickname"), "Nanni"),
		chromedp.SendKeys(chromedp.ID("md-shoe_size"), "41"),
		chromedp.SetValue(chromedp.ID("md-newsletter"), "false"),
		chromedp.Click(chromedp.CSS(`#account-metadata button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role=status]`)),
	)
	screenshot(t, ctx, shots, "TestAccountMetadataBrowser-saved")
	if got := value(t, ctx, "nickname", chromedp.Value(chromedp.ID("md-nickname"))); got != "Nanni" {
		t.Fatalf("nickname after saving: %q", got)
	}
	if um := f.user(t, f.email).UserMetadata; um != `{"newsletter":false,"nickname":"Nanni","shoe_size":41,"tier":"gold"}` {
		t.Fatalf("stored user_metadata %s", um)
	}
	// Too long for the field: the browser's maxlength stops at 20, and
	// the server refuses what gets past it.
	run(t, ctx, "too long", chromedp.SetAttributeValue(chromedp.ID("md-nickname"), "maxlength", "100"),
		chromedp.SetValue(chromedp.ID("md-nickname"), strings.Repeat("x", 30)),
		chromedp.Click(chromedp.CSS(`#account-metadata button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.alert[role=alert]`)))
	if body := value(t, ctx, "page", chromedp.Text(chromedp.CSS(`p.alert[role=alert]`))); !strings.Contains(body, "at most 20 characters") {
		t.Fatalf("the refused value's message is missing:\n%s", body)
	}
	if um := f.user(t, f.email).UserMetadata; !strings.Contains(um, `"nickname":"Nanni"`) {
		t.Fatalf("a refused value was stored: %s", um)
	}
}

// TestConsoleUserMetadata edits a user's metadata as JSON on the console's
// user page: a valid object saves, a non-object or oversized one is a 422
// next to its field, and another tenant's user is a 404.
func TestConsoleUserMetadata(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		other := e.fixture("globex")
		c, csrf := e.consoleAs(t, "ops@example.test", "")
		path := e.base + "/admin/t/" + f.slug + "/users/" + f.userID
		if p := c.get(path); p.status != http.StatusOK || !strings.Contains(p.body, `id="user-metadata"`) {
			t.Fatalf("user page: %d", p.status)
		}
		if q := c.post(path+"/metadata", url.Values{"csrf_token": {csrf}, "user_metadata": {`{"nickname":"Ann"}`}, "app_metadata": {`{"plan":"pro"}`}}); q.status != http.StatusSeeOther {
			t.Fatalf("save metadata: %d\n%s", q.status, q.body)
		}
		if u := f.user(t, f.email); u.UserMetadata != `{"nickname":"Ann"}` || u.AppMetadata != `{"plan":"pro"}` {
			t.Fatalf("stored %s %s", u.UserMetadata, u.AppMetadata)
		}
		for name, form := range map[string]url.Values{
			"array":    {"user_metadata": {`[1,2]`}, "app_metadata": {`{}`}},
			"not JSON": {"user_metadata": {`{}`}, "app_metadata": {`{plan:pro}`}},
			"huge":     {"user_metadata": {`{"a":"` + strings.Repeat("x", 20000) + `"}`}, "app_metadata": {`{}`}},
		} {
			form.Set("csrf_token", csrf)
			if q := c.post(path+"/metadata", form); q.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d, want 422", name, q.status)
			}
		}
		if u := f.user(t, f.email); u.UserMetadata != `{"nickname":"Ann"}` {
			t.Fatalf("a refused edit changed the metadata: %s", u.UserMetadata)
		}
		if q := c.post(e.base+"/admin/t/"+f.slug+"/users/"+other.userID+"/metadata", url.Values{"csrf_token": {csrf}, "user_metadata": {`{}`}}); q.status != http.StatusNotFound {
			t.Fatalf("another tenant's user: %d", q.status)
		}
	})
}
