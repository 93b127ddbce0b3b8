#!/usr/bin/env bash
# Signed-in code flow, Gatehouse (PostgreSQL) against node oidc-provider 9,
# alternating rounds, 8 browsers, 6 s each. Run from the repository root
# with PEER_DIR a folder holding `npm i oidc-provider@9` and
# ../shared/bench/oidc-provider-sso.mjs, and GATEHOUSE_BENCH_DATABASE
# naming a scratch PostgreSQL database this script drops and recreates.
#   PEER_DIR=/tmp/peer GATEHOUSE_BENCH_DATABASE=gh_bench app/loadtest/peers/sso.sh
set -euo pipefail
db=${GATEHOUSE_BENCH_DATABASE:?name a scratch database}
peer=${PEER_DIR:?folder with oidc-provider and oidc-provider-sso.mjs}
go build -o /tmp/gatehouse-loadtest ./app/loadtest
for r in 1 2 3; do
	psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\""
	echo "## round $r: gatehouse"
	/tmp/gatehouse-loadtest -database-url "postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" \
		-endpoints sso -browsers 8 -duration 6s ${GH_ARGS:-} | grep '^| sso'
	echo "## round $r: oidc-provider"
	(cd "$peer" && PORT=3100 exec node oidc-provider-sso.mjs >/dev/null 2>&1) &
	pid=$!
	sleep 1.5
	/tmp/gatehouse-loadtest -target http://127.0.0.1:3100 -target-pid "$pid" -endpoints sso -browsers 8 -duration 6s \
		-client-id web -client-secret websecret-0123456789abcdefXYZ -redirect-uri http://127.0.0.1:9000/cb \
		-username a -password b -scope openid -resource https://api.example.com | grep '^| sso'
	kill "$pid"
	wait "$pid" 2>/dev/null || true
done
