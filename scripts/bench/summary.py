#!/usr/bin/env python3
"""Prints the benchmark's side-by-side table: OAS's clean and import
against the same job in Python polars, from the files bench.sh collects.

  --report      the generated report (for its size)
  --expect      the generator's output (lines=, quantity=, total=)
  --oas         oas.py's JSON results, once per round
  --peer-out    peer.py's output (`lines=<n> seconds=<s> total=<sum>`), once
                per round
  --peer-time   GNU time's `%e %M` line for the peer's process, once per round
  --peer-name   how to name the peer in the table

Every "seconds" is a whole process's wall time (for OAS, the clean and
import processes together), so start-up is counted on both sides. With
several rounds (the two sides alternating), the table gives each side's
median seconds and its largest peak memory, and every round's seconds
follow it: one run differs from the next by a tenth or more on a shared
machine. Exits 1 when any round's totals do not match the generator's.
"""

from __future__ import annotations

import argparse
import json
import statistics
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


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--expect", type=Path, required=True)
    parser.add_argument("--oas", type=Path, action="append", required=True)
    parser.add_argument("--peer-out", type=Path, action="append", required=True)
    parser.add_argument("--peer-time", type=Path, action="append", required=True)
    parser.add_argument("--peer-name", default="Python polars")
    args = parser.parse_args()

    expected = key_values(args.expect.read_text())
    lines = int(expected["lines"])
    size_mb = args.report.stat().st_size / 1_000_000

    # (name, seconds, peak MiB, totals match); None where unknown.
    rows: list[tuple[str, float | None, float | None, bool | None]] = []

    runs = [json.loads(path.read_text()) if path.is_file() else {} for path in args.oas]
    for step in ("clean", "import"):
        done = [run["steps"][step] for run in runs if step in run.get("steps", {})]
        if done:
            seconds = median([d["seconds"] for d in done])
            rows.append((f"OAS {step}", seconds, max(d["peak_mib"] for d in done), None))
    oas_seconds = [run["seconds"] for run in runs if "seconds" in run]
    oas_match = len(oas_seconds) == len(runs) and all(run.get("totals_match") for run in runs)
    if oas_seconds:
        peak = max(run["peak_mib"] for run in runs if "seconds" in run)
        rows.append(("OAS clean+import", median(oas_seconds), peak, oas_match))
    else:
        rows.append(("OAS clean+import", None, None, False))

    peers = [key_values(path.read_text()) if path.is_file() else {} for path in args.peer_out]
    peer_seconds: list[float] = []
    peer_mib: list[float] = []
    for path in args.peer_time:
        timed = path.read_text().strip().splitlines() if path.is_file() else []
        if timed and len(timed[-1].split()) == 2:
            elapsed, kib = timed[-1].split()
            peer_seconds.append(float(elapsed))
            peer_mib.append(int(kib) / 1024)
    peer_match = all(
        "total" in peer
        and "lines" in peer
        and Decimal(peer["total"]) == Decimal(expected["total"])
        and int(peer["lines"]) == lines
        for peer in peers
    )
    peer_match = peer_match and len(peer_seconds) == len(peers)
    rows.append((args.peer_name, median(peer_seconds), max(peer_mib, default=None), peer_match))

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
    if len(runs) > 1:
        listed = lambda values: " ".join(f"{v:.2f}" for v in sorted(values))  # noqa: E731
        print(f"({len(runs)} rounds, alternating; seconds of each, fastest first:")
        print(f"  OAS   {listed(oas_seconds)}")
        print(f"  peer  {listed(peer_seconds)})")
    jobs = [float(peer["seconds"]) for peer in peers if "seconds" in peer]
    if jobs:
        print(
            "(the peer's job alone, without Python's start and polars' import: "
            f"{median(jobs):.2f}s{' median' if len(jobs) > 1 else ''})"
        )
    for run in runs:
        if run.get("error"):
            print(f"OAS failed: {run['error']}")
    ok = all(match for _, _, _, match in rows if match is not None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
