#!/usr/bin/env bash
# Benchmarks OAS's ingestion of a large Spotify report against the same job
# in Python polars (`make bench`).
#
#   1. builds the release binaries of oas, oas-uploads and oas-importer;
#   2. creates (once) a venv with polars under $OAS_TOOLS_DIR/bench-venv;
#   3. generates a report of BENCH_LINES lines (default 1,000,000, ~170 MB;
#      BENCH_LINES=10000000 checks that memory stays bounded);
#   4. runs OAS's clean and import on it (scripts/bench/oas.py: the module
#      binaries with job files, no HTTP server) and checks the snapshot's
#      totals against the generator's exact sum;
#   5. runs the polars peer (scripts/bench/peer.py) on the same file;
#   6. repeats 4 and 5, alternating, BENCH_ROUNDS times (default 3);
#   7. prints both side by side: each side's median seconds, lines per
#      second, peak memory, and every round's seconds;
#   8. matches 1,000,000 sales lines (100,000 items) against a 100,000-track
#      catalog, OAS's cascade beside the same cascade in Python (polars and
#      rapidfuzz), alternating (scripts/bench/matching.sh);
#   9. writes the monthly and unmatched reports of 10,000,000 imported lines
#      (REPORT_LINES), OAS's report module beside the same job in Python
#      polars, alternating (scripts/bench/report.sh);
#  10. calculates the statements of 1,000 contracts (STATEMENT_CONTRACTS)
#      over those lines as a year of files, each payee's CSV and PDF, OAS's
#      statement module beside the same job in Python polars, alternating
#      (scripts/bench/statement.sh);
#  11. loads the running gateway from a second process (wrk), an
#      authenticated paged list beside /healthz (scripts/bench/http.sh).
#
# Everything is written to a temporary folder, removed at the end
# (BENCH_KEEP=1 keeps it and prints where it is). A large run needs free
# disk space of about five times the report's size: OAS keeps the upload,
# its cleaned copy and each module's working copy.
set -euo pipefail
cd "$(dirname "$0")/.."

lines="${BENCH_LINES:-1000000}"
if ! [[ "$lines" =~ ^[1-9][0-9]*$ ]]; then
  echo "BENCH_LINES must be a positive whole number, not \"$lines\"" >&2
  exit 2
fi
rounds="${BENCH_ROUNDS:-3}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "BENCH_ROUNDS must be a positive whole number, not \"$rounds\"" >&2
  exit 2
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oas-target}"
tools_dir="${OAS_TOOLS_DIR:-$HOME/.cache/oas-tools}"
venv="$tools_dir/bench-venv"
gnu_time=/usr/bin/time

if [[ ! -x "$gnu_time" ]]; then
  echo "GNU time ($gnu_time) is needed to measure peak memory (apt-get install time)" >&2
  exit 1
fi

echo "Building the release binaries..." >&2
cargo build --release -p oas -p oas-uploads -p oas-importer

if [[ ! -x "$venv/bin/python" ]]; then
  mkdir -p "$tools_dir"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import polars' 2>/dev/null; then
  echo "Installing polars into $venv (once)..." >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check polars >&2
fi
polars_version="$("$venv/bin/python" -c 'import polars; print(polars.__version__)')"

work="$(mktemp -d "${TMPDIR:-/tmp}/oas-bench.XXXXXX")"
cleanup() {
  if [[ "${BENCH_KEEP:-}" == 1 ]]; then
    echo "Kept the work folder: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
# Let an interrupt end the script through the EXIT trap.
trap 'exit 130' INT TERM

report="$work/report.txt"
echo "Generating $lines lines..." >&2
python3 scripts/bench/generate.py --lines "$lines" --out "$report" >"$work/generate.out"

oas_status=0
peer_status=0
summary_args=()
for round in $(seq 1 "$rounds"); do
  echo "Round $round of $rounds: OAS (clean, import)..." >&2
  python3 scripts/bench/oas.py "$report" --work "$work/oas" \
    --expect "$work/generate.out" --json "$work/oas-$round.json" || oas_status=$?
  echo "Round $round of $rounds: the peer (Python polars $polars_version)..." >&2
  "$gnu_time" -f '%e %M' -o "$work/peer-$round.time" \
    "$venv/bin/python" scripts/bench/peer.py "$report" --out "$work/peer" \
    >"$work/peer-$round.out" || peer_status=$?
  cat "$work/peer-$round.out"
  summary_args+=(--oas "$work/oas-$round.json" --peer-out "$work/peer-$round.out"
    --peer-time "$work/peer-$round.time")
  # Each round starts from nothing (and a large report's copies would
  # fill the disk); the last round's are kept with BENCH_KEEP=1.
  if ((round < rounds)); then
    rm -rf "$work/oas" "$work/peer"
  fi
done

summary_status=0
python3 scripts/bench/summary.py \
  --report "$report" \
  --expect "$work/generate.out" \
  "${summary_args[@]}" \
  --peer-name "Python polars $polars_version" || summary_status=$?

matching_status=0
scripts/bench/matching.sh "$work" "$venv" || matching_status=$?

report_status=0
scripts/bench/report.sh "$work" "$venv" || report_status=$?

statement_status=0
if ((report_status == 0)); then
  scripts/bench/statement.sh "$work" "$venv" || statement_status=$?
else
  statement_status=1
fi

http_status=0
scripts/bench/http.sh || http_status=$?

if ((oas_status != 0 || peer_status != 0 || summary_status != 0 || matching_status != 0 || report_status != 0 || statement_status != 0 || http_status != 0)); then
  echo "The benchmark failed: see the messages above." >&2
  exit 1
fi
