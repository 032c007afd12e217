#!/usr/bin/env python3
"""Writes a synthetic Spotify label report for benchmarks.

The layout is Spotify's monthly label report as labels receive it through
finetunes: tab-separated UTF-8 with LF line ends, a two-line preamble (keys
over values), the header, then one line per track, country and product:

    Format version  Start date  End date    Sender   Recipient  Disclaimer
    2               2017-10-01  2017-10-31  Spotify  Finetunes  Confidential
    Country  Label  Product  URI  UPC  EAN  ISRC  Track name  Artist name ...

The catalogue is consistent (a track always has the same ISRC, album, UPC,
artist and label) and drawn from a fixed seed, so one line count always
gives the same file. Popularity is skewed like real reports: a few tracks,
countries and products carry most lines.

Amounts are plain decimals below 0.5 with 28 to 31 decimal places, never in
scientific notation. The exact sum of the amount column is printed as
`total=<decimal>` (and the line count and quantity sum beside it), so a
consumer's totals can be checked to the last digit.

Usage: generate.py --lines N --out PATH [--seed S]
"""

from __future__ import annotations

import argparse
import decimal
import itertools
import random
import sys
import time

PREAMBLE = (
    "Format version\tStart date\tEnd date\tSender\tRecipient\tDisclaimer\n"
    "2\t2017-10-01\t2017-10-31\tSpotify\tFinetunes\tConfidential\n"
)
HEADER = (
    "Country\tLabel\tProduct\tURI\tUPC\tEAN\tISRC\tTrack name\tArtist name\t"
    "Composer name\tAlbum name\tQuantity\tUSD Payable\n"
)

# Sizes of the catalogue.
ARTISTS = 5_000
ALBUMS = 10_000
TRACKS = 50_000
LABELS = 200

# Amounts: every one is written with one of these numbers of decimals.
MIN_DECIMALS, MAX_DECIMALS = 28, 31
# All amounts are summed in units of 10^-SCALE.
SCALE = MAX_DECIMALS

# Lines built and written at a time.
CHUNK = 100_000

# ~60 ISO 3166 alpha-2 countries where Spotify reports streams, most
# streamed first (weights fall off as 1/rank).
COUNTRIES = (
    "US GB DE BR MX SE FR NL ES IT CA AU PL NO DK FI CH AT BE TR AR CL CO "
    "PE JP ID PH MY SG TW HK NZ IE PT CZ SK HU RO GR IL ZA IN TH VN EC UY "
    "PY BO CR GT HN SV DO PA NI LT LV EE IS LU BG"
).split()

# Spotify product codes, as in real reports, with rough shares.
PRODUCTS = (
    ("P", 22), ("A", 21), ("FAM6", 17), ("PDS", 9), ("PDIB", 3), ("U", 3),
    ("PDSNEI", 3), ("PDLS12", 2), ("VFSA", 1), ("TSA", 1), ("PDSE", 1),
    ("PDLS6", 1), ("KHB", 1), ("TEESA", 1), ("ROG-MWA", 1), ("VFHB", 1),
)

# Words names are built from. A few carry non-ASCII letters and
# punctuation so that decoding and quoting are exercised.
WORDS = (
    "night road again working man struggles light blue pearl diamond "
    "river city dream fire stone heart echo shadow summer winter rain "
    "ocean silver golden wild quiet storm ghost garden mirror signal "
    "velvet neon paper glass thunder horizon island desert forest "
    "midnight morning static circle wave distant lonely electric "
    "crystal broken hidden falling rising secret sacred empty endless "
    "frozen burning sweet bitter hollow gentle savage modern ancient "
    "routine mask tape pulse drift orbit canyon harbour meadow"
).split() + ["Wörndle", "Mañana", "Été", "Øresund", "Café", "Straße", "Señor", "Zürich"]

FIRST_NAMES = (
    "Julian Paul Anna Lena Max Sofia Jonas Marie Luca Emma Noah Mia Felix "
    "Clara Elias Ida Oskar Nora Leon Ella Björn Zoë Renée José Małgorzata "
    "Søren Ingrid Hugo Inès Mateo Chloé Aurélie Kenji Yuki Amara Tariq"
).split()
LAST_NAMES = (
    "Wörndle Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker "
    "Hoffmann Schulz Koch Richter Klein Wolf Neumann Schwarz Zimmermann "
    "Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier "
    "Lehmann García Martínez López Dubois Lefèvre Rossi Ferrari Nowak "
    "Andersson Johansson Nielsen Jensen Tanaka Sato Okafor Haddad"
).split()
LABEL_SUFFIXES = ("Records", "Music", "Records!", "Tape", "Sound", "Recordings", "Records, Inc.", "Musik")
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def title(rng: random.Random, words: int) -> str:
    return " ".join(w.capitalize() for w in rng.choices(WORDS, k=words))


def unique(rng: random.Random, count: int, make) -> list[str]:
    """`count` distinct strings from `make(rng)`, distinct also without case
    and spacing (as OAS groups names); numbered if tries keep colliding."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        for _ in range(20):
            name = make(rng)
            if " ".join(name.split()).lower() not in seen:
                break
        else:
            name = f"{name} {len(out)}"
        key = " ".join(name.split()).lower()
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


def zipf_cumulative(count: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights 1/rank^exponent, for random.choices."""
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, count + 1)))


def catalogue(rng: random.Random) -> list[tuple[str, str]]:
    """One (label, rest) pair per track: its label, and the line's columns
    from URI to Album name, tab-separated (the product, which varies per
    line, goes between the two)."""
    artists = unique(
        rng,
        ARTISTS,
        lambda r: title(r, r.choice((1, 2, 2, 2, 3)))
        if r.random() < 0.7
        else f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}",
    )
    labels = unique(rng, LABELS, lambda r: f"{title(r, r.choice((1, 2)))} {r.choice(LABEL_SUFFIXES)}")
    # Album: (title, UPC, artist, label). A UPC here is 13 digits that do
    # not start with 0 (OAS reads a leading-zero EAN as a 12-digit UPC-A),
    # the last its GTIN check digit, as stores send them.
    upcs = [with_check_digit(u // 10) for u in rng.sample(range(10**12, 10**13), ALBUMS)]
    albums = []
    for index in range(ALBUMS):
        if rng.random() < 0.7:
            name = title(rng, rng.choice((1, 2, 2)))
        else:
            # A catalogue number as album name, as some labels use.
            name = "".join(rng.choices(UPPER, k=3)) + f"{index:03d}"
        albums.append((name, str(upcs[index]), rng.choice(artists), rng.choice(labels)))
    composers = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(2_000)]
    # ISRC: country (2 letters), registrant (3 letters or digits), year
    # (2 digits), designation (5 digits); distinct per track.
    isrcs: set[str] = set()
    while len(isrcs) < TRACKS:
        isrcs.add(
            rng.choice(("DE", "GB", "US", "FR", "SE", "NL", "QM", "QZ"))
            + "".join(rng.choices(ALNUM, k=3))
            + f"{rng.randrange(100):02d}{rng.randrange(100_000):05d}"
        )
    tracks = []
    for isrc in sorted(isrcs):
        album, upc, artist, label = rng.choice(albums)
        uri = "spotify:track:" + "".join(rng.choices(BASE62, k=22))
        composer = rng.choice(composers) if rng.random() < 0.4 else "N/A"
        track = title(rng, rng.choice((1, 1, 2, 2, 3)))
        # Columns: Label, (Product goes here), URI, UPC, EAN (empty), ISRC,
        # Track name, Artist name, Composer name, Album name.
        tracks.append((label, f"{uri}\t{upc}\t\t{isrc}\t{track}\t{artist}\t{composer}\t{album}"))
    rng.shuffle(tracks)
    return tracks


def with_check_digit(body: int) -> int:
    """`body` (12 digits) followed by its GTIN-13 check digit."""
    digits = [int(d) for d in str(body)]
    weighted = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return body * 10 + (10 - weighted % 10) % 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, required=True, help="data lines to write")
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--seed", type=int, default=20171031, help="random seed (default: %(default)s)")
    args = parser.parse_args()
    if args.lines < 1:
        parser.error("--lines must be at least 1")

    started = time.monotonic()
    rng = random.Random(args.seed)
    tracks = catalogue(rng)
    track_weights = zipf_cumulative(len(tracks), 0.8)
    country_weights = zipf_cumulative(len(COUNTRIES), 1.0)
    products = [p for p, _ in PRODUCTS]
    product_weights = list(itertools.accumulate(w for _, w in PRODUCTS))
    # Quantities 1..500, small ones far more often (weights 1/q^1.2).
    quantities = [str(q) for q in range(1, 501)]
    quantity_values = list(range(1, 501))
    quantity_weights = zipf_cumulative(500, 1.2)
    decimals = list(range(MIN_DECIMALS, MAX_DECIMALS + 1))
    # An amount with d decimals is an integer below 5 * 10^(d-1) written
    # after "0.", zero-padded to d digits: a value in [0, 0.5).
    limits = [5 * 10 ** (d - 1) for d in decimals]
    formats = [f"0.%0{d}d" for d in decimals]
    # 2^104 > 10^31: plenty of random bits for the largest limit.
    bits = 104

    # Integer sums per number of decimals, scaled to SCALE at the end.
    sums = [0] * len(decimals)
    quantity_total = 0
    written = 0
    getrandbits = rng.getrandbits
    with open(args.out, "w", encoding="utf-8", newline="\n", buffering=1 << 22) as out:
        out.write(PREAMBLE)
        out.write(HEADER)
        while written < args.lines:
            n = min(CHUNK, args.lines - written)
            picked_tracks = rng.choices(tracks, cum_weights=track_weights, k=n)
            picked_countries = rng.choices(COUNTRIES, cum_weights=country_weights, k=n)
            picked_products = rng.choices(products, cum_weights=product_weights, k=n)
            picked_quantities = rng.choices(range(500), cum_weights=quantity_weights, k=n)
            picked_decimals = rng.choices(range(len(decimals)), k=n)
            units = [getrandbits(bits) % limits[d] for d in picked_decimals]
            for d, u in zip(picked_decimals, units):
                sums[d] += u
            quantity_total += sum(quantity_values[q] for q in picked_quantities)
            out.write(
                "".join(
                    f"{country}\t{label}\t{product}\t{rest}\t{quantities[q]}\t{formats[d] % u}\n"
                    for country, (label, rest), product, q, d, u in zip(
                        picked_countries, picked_tracks, picked_products, picked_quantities, picked_decimals, units
                    )
                )
            )
            written += n

    with decimal.localcontext() as context:
        context.prec = 100
        total = sum(
            (decimal.Decimal(s).scaleb(-d) for s, d in zip(sums, decimals)),
            decimal.Decimal(0),
        )
    print(f"lines={written}")
    print(f"quantity={quantity_total}")
    print(f"total={total:f}")
    print(f"generated {written} lines into {args.out} in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
