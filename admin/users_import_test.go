package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/password/hashtest"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestParseRecord: what a line may say, and the reason it is refused.
func TestParseRecord(t *testing.T) {
	names := &importNames{
		connections: map[string]string{"Okta": "conn-1", "conn-1": "conn-1"},
		roles:       map[string]string{"admin": "role-1", "role-1": "role-1", "viewer": "role-2"},
		groups:      map[string]string{"Sales": "group-1", "group-1": "group-1"},
	}
	bc := hashtest.Bcrypt("pw", 10, "2b")
	for _, tc := range []struct {
		name, line string
		wantErr    string // "" accepted
		check      func(*tenants.ImportUser) bool
	}{
		{name: "minimal", line: `{"email":"a@example.com"}`, check: func(u *tenants.ImportUser) bool { return u.Email == "a@example.com" && u.PasswordHash == "" }},
		{name: "full", line: `{"id":"auth0|abc","email":" a@example.com ","email_verified":true,"name":"A","given_name":"A","family_name":"B","password_hash":"` + bc + `",` +
			`"user_metadata":{ "a" : 1 },"app_metadata":{"b":[1, 2]},"identities":[{"connection":"Okta","issuer":"https://okta.example.com","subject":"00u1"}]}`,
			check: func(u *tenants.ImportUser) bool {
				return u.ID == "auth0|abc" && u.Email == "a@example.com" && u.EmailVerified && u.PasswordHash == bc &&
					u.UserMetadata == `{"a":1}` && u.AppMetadata == `{"b":[1,2]}` && len(u.Identities) == 1 && u.Identities[0].ConnectionID == "conn-1"
			}},
		{name: "Auth0 custom_password_hash", line: `{"email":"a@example.com","custom_password_hash":{"algorithm":"bcrypt","hash":{"value":"` + bc + `"}}}`,
			check: func(u *tenants.ImportUser) bool { return u.PasswordHash == bc }},
		{name: "null fields", line: `{"email":"a@example.com","password_hash":null,"user_metadata":null,"roles":null}`},
		{name: "not JSON", line: `{"email":`, wantErr: "not a JSON object"},
		{name: "array", line: `[1]`, wantErr: "not a JSON object"},
		{name: "two values", line: `{"email":"a@example.com"} {}`, wantErr: "more than one"},
		{name: "unknown field", line: `{"email":"a@example.com","password":"x"}`, wantErr: "password: is not a field"},
		{name: "wrong type", line: `{"email":"a@example.com","email_verified":"yes"}`, wantErr: "email_verified: has the wrong type"},
		{name: "no email", line: `{}`, wantErr: "email"},
		{name: "display name email", line: `{"email":"A <a@example.com>"}`, wantErr: "email"},
		{name: "bad id", line: `{"id":"a/b","email":"a@example.com"}`, wantErr: "id: must be"},
		{name: "long id", line: `{"id":"` + strings.Repeat("a", 129) + `","email":"a@example.com"}`, wantErr: "id: must be"},
		{name: "control in name", line: `{"email":"a@example.com","name":"a\u0007"}`, wantErr: "name"},
		{name: "NUL", line: "{\"email\":\"a@example.com\",\"name\":\"a\x00\"}", wantErr: "NUL"},
		{name: "roles and groups by name or id, repeats once", line: `{"email":"a@example.com","roles":["admin","viewer","role-1"],"groups":["group-1","Sales"]}`,
			check: func(u *tenants.ImportUser) bool {
				return fmt.Sprint(u.RoleIDs) == "[role-1 role-2]" && fmt.Sprint(u.GroupIDs) == "[group-1]"
			}},
		{name: "unknown role", line: `{"email":"a@example.com","roles":["admin","owner"]}`, wantErr: `roles[1]: no role "owner" in this tenant`},
		{name: "unknown group", line: `{"email":"a@example.com","groups":["g"]}`, wantErr: `groups[0]: no group "g"`},
		{name: "role of the wrong kind", line: `{"email":"a@example.com","groups":["admin"]}`, wantErr: `no group "admin"`},
		{name: "too many roles", line: `{"email":"a@example.com","roles":[` + strings.Repeat(`"admin",`, maxImportLinks) + `"admin"]}`, wantErr: "roles: at most"},
		{name: "both hashes", line: `{"email":"a@example.com","password_hash":"` + bc + `","custom_password_hash":{"algorithm":"bcrypt","hash":{"value":"` + bc + `"}}}`, wantErr: "not both"},
		{name: "unknown hash", line: `{"email":"a@example.com","password_hash":"plain"}`, wantErr: "password_hash: unknown format"},
		{name: "absurd cost", line: `{"email":"a@example.com","password_hash":"` + bc[:4] + "31" + bc[6:] + `"}`, wantErr: "bcrypt cost 31"},
		{name: "metadata not object", line: `{"email":"a@example.com","user_metadata":[1]}`, wantErr: "user_metadata: must be a JSON object"},
		{name: "metadata too big", line: `{"email":"a@example.com","app_metadata":{"x":"` + strings.Repeat("x", MaxMetadata) + `"}}`, wantErr: "app_metadata: must be at most"},
		{name: "unknown connection", line: `{"email":"a@example.com","identities":[{"connection":"Nope","subject":"s"}]}`, wantErr: "no connection"},
		{name: "no subject", line: `{"email":"a@example.com","identities":[{"connection":"Okta"}]}`, wantErr: "subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := parseRecord([]byte(tc.line), 7, names)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseRecord(%s) = %v, want an error saying %q", tc.line, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRecord(%s): %v", tc.line, err)
			}
			if u.Line != 7 || tc.check != nil && !tc.check(u) {
				t.Fatalf("parseRecord(%s) = %+v", tc.line, u)
			}
		})
	}
}

// TestLineReader: lines are numbered as in the file (blank ones too), a
// long line is refused and skipped to its end, the last line needs no
// newline.
func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", MaxImportLine+1)
	exact := strings.Repeat("y", MaxImportLine)
	in := "a\n\n  \r\nb\r\n" + long + "\n" + exact + "\n" + long + long + "\nc"
	lr := newLineReader(strings.NewReader(in))
	type got struct {
		line int
		text string
		long bool
	}
	var out []got
	for {
		b, n, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			t.Fatal(err)
		}
		out = append(out, got{n, string(b), err != nil})
	}
	want := []got{{1, "a", false}, {4, "b", false}, {5, "", true}, {6, exact, false}, {7, "", true}, {8, "c", false}}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Fatalf("lines %.200v, want %.200v", out, want)
	}
}

// TestImportAtScale imports GATEHOUSE_IMPORT_USERS users (bcrypt hashes,
// stored as they come) through the service, streamed from a generator,
// and reports how long it took and the most heap it held. It runs only
// when asked, on each database available:
//
//	GATEHOUSE_IMPORT_USERS=100000 GATEHOUSE_TEST_DATABASE_URL=postgres://... \
//	  go test ./admin -run TestImportAtScale -v -timeout 20m
func TestImportAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GATEHOUSE_IMPORT_USERS"))
	if n <= 0 {
		t.Skip("set GATEHOUSE_IMPORT_USERS to the number of users to import")
	}
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.Open(t, db.URL(t))
		master, _ := secret.ParseMasterKey(secret.NewMasterKey())
		box, _ := secret.NewBox(master)
		keys := keyring.New(s, box, keyring.Config{PoolSize: -1, RotationCheck: time.Hour})
		base, _ := url.Parse("http://localhost:8080")
		svc := New(Config{BaseURL: base}, s, keys, password.New(password.DefaultParams(), password.Bound{}))
		ctx := WithPrincipal(context.Background(), CLI())
		if _, err := svc.CreateTenant(ctx, CreateTenantInput{Slug: "scale"}); err != nil {
			t.Fatal(err)
		}
		tctx, _, err := svc.WithTenant(ctx, "scale")
		if err != nil {
			t.Fatal(err)
		}
		// Hashes are stored, not computed: a few distinct ones will do.
		hashes := make([]string, 16)
		for i := range hashes {
			hashes[i] = hashtest.Bcrypt(fmt.Sprintf("password %d", i), 10, "2b")
		}
		pr, pw := io.Pipe()
		go func() {
			for i := range n {
				fmt.Fprintf(pw, `{"email":"user%07d@scale.test","email_verified":true,"name":"User %d","password_hash":"%s","app_metadata":{"n":%d}}`+"\n",
					i, i, hashes[i%len(hashes)], i)
			}
			pw.Close()
		}()
		var peak atomic.Uint64
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
				}
			}
		}()
		start := time.Now()
		sum, err := svc.ImportUsers(tctx, pr, ImportOptions{}, func(ImportResult) error { return nil })
		took := time.Since(start)
		close(done)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Created != n {
			t.Fatalf("summary %+v", sum)
		}
		t.Logf("%s: %d users with bcrypt hashes imported in %v (%.0f a second); heap in use at most %d MiB",
			db.Name, n, took.Round(time.Millisecond), float64(n)/took.Seconds(), peak.Load()>>20)
	})
}

// TestImportJobResumes: a job's first chunk is imported by one node,
// which then stops holding its lease; a second node cannot take the job
// until the lease expires, then finishes it, and the counts and
// refusals are each line's once.
func TestImportJobResumes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.Open(t, db.URL(t))
		master, _ := secret.ParseMasterKey(secret.NewMasterKey())
		box, _ := secret.NewBox(master)
		keys := keyring.New(s, box, keyring.Config{PoolSize: -1, RotationCheck: time.Hour})
		base, _ := url.Parse("http://localhost:8080")
		h := password.New(password.Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, password.Bound{})
		nodeA := New(Config{BaseURL: base}, s, keys, h)
		nodeB := New(Config{BaseURL: base}, s, keys, h)
		ctx := WithPrincipal(context.Background(), CLI())
		if _, err := nodeA.CreateTenant(ctx, CreateTenantInput{Slug: "jobs"}); err != nil {
			t.Fatal(err)
		}
		tctx, _, err := nodeA.WithTenant(ctx, "jobs")
		if err != nil {
			t.Fatal(err)
		}
		var in strings.Builder
		for i := range 1200 {
			switch i {
			case 10:
				in.WriteString(`{"email":` + "\n")
			case 700:
				in.WriteString(`{"email":"long@jobs.test","name":"` + strings.Repeat("x", MaxImportLine) + `"}` + "\n")
			default:
				fmt.Fprintf(&in, `{"email":"user%d@jobs.test"}`+"\n", i)
			}
		}
		j, err := nodeA.StartImportJob(tctx, strings.NewReader(in.String()), ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != tenants.JobPending || j.Chunks != 3 || j.Summary.Lines != 1200 || j.Summary.Refused != 1 {
			t.Fatalf("stored job %+v", j)
		}
		// Node A imports one chunk and "stops": its lease stays.
		if found, err := nodeA.WorkImportJob(ctx, 1, time.Hour); !found || err != nil {
			t.Fatalf("node A: %v %v", found, err)
		}
		if found, _ := nodeB.WorkImportJob(ctx, 10, time.Hour); found {
			t.Fatal("node B took a job whose lease is node A's")
		}
		// The lease expires: node B resumes after the chunk done.
		s.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
		if found, err := nodeB.WorkImportJob(ctx, 10, time.Hour); !found || err != nil {
			t.Fatalf("node B: %v %v", found, err)
		}
		j, err = nodeB.GetImportJob(tctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != tenants.JobDone || j.Done != 3 || j.Summary.Created != 1198 || j.Summary.Refused != 2 || len(j.Refusals) != 2 ||
			j.Refusals[0].Line != 11 || j.Refusals[1].Line != 701 || !strings.Contains(j.Refusals[1].Reason, "too long") {
			t.Fatalf("finished job %+v", j)
		}
		if n, _ := s.CountUsers(tctx); n != 1198 {
			t.Fatalf("%d users", n)
		}
		if found, _ := nodeA.WorkImportJob(ctx, 10, time.Hour); found {
			t.Fatal("a finished job was taken again")
		}
	})
}

// TestImportRolesAndGroups: an import line's roles and groups, by name or
// id, are given to a new user; a second run changes nothing; an existing
// user lacking one is refused without update and given it with update,
// keeping what the file does not name; the export names them back; a role
// of another tenant is no role here.
func TestImportRolesAndGroups(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.Open(t, db.URL(t))
		master, _ := secret.ParseMasterKey(secret.NewMasterKey())
		box, _ := secret.NewBox(master)
		keys := keyring.New(s, box, keyring.Config{PoolSize: -1, RotationCheck: time.Hour})
		base, _ := url.Parse("http://localhost:8080")
		h := password.New(password.Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, password.Bound{})
		svc := New(Config{BaseURL: base}, s, keys, h)
		ctx := WithPrincipal(context.Background(), CLI())
		str := func(v string) *string { return &v }
		var tctx, octx context.Context
		for _, slug := range []string{"links", "other"} {
			if _, err := svc.CreateTenant(ctx, CreateTenantInput{Slug: slug}); err != nil {
				t.Fatal(err)
			}
		}
		tctx, _, _ = svc.WithTenant(ctx, "links")
		octx, _, _ = svc.WithTenant(ctx, "other")
		admin, err := svc.CreateRole(tctx, RoleInput{Name: str("admin")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateRole(tctx, RoleInput{Name: str("viewer")}); err != nil {
			t.Fatal(err)
		}
		sales, err := svc.CreateGroup(tctx, GroupInput{Name: str("Sales")})
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := svc.CreateRole(octx, RoleInput{Name: str("foreign")})
		if err != nil {
			t.Fatal(err)
		}
		run := func(in string, opts ImportOptions) []ImportResult {
			t.Helper()
			var out []ImportResult
			if _, err := svc.ImportUsers(tctx, strings.NewReader(in), opts, func(r ImportResult) error { out = append(out, r); return nil }); err != nil {
				t.Fatal(err)
			}
			return out
		}
		status := func(rs []ImportResult) string {
			var b strings.Builder
			for _, r := range rs {
				fmt.Fprintf(&b, "%d:%s %s;", r.Line, r.Status, r.Reason)
			}
			return b.String()
		}
		file := `{"email":"a@links.test","roles":["admin","` + admin.ID + `"],"groups":["Sales"]}` + "\n" +
			`{"email":"b@links.test","roles":["` + foreign.ID + `"]}` + "\n" +
			`{"email":"c@links.test","groups":["` + sales.ID + `"]}` + "\n"
		if got := status(run(file, ImportOptions{})); got != `1:created ;2:refused roles[0]: no role "`+foreign.ID+`" in this tenant;3:created ;` {
			t.Fatalf("first run: %s", got)
		}
		if got := status(run(file, ImportOptions{})); !strings.HasPrefix(got, "1:unchanged ;2:refused") || !strings.HasSuffix(got, "3:unchanged ;") {
			t.Fatalf("second run: %s", got)
		}
		more := `{"email":"c@links.test","roles":["viewer"]}` + "\n"
		if got := status(run(more, ImportOptions{})); got != "1:refused exists with other values: import with update to change it;" {
			t.Fatalf("without update: %s", got)
		}
		if got := status(run(more, ImportOptions{Update: true})); got != "1:updated ;" {
			t.Fatalf("with update: %s", got)
		}
		got := map[string]string{}
		if err := svc.ExportUsers(tctx, false, func(r *UserRecord) error {
			got[r.Email] = fmt.Sprint(r.Roles, r.Groups)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got["a@links.test"] != "[admin] [Sales]" || got["c@links.test"] != "[viewer] [Sales]" || len(got) != 2 {
			t.Fatalf("export: %v", got)
		}
	})
}
