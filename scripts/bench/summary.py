#!/usr/bin/env python3
"""Prints the benchmark's side-by-side table: OAS's clean and import
against the same job in Python polars, from the files bench.sh collects.

  --report      the generated report (for its size)
  --expect      the generator's output (lines=, quantity=, total=)
  --oas         oas.py's JSON results
  --peer-out    peer.py's output (`lines=<n> seconds=<s> total=<sum>`)
  --peer-time   GNU time's `%e %M` line for the peer's process
  --peer-name   how to name the peer in the table

Every "seconds" is a whole process's wall time (for OAS, the clean and
import processes together), so start-up is counted on both sides.
Exits 1 when a side's totals do not match the generator's.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path


def key_values(text: str) -> dict[str, str]:
    """`a=1 b=2` words and lines as a dict."""
    pairs = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if sep:
            pairs[key] = value
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--expect", type=Path, required=True)
    parser.add_argument("--oas", type=Path, required=True)
    parser.add_argument("--peer-out", type=Path, required=True)
    parser.add_argument("--peer-time", type=Path, required=True)
    parser.add_argument("--peer-name", default="Python polars")
    args = parser.parse_args()

    expected = key_values(args.expect.read_text())
    lines = int(expected["lines"])
    size_mb = args.report.stat().st_size / 1_000_000

    # (name, seconds, peak MiB, totals match); None where unknown.
    rows: list[tuple[str, float | None, float | None, bool | None]] = []

    oas = json.loads(args.oas.read_text()) if args.oas.is_file() else {}
    steps = oas.get("steps", {})
    for step in ("clean", "import"):
        if step in steps:
            rows.append((f"OAS {step}", steps[step]["seconds"], steps[step]["peak_mib"], None))
    if "seconds" in oas:
        rows.append(("OAS clean+import", oas["seconds"], oas["peak_mib"], oas.get("totals_match")))
    else:
        rows.append(("OAS clean+import", None, None, False))

    peer = key_values(args.peer_out.read_text()) if args.peer_out.is_file() else {}
    peer_time = args.peer_time.read_text().strip().splitlines() if args.peer_time.is_file() else []
    peer_seconds = peer_mib = None
    if peer_time and len(peer_time[-1].split()) == 2:
        elapsed, kib = peer_time[-1].split()
        peer_seconds, peer_mib = float(elapsed), int(kib) / 1024
    peer_match = None
    if "total" in peer and "lines" in peer:
        peer_match = Decimal(peer["total"]) == Decimal(expected["total"]) and int(peer["lines"]) == lines
    rows.append((args.peer_name, peer_seconds, peer_mib, peer_match if peer else False))

    def cell(value, fmt: str, width: int) -> str:
        return f"{'-':>{width}}" if value is None else f"{value:>{width}{fmt}}"

    def verdict(match: bool | None) -> str:
        return {True: "yes", False: "NO", None: ""}[match]

    name_width = max(len(r[0]) for r in rows)
    print()
    print(f"Benchmark: {lines:,} lines ({size_mb:,.1f} MB), expected total {expected['total']}")
    print(f"{'':<{name_width}}  {'seconds':>9}  {'lines/s':>11}  {'peak MiB':>9}  totals match")
    for name, seconds, mib, match in rows:
        # Lines per second for whole jobs only, not for one OAS step.
        per_second = lines / seconds if seconds and match is not None else None
        print(
            f"{name:<{name_width}}  {cell(seconds, '.2f', 9)}  {cell(per_second, ',.0f', 11)}"
            f"  {cell(mib, ',.0f', 9)}  {verdict(match)}"
        )
    if "seconds" in peer:
        print(f"(the peer's job alone, without Python's start and polars' import: {float(peer['seconds']):.2f}s)")
    if oas.get("error"):
        print(f"OAS failed: {oas['error']}")
    ok = all(match for _, _, _, match in rows if match is not None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
