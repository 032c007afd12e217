#!/usr/bin/env python3
"""The matching benchmark's peer: OAS's matching cascade in Python.

Reads the same catalog (catalog.csv) and sales lines (lines.parquet) as
OAS's side, finds the usage items with a polars group-by (exact decimal
sums), and matches them as OAS does: the ISRC (a code on two tracks is for
review), the release's GTIN-14 with the title, the catalog number with the
title, the exact folded artist and title (joins in polars), then fuzzy
title and artist with rapidfuzz over the 48 candidates sharing the most
words (weighted by rarity) in a word index,
accepted from 0.92 with a 0.04 margin, for review from 0.75. A version
tag that differs is never accepted. Prints one JSON line of figures.

Usage: match_peer.py DIR
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import re
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

import polars as pl
from rapidfuzz.distance import Levenshtein

KEY = ["artist", "track_title", "release_title", "isrc", "upc"]
VERSION_WORDS = {
    "live": "live", "unplugged": "acoustic", "remix": "remix", "rmx": "remix",
    "remixed": "remix", "radio": "radio edit", "edit": "radio edit",
    "acoustic": "acoustic", "instrumental": "instrumental", "extended": "extended",
    "demo": "demo", "mono": "mono", "clean": "clean",
}
SAME_RECORDING = {"remaster", "explicit"}
PLAIN = {"original", "original mix", "original version", "album version",
         "single version", "stereo", "main version"}
FEATURING = {"feat", "ft", "featuring", "with"}
ACCEPT, REVIEW, MARGIN = 0.92, 0.75, 0.04
SCORED, MAX_POSTINGS = 48, 2_000


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("&", " and ").replace("ß", "ss").replace("æ", "ae").replace("ø", "o")
    text = re.sub(r"['\u2019\u2018`\u00b4]", "", text).lower()
    text = re.sub(r"[^\w]+|_", " ", text).strip()
    return text[4:] if text.startswith("the ") else text


def tags_of(folded: str) -> frozenset:
    words = folded.split()
    tags = {VERSION_WORDS[w] for w in words if w in VERSION_WORDS}
    if any(w.startswith("remaster") for w in words):
        tags.add("remaster")
    if "explicit" in words:
        tags.add("explicit")
    if "mix" in words and "original" not in words and not tags & {"radio edit", "extended"}:
        tags.add("remix")
    return frozenset(tags)


def read_title(raw: str):
    segments = re.findall(r"[\(\[\{]([^\)\]\}]*)[\)\]\}]?", raw or "")
    main = re.sub(r"[\(\[\{][^\)\]\}]*[\)\]\}]?", " ", raw or "")
    head, *tail = re.split(r"\s[-\u2013\u2014]\s", main, maxsplit=1)
    featured = set()
    head = fold(head)
    words = head.split()
    for marker in ("feat", "ft", "featuring"):
        if marker in words[1:]:
            at = words.index(marker)
            featured |= set(" ".join(words[at + 1:]).split(" and "))
            head = " ".join(words[:at])
            break
    base, tags = head, set()
    for segment in segments + tail:
        folded = fold(segment)
        if not folded:
            continue
        first, _, rest = folded.partition(" ")
        if first in FEATURING and rest:
            featured |= set(rest.split(" and "))
            continue
        found = tags_of(folded)
        if found or folded in PLAIN:
            tags |= found
        else:
            base = f"{base} {folded}".strip()
    return (base or fold(raw)), frozenset(tags - SAME_RECORDING), frozenset(featured)


def artist_key(raw: str) -> str:
    folded = fold(re.sub(r"[\(\[][^\)\]]*[\)\]]", " ", raw or ""))
    words = folded.split()
    for marker in ("feat", "ft", "featuring"):
        if marker in words[1:]:
            words = words[: words.index(marker)]
    return " ".join(w for w in words if w != "and")


def isrc_of(raw: str | None) -> str | None:
    code = re.sub(r"[-. ]", "", raw or "").upper()
    return code if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}\d{7}", code) else None


def gtin_of(raw: str | None) -> str | None:
    digits = re.sub(r"[- ]", "", (raw or "").strip().strip("\"'="))
    if not digits.isdigit():
        return None
    if len(digits) == 11:
        digits = "0" + digits
    elif len(digits) == 13 and digits.startswith("0"):
        digits = digits[1:]
    if not 12 <= len(digits) <= 14:
        return None
    key = digits.zfill(14)
    body, check = key[:-1], int(key[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return key if (10 - total % 10) % 10 == check else None


def similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    direct = Levenshtein.normalized_similarity(a, b)
    return max(direct, Levenshtein.normalized_similarity(" ".join(sorted(a.split())), " ".join(sorted(b.split()))))


def artist_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    short, long = sorted((a, b), key=len)
    spelled = similarity(a, b)
    within = bool(short) and set(short.split()) <= set(long.split())
    return max(spelled, 0.9) if within else spelled


def main() -> None:
    folder = Path(sys.argv[1])
    started = time.perf_counter()
    catalog = pl.read_csv(folder / "catalog.csv", infer_schema_length=0).fill_null("")
    lines = pl.read_parquet(folder / "lines.parquet",
                            columns=KEY + ["catalog_number", "quantity", "base_revenue"])
    items = (
        lines.group_by(KEY, maintain_order=True)
        .agg(pl.len().alias("lines"), pl.col("quantity").sum(),
             pl.col("base_revenue").cast(pl.Decimal(38, 12)).sum().alias("revenue"),
             pl.col("catalog_number").first())
        .with_row_index("item")
    )
    # Catalog keys.
    tracks = catalog.to_dicts()
    for t in tracks:
        base, tags, featured = read_title(t["title"])
        t["base"], t["tags"] = base, tags | (tags_of(fold(t["version"])) - SAME_RECORDING)
        t["featured"] = featured
        t["akey"] = artist_key(t["artist"])
        t["isrc_key"] = isrc_of(t["isrc"])
        t["gtin"] = gtin_of(t["upc"])
        t["catno"] = fold(t["catalog_number"]).replace(" ", "")
    by_id = {int(t["id"]): t for t in tracks}
    by_isrc, by_gtin, by_catno, by_text = defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list)
    words = defaultdict(list)
    artist_words = defaultdict(list)
    for t in tracks:
        tid = int(t["id"])
        if t["isrc_key"]:
            by_isrc[t["isrc_key"]].append(tid)
        if t["gtin"]:
            by_gtin[t["gtin"]].append(tid)
        if t["catno"]:
            by_catno[t["catno"]].append(tid)
        by_text[(t["akey"], t["base"])].append(tid)
        for w in set(t["base"].split()):
            words[w].append(tid)
        for w in set(t["akey"].split()):
            artist_words[w].append(tid)

    # Identifier stages as joins.
    isrc_table = pl.DataFrame({"isrc_key": list(by_isrc), "hits": [len(v) for v in by_isrc.values()],
                               "track": [v[0] for v in by_isrc.values()]},
                              schema={"isrc_key": pl.String, "hits": pl.Int64, "track": pl.Int64})
    keyed = items.with_columns(
        pl.col("isrc").str.to_uppercase().str.replace_all(r"[-. ]", "").alias("isrc_key"))
    keyed = keyed.with_columns(
        pl.when(pl.col("isrc_key").str.contains(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$"))
        .then(pl.col("isrc_key")).otherwise(None).alias("isrc_key"))
    joined = keyed.join(isrc_table, on="isrc_key", how="left")
    status = {}
    for row in joined.filter(pl.col("hits").is_not_null()).select("item", "hits", "track").iter_rows():
        status[row[0]] = ("matched", "isrc") if row[1] == 1 else ("review", "isrc")

    remaining = joined.filter(pl.col("hits").is_null()).select(
        "item", "artist", "track_title", "upc", "catalog_number").iter_rows()
    for item, artist, title, upc, catno in remaining:
        base, tags, featured = read_title(title)
        akey = artist_key(artist)

        def fits(tid: int) -> bool:
            t = by_id[tid]
            theirs = t["featured"]
            return t["tags"] == tags and (not featured or not theirs or bool(featured & theirs))

        decided = None
        for stage, code, index in (("upc_title", gtin_of(upc), by_gtin),
                                   ("catalog_number", fold(catno or "").replace(" ", ""), by_catno)):
            if not code or code not in index:
                continue
            titled = [tid for tid in index[code] if by_id[tid]["base"] == base]
            fitting = [tid for tid in titled if fits(tid)]
            if len(fitting) == 1:
                decided = ("matched", stage)
            elif len(fitting) > 1:
                decided = ("review", stage)
            if decided:
                break
        if not decided and akey and base and (akey, base) in by_text:
            fitting = [tid for tid in by_text[(akey, base)] if fits(tid)]
            if len(fitting) == 1:
                decided = ("matched", "exact_text")
            elif len(fitting) > 1:
                decided = ("review", "exact_text")
        if not decided:
            # The SCORED tracks sharing the most words, each weighing its
            # inverse document frequency: the tracks of the two rarest words
            # (and the next ones while MAX_POSTINGS allows) are the
            # candidates, commoner words only add their weight.
            lists = sorted([index[w] for index, keys in ((words, base.split()), (artist_words, akey.split()))
                            for w in set(keys) if w in index], key=len)
            weights = {}
            read = 0
            for seeds, found in enumerate(lists):
                weight = math.log(1.0 + len(tracks) / len(found))
                if seeds < 2 or read + len(found) <= MAX_POSTINGS:
                    read += len(found)
                    for t in found:
                        weights[t] = weights.get(t, 0.0) + weight
                elif len(found) <= len(weights) * 8:
                    for t in found:
                        if t in weights:
                            weights[t] += weight
                else:
                    for t in weights:
                        at = bisect.bisect_left(found, t)
                        if at < len(found) and found[at] == t:
                            weights[t] += weight
            candidates = heapq.nsmallest(SCORED, weights, key=lambda t: (-weights[t], t))
            scored = sorted(((0.6 * similarity(base, by_id[t]["base"]) + 0.4 * artist_similarity(akey, by_id[t]["akey"]), t)
                             for t in candidates), key=lambda s: (-s[0], s[1]))
            if scored:
                best, tid = scored[0]
                isrc = by_id[tid]["isrc_key"]
                second = next((s for s, t in scored[1:] if by_id[t]["isrc_key"] is None or by_id[t]["isrc_key"] != isrc), None)
                clear = second is None or best - second >= MARGIN
                if best >= ACCEPT and fits(tid) and clear:
                    decided = ("matched", "fuzzy")
                elif best >= REVIEW:
                    decided = ("review", "fuzzy")
        status[item] = decided or ("unmatched", None)

    counts = defaultdict(int)
    by_type = defaultdict(int)
    for state, stage in status.values():
        counts[state] += 1
        if state == "matched":
            by_type[stage] += 1
    total = items["revenue"].sum()
    seconds = time.perf_counter() - started
    print(json.dumps({
        "seconds": seconds, "lines": int(items["lines"].sum()), "items": items.height,
        "matched": counts["matched"], "review": counts["review"], "unmatched": counts["unmatched"],
        "by_type": dict(sorted(by_type.items())), "total": format(total, "f"),
    }))


if __name__ == "__main__":
    main()
