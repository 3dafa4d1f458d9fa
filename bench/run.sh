#!/usr/bin/env bash
# Measures the figures of docs/benchmarks.md on this machine and prints them.
#
#   bench/run.sh                       # about 10 minutes
#   ASSESSGATE_BENCH_SECONDS=30 bench/run.sh       # longer measurements
#   ASSESSGATE_BENCH_ONLY=Intake64,Node bench/run.sh   # some of them
#
# Needs Go, Node 20 with npm, mailpit (go install github.com/axllent/mailpit@v1.33.1)
# and Postgres's binaries (Debian's postgresql; .ci/postgres.sh installs them).
# Uses ASSESSGATE_TEST_DATABASE_URL if set, else starts a throw-away Postgres.
# Everything runs on loopback; each comparison is measured in one run, the two
# sides taking turns, since the machine may be shared.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== machine"
echo "cores: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "memory: $(free -m | awk '/Mem:/ {print $2 " MiB"}'); kernel $(uname -r); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "disk of $(pwd): $(df -h . | awk 'NR==2 {print $1 ", " $2}')"
echo "$(go version); node $(node --version)"

echo "== services"
if [ -z "${ASSESSGATE_TEST_DATABASE_URL:-}" ]; then
  eval "$(.ci/postgres.sh start)"
  trap '.ci/postgres.sh stop "$PGDIR"' EXIT
fi
echo "postgres: $ASSESSGATE_TEST_DATABASE_URL"
if [ -z "${ASSESSGATE_TEST_MAILPIT:-}" ]; then
  export ASSESSGATE_TEST_MAILPIT=auto
fi
if [ ! -d bench/node-receiver/node_modules/better-sqlite3 ]; then
  npm ci --prefix bench/node-receiver --no-audit --no-fund
fi

echo "== go test -bench: signature, decoding, one intake, 64 concurrent intakes"
go test -run XXX -bench . -benchtime 2s ./kombo | grep -E '^Benchmark'
go test -run XXX -bench 'Intake' -benchtime 5000x ./internal/store | grep -E '^Benchmark'
echo "== pages and WAL bytes written per webhook (into a database of 20,000 orders)"
go test -run XXX -bench 'PagesPerWebhook' -benchtime 2000x ./internal/store | grep -E '^Benchmark'

echo "== end to end (TestBench in cmd/assessgate, built with -tags bench for the no-write route)"
out=$(mktemp)
if ! ASSESSGATE_BENCH=1 go test -tags bench -count=1 -run TestBench -v -timeout 60m ./cmd/assessgate >"$out" 2>&1; then
  cat "$out"
  exit 1
fi
grep -E 'bench_test.go:[0-9]+: (sqlite|postgres|round)' "$out" | sed 's/^ *bench_test.go:[0-9]*: /  /'
echo
sed -n '/FIGURES/,/^--- /p' "$out" | grep -v -e '^--- ' -e FIGURES | sed 's/^ */  /'
rm -f "$out"
