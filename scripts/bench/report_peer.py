#!/usr/bin/env python3
"""The report benchmark's peer: the report module's job in Python polars.

The same inputs as OAS (`DIR/lines.parquet`, the importer's lines;
`DIR/items.parquet`, the file's usage items and their match;
`DIR/catalog.parquet`, the tracks matched) and the same output: every line
of the period whose item is matched (`monthly`, with the catalog's fields)
or not (`unmatched`, with the item's status and reason), as a gzipped CSV
file with the same columns, text cells that could start a spreadsheet
formula quoted. The lines are scanned lazily, joined to the items and the
catalog, collected with the streaming engine and written through gzip (at
the same level as OAS, 6). Prints the rows and their exact total.

Usage: report_peer.py DIR KIND PERIOD
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

import polars as pl

KEYS = ["artist", "track_title", "release_title", "isrc", "upc"]
LINE = [
    "source_file", "source_file_id", "line", "reporting_period", "sale_period",
    "sale_start", "sale_end", "dsp", "sub_service", "territory", "artist",
    "release_title", "track_title", "isrc", "upc", "label", "catalog_number",
    "sale_type", "quantity", "gross_revenue", "net_revenue", "currency",
    "exchange_rate", "base_revenue", "base_currency",
]
MONTHLY = [
    "match_type", "track_id", "release_id", "catalog_isrc", "catalog_upc",
    "catalog_title", "catalog_version", "catalog_artist", "catalog_release",
    "catalog_label",
]
UNMATCHED = ["match_status", "reason"]
NUMBERS = {"source_file_id", "line", "quantity", "gross_revenue", "net_revenue",
           "exchange_rate", "base_revenue", "track_id", "release_id"}


def safe(name: str) -> pl.Expr:
    """A text column whose cells cannot start a spreadsheet formula."""
    column = pl.col(name).fill_null("")
    return (
        pl.when(column.str.contains(r"^[=+\-@\t\r]"))
        .then(pl.lit("'") + column)
        .otherwise(column)
        .alias(name)
    )


def main() -> None:
    folder, kind, period = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    started = time.perf_counter()
    items = pl.scan_parquet(folder / "items.parquet")
    lines = (
        pl.scan_parquet(folder / "lines.parquet")
        .with_columns(
            pl.col("reporting_period").fill_null(pl.lit(period)),
            *[pl.col(k).fill_null("") for k in KEYS],
            pl.lit("report.txt").alias("source_file"),
            pl.col("file_id").alias("source_file_id"),
        )
        .filter(pl.col("reporting_period").is_between(pl.lit(period), pl.lit(period)))
        .join(items, on=["file_id", *KEYS], how="left")
    )
    if kind == "monthly":
        catalog = pl.scan_parquet(folder / "catalog.parquet").select(
            "track_id",
            "release_id",
            pl.col("isrc").alias("catalog_isrc"),
            pl.col("upc").alias("catalog_upc"),
            pl.col("title").alias("catalog_title"),
            pl.col("version").alias("catalog_version"),
            pl.col("artist").alias("catalog_artist"),
            pl.col("release_title").alias("catalog_release"),
            pl.col("label").alias("catalog_label"),
        )
        report = (
            lines.filter(pl.col("status") == "matched")
            .join(catalog, on="track_id", how="inner")
        )
        columns = LINE + MONTHLY
    else:
        report = lines.filter(
            pl.col("status").is_null() | (pl.col("status") != "matched")
        ).with_columns(
            pl.col("status").fill_null("not_matched").alias("match_status"),
            pl.col("reason").fill_null("The file has not been matched to the catalog yet."),
        )
        columns = LINE + UNMATCHED
    report = report.select(
        [pl.col(c) if c in NUMBERS else safe(c) for c in columns]
    )
    frame = report.collect(engine="streaming")
    out = folder / f"peer-{kind}.csv.gz"
    with gzip.open(out, "wb", compresslevel=6) as f:
        frame.write_csv(f)
    total = frame.select(pl.col("base_revenue").cast(pl.Decimal(38, 31)).sum()).item()
    print(json.dumps({
        "kind": kind,
        "rows": frame.height,
        "total": format(total, "f"),
        "bytes": out.stat().st_size,
        "seconds": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main()
