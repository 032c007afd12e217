#!/usr/bin/env bash
# The statement benchmark (`make bench`, after the reports'): statements of
# STATEMENT_CONTRACTS contracts (default 1,000) over a year of the report
# benchmark's imported lines (REPORT_LINES, default 10,000,000, as files of
# twelve months), OAS's statement module beside the same job in Python
# polars, alternating for BENCH_ROUNDS rounds. Every line is priced by the
# most specific term of the contract its track belongs to; each contract's
# total is rounded once and divided among its payees; each payee gets a CSV
# of its lines adding up to its earnings (and, on OAS's side, a PDF). Both
# sides must price the same lines to the same exact total and state the
# same earnings and payable to the cent.
#
# Called by scripts/bench.sh after scripts/bench/report.sh (whose prepared
# lines it reads); run on its own: scripts/bench/statement.sh WORK VENV.
set -euo pipefail
cd "$(dirname "$0")/../.."

work="$1"
venv="$2"
rounds="${BENCH_ROUNDS:-3}"
contracts="${STATEMENT_CONTRACTS:-1000}"
gnu_time=/usr/bin/time
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oas-target}"

data="$work/report"
[[ -f "$data/lines.parquet" && -f "$data/items.parquet" ]] || {
  echo "run scripts/bench/report.sh first: it prepares the lines" >&2
  exit 1
}
echo "Building the statement benchmark (release)..." >&2
cargo build --release -p oas-statement --example statement_bench
bench="$CARGO_TARGET_DIR/release/examples/statement_bench"
"$bench" prepare "$data" "$contracts" >"$data/statement-prepare.json"

for round in $(seq 1 "$rounds"); do
  echo "Round $round of $rounds: OAS (statements)..." >&2
  "$gnu_time" -f '%e %M' -o "$data/oas-statements-$round.time" \
    "$bench" statements "$data" >"$data/oas-statements-$round.json"
  echo "Round $round of $rounds: the peer (statements, Python polars)..." >&2
  "$gnu_time" -f '%e %M' -o "$data/peer-statements-$round.time" \
    "$venv/bin/python" scripts/bench/statement_peer.py "$data" \
    >"$data/peer-statements-$round.json"
done

"$venv/bin/python" - "$data" "$rounds" <<'PY'
import csv, json, statistics, sys
from decimal import Decimal, getcontext
getcontext().prec = 80  # exact sums, not 28 digits
from pathlib import Path

data, rounds = Path(sys.argv[1]), int(sys.argv[2])
prepared = json.loads((data / "statement-prepare.json").read_text())
ok = True
runs = {}
print(f"\nStatements of {prepared['contracts']:,} contracts over a year of imported lines ({prepared['files']} files), {rounds} round(s)\n")
print(f"{'':<16}{'median s':>10}{'peak MiB':>10}{'statements':>12}{'lines priced':>14}{'PDF ms p50/max':>16}  rounds (s)")
for side, name in (("oas", "OAS (Rust)"), ("peer", "Python polars")):
    seconds, peaks = [], []
    for r in range(1, rounds + 1):
        t = (data / f"{side}-statements-{r}.time").read_text().split()
        seconds.append(float(t[0]))
        peaks.append(int(t[1]) / 1024)
        runs[side] = json.loads((data / f"{side}-statements-{r}.json").read_text())
    run = runs[side]
    pdf = f"{run['pdf_ms_median']:.1f}/{run['pdf_ms_max']:.1f}" if "pdf_ms_max" in run else "none"
    print(f"{name:<16}{statistics.median(seconds):>10.2f}{max(peaks):>10.0f}{run['statements']:>12,}"
          f"{run['priced_lines']:>14,}{pdf:>16}  " + " ".join(f"{s:.2f}" for s in seconds))
oas, peer = runs["oas"], runs["peer"]
for figure in ("priced", "earnings", "payable"):
    same = Decimal(oas[figure]) == Decimal(peer[figure])
    ok &= same
    print(f"{figure:<10} OAS {oas[figure]}  peer {peer[figure]}  {'same' if same else 'DIFFERENT'}")
ok &= oas["priced_lines"] == peer["priced_lines"] and oas["statements"] == peer["statements"]
# Each payee's CSV adds up to its statement's earnings, on both sides: the
# same for a sample of statements, read back with a parser.
for path in sorted((data / "oas-out").glob("statement-*.csv"))[:20]:
    sums = []
    for side in ("oas", "peer"):
        with open(data / f"{side}-out" / path.name, newline="", encoding="utf-8") as f:
            sums.append(sum(Decimal(r["payee_royalty"]) for r in csv.DictReader(f)))
    if sums[0] != sums[1]:
        print(f"{path.name}: OAS adds up to {sums[0]}, the peer to {sums[1]}")
        ok = False
sys.exit(0 if ok else 1)
PY
