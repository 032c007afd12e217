#!/usr/bin/env python3
"""The importer's job done with Python polars, as the benchmark's peer.

Reads a Spotify label report (as scripts/bench/generate.py writes it), casts
the amount to an exact decimal and the quantity to an integer, writes the
lines as Parquet (zstd) and sums amount and quantity by the five snapshot
dimensions OAS keeps: artist, territory (Country), track (ISRC), release
(UPC) and DSP (one constant, "Spotify"). Each dimension's sums are written
as a small Parquet file beside the lines.

Polars' Decimal is a 128-bit integer: 38 digits in all. The report's
amounts have up to 31 decimals, which leaves 7 integer digits for a sum
(below 10,000,000). When a cast or a sum does not fit, the job is run again
with 28 decimals, which rounds every amount, and a warning says so.

Prints `lines=<n> seconds=<wall> total=<sum>` at the end; the seconds
cover the job itself, not Python's start or polars' import.

Usage: peer.py REPORT --out DIR
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path

import polars as pl

AMOUNT = "USD Payable"
QUANTITY = "Quantity"
DSP = "DSP"

# Snapshot dimension -> the column it groups by.
DIMENSIONS = {
    "artist": "Artist name",
    "territory": "Country",
    "track": "ISRC",
    "release": "UPC",
    "dsp": DSP,
}

# Exact decimals first; rounded ones when a sum needs more integer room.
PRECISION = 38
SCALES = (31, 28)

# Streaming sinks that can be collected together with other queries (one
# read of the report for both) came with polars 1.x's `lazy=` argument.
LAZY_SINKS = "lazy" in inspect.signature(pl.LazyFrame.sink_parquet).parameters
STREAMING = "engine" in inspect.signature(pl.collect_all).parameters


def lines(report: Path, scale: int) -> pl.LazyFrame:
    """The report's lines, typed: every column read as text (no guessing),
    then the amount as Decimal(38, scale) and the quantity as Int64."""
    return pl.scan_csv(
        report,
        separator="\t",
        # The preamble: a line of keys over a line of values.
        skip_rows=2,
        infer_schema=False,
    ).with_columns(
        pl.col(AMOUNT).cast(pl.Decimal(PRECISION, scale)),
        pl.col(QUANTITY).cast(pl.Int64),
        pl.lit("Spotify").alias(DSP),
    )


def collect_all(frames: list[pl.LazyFrame]) -> list[pl.DataFrame]:
    if STREAMING:
        return pl.collect_all(frames, engine="streaming")
    return pl.collect_all(frames)


def run(report: Path, out: Path, scale: int) -> dict[str, pl.DataFrame]:
    """Writes the lines and returns each dimension's sums."""
    frame = lines(report, scale)
    groups = [
        frame.group_by(column).agg(
            pl.col(AMOUNT).sum().alias("revenue"),
            pl.col(QUANTITY).sum().alias("quantity"),
            pl.len().alias("lines"),
        )
        for column in DIMENSIONS.values()
    ]
    target = out / "lines.parquet"
    if LAZY_SINKS:
        # One query plan: the lines sink and the five aggregations together.
        sink = frame.sink_parquet(target, compression="zstd", lazy=True)
        results = collect_all([sink, *groups])[1:]
    else:
        frame.sink_parquet(target, compression="zstd")
        results = collect_all(groups)
    sums = dict(zip(DIMENSIONS, results))
    for dimension, table in sums.items():
        table.write_parquet(out / f"{dimension}.parquet", compression="zstd")
    return sums


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path, help="the report to read")
    parser.add_argument("--out", type=Path, required=True, help="folder for the Parquet files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    for scale in SCALES:
        try:
            sums = run(args.report, args.out, scale)
            break
        except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError) as e:
            if scale == SCALES[-1]:
                raise
            first_line = str(e).splitlines()[0] if str(e) else type(e).__name__
            print(
                f"warning: Decimal({PRECISION}, {scale}) does not hold the amounts or their sums "
                f"({first_line}); the peer rounds amounts to {SCALES[-1]} decimals",
                file=sys.stderr,
            )
            started = time.monotonic()
    seconds = time.monotonic() - started

    everything = sums["dsp"]
    count = int(everything["lines"].sum())
    total = everything["revenue"].item() if everything.height == 1 else sum(everything["revenue"])
    print("groups: " + ", ".join(f"{d}={t.height}" for d, t in sums.items()), file=sys.stderr)
    print(f"lines={count} seconds={seconds:.3f} total={total:f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
