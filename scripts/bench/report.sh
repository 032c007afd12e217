#!/usr/bin/env bash
# The report benchmark (`make bench`, after matching's): the monthly and the
# unmatched report of a period of REPORT_LINES imported lines (default
# 10,000,000), OAS's report module beside the same job in Python polars
# (scan the Parquet lines, join the matches and the catalog, write CSV.gz),
# alternating for BENCH_ROUNDS rounds. The lines are a generated Spotify
# report cleaned and imported by OAS's own modules (scripts/bench/oas.py);
# its usage items are matched eight in ten (report_bench prepare). Both
# sides must write every line once and add each report up to the exact
# total of its items.
#
# Called by scripts/bench.sh with the venv and work folder it made; run on
# its own: scripts/bench/report.sh WORK VENV.
set -euo pipefail
cd "$(dirname "$0")/../.."

work="$1"
venv="$2"
rounds="${BENCH_ROUNDS:-3}"
lines="${REPORT_LINES:-10000000}"
gnu_time=/usr/bin/time
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oas-target}"

echo "Building the report benchmark (release)..." >&2
cargo build --release -p oas -p oas-uploads -p oas-importer
cargo build --release -p oas-report --example report_bench
bench="$CARGO_TARGET_DIR/release/examples/report_bench"

data="$work/report"
mkdir -p "$data"
echo "Generating and importing $lines lines..." >&2
python3 scripts/bench/generate.py --lines "$lines" --out "$data/report.txt" >"$data/generate.out"
python3 scripts/bench/oas.py "$data/report.txt" --work "$data/import" \
  --expect "$data/generate.out" --json "$data/import.json" >/dev/null
# The report itself is not needed any more: only its imported lines.
rm -f "$data/report.txt"
parquet="$(find "$data/import/storage/org-1/lines" -name 'file-1.parquet' | head -1)"
period="$(basename "$(dirname "$parquet")")"
mv "$parquet" "$data/lines.parquet"
rm -rf "$data/import"
"$bench" prepare "$data" >/dev/null

for round in $(seq 1 "$rounds"); do
  for kind in monthly unmatched; do
    echo "Round $round of $rounds: OAS ($kind)..." >&2
    "$gnu_time" -f '%e %M' -o "$data/oas-$kind-$round.time" \
      "$bench" report "$data" "$kind" "$period" >"$data/oas-$kind-$round.json"
    echo "Round $round of $rounds: the peer ($kind, Python polars)..." >&2
    "$gnu_time" -f '%e %M' -o "$data/peer-$kind-$round.time" \
      "$venv/bin/python" scripts/bench/report_peer.py "$data" "$kind" "$period" \
      >"$data/peer-$kind-$round.json"
  done
done

"$venv/bin/python" - "$data" "$rounds" "$lines" <<'PY'
import gzip, json, statistics, sys
from decimal import Decimal
from pathlib import Path

data, rounds, lines = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
expect = json.loads((data / "expect.json").read_text())
ok = True
print(f"\nMonthly and unmatched reports of {lines:,} imported lines ({expect['items']:,} usage items), {rounds} round(s)\n")
print(f"{'':<22}{'median s':>10}{'peak MiB':>10}{'monthly':>12}{'unmatched':>12}{'MB out':>8}  totals   rounds (s, both reports)")
for side, name in (("oas", "OAS (Rust)"), ("peer", "Python polars")):
    seconds, peaks, exact, out = [], [], True, 0
    for r in range(1, rounds + 1):
        both = 0.0
        for kind in ("monthly", "unmatched"):
            t = (data / f"{side}-{kind}-{r}.time").read_text().split()
            both += float(t[0])
            peaks.append(int(t[1]) / 1024)
            run = json.loads((data / f"{side}-{kind}-{r}.json").read_text())
            exact &= run["rows"] == expect[kind]["rows"]
            exact &= Decimal(run["total"]) == Decimal(expect[kind]["total"])
            out += run["bytes"] if r == rounds else 0
        seconds.append(both)
    ok &= exact
    print(f"{name:<22}{statistics.median(seconds):>10.2f}{max(peaks):>10.0f}"
          f"{expect['monthly']['rows']:>12,}{expect['unmatched']['rows']:>12,}{out / 1e6:>8.0f}  "
          f"{'exact' if exact else 'WRONG'}    " + " ".join(f"{s:.2f}" for s in seconds))
# The two sides' files hold the same lines.
for kind in ("monthly", "unmatched"):
    counts = []
    for side in ("oas", "peer"):
        with gzip.open(data / f"{side}-{kind}.csv.gz", "rt", encoding="utf-8") as f:
            counts.append(sum(1 for _ in f) - 1)
    if counts[0] != counts[1]:
        print(f"{kind}: OAS wrote {counts[0]:,} lines, the peer {counts[1]:,}")
        ok = False
sys.exit(0 if ok else 1)
PY
