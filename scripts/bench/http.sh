#!/usr/bin/env bash
# The gateway under load from a second process (wrk), in the same run:
# an authenticated paged list (`GET /api/files/salesfiles/`, an API key,
# 200 files in a real database) beside `/healthz` on the same server, the
# ceiling of what the HTTP stack answers; on PostgreSQL, the dashboard of
# those 200 files, each given a snapshot of 2,000 groups per dimension and
# 50 usage items not matched. Prints requests per second and p50/p99
# latency of each.
#
#   BENCH_HTTP_SECONDS   seconds of load per route (default 10)
#   BENCH_HTTP_CONNECTIONS  connections held open (default 32)
#   BENCH_DATABASE_URL   a PostgreSQL server the script may create a
#                        database on (default: OAS_TEST_DATABASE_URL, else
#                        postgres://postgres@127.0.0.1:5432/postgres when it
#                        answers, else the embedded SQLite)
#
# Called by scripts/bench.sh after the release build; runnable alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oas-target}"
seconds="${BENCH_HTTP_SECONDS:-10}"
connections="${BENCH_HTTP_CONNECTIONS:-32}"
oas="$CARGO_TARGET_DIR/release/oas"
[[ -x "$oas" ]] || cargo build --release -p oas

if ! command -v wrk >/dev/null; then
  echo "Installing wrk (Debian) for the HTTP benchmark..." >&2
  if [[ $(id -u) -eq 0 ]]; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; } >&2
  else
    sudo apt-get install -y -qq wrk >&2
  fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/oas-http-bench.XXXXXX")"
server_pid=""
database=""
admin_url=""
cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$database" ]]; then
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  return "$status"
}
trap cleanup EXIT

# PostgreSQL, as in production, when one answers.
admin_url="${BENCH_DATABASE_URL:-${OAS_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
database_url=""
if command -v psql >/dev/null && psql -q "$admin_url" -c 'SELECT 1' >/dev/null 2>&1; then
  database="oas_bench_$$"
  psql -q "$admin_url" -c "CREATE DATABASE $database" >/dev/null
  database_url="${admin_url%/*}/$database"
  engine="PostgreSQL"
else
  engine="SQLite (no PostgreSQL answered at $admin_url)"
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# exec: the background job is the server itself, so that its pid stops it.
run_oas() {
  exec env OAS_DATA_DIR="$work/data" OAS_BIND="127.0.0.1:$port" OAS_LOG="${BENCH_HTTP_LOG:-warn}" \
    ${database_url:+OAS_DATABASE_URL="$database_url"} "$oas" "$@"
}
key="$(echo 'violet-harbour-tangent-41' | run_oas createsuperuser --username bench \
  --email bench@label.com --password-stdin 2>/dev/null | tail -n 1)"
run_oas serve >"$work/gateway.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -sf "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf -X POST "$base/api/organisations/" -H "X-Api-Key: $key" -H 'Content-Type: application/json' \
  -d '{"name": "Bench Records", "base_currency": "USD", "currencies": ["USD"]}' >/dev/null
for n in $(seq 1 200); do
  curl -sf -X POST "$base/api/files/salesfiles/" -H "X-Api-Key: $key" -H 'Content-Type: application/json' \
    -d "{\"filename\": \"report-$n.csv\", \"filetype\": \"CSV\", \"filesize\": 1000, \"mongo_db_id\": \"report-$n\"}" >/dev/null
done
list="/api/files/salesfiles/?page=3&page_size=20"
count="$(curl -sf "$base$list" -H "X-Api-Key: $key" | python3 -c 'import json, sys; print(json.load(sys.stdin)["count"])')"

# wrk's summary of one route: requests/s, p50 and p99 in milliseconds.
load() {
  local name="$1" path="$2"
  shift 2
  wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@" "$base$path" >"$work/$name.txt"
  python3 - "$work/$name.txt" "$name" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{sys.argv[2]}\t{rps:.0f}\t{ms('50'):.2f}\t{ms('99'):.2f}\t{errors.group(1) if errors else 0}")
EOF
}

# The dashboard's inputs, as imports and matching leave them: each file
# FINALIZED in a month of 2025, its snapshot (pages of 500 groups of each
# dimension), and usage items waiting for the catalog.
dashboard=""
if [[ -n "$database" ]]; then
  psql -q "$database_url" >/dev/null <<'SQL'
UPDATE sales_files
   SET status = 'FINALIZED',
       reporting_period = '2025-' || lpad((1 + id % 12)::text, 2, '0');
INSERT INTO snapshots (file_id, organisation_id, currency, base_currency, period, lines,
                       revenue, base_revenue, quantity, created_at)
SELECT id, organisation_id, 'USD', 'USD', reporting_period, 100000,
       '1234.5678', '1234.5678', 250000, now()
  FROM sales_files;
INSERT INTO snapshot_pages (file_id, organisation_id, dimension, page, row_count, keys, body)
SELECT f.id, f.organisation_id, d, p, 500,
       (SELECT json_agg('key-' || ((g * 7 + f.id) % 20000))::text
          FROM generate_series(p * 500, p * 500 + 499) g),
       (SELECT json_agg(json_build_array('key-' || ((g * 7 + f.id) % 20000), 'Name ' || g,
                                         NULL, NULL, (2000 - g) || '.25', NULL, 3))::text
          FROM generate_series(p * 500, p * 500 + 499) g)
  FROM sales_files f,
       unnest(ARRAY['artist', 'dsp', 'territory', 'track', 'release']) d,
       generate_series(0, 3) p;
INSERT INTO usage_items (organisation_id, file_id, artist, track_title, release_title, isrc, upc,
                         catalog_number, artist_key, title_key, isrc_key, gtin_key, lines, quantity,
                         revenue, revenue_rank, status, match_type, confidence, track_id, rule_id,
                         candidates, reason, source, matched_at)
SELECT f.organisation_id, f.id, 'Artist ' || n, 'Title ' || n, '', '', '', '', 'artist ' || n,
       'title ' || n, '', '', 10, 20, '0.125', 0.125, 'unmatched', NULL, 0, NULL, NULL, '[]',
       'No catalog track came close.', NULL, now()
  FROM sales_files f, generate_series(1, 50) n;
SQL
  dashboard="/api/dashboard/?period_from=2025-01&period_to=2025-12"
fi

echo "HTTP: $connections connections, ${seconds}s a route, database $engine, $count files" >&2
load healthz /healthz >"$work/healthz.tsv"
load list "$list" -H "X-Api-Key: $key" >"$work/list.tsv"
if [[ -n "$dashboard" ]]; then
  # The first answer is computed (and kept); wrk then reads kept ones.
  cold="$(curl -sf -o /dev/null -w '%{time_total}' "$base$dashboard" -H "X-Api-Key: $key")"
  echo "The dashboard's first answer, computed: $(python3 -c "print(f'{$cold * 1000:.0f}')") ms" >&2
  load dashboard "$dashboard" -H "X-Api-Key: $key" >"$work/dashboard.tsv"
else
  : >"$work/dashboard.tsv"
fi
if [[ -n "${BENCH_HTTP_EXTRA:-}" ]]; then
  for path in $BENCH_HTTP_EXTRA; do load extra "$path" -H "X-Api-Key: $key" >&2; done
fi
python3 - "$work/healthz.tsv" "$work/list.tsv" "$work/dashboard.tsv" "$connections" "$engine" <<'EOF'
import sys
rows = [open(p).read().split("\t") for p in sys.argv[1:4] if open(p).read().strip()]
print()
print(f"HTTP, {sys.argv[4]} connections, database {sys.argv[5]}")
print("| route | requests/s | p50 ms | p99 ms | non-2xx |")
print("|---|---:|---:|---:|---:|")
names = {
    "healthz": "`GET /healthz` (the ceiling)",
    "list": "`GET /api/files/salesfiles/?page=3&page_size=20`, API key",
    "dashboard": "`GET /api/dashboard/` of 200 files with snapshots, API key",
}
for name, rps, p50, p99, errors in rows:
    print(f"| {names[name]} | {int(rps):,} | {p50} | {p99} | {errors.strip()} |")
(_, ceiling, *_), (_, listed, _, p99, errors) = rows[:2]
share = float(listed) / float(ceiling)
print(f"\nThe authenticated list: {share:.0%} of the ceiling's throughput, p99 {p99} ms.")
ok = share >= 0.5 and float(p99) < 10 and int(errors) == 0
print("Target (at least half the ceiling, p99 under 10 ms, no errors):", "met" if ok else "NOT met")
if len(rows) > 2:
    _, rps, p50, p99, errors = rows[2]
    print(f"The dashboard of 200 files: {float(rps):.0f} requests/s, p50 {p50} ms, p99 {p99} ms, {errors.strip()} non-2xx.")
EOF
