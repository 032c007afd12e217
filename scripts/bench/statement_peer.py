#!/usr/bin/env python3
"""The statement benchmark's peer: the statement module's job in Python polars.

The same inputs as OAS (`DIR/year/*.parquet`, a year of imported lines;
`DIR/items.parquet` and `DIR/catalog.parquet`, the usage items' matches
and the tracks matched; `DIR/contracts.json`, the contracts) and the same
figures: each matched line of the year in a contract's scope (by the
catalog track's ISRC) priced by the most specific term that fits it (all
sales, Spotify, Spotify in the contract's territory), exactly, in
decimals; each contract's total rounded once to the cent and divided among
its payees by largest remainder; the advance recouped; and one CSV per
payee with the payee's part of each line and a last line rounding them to
the statement's earnings. It writes no PDF (polars has none): its side of
the comparison is the lighter one. Prints its exact totals.

Usage: statement_peer.py DIR
"""

from __future__ import annotations

import json
import sys
import time
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, getcontext
from pathlib import Path

import polars as pl

# Exact: Python's decimals keep 28 digits unless told otherwise.
getcontext().prec = 80

KEYS = ["artist", "track_title", "release_title", "isrc", "upc"]
CENT = Decimal("0.01")
# polars 2.1 keeps a product at its left factor's scale: amounts (up to 31
# places) are widened first, to hold a rate's two places and then a share's
# one, so every product is exact.
AMOUNT = pl.Decimal(38, 33)
PART = pl.Decimal(38, 34)


def split(total: Decimal, shares: list[Decimal]) -> list[Decimal]:
    """The total rounded once, divided by largest remainder."""
    whole = total.quantize(CENT, ROUND_HALF_EVEN)
    sign = -1 if whole < 0 else 1
    whole = abs(whole)
    exact = [whole * s for s in shares]
    parts = [e.quantize(CENT, ROUND_FLOOR) for e in exact]
    left = int((whole - sum(parts)) / CENT)
    order = sorted(range(len(shares)), key=lambda i: -(exact[i] - parts[i]))
    for i in order[:left]:
        parts[i] += CENT
    return [sign * p for p in parts]


def main() -> None:
    folder = Path(sys.argv[1])
    started = time.perf_counter()
    contracts = json.loads((folder / "contracts.json").read_text())
    by_isrc = []
    for c in contracts:
        terms = c["terms"]["terms"]
        for scope in c["terms"]["scope"]:
            by_isrc.append({
                "catalog_isrc": scope["value"],
                "contract": c["id"],
                "rate_all": terms[0]["rate"],
                "dsp": terms[1]["dsps"][0],
                "rate_dsp": terms[1]["rate"],
                "territory_t": terms[2]["territories"][0],
                "rate_dsp_t": terms[2]["rate"],
            })
    scope = pl.LazyFrame(by_isrc).with_columns(
        pl.col(r).cast(pl.Decimal(3, 2)) for r in ("rate_all", "rate_dsp", "rate_dsp_t")
    )
    items = pl.scan_parquet(folder / "items.parquet").filter(pl.col("status") == "matched")
    catalog = pl.scan_parquet(folder / "catalog.parquet").select(
        "track_id",
        pl.col("isrc").alias("catalog_isrc"),
        pl.col("artist").alias("catalog_artist"),
        pl.col("release_title").alias("catalog_release"),
        pl.col("title").alias("catalog_title"),
        pl.col("upc").alias("catalog_upc"),
    )
    files = sorted((folder / "year").glob("*.parquet"))
    lines = pl.concat([
        pl.scan_parquet(f).with_columns(
            pl.lit(f"spotify-{k:03}.txt").alias("source_file"),
            pl.lit(k + 1).alias("file_id"),
        )
        for k, f in enumerate(files)
    ])
    spotify = pl.col("dsp") == pl.col("dsp_name")
    priced = (
        lines.with_columns(pl.col(k).fill_null("") for k in KEYS)
        .filter(pl.col("reporting_period").is_between(pl.lit("2025-01"), pl.lit("2025-12")))
        .join(items.drop("file_id"), on=KEYS, how="inner")
        .join(catalog, on="track_id", how="inner")
        .join(scope.rename({"dsp": "dsp_name"}), on="catalog_isrc", how="inner")
        .with_columns(
            pl.when(spotify & (pl.col("territory") == pl.col("territory_t")))
            .then(pl.col("rate_dsp_t"))
            .when(spotify)
            .then(pl.col("rate_dsp"))
            .otherwise(pl.col("rate_all"))
            .alias("rate"),
            pl.when(spotify & (pl.col("territory") == pl.col("territory_t")))
            .then(pl.lit("term 3"))
            .when(spotify)
            .then(pl.lit("term 2"))
            .otherwise(pl.lit("term 1"))
            .alias("term"),
        )
        .with_columns(
            (pl.col("net_revenue").cast(AMOUNT) * pl.col("rate")).alias("royalty"),
        )
        .select(
            "contract",
            pl.col("reporting_period").alias("period"),
            pl.col("dsp").alias("store"),
            "territory",
            "sale_type",
            pl.col("catalog_artist").alias("artist"),
            pl.col("catalog_release").alias("release"),
            pl.col("catalog_title").alias("track"),
            pl.col("catalog_isrc").alias("isrc"),
            pl.col("catalog_upc").alias("upc"),
            "quantity",
            pl.lit("net").alias("basis"),
            pl.col("net_revenue").alias("basis_amount"),
            pl.col("currency").alias("basis_currency"),
            "rate",
            pl.lit("").alias("exchange_rate"),
            "royalty",
            pl.col("currency"),
            "source_file",
            pl.col("line").alias("source_line"),
            "term",
        )
        .collect(engine="streaming")
    )
    totals = dict(
        priced.group_by("contract").agg(pl.col("royalty").sum()).iter_rows()
    )
    out = folder / "peer-out"
    out.mkdir(exist_ok=True)
    by_contract = priced.partition_by("contract", as_dict=True)
    statements, earnings_sum, payable_sum, written = 0, Decimal(0), Decimal(0), 0
    for c in contracts:
        terms = c["terms"]
        total = Decimal(totals.get(c["id"], 0))
        shares = [Decimal(p["share"]) for p in terms["payees"]]
        parts = split(total, shares)
        advance = split(Decimal(c["advance"]), shares)
        frame = by_contract.get((c["id"],))
        for at, payee in enumerate(terms["payees"]):
            earnings = parts[at]
            recouped = min(advance[at], max(earnings, Decimal(0)))
            closing = earnings - recouped
            minimum = Decimal(terms["min_payout"])
            payable = closing if closing > 0 and closing >= minimum else Decimal(0)
            statements += 1
            earnings_sum += earnings
            payable_sum += payable
            path = out / f"statement-{payee['payee']}.csv"
            if frame is None:
                rows = priced.clear()
            else:
                rows = frame
            share = pl.lit(payee["share"]).cast(pl.Decimal(2, 1))
            rows = rows.drop("contract").with_columns(
                pl.lit(payee["share"]).alias("share"),
                (pl.col("royalty").cast(PART) * share).alias("payee_royalty"),
            )
            exact = rows.select(pl.col("payee_royalty").sum()).item() or Decimal(0)
            rows = rows.select(
                *rows.columns[:17], "share", "payee_royalty", *rows.columns[17:20]
            )
            with open(path, "w", encoding="utf-8") as f:
                rows.write_csv(f)
                f.write("," * 17 + f"{payee['share']},{earnings - Decimal(exact)},,,rounding\n")
            written += path.stat().st_size
    print(json.dumps({
        "contracts": len(contracts),
        "statements": statements,
        "priced_lines": priced.height,
        "priced": format(sum((Decimal(v) for v in totals.values()), Decimal(0)), "f"),
        "earnings": format(earnings_sum, "f"),
        "payable": format(payable_sum, "f"),
        "bytes": written,
        "seconds": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main()
