// Command loadtest measures a Gatehouse node under load over real HTTP: it
// starts a node in-process (on a fresh embedded SQLite, or on the
// PostgreSQL named by -database-url), sets up a tenant, then drives each
// scenario with concurrent keep-alive clients for a while and prints
// throughput and latency percentiles as a Markdown table.
//
//	go run ./app/loadtest -duration 10s -concurrency 8
//
// The scenarios are single requests (client_credentials, discovery, jwks,
// userinfo, introspection; -concurrency clients) and two browser flows
// (-browsers browsers), each counted in flows/s:
//
//   - login: a new browser: GET /authorize, the login page, the password
//     posted, consent (granted once per user, before the clock starts), the
//     code at the redirect URI and its exchange with PKCE.
//   - sso: a signed-in browser whose consent is remembered: /authorize, the
//     code, its exchange.
//
// -tenants N spreads discovery, JWKS and client credentials over N tenants,
// a random one per request (created through the admin service at set-up,
// and warmed once), each after the same scenario on one tenant, its
// baseline. -limits measures this machine's own ceilings in the same
// run (RSA-2048 and ECDSA P-256 signatures/s, argon2id hashes/s with the
// parameters passwords are hashed with, each on every core) and gives
// every scenario's rate as a share of the one that bounds it.
// -cpuprofile PREFIX writes a CPU profile of each scenario; -idle D watches
// the node idle for D after the set-up (its CPU and RSS with -tenants N).
//
// -target ISSUER drives another authorization server instead (found through
// its discovery document) with the client of -client-id and -client-secret:
// the same load generator for a side-by-side comparison with a peer.
//
//	go run ./app/loadtest -target http://127.0.0.1:3000 -endpoints client_credentials -client-id bench -client-secret ... -scope api:read
//
// The load generator shares the machine with the server, so the figures are
// a lower bound of what the server alone would do.
//
// The floods (-endpoints login_flood, authorize_flood) measure what
// anonymous requests cost the node instead: they run the node as a separate
// process (this command with -serve), so that its memory is its own, and
// send each request from another client address through X-Forwarded-For,
// as a botnet would:
//
//	go run ./app/loadtest -endpoints login_flood -concurrency 48 -duration 10s
//	go run ./app/loadtest -endpoints authorize_flood -requests 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

func main() {
	if err := cli(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func cli() error {
	var cfg runConfig
	var only string
	flag.StringVar(&cfg.dbURL, "database-url", "", "database to run on (default: a fresh SQLite file in a temporary folder)")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to drive each scenario")
	flag.IntVar(&cfg.concurrency, "concurrency", 8, "concurrent clients of the request scenarios")
	flag.IntVar(&cfg.browsers, "browsers", 8, "concurrent browsers of the flows (login, sso)")
	flag.StringVar(&only, "endpoints", "", "comma-separated subset: "+strings.Join(allScenarios, ",")+"; or one of the floods, which run the node as a separate process: "+strings.Join(floodNames(), ","))
	flag.IntVar(&cfg.tenants, "tenants", 1, "spread discovery, jwks and client_credentials over this many tenants, a random one per request")
	flag.BoolVar(&cfg.keepTenants, "keep-tenants", false, "-tenants: name the extra tenants lt-1, lt-2, ... and reuse those the database already holds (created by an earlier run with this flag), so that a run over 10,000 tenants need not create them again; discovery and jwks only")
	flag.StringVar(&cfg.alg, "alg", "", "in-process node: sign access tokens and ID tokens with this algorithm ("+strings.Join(tenants.SigningAlgorithms(), ", ")+"; default RS256)")
	flag.DurationVar(&cfg.idle, "idle", 0, "watch the node idle this long after the set-up (CPU share of a core, RSS), before the scenarios")
	flag.BoolVar(&cfg.limits, "limits", false, "measure this machine's RSA, ECDSA and argon2id limits first and give each rate as a share of its limit")
	flag.DurationVar(&cfg.limitsDuration, "limits-duration", 3*time.Second, "how long to measure each limit")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of each scenario to PREFIX.SCENARIO.pprof")
	flag.StringVar(&cfg.target, "target", "", "issuer URL of another authorization server to drive instead of an in-process node (scenarios: "+strings.Join(targetScenarios, ",")+")")
	flag.IntVar(&cfg.targetPID, "target-pid", 0, "-target: the target's process on this machine, whose CPU time then counts with the load generator's (per CPU-second rates)")
	flag.StringVar(&cfg.clientID, "client-id", "", "-target: the client's id")
	flag.StringVar(&cfg.clientSecret, "client-secret", "", "-target: the client's secret (client_secret_basic)")
	flag.StringVar(&cfg.scope, "scope", "", "-target: scope of the requests (flows: default openid)")
	flag.StringVar(&cfg.resource, "resource", "", "-target: RFC 8707 resource of the requests")
	flag.StringVar(&cfg.redirectURI, "redirect-uri", "", "-target: the client's redirect URI (flows)")
	flag.StringVar(&cfg.username, "username", "", "-target: the account the login form is filled with (flows)")
	flag.StringVar(&cfg.password, "password", "", "-target: its password")
	addresses := flag.Int("addresses", 0, "floods: client addresses the requests come from, through X-Forwarded-For (0: a new address for every request)")
	requests := flag.Int("requests", 1000, "authorize_flood: how many authorization requests to send")
	serve := flag.Bool("serve", false, "internal: run as the node process of a flood")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	if only != "" {
		cfg.scenarios = strings.Split(only, ",")
	}

	_, flood := floods[only]
	if (cfg.target == "" || *serve || flood) && cfg.dbURL == "" {
		u, remove, err := tempDatabase()
		if err != nil {
			return err
		}
		defer remove()
		cfg.dbURL = u
	}
	if *serve {
		return serveNode(ctx, cfg.dbURL)
	}
	if fl, ok := floods[only]; ok {
		return fl(ctx, floodConfig{dbURL: cfg.dbURL, concurrency: cfg.concurrency, duration: cfg.duration, addresses: *addresses, requests: *requests})
	}
	_, err := run(ctx, cfg, os.Stdout)
	return err
}
