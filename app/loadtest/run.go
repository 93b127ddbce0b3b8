package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// runConfig is what a load run is asked to do.
type runConfig struct {
	// keepTenants reuses the extra tenants an earlier run left (-keep-tenants).
	keepTenants           bool
	dbURL                 string
	duration              time.Duration
	concurrency, browsers int
	// scenarios to run; empty means all (of the target's, with -target).
	scenarios []string
	tenants   int
	// alg signs the node's access and ID tokens (tenants.SigningAlgorithms;
	// empty: RS256).
	alg            string
	limits         bool
	limitsDuration time.Duration
	// idle, when positive, is how long the node is watched idle after the
	// set-up, before the scenarios.
	idle time.Duration
	// cpuProfile, when set, is the prefix of a CPU profile per scenario
	// (PREFIX.SCENARIO.pprof), taken while the clock runs.
	cpuProfile string

	// target, when set, is the issuer of another server to drive, with
	// this client.
	target string
	// targetPID, when set, is the target's process on this machine: its
	// CPU time counts with the load generator's, as the in-process node's
	// does.
	targetPID                                            int
	clientID, clientSecret, scope, resource, redirectURI string
	username, password                                   string
}

var (
	allScenarios    = []string{"client_credentials", "discovery", "jwks", "userinfo", "introspection", "login", "sso"}
	targetScenarios = []string{"client_credentials", "discovery", "jwks", "login", "sso"}
	// multiTenant are the scenarios -tenants spreads.
	multiTenant = []string{"client_credentials", "discovery", "jwks"}
)

// maxTenants bounds -tenants: each costs an RSA key at set-up.
const maxTenants = 100_000

func (c *runConfig) validate() error {
	switch {
	case c.duration <= 0 || c.duration > time.Hour:
		return fmt.Errorf("-duration %s: want more than 0 and at most 1h", c.duration)
	case c.concurrency < 1 || c.concurrency > 4096:
		return fmt.Errorf("-concurrency %d: want 1 to 4096", c.concurrency)
	case c.browsers < 1 || c.browsers > 4096:
		return fmt.Errorf("-browsers %d: want 1 to 4096", c.browsers)
	case c.tenants < 1 || c.tenants > maxTenants:
		return fmt.Errorf("-tenants %d: want 1 to %d", c.tenants, maxTenants)
	case c.alg != "" && !slices.Contains(tenants.SigningAlgorithms(), c.alg):
		return fmt.Errorf("-alg %q: want one of %s", c.alg, strings.Join(tenants.SigningAlgorithms(), ", "))
	case c.alg != "" && c.target != "":
		return errors.New("-alg needs an in-process node (not -target): the target signs with what it is configured with")
	case c.idle < 0 || c.idle > time.Hour:
		return fmt.Errorf("-idle %s: want 0 to 1h", c.idle)
	case c.idle > 0 && c.target != "":
		return errors.New("-idle needs an in-process node (not -target)")
	case c.limits && (c.limitsDuration <= 0 || c.limitsDuration > 10*time.Minute):
		return fmt.Errorf("-limits-duration %s: want more than 0 and at most 10m", c.limitsDuration)
	}
	known := allScenarios
	if c.target != "" {
		known = targetScenarios
	}
	for _, s := range c.scenarios {
		if !slices.Contains(known, s) {
			if c.target != "" && slices.Contains(allScenarios, s) {
				return fmt.Errorf("scenario %q needs an in-process node (not -target)", s)
			}
			return fmt.Errorf("unknown scenario %q (want %s)", s, strings.Join(known, ","))
		}
	}
	if c.keepTenants && (c.tenants < 2 || c.runs("client_credentials")) {
		return errors.New("-keep-tenants goes with -tenants N (N > 1) and spreads discovery and jwks only (-endpoints discovery,jwks)")
	}
	if c.target == "" {
		if c.targetPID != 0 || c.clientID != "" || c.clientSecret != "" || c.scope != "" || c.resource != "" || c.redirectURI != "" || c.username != "" || c.password != "" {
			return errors.New("-client-id, -client-secret, -scope, -resource, -redirect-uri, -username, -password and -target-pid go with -target")
		}
		return nil
	}
	if _, err := targetURL(c.target); err != nil {
		return err
	}
	if c.tenants != 1 {
		return errors.New("-tenants needs an in-process node (not -target)")
	}
	if c.targetPID < 0 {
		return fmt.Errorf("-target-pid %d: want a process id", c.targetPID)
	}
	if c.targetPID > 0 {
		if _, err := processCPU(c.targetPID); err != nil {
			return fmt.Errorf("-target-pid: %w", err)
		}
	}
	if c.clientID == "" && (c.runs("client_credentials") || c.runs("login") || c.runs("sso")) {
		return errors.New("-target: client_credentials, login and sso need -client-id")
	}
	if c.redirectURI == "" && (c.runs("login") || c.runs("sso")) {
		return errors.New("-target: login and sso need -redirect-uri")
	}
	if u, err := url.Parse(c.redirectURI); c.redirectURI != "" && (err != nil || u.Scheme == "" || u.Host == "") {
		return fmt.Errorf("-redirect-uri %q: want an absolute URL", c.redirectURI)
	}
	return nil
}

// runs says whether the run includes scenario s.
func (c *runConfig) runs(s string) bool {
	if len(c.scenarios) == 0 {
		if c.target != "" {
			return slices.Contains(targetScenarios, s)
		}
		return true
	}
	return slices.Contains(c.scenarios, s)
}

// targetURL checks an issuer URL given on the command line.
func targetURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(s) > 2048 {
		return nil, fmt.Errorf("-target %.100q: want an http(s) issuer URL without credentials, query or fragment", s)
	}
	return u, nil
}

// dialAddress is where a URL's requests go: its host and port, with
// *.localhost on the loopback address (Go does not resolve it).
func dialAddress(u *url.URL) string {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// endpoints are the URLs of one tenant (one issuer) and its machine client.
type endpoints struct {
	discovery, jwks, token string
	ccID, ccSecret         string
	ccForm                 string // the body of a client-credentials request
}

// site is what a run drives: the in-process node or a target.
type site struct {
	// addr is where every request is dialled.
	addr string
	// shareHost sends every request to one URL host (the Host header
	// names the tenant), so that requests to many tenants share the
	// keep-alive connections.
	shareHost  bool
	tenants    []endpoints
	userinfo   func() (*http.Request, error)
	introspect func() (*http.Request, error)
	rp         *relyingParty
	users      []credentials
	xff        bool // browsers claim client addresses through X-Forwarded-For
	inProcess  bool // the node runs in this process
	// cpu is the CPU time of the server and the load generator, nil when
	// unknown.
	cpu         func() time.Duration
	creation    []time.Duration
	setupNote   string
	closeFn     func()
	description string
}

// row is one line of the report.
type row struct {
	Scenario string
	Tenants  int
	Flows    bool
	N        int
	Errors   int
	Rate     float64
	// CPURate is per second of CPU time of the server and the load
	// generator (0 for a target without -target-pid).
	CPURate  float64
	P50, P90 time.Duration
	P99      time.Duration
	// Limit is the share of the machine limit that bounds the scenario,
	// "" without -limits.
	Limit    string
	FirstErr error
	Note     string
}

// run sets up what cfg asks for, drives each scenario and writes the
// report to w.
func run(ctx context.Context, cfg runConfig, w io.Writer) ([]row, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var lm *limiter
	var before [3]rates
	if cfg.limits {
		var err error
		if lm, err = newLimiter(cfg.limitsDuration); err != nil {
			return nil, err
		}
		before = lm.measure()
	}
	var s *site
	var err error
	if cfg.target != "" {
		s, err = targetSite(ctx, cfg)
	} else {
		s, err = nodeSite(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	defer s.closeFn()
	loadBefore := loadAverage()

	fmt.Fprintf(w, "Load test of %s: %d clients, %d browsers, %s per scenario, GOMAXPROCS %d (shared with the load generator), load average %s\n\n",
		s.description, cfg.concurrency, cfg.browsers, cfg.duration, runtime.GOMAXPROCS(0), loadBefore)
	if len(s.creation) > 0 {
		c := &result{latencies: slices.Sorted(slices.Values(s.creation))}
		fmt.Fprintf(w, "%d tenants: creation (admin CreateTenant, %d at once) p50 %s, p99 %s; %s\n\n", len(s.creation)+1, runtime.GOMAXPROCS(0), ms(c.pct(50)), ms(c.pct(99)), s.setupNote)
	}
	if cfg.idle > 0 && s.inProcess {
		fmt.Fprintln(w, idle(ctx, cfg.idle, len(s.tenants)))
		fmt.Fprintln(w)
	}
	var rows []row
	var measured []scenario
	for _, sc := range scenarios(ctx, cfg, s) {
		if !cfg.runs(sc.name) {
			continue
		}
		r, err := sc.measure(ctx, cfg, s.cpu)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", sc.name, err)
		}
		if i := len(rows) - 1; r.Tenants > 1 && i >= 0 && rows[i].Scenario == r.Scenario && rows[i].Rate > 0 {
			r.Note = fmt.Sprintf("over %d tenants: %.0f%% of one tenant's rate; ", r.Tenants, 100*r.Rate/rows[i].Rate) + r.Note
		}
		rows = append(rows, r)
		measured = append(measured, sc)
	}
	if lm != nil {
		lim := lm.combine(before, lm.measure())
		for i, sc := range measured {
			if sc.limit != nil {
				rows[i].Limit = sc.limit(lim, rates{rows[i].Rate, rows[i].CPURate})
			}
		}
		fmt.Fprintf(w, "Machine limits, %d goroutines for %s each, before and after the scenarios:\n\n", lim.procs, cfg.limitsDuration)
		fmt.Fprintln(w, "| limit | per second before | after | per CPU-second (mean) |")
		fmt.Fprintln(w, "|---|---:|---:|---:|")
		for i, name := range []string{"RSA-2048 PKCS #1 v1.5 SHA-256 signatures (RS256)", "ECDSA P-256 SHA-256 signatures (ES256)",
			fmt.Sprintf("argon2id hashes (m=%d KiB, t=%d, p=%d)", lim.params.Memory, lim.params.Time, lim.params.Threads)} {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, num(lim.before[i].wall), num(lim.after[i].wall), num((lim.before[i].cpu+lim.after[i].cpu)/2))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "| scenario | tenants | done | per second | per CPU-second | p50 | p90 | p99 | errors | share of the machine limit (wall; CPU) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range rows {
		unit := "req/s"
		if r.Flows {
			unit = "flows/s"
		}
		limit := r.Limit
		if limit == "" {
			limit = "–"
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s %s | %s | %s | %s | %s | %d | %s |\n", r.Scenario, r.Tenants, r.N, num(r.Rate), unit, num(r.CPURate), ms(r.P50), ms(r.P90), ms(r.P99), r.Errors, limit)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		if r.Note != "" {
			fmt.Fprintf(w, "- %s: %s\n", r.Scenario, r.Note)
		}
		if r.FirstErr != nil {
			fmt.Fprintf(w, "- %s: first error: %v\n", r.Scenario, r.FirstErr)
		}
	}
	fmt.Fprintf(w, "\nload average before / after: %s / %s", loadBefore, loadAverage())
	if s.inProcess {
		if kib, err := memory(os.Getpid(), "VmHWM"); err == nil {
			fmt.Fprintf(w, "; peak RSS of the node and the load generator: %s", mib(kib))
		}
	}
	fmt.Fprintln(w)
	if cfg.cpuProfile != "" {
		fmt.Fprintf(w, "CPU profiles: %s.SCENARIO.pprof (the load generator's samples carry the label role=loadgen: go tool pprof -tagignore role=loadgen ... shows the node alone)\n", cfg.cpuProfile)
	}
	return rows, nil
}

// idle watches the in-process node doing nothing for d (its background
// work only: the change feed, sweeps) and says what it cost: CPU as a share
// of a core, and resident memory before and after a collection.
func idle(ctx context.Context, d time.Duration, tenants int) string {
	runtime.GC()
	cpu0, t0 := cpuTime(), time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	cpu, wall := cpuTime()-cpu0, time.Since(t0)
	rss, _ := memory(os.Getpid(), "VmRSS")
	runtime.GC()
	debug.FreeOSMemory()
	after, _ := memory(os.Getpid(), "VmRSS")
	return fmt.Sprintf("idle for %s with %d tenants: %.2f%% of a core; RSS %s, %s after a collection (node and the idle load generator)",
		wall.Round(time.Millisecond), tenants, 100*cpu.Seconds()/wall.Seconds(), mib(rss), mib(after))
}

// scenario is one thing the run measures.
type scenario struct {
	name    string
	tenants int
	flows   bool
	workers int
	// prepare runs before the clock starts and returns each worker's
	// operation.
	prepare func(ctx context.Context) (func(ctx context.Context, worker int) error, error)
	// limit says what share of lim the rate is.
	limit func(lim *limits, rate rates) string
	note  func() string
}

func (sc scenario) measure(ctx context.Context, cfg runConfig, cpuTime func() time.Duration) (row, error) {
	op, err := sc.prepare(ctx)
	if err != nil {
		return row{}, err
	}
	var prof *os.File
	if cfg.cpuProfile != "" {
		name := sc.name
		if sc.tenants > 1 {
			name += fmt.Sprintf("-%dtenants", sc.tenants)
		}
		if prof, err = os.Create(cfg.cpuProfile + "." + name + ".pprof"); err != nil {
			return row{}, err
		}
		defer prof.Close()
		if err := pprof.StartCPUProfile(prof); err != nil {
			return row{}, err
		}
	}
	var cpu0 time.Duration
	if cpuTime != nil {
		cpu0 = cpuTime()
	}
	res := drive(ctx, sc.workers, cfg.duration, op)
	var cpu time.Duration
	if cpuTime != nil {
		cpu = cpuTime() - cpu0
	}
	if prof != nil {
		pprof.StopCPUProfile()
	}
	r := row{Scenario: sc.name, Tenants: sc.tenants, Flows: sc.flows, N: res.n, Errors: res.errors, Rate: float64(res.n) / res.elapsed.Seconds(),
		P50: res.pct(50), P90: res.pct(90), P99: res.pct(99), FirstErr: res.firstErr}
	if cpuTime != nil && cpu > 0 {
		r.CPURate = float64(res.n) / cpu.Seconds()
	}
	if sc.note != nil {
		r.Note = sc.note()
	}
	if cpuTime != nil && cfg.target == "" {
		if kib, err := memory(os.Getpid(), "VmRSS"); err == nil {
			r.Note = strings.TrimPrefix(r.Note+"; ", "; ") + "RSS of the node and the load generator after it: " + mib(kib)
		}
	}
	return r, nil
}

// share writes r as a share of the bound of a machine that does an
// operation op times a second when each request or flow costs cost of
// them: wall-clock, and per CPU-second when both are known.
func share(r, op rates, cost float64, what string) string {
	if cost <= 0 || op.wall <= 0 {
		return ""
	}
	s := fmt.Sprintf("%.0f%% of %s/s (%s)", 100*r.wall*cost/op.wall, num(op.wall/cost), what)
	if r.cpu > 0 && op.cpu > 0 {
		s += fmt.Sprintf("; CPU %.0f%% of %s", 100*r.cpu*cost/op.cpu, num(op.cpu/cost))
	}
	return s
}

// num writes a rate with the precision it deserves.
func num(v float64) string {
	switch {
	case v == 0:
		return "–"
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func scenarios(ctx context.Context, cfg runConfig, s *site) []scenario {
	hc := client(s.addr, cfg.concurrency)
	do := func(ctx context.Context, r *http.Request) error {
		resp, err := hc.Do(r.WithContext(ctx))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d from %s", resp.StatusCode, r.URL.Path)
		}
		return nil
	}
	newReq := func(method, raw, body string) (*http.Request, error) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		r, err := http.NewRequest(method, raw, rd)
		if err != nil {
			return nil, err
		}
		if s.shareHost {
			r.Host = r.URL.Host
			r.URL.Host = s.addr
		}
		if body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return r, nil
	}
	simple := func(name string, tenants int, req func() (*http.Request, error)) scenario {
		return scenario{name: name, tenants: tenants, workers: cfg.concurrency,
			prepare: func(context.Context) (func(context.Context, int) error, error) {
				return func(ctx context.Context, _ int) error {
					r, err := req()
					if err != nil {
						return err
					}
					return do(ctx, r)
				}, nil
			}}
	}
	ccReq := func(e endpoints) (*http.Request, error) {
		r, err := newReq(http.MethodPost, e.token, e.ccForm)
		if err == nil {
			r.SetBasicAuth(url.QueryEscape(e.ccID), url.QueryEscape(e.ccSecret))
		}
		return r, err
	}
	// spread are the multi-tenant scenarios over tenants; with more than
	// one, each is run first on one tenant, the baseline of the spread.
	var list []scenario
	spread := func(tenants []endpoints) {
		pick := func() endpoints { return tenants[rand.IntN(len(tenants))] }
		nt := len(tenants)
		// Client credentials: its probe counts the signatures of a token.
		var ccSigs int
		cc := simple("client_credentials", nt, func() (*http.Request, error) { return ccReq(pick()) })
		ccOp := cc.prepare
		cc.prepare = func(ctx context.Context) (func(context.Context, int) error, error) {
			r, err := ccReq(tenants[0])
			if err != nil {
				return nil, err
			}
			if ccSigs, err = probeToken(ctx, hc, r); err != nil {
				return nil, err
			}
			return ccOp(ctx)
		}
		cc.limit = func(lim *limits, rate rates) string {
			op, name := lim.signatures(cfg.alg)
			return share(rate, op, float64(ccSigs), plural(ccSigs, name+" signature", name+" signatures")+" a token")
		}
		cc.note = func() string { return fmt.Sprintf("a token response holds %s", plural(ccSigs, "JWS", "JWS")) }
		list = append(list, cc,
			simple("discovery", nt, func() (*http.Request, error) { return newReq(http.MethodGet, pick().discovery, "") }),
			simple("jwks", nt, func() (*http.Request, error) { return newReq(http.MethodGet, pick().jwks, "") }))
	}
	if len(s.tenants) > 1 {
		spread(s.tenants[:1])
	}
	spread(s.tenants)
	// One tenant's scenario, then the spread's.
	slices.SortStableFunc(list, func(a, b scenario) int {
		return slices.Index(multiTenant, a.name) - slices.Index(multiTenant, b.name)
	})
	if s.userinfo != nil {
		list = append(list, simple("userinfo", 1, s.userinfo), simple("introspection", 1, s.introspect))
	}
	if s.rp != nil {
		list = append(list, flowScenarios(cfg, s)...)
	}
	return list
}

// probeToken sends r and returns how many JWS the token response holds.
func probeToken(ctx context.Context, hc *http.Client, r *http.Request) (int, error) {
	resp, err := hc.Do(r.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("probe: HTTP %d %s", resp.StatusCode, snippet(body))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := jsonUnmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return 0, fmt.Errorf("probe: no access token in %s", snippet(body))
	}
	return jws(tok.AccessToken) + jws(tok.IDToken), nil
}

// flowStat sums what the timed flows of a scenario did.
type flowStat struct {
	flows, requests, redirects, consented, signedIn, signatures atomic.Int64
}

func (f *flowStat) add(st flowStats) {
	f.flows.Add(1)
	f.requests.Add(int64(st.requests))
	f.redirects.Add(int64(st.redirects))
	f.signatures.Add(int64(st.signatures))
	if st.consented {
		f.consented.Add(1)
	}
	if st.signedIn {
		f.signedIn.Add(1)
	}
}

func (f *flowStat) note(first string) string {
	if f.flows.Load() == 0 {
		return first
	}
	return first + "; timed flows: " + f.shape()
}

// shape is what a flow took on average.
func (f *flowStat) shape() string {
	n := f.flows.Load()
	if n == 0 {
		return "none"
	}
	per := func(v *atomic.Int64) float64 { return float64(v.Load()) / float64(n) }
	return fmt.Sprintf("%.1f requests to the code (%.1f redirects) + the exchange, %.1f signed tokens; login form in %d, consent page in %d of %d",
		per(&f.requests), per(&f.redirects), per(&f.signatures), f.signedIn.Load(), f.consented.Load(), n)
}

func (f *flowStat) perFlow() float64 {
	n := f.flows.Load()
	if n == 0 {
		return 0
	}
	return float64(f.signatures.Load()) / float64(n)
}

// flowScenarios are login and sso for s's relying party.
func flowScenarios(cfg runConfig, s *site) []scenario {
	transport := client(s.addr, cfg.browsers).Transport
	addrs := &addresses{}
	addrs.next.Store(2 << 20) // apart from the floods' and the setup's
	newB := func() *browser {
		b := newBrowser(transport)
		if s.xff {
			b.from = addrs.get()
		}
		return b
	}
	user := func(w int) *credentials { return &s.users[w%len(s.users)] }

	// signIn runs each user's first flow (sign-in and consent) before the
	// clock starts, and returns the signed-in browsers.
	signIn := func(ctx context.Context, first *string) ([]*browser, error) {
		bs := make([]*browser, cfg.browsers)
		var mu sync.Mutex
		var firstErr error
		setup := &flowStat{}
		var wg sync.WaitGroup
		for w := range bs {
			wg.Go(func() {
				b := newB()
				st, err := s.rp.flow(ctx, b, user(w))
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				bs[w] = b
				setup.add(st)
			})
		}
		wg.Wait()
		*first = "before the clock, each browser signed in once: " + setup.shape()
		return bs, firstErr
	}

	login, sso := &flowStat{}, &flowStat{}
	var loginFirst, ssoFirst string
	return []scenario{
		{name: "login", tenants: 1, flows: true, workers: cfg.browsers,
			prepare: func(ctx context.Context) (func(context.Context, int) error, error) {
				if _, err := signIn(ctx, &loginFirst); err != nil {
					return nil, fmt.Errorf("sign-in before the clock: %w", err)
				}
				return func(ctx context.Context, w int) error {
					st, err := s.rp.flow(ctx, newB(), user(w))
					if err == nil {
						login.add(st)
					}
					return err
				}, nil
			},
			limit: func(lim *limits, rate rates) string {
				// With its signatures: a flow costs 1/argon2 + n/rsa seconds.
				n := login.perFlow()
				op, name := lim.signatures(cfg.alg)
				if op.wall <= 0 || op.cpu <= 0 {
					return share(rate, lim.argon2, 1, "1 argon2id hash a flow")
				}
				both := rates{1 / (1/lim.argon2.wall + n/op.wall), 1 / (1/lim.argon2.cpu + n/op.cpu)}
				return share(rate, lim.argon2, 1, "1 argon2id hash a flow") + "; with its " + fmt.Sprintf("%.0f", n) + " " + name + " signatures " + share(rate, both, 1, "hash and signatures")
			},
			note: func() string { return login.note(loginFirst) }},
		{name: "sso", tenants: 1, flows: true, workers: cfg.browsers,
			prepare: func(ctx context.Context) (func(context.Context, int) error, error) {
				bs, err := signIn(ctx, &ssoFirst)
				if err != nil {
					return nil, fmt.Errorf("sign-in before the clock: %w", err)
				}
				return func(ctx context.Context, w int) error {
					b := bs[w]
					if s.xff {
						b.from = addrs.get()
					}
					st, err := s.rp.flow(ctx, b, nil)
					if err == nil {
						sso.add(st)
					}
					return err
				}, nil
			},
			limit: func(lim *limits, rate rates) string {
				n := sso.perFlow()
				op, name := lim.signatures(cfg.alg)
				return share(rate, op, n, fmt.Sprintf("%.0f %s signatures a flow", n, name))
			},
			note: func() string { return sso.note(ssoFirst) }},
	}
}

// nodeSite starts an in-process node on cfg.dbURL and sets it up: the
// quickstart's tenant, cfg.tenants-1 more with a machine client each, and a
// user per browser.
func nodeSite(ctx context.Context, cfg runConfig) (*site, error) {
	n, err := startNode(ctx, cfg.dbURL, true, cfg.alg)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			n.close()
		}
	}()
	s := &site{addr: n.addr, shareHost: true, xff: true, inProcess: true, cpu: cpuTime, closeFn: n.close,
		description: fmt.Sprintf("an in-process Gatehouse node on %s", n.store.Dialect())}
	s.tenants = append(s.tenants, nodeEndpoints(n.issuer, n.worker))
	if cfg.tenants > 1 {
		more, took, err := createTenants(ctx, n, cfg.tenants-1, cfg.alg, cfg.keepTenants)
		if err != nil {
			return nil, err
		}
		s.tenants = append(s.tenants, more...)
		for _, d := range took {
			if d > 0 { // a kept tenant took nothing to create
				s.creation = append(s.creation, d)
			}
		}
		// Warm every tenant once, as a node that has served them would be.
		t0 := time.Now()
		hc := client(n.addr, cfg.concurrency)
		for _, e := range s.tenants {
			for _, u := range []string{e.discovery, e.jwks} {
				r, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				resp, err := hc.Do(r)
				if err != nil {
					return nil, err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		s.setupNote = fmt.Sprintf("every tenant's discovery and JWKS fetched once to warm the node (%s)", time.Since(t0).Round(time.Millisecond))
	}
	if cfg.runs("userinfo") || cfg.runs("introspection") {
		hc := client(n.addr, 1)
		token, err := userToken(n.tctx, n.store, hc, n.tenant, n.web, n.user.ID)
		if err != nil {
			return nil, err
		}
		get := func(raw, auth string) func() (*http.Request, error) {
			return func() (*http.Request, error) {
				r, err := http.NewRequest(http.MethodGet, raw, nil)
				if err == nil {
					r.Header.Set("Authorization", auth)
				}
				return r, err
			}
		}
		s.userinfo = get(n.issuer+"/userinfo", "Bearer "+token)
		form := url.Values{"token": {token}}.Encode()
		s.introspect = func() (*http.Request, error) {
			r, err := http.NewRequest(http.MethodPost, n.issuer+"/oauth/introspect", strings.NewReader(form))
			if err == nil {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.SetBasicAuth(n.web.ClientID, n.web.ClientSecret)
			}
			return r, err
		}
	}
	if cfg.runs("login") || cfg.runs("sso") {
		s.rp = &relyingParty{authorize: n.issuer + "/authorize", token: n.issuer + "/oauth/token", clientID: n.web.ClientID, secret: n.web.ClientSecret,
			redirectURI: n.web.RedirectURIs[0], scope: "openid email"}
		if cfg.alg != "" {
			// Access tokens for Gatehouse's own userinfo are RS256; the
			// API's are signed with -alg.
			s.rp.resource = n.api
		}
		// A user per browser (each password hashed once here).
		svc := n.srv.Admin()
		for i := range cfg.browsers {
			c := credentials{username: fmt.Sprintf("user%d@load.test", i), password: "correct horse battery staple"}
			if _, err := svc.CreateUser(n.tctx, admin.CreateUserInput{Email: c.username, Password: c.password}); err != nil {
				return nil, err
			}
			s.users = append(s.users, c)
		}
	}
	ok = true
	return s, nil
}

func nodeEndpoints(issuer string, worker *admin.Client) endpoints {
	return endpoints{discovery: issuer + "/.well-known/openid-configuration", jwks: issuer + "/.well-known/jwks.json", token: issuer + "/oauth/token",
		ccID: worker.ClientID, ccSecret: worker.ClientSecret, ccForm: url.Values{"grant_type": {"client_credentials"}}.Encode()}
}

// createTenants makes count tenants through the admin service, each with
// an API and a machine client, on GOMAXPROCS workers, and returns their
// endpoints and how long each CreateTenant took. With keep, the tenants
// are lt-1 ... lt-count, and those the database already holds are reused
// as they are (their discovery and JWKS; no client): their creation times
// are not counted.
func createTenants(ctx context.Context, n *node, count int, alg string, keep bool) ([]endpoints, []time.Duration, error) {
	svc := n.srv.Admin()
	out := make([]endpoints, count)
	took := make([]time.Duration, count)
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	prefix := fmt.Sprintf("lt%d", time.Now().UnixNano()%1e9)
	if keep {
		prefix = "lt"
	}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				slug := fmt.Sprintf("%s-%d", prefix, i+1)
				var e endpoints
				var d time.Duration
				var err error
				if keep {
					e, d, err = keptTenant(ctx, n, slug, alg)
				} else {
					e, d, err = createTenant(ctx, svc, slug, alg)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					next.Store(int64(count))
					return
				}
				out[i], took[i] = e, d
			}
		})
	}
	wg.Wait()
	return out, took, firstErr
}

// keptTenant is tenant slug as an earlier -keep-tenants run left it, or a
// new one (d is then how long its creation took).
func keptTenant(ctx context.Context, n *node, slug, alg string) (e endpoints, d time.Duration, err error) {
	svc := n.srv.Admin()
	if _, _, err := svc.WithTenant(ctx, slug); err != nil {
		if !errors.Is(err, tenants.ErrNotFound) {
			return endpoints{}, 0, err
		}
		t0 := time.Now()
		if _, err := svc.CreateTenant(ctx, admin.CreateTenantInput{Slug: slug, Name: slug}); err != nil {
			return endpoints{}, 0, fmt.Errorf("tenant %s: %w", slug, err)
		}
		d = time.Since(t0)
	}
	// The issuer of this run's node: the tenant's stored one names the
	// port of the run that created it.
	u, _ := url.Parse(n.issuer)
	_, port, _ := net.SplitHostPort(u.Host)
	issuer := u.Scheme + "://" + slug + ".localhost:" + port
	return endpoints{discovery: issuer + "/.well-known/openid-configuration", jwks: issuer + "/.well-known/jwks.json"}, d, nil
}

func createTenant(ctx context.Context, svc *admin.Service, slug, alg string) (endpoints, time.Duration, error) {
	t0 := time.Now()
	tv, err := svc.CreateTenant(ctx, admin.CreateTenantInput{Slug: slug, Name: slug})
	if err != nil {
		return endpoints{}, 0, fmt.Errorf("tenant %s: %w", slug, err)
	}
	d := time.Since(t0)
	tctx, _, err := svc.WithTenant(ctx, tv.Slug)
	if err != nil {
		return endpoints{}, 0, err
	}
	api := "https://api." + slug + ".test"
	if _, err := svc.CreateAPI(tctx, admin.CreateAPIInput{Audience: api, Scopes: []admin.ScopeInput{{Name: "read:orders"}}, SigningAlg: alg}); err != nil {
		return endpoints{}, 0, err
	}
	w, err := svc.CreateClient(tctx, admin.CreateClientInput{Name: "worker", GrantTypes: []string{"client_credentials"}, Audiences: []string{api}})
	if err != nil {
		return endpoints{}, 0, err
	}
	return nodeEndpoints(tv.Issuer, w), d, nil
}

// targetSite reads the discovery document of cfg.target.
func targetSite(ctx context.Context, cfg runConfig) (*site, error) {
	u, err := targetURL(cfg.target)
	if err != nil {
		return nil, err
	}
	issuer := strings.TrimSuffix(u.String(), "/")
	// The browsers claim addresses of their own, as a node that trusts the
	// load generator as its proxy would see many users; others ignore it.
	s := &site{addr: dialAddress(u), xff: true, closeFn: func() {}, description: issuer}
	if cfg.targetPID > 0 {
		s.description += fmt.Sprintf(" (process %d)", cfg.targetPID)
		s.cpu = func() time.Duration {
			t, _ := processCPU(cfg.targetPID)
			return cpuTime() + t
		}
	}
	hc := client(s.addr, 1)
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(r)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	var d struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		JWKS          string `json:"jwks_uri"`
	}
	if resp.StatusCode != http.StatusOK || jsonUnmarshal(body, &d) != nil || d.Token == "" {
		return nil, fmt.Errorf("discovery at %s: HTTP %d %s", issuer, resp.StatusCode, snippet(body))
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if cfg.scope != "" {
		form.Set("scope", cfg.scope)
	}
	if cfg.resource != "" {
		form.Set("resource", cfg.resource)
	}
	s.tenants = []endpoints{{discovery: issuer + "/.well-known/openid-configuration", jwks: d.JWKS, token: d.Token,
		ccID: cfg.clientID, ccSecret: cfg.clientSecret, ccForm: form.Encode()}}
	if cfg.runs("login") || cfg.runs("sso") {
		if d.Authorization == "" {
			return nil, errors.New("discovery: no authorization_endpoint")
		}
		scope := cfg.scope
		if scope == "" {
			scope = "openid"
		}
		s.rp = &relyingParty{authorize: d.Authorization, token: d.Token, clientID: cfg.clientID, secret: cfg.clientSecret,
			redirectURI: cfg.redirectURI, scope: scope, resource: cfg.resource}
		s.users = []credentials{{username: cfg.username, password: cfg.password}}
	}
	return s, nil
}
