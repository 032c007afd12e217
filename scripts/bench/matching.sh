#!/usr/bin/env bash
# The matching benchmark (`make bench`, after the import's): OAS's
# catalogue-matching cascade against the same cascade in Python (polars
# joins for the identifier stages, rapidfuzz for the fuzzy one), on the
# same catalog and the same sales lines, alternating for BENCH_ROUNDS
# rounds. Both sides must add the items up to the lines' exact total.
#
#   MATCH_TRACKS (default 100,000)  catalog tracks
#   MATCH_ITEMS  (default 100,000)  distinct usage items, a third without ISRC
#   MATCH_LINES  (default 1,000,000) sales lines
#
# Called by scripts/bench.sh with the venv and work folder it made; run on
# its own: scripts/bench/matching.sh WORK VENV.
set -euo pipefail
cd "$(dirname "$0")/../.."

work="$1"
venv="$2"
rounds="${BENCH_ROUNDS:-3}"
tracks="${MATCH_TRACKS:-100000}"
items="${MATCH_ITEMS:-100000}"
lines="${MATCH_LINES:-1000000}"
gnu_time=/usr/bin/time
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oas-target}"

echo "Building the matching benchmark (release)..." >&2
cargo build --release -p oas-catalogue-matching --example match_bench
bench="$CARGO_TARGET_DIR/release/examples/match_bench"

if ! "$venv/bin/python" -c 'import rapidfuzz' 2>/dev/null; then
  echo "Installing rapidfuzz into $venv (once)..." >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check rapidfuzz >&2
fi

data="$work/matching"
echo "Generating $tracks catalog tracks and $lines lines of $items items..." >&2
"$bench" generate "$data" --tracks "$tracks" --items "$items" --lines "$lines"

for round in $(seq 1 "$rounds"); do
  echo "Round $round of $rounds: OAS (match)..." >&2
  "$gnu_time" -f '%e %M' -o "$data/oas-$round.time" "$bench" match "$data" >"$data/oas-$round.json"
  echo "Round $round of $rounds: the peer (Python polars + rapidfuzz)..." >&2
  "$gnu_time" -f '%e %M' -o "$data/peer-$round.time" \
    "$venv/bin/python" scripts/bench/match_peer.py "$data" >"$data/peer-$round.json"
done

"$venv/bin/python" - "$data" "$rounds" <<'PY'
import json, statistics, sys
from pathlib import Path

data, rounds = Path(sys.argv[1]), int(sys.argv[2])
expect = json.loads((data / "expect.json").read_text())
ok = True
print(f"\nMatching {expect['lines']:,} lines ({expect['items']:,} items) against {expect['tracks']:,} catalog tracks, {rounds} round(s)\n")
print(f"{'':<28}{'median s':>10}{'peak MiB':>10}{'matched':>9}{'review':>8}{'unmatched':>10}  total   rounds (s)")
for side, name in (("oas", "OAS (Rust)"), ("peer", "Python polars + rapidfuzz")):
    runs = [json.loads((data / f"{side}-{r}.json").read_text()) for r in range(1, rounds + 1)]
    times = [(data / f"{side}-{r}.time").read_text().split() for r in range(1, rounds + 1)]
    seconds = [float(t[0]) for t in times]
    peak = max(int(t[1]) for t in times) / 1024
    exact = all(run["total"].rstrip("0").rstrip(".") == expect["total"].rstrip("0").rstrip(".") for run in runs)
    ok &= exact
    last = runs[-1]
    print(f"{name:<28}{statistics.median(seconds):>10.2f}{peak:>10.0f}{last['matched']:>9}{last['review']:>8}{last['unmatched']:>10}  {'exact' if exact else 'WRONG'}   "
          + " ".join(f"{s:.2f}" for s in seconds))
    print(f"{'':<28}matched by stage: {last['by_type']}")
    if side == "oas":
        print(f"{'':<28}inside (last round): catalog {last['catalog_seconds']:.2f} s, lines {last['lines_seconds']:.2f} s, "
              f"index {last['index_seconds']:.2f} s, match {last['match_seconds']:.2f} s")
sys.exit(0 if ok else 1)
PY
