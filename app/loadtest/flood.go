package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// floodConfig is what a flood is run with.
type floodConfig struct {
	dbURL       string
	concurrency int
	duration    time.Duration
	// addresses is how many client addresses the requests come from; 0
	// means a new one for every request.
	addresses int
	requests  int
}

// floods are the measurements of what anonymous requests cost a node.
var floods = map[string]func(context.Context, floodConfig) error{
	"login_flood":     loginFlood,
	"authorize_flood": authorizeFlood,
}

func floodNames() []string {
	names := make([]string, 0, len(floods))
	for n := range floods {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// nodeInfo is what the node process tells the load generator.
type nodeInfo struct {
	Addr        string `json:"addr"`
	Issuer      string `json:"issuer"`
	ClientID    string `json:"client_id"`
	RedirectURI string `json:"redirect_uri"`
}

// serveNode is the node process of a flood: it serves until its standard
// input closes.
func serveNode(ctx context.Context, dbURL string) error {
	n, err := startNode(ctx, dbURL, true, "")
	if err != nil {
		return err
	}
	defer n.close()
	if err := json.NewEncoder(os.Stdout).Encode(nodeInfo{Addr: n.addr, Issuer: n.issuer, ClientID: n.web.ClientID, RedirectURI: n.web.RedirectURIs[0]}); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// child is a node process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	info  nodeInfo
}

// spawnNode starts this command again as a node process on dbURL.
func spawnNode(dbURL string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", "-database-url", dbURL)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := &child{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &ch.info)
	}
	if err != nil {
		ch.stop()
		return nil, fmt.Errorf("node process: %w", err)
	}
	return ch, nil
}

func (ch *child) stop() {
	_ = ch.stdin.Close()
	done := make(chan struct{})
	go func() { _ = ch.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = ch.cmd.Process.Kill()
		<-done
	}
}

// memory reads a field of /proc/<pid>/status ("VmRSS", "VmHWM") in KiB.
func memory(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// resetPeak makes VmHWM start again from the current RSS (Linux 4.0+), so
// that the peak of the node's start-up does not count.
func resetPeak(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// addresses hands out client addresses: with n > 0, n of them in turn;
// otherwise a new one each time.
type addresses struct {
	n    int
	next atomic.Uint32
}

func (a *addresses) get() string {
	i := a.next.Add(1)
	if a.n > 0 {
		i = i%uint32(a.n) + 1
	}
	return fmt.Sprintf("10.%d.%d.%d", byte(i>>16), byte(i>>8), byte(i))
}

func mib(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

var (
	idField   = regexp.MustCompile(`name="id" value="([^"]*)"`)
	csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
)

// statuses counts answers by status, and those that came with Retry-After.
type statuses struct {
	mu         sync.Mutex
	byStatus   map[int]int
	retryAfter map[int]int
	errors     int
	latencies  []time.Duration
}

func (s *statuses) add(resp *http.Response, err error, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errors++
		return
	}
	s.byStatus[resp.StatusCode]++
	if resp.Header.Get("Retry-After") != "" {
		s.retryAfter[resp.StatusCode]++
	}
	s.latencies = append(s.latencies, d)
}

func (s *statuses) String() string {
	var codes []int
	for c := range s.byStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		p := fmt.Sprintf("%d×%d", s.byStatus[c], c)
		if n := s.retryAfter[c]; n > 0 {
			p += fmt.Sprintf(" (%d with Retry-After)", n)
		}
		parts = append(parts, p)
	}
	if s.errors > 0 {
		parts = append(parts, fmt.Sprintf("%d transport errors", s.errors))
	}
	return strings.Join(parts, ", ")
}

func (s *statuses) pct(p int) time.Duration {
	slices.Sort(s.latencies)
	r := result{latencies: s.latencies}
	return r.pct(p)
}

// authorizeForm is a valid authorization request of the node's web client,
// with extra parameters.
func authorizeForm(info nodeInfo, extra url.Values) url.Values {
	f := url.Values{"client_id": {info.ClientID}, "redirect_uri": {info.RedirectURI}, "response_type": {"code"},
		"scope": {"openid"}, "code_challenge": {s256(secret.Token(32))}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func postForm(ctx context.Context, c *http.Client, u string, form url.Values, from string) (*http.Response, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Forwarded-For", from)
	return c.Do(r)
}

// openLogin starts an authorization request in a new browser and returns
// the browser and its login form's request id and anti-CSRF token.
func openLogin(ctx context.Context, transport http.RoundTripper, info nodeInfo, from string) (*http.Client, string, string, error) {
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Transport: transport, Jar: jar, Timeout: 60 * time.Second}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, info.Issuer+"/authorize?"+authorizeForm(info, nil).Encode(), nil)
	if err != nil {
		return nil, "", "", err
	}
	r.Header.Set("X-Forwarded-For", from)
	// The redirect to the login page keeps the header.
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		req.Header.Set("X-Forwarded-For", from)
		return nil
	}
	resp, err := b.Do(r)
	if err != nil {
		return nil, "", "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id, csrf := idField.FindSubmatch(body), csrfField.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || id == nil || csrf == nil {
		return nil, "", "", fmt.Errorf("login page: HTTP %d", resp.StatusCode)
	}
	return b, string(id[1]), string(csrf[1]), nil
}

// loginFlood is finding 6 of the security review: concurrent anonymous
// POST /login with wrong passwords for addresses that have no account (no
// account, no throttle yet: every attempt may cost a password hash), each
// from another client address unless -addresses says otherwise. It prints
// the node process's resident memory before and at its peak
// (/proc/<pid>/status VmHWM, reset after start-up, and VmRSS sampled every
// 10 ms), and how the requests were answered.
func loginFlood(ctx context.Context, cfg floodConfig) error {
	ch, err := spawnNode(cfg.dbURL)
	if err != nil {
		return err
	}
	defer ch.stop()
	pid := ch.cmd.Process.Pid
	transport := client(ch.info.Addr, cfg.concurrency).Transport
	from := &addresses{n: cfg.addresses}

	// Every client opens its login form first (as a browser would), each
	// from an address of its own, so that -addresses counts the flood's
	// addresses only.
	setup := &addresses{}
	setup.next.Store(1 << 20)
	type form struct {
		b        *http.Client
		id, csrf string
	}
	forms := make([]form, cfg.concurrency)
	for i := range forms {
		var err error
		for try := 0; try < 50; try++ {
			var f form
			if f.b, f.id, f.csrf, err = openLogin(ctx, transport, ch.info, setup.get()); err == nil {
				forms[i] = f
				break
			}
		}
		if err != nil {
			return err
		}
	}
	time.Sleep(time.Second) // let the node settle after start-up
	baseline, err := memory(pid, "VmRSS")
	if err != nil {
		return err
	}
	peakNote := "VmHWM since the flood began"
	if err := resetPeak(pid); err != nil {
		peakNote = "VmHWM since start-up (clear_refs: " + err.Error() + ")"
	}
	loadBefore := loadAverage()

	var sampled atomic.Int64
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if kib, err := memory(pid, "VmRSS"); err == nil && kib > sampled.Load() {
				sampled.Store(kib)
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	})

	st := &statuses{byStatus: map[int]int{}, retryAfter: map[int]int{}}
	deadline := time.Now().Add(cfg.duration)
	var wg sync.WaitGroup
	var seq atomic.Int64
	for _, f := range forms {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				n := seq.Add(1)
				body := url.Values{"id": {f.id}, "csrf_token": {f.csrf}, "email": {fmt.Sprintf("nobody-%d@load.test", n)}, "password": {"not the password " + strconv.FormatInt(n, 10)}}
				t0 := time.Now()
				resp, err := postForm(ctx, f.b, ch.info.Issuer+"/login", body, from.get())
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				st.add(resp, err, time.Since(t0))
			}
		})
	}
	wg.Wait()
	close(stopSampling)
	sampler.Wait()
	peak, err := memory(pid, "VmHWM")
	if err != nil {
		return err
	}
	addrs := "a new client address for every request"
	if cfg.addresses > 0 {
		addrs = fmt.Sprintf("%d client addresses", cfg.addresses)
	}
	fmt.Printf("login_flood: %d concurrent anonymous POST /login (unknown users, wrong passwords), %s, %s, default argon2id parameters, node process %d on %s\n\n",
		cfg.concurrency, addrs, cfg.duration, pid, dialect(cfg.dbURL))
	fmt.Println("| node RSS before | peak RSS (VmHWM) | peak RSS (sampled) | requests | answers | p50 | p99 | load average before / after |")
	fmt.Println("|---:|---:|---:|---:|---|---:|---:|---|")
	fmt.Printf("| %s | %s | %s | %d | %s | %s | %s | %s / %s |\n\n", mib(baseline), mib(peak), mib(sampled.Load()), len(st.latencies)+st.errors, st,
		ms(st.pct(50)), ms(st.pct(99)), loadBefore, loadAverage())
	fmt.Println("peak:", peakNote)
	return nil
}

func dialect(dbURL string) string {
	if strings.HasPrefix(dbURL, "sqlite:") {
		return "sqlite"
	}
	return "postgres"
}

// authRequestColumns are the columns of auth_requests an anonymous
// /authorize writes.
var authRequestColumns = []string{"id", "tenant_id", "client_id", "redirect_uri", "state", "nonce", "scopes", "audience", "response_mode",
	"code_challenge", "code_challenge_method", "prompt", "login_hint", "hint_subject", "browser_hash", "user_id", "amr", "idp", "acr", "acr_values"}

// rowBytes returns the bytes of the text columns of the auth request id
// and, on PostgreSQL, pg_column_size of the whole row.
func rowBytes(ctx context.Context, store *tenants.Store, id string) (payload, pgRow int64, err error) {
	db, err := store.SQLDB()
	if err != nil {
		return 0, 0, err
	}
	length := "length(CAST(%s AS BLOB))"
	if store.Dialect() == "postgres" {
		length = "octet_length(%s)"
	}
	var sum []string
	for _, c := range authRequestColumns {
		sum = append(sum, fmt.Sprintf(length, c))
	}
	q := "SELECT " + strings.Join(sum, " + ")
	if store.Dialect() == "postgres" {
		q += ", pg_column_size(a.*)"
	} else {
		q += ", 0"
	}
	q += " FROM auth_requests a WHERE id = " + placeholder(store)
	err = db.QueryRowContext(ctx, q, id).Scan(&payload, &pgRow)
	return payload, pgRow, err
}

func placeholder(store *tenants.Store) string {
	if store.Dialect() == "postgres" {
		return "$1"
	}
	return "?"
}

// tableBytes is the size of auth_requests: pg_total_relation_size on
// PostgreSQL (table, TOAST and indexes), the whole database file's pages
// on SQLite.
func tableBytes(ctx context.Context, store *tenants.Store) (rows, bytes int64, err error) {
	db, err := store.SQLDB()
	if err != nil {
		return 0, 0, err
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM auth_requests").Scan(&rows); err != nil {
		return 0, 0, err
	}
	if store.Dialect() == "postgres" {
		err = db.QueryRowContext(ctx, "SELECT pg_total_relation_size('auth_requests')").Scan(&bytes)
		return rows, bytes, err
	}
	var pages, size int64
	if err := db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, 0, err
	}
	err = db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size)
	return rows, pages * size, err
}

// authorizeFlood is finding 7 of the security review: anonymous
// authorization requests with the largest parameters the node stores. It
// finds, parameter by parameter, the longest value that still makes a
// stored request (the others minimal), sends -requests requests with all
// of them, and prints the bytes of the largest row and how much the table
// grew per request.
func authorizeFlood(ctx context.Context, cfg floodConfig) error {
	ch, err := spawnNode(cfg.dbURL)
	if err != nil {
		return err
	}
	defer ch.stop()
	store, err := tenants.Open(ctx, cfg.dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	c := client(ch.info.Addr, cfg.concurrency)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	from := &addresses{n: cfg.addresses}

	// send makes one request and returns the id of the stored auth
	// request, or "" when the node refused it.
	send := func(extra url.Values) (string, *http.Response, error) {
		resp, err := postForm(ctx, c, ch.info.Issuer+"/authorize", authorizeForm(ch.info, extra), from.get())
		if err != nil {
			return "", nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound || err != nil || loc.Path != "/login" {
			return "", resp, nil
		}
		return loc.Query().Get("id"), resp, nil
	}
	const mfa, phr = "http://schemas.openid.net/pape/policies/2007/06/multi-factor", "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant"
	// Random letters, which PostgreSQL's TOAST cannot compress away.
	long := func(n int) string {
		b := []byte(secret.Token(n))[:n]
		for i := range b {
			if b[i] == '-' || b[i] == '_' {
				b[i] = 'x'
			}
		}
		return string(b)
	}
	acr := func(n, each int) string {
		vs := []string{mfa, phr}
		for i := len(vs); i < n; i++ {
			vs = append(vs, fmt.Sprintf("%d", i)+long(each))
		}
		return strings.Join(vs, " ")
	}
	hint := func(n int) string { return long(n-len("@load.test")) + "@load.test" }
	// What each parameter can be, longest first: the old limits and below.
	candidates := []struct {
		param  string
		values []string
	}{
		{"acr_values", []string{acr(10, 7000), acr(10, 5000), acr(10, 1000), acr(10, 255), acr(64, 32), acr(10, 32), acr(2, 0)}},
		{"state", []string{long(2048), long(1024), long(512), long(256), long(128)}},
		{"nonce", []string{long(512), long(256), long(128), long(64)}},
		{"login_hint", []string{hint(256), hint(254), hint(128)}},
		{"prompt", []string{"login consent select_account", "login"}},
		{"max_age", []string{"999999999999999999", "3600"}},
		{"scope", []string{"openid profile email offline_access", "openid"}},
	}
	worst := url.Values{}
	fmt.Printf("authorize_flood: anonymous POST /authorize on %s, node process %d, load average %s\n\n", dialect(cfg.dbURL), ch.cmd.Process.Pid, loadAverage())
	fmt.Println("| parameter | longest value stored | row bytes with it |")
	fmt.Println("|---|---:|---:|")
	for _, cand := range candidates {
		best, bestBytes := "", int64(-1)
		for _, v := range cand.values {
			id, _, err := send(url.Values{cand.param: {v}})
			if err != nil {
				return err
			}
			if id == "" {
				continue
			}
			b, _, err := rowBytes(ctx, store, id)
			if err != nil {
				return err
			}
			if b > bestBytes {
				best, bestBytes = v, b
			}
		}
		if bestBytes < 0 {
			return fmt.Errorf("no value of %s is accepted", cand.param)
		}
		worst.Set(cand.param, best)
		fmt.Printf("| %s | %d bytes | %d |\n", cand.param, len(best), bestBytes)
	}
	id, resp, err := send(worst)
	if err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("the combined request was refused: HTTP %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	payload, pgRow, err := rowBytes(ctx, store, id)
	if err != nil {
		return err
	}
	rows0, bytes0, err := tableBytes(ctx, store)
	if err != nil {
		return err
	}
	st := &statuses{byStatus: map[int]int{}, retryAfter: map[int]int{}}
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(cfg.requests))
	var stored atomic.Int64
	for range cfg.concurrency {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				t0 := time.Now()
				id, resp, err := send(worst)
				st.add(resp, err, time.Since(t0))
				if id != "" {
					stored.Add(1)
				}
			}
		})
	}
	wg.Wait()
	rows1, bytes1, err := tableBytes(ctx, store)
	if err != nil {
		return err
	}
	fmt.Printf("\nlargest row an anonymous request makes: %d bytes of text", payload)
	if pgRow > 0 {
		fmt.Printf(", pg_column_size %d bytes", pgRow)
	}
	perRow := int64(0)
	if rows1 > rows0 {
		perRow = (bytes1 - bytes0) / (rows1 - rows0)
	}
	fmt.Printf("\n%d requests (%s): %d stored, table %d → %d rows, %d → %d bytes, %d bytes per stored request; load average %s\n",
		cfg.requests, st, stored.Load(), rows0, rows1, bytes0, bytes1, perRow, loadAverage())
	return nil
}
