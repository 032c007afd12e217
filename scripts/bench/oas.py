#!/usr/bin/env python3
"""Runs OAS's own clean and import of one report, without the HTTP server,
and measures each step.

The gateway is not involved: the release module binaries are run directly
with a job file each, as the local launcher runs them, against an embedded
setup in a work folder (SQLite database, local object storage):

  1. `oas migrate`     creates the SQLite schema (the importer saves the
                       file's snapshot into its snapshot tables);
  2. `oas-uploads`     cleans `org-1/files/1/original` (a clean UTF-8 report
                       is its own clean copy) and reports, with --output,
                       what the gateway would hand the importer;
  3. `oas-importer`    maps the clean copy to standard sales lines, writes
                       them as Parquet under `org-1/lines/<period>/` and
                       saves the snapshot.

Each binary runs under GNU time for its wall time and peak RSS. The jobs
have no callback, so a module reports nowhere and exits 0 on success.

Afterwards the Parquet file must exist and the snapshot's line count,
quantity and revenue must equal what the generator printed (the revenue
compared exactly, as decimals).

Usage: oas.py REPORT --work DIR --expect GENERATOR_OUTPUT [--json RESULT]
              [--bin-dir DIR]

The binaries are taken from $CARGO_TARGET_DIR/release (default
~/.cache/oas-target/release) unless --bin-dir names another folder; build
them with
`cargo build --release -p oas -p oas-uploads -p oas-importer`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILTIN_FORMATS = REPO / "crates" / "sales" / "formats" / "builtin.json"
GNU_TIME = "/usr/bin/time"

ORG_ID = 1
FILE_ID = 1
ORIGINAL_KEY = f"org-{ORG_ID}/files/{FILE_ID}/original"
FILES_PREFIX = f"org-{ORG_ID}/files/{FILE_ID}"
LINES_PREFIX = f"org-{ORG_ID}/lines"

# Secrets of a throwaway setup (OAS wants at least 32 characters).
WEBHOOK_SECRET = "bench-secret-bench-secret-bench-secret"
JWT_SECRET = "bench-jwt-secret-bench-jwt-secret-bench"


class StepFailed(Exception):
    pass


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache" / "oas-target")


def key_path(storage: Path, key: str) -> Path:
    """Where local storage keeps object `key`: its `/`-separated segments as
    folders under the storage root (ObjectKey::path_under)."""
    return storage.joinpath(*key.split("/"))


def environment(work: Path) -> dict[str, str]:
    """The caller's environment without any OAS_ variable of its own (a
    stray OAS_STORAGE_URL or OAS_SNAPSHOTS_URL would send the run
    elsewhere), plus the embedded setup in `work`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAS_")}
    data = work / "data"
    env.update(
        {
            "OAS_DATA_DIR": str(data),
            # An absolute path: sqlite:// followed by /abs/path.
            "OAS_DATABASE_URL": f"sqlite://{data / 'oas.db'}",
            "OAS_STORAGE_URL": f"file://{work / 'storage'}",
            "OAS_LOG": "warn",
            "OAS_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "OAS_JWT_SECRET": JWT_SECRET,
            # The modules' temporary copies go into the work folder too.
            "TMPDIR": str(work / "tmp"),
            # As the launcher and the module image set it (see
            # ALLOCATOR_SETTING in crates/platform/src/launcher/local.rs).
            "MIMALLOC_ALLOW_THP": "0",
        }
    )
    return env


def run_step(name: str, argv: list[str], work: Path, env: dict[str, str]) -> dict:
    """Runs `argv` under GNU time; returns its wall seconds and peak RSS.
    Fails with the step's stderr when it exits non-zero."""
    measures = work / f"{name}.time"
    log = work / f"{name}.log"
    with open(log, "wb") as stderr:
        # cwd: the work folder, so that no .env file of a checkout is read.
        completed = subprocess.run(
            [GNU_TIME, "-f", "%e %M", "-o", str(measures), *argv],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    if completed.returncode != 0:
        output = log.read_text(errors="replace").strip()
        raise StepFailed(f"{name} exited with status {completed.returncode}:\n{output or '(no output)'}")
    # With -o, GNU time writes only its format line (preceded by a
    # "Command exited with non-zero status" line on failure).
    seconds, kib = measures.read_text().strip().splitlines()[-1].split()
    return {"seconds": float(seconds), "peak_mib": int(kib) / 1024}


def read_expected(path: Path) -> dict[str, str]:
    """The generator's `key=value` lines (lines, quantity, total)."""
    expected = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            expected[key.strip()] = value.strip()
    missing = {"lines", "quantity", "total"} - expected.keys()
    if missing:
        raise SystemExit(f"{path}: no {', '.join(sorted(missing))} in the generator's output")
    return expected


def read_preamble(report: Path) -> list[list[str]]:
    """The report's preamble as key/value pairs, as the uploads module finds
    it in a Spotify report: a line of keys over a line of values."""
    with open(report, encoding="utf-8") as f:
        keys = f.readline().rstrip("\n").split("\t")
        values = f.readline().rstrip("\n").split("\t")
    if len(keys) != len(values) or len(keys) <= 2:
        raise SystemExit(f"{report}: the first two lines are not a preamble of keys over values")
    return [[k.strip(), v.strip()] for k, v in zip(keys, values)]


def place_original(report: Path, storage: Path) -> None:
    """Puts the report where an upload leaves it: a hard link when the work
    folder is on the same file system, else a copy."""
    original = key_path(storage, ORIGINAL_KEY)
    original.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(report, original)
    except OSError:
        shutil.copyfile(report, original)


def write_job(path: Path, job: dict) -> Path:
    path.write_text(json.dumps(job))
    return path


def snapshot(database: Path) -> tuple | None:
    """The file's snapshot header: lines, quantity, revenue (decimal text), period."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return db.execute(
            "SELECT lines, quantity, revenue, period FROM snapshots WHERE file_id = ?",
            (FILE_ID,),
        ).fetchone()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path, help="the report to import (from generate.py)")
    parser.add_argument("--work", type=Path, required=True, help="empty folder for the database and storage")
    parser.add_argument("--expect", type=Path, required=True, help="the generator's output (lines=, quantity=, total=)")
    parser.add_argument("--json", type=Path, help="also write the results to this file, as JSON")
    parser.add_argument(
        "--bin-dir",
        type=Path,
        default=target_dir() / "release",
        help="folder of the oas, oas-uploads and oas-importer binaries (default: %(default)s)",
    )
    args = parser.parse_args()

    binaries = {name: args.bin_dir / name for name in ("oas", "oas-uploads", "oas-importer")}
    absent = [str(p) for p in binaries.values() if not os.access(p, os.X_OK)]
    if absent:
        raise SystemExit(
            "missing release binaries: " + ", ".join(absent)
            + "\nbuild them with: cargo build --release -p oas -p oas-uploads -p oas-importer"
        )
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} (GNU time) is needed to measure peak memory")

    report = args.report.resolve()
    work = args.work.resolve()
    storage = work / "storage"
    database = work / "data" / "oas.db"
    for folder in (work / "data", storage, work / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
    env = environment(work)
    expected = read_expected(args.expect)
    preamble = read_preamble(report)
    formats = json.loads(BUILTIN_FORMATS.read_text())

    results: dict = {"lines": int(expected["lines"]), "steps": {}}

    def finish(status: int) -> int:
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        return status

    try:
        results["steps"]["migrate"] = run_step("migrate", [str(binaries["oas"]), "migrate"], work, env)
        # The snapshot tables reference no organisation or sales file (only
        # snapshot_pages -> snapshots), so no other rows are needed.
        place_original(report, storage)

        uploads_job = write_job(
            work / "uploads-job.json",
            {
                "job_id": "bench-uploads-0001",
                "module": "uploads",
                "action": "clean",
                "org_id": ORG_ID,
                "file_id": FILE_ID,
                "params": {"source": ORIGINAL_KEY, "target": FILES_PREFIX},
            },
        )
        cleaned_event = work / "uploads-event.json"
        results["steps"]["clean"] = run_step(
            "clean",
            [str(binaries["oas-uploads"]), "--input", str(uploads_job), "--output", str(cleaned_event)],
            work,
            env,
        )
        # What the uploads module reported is what the gateway hands the
        # importer: the clean copy's key, its shape and its preamble.
        cleaned = json.loads(cleaned_event.read_text())["output"]
        if not key_path(storage, cleaned["clean_key"]).is_file():
            raise StepFailed(f"clean: no clean copy at {cleaned['clean_key']}")

        importer_job = write_job(
            work / "importer-job.json",
            {
                "job_id": "bench-importer-0001",
                "module": "importer",
                "action": "import",
                "org_id": ORG_ID,
                "file_id": FILE_ID,
                "params": {
                    "clean": cleaned,
                    "formats": formats,
                    "base_currency": "USD",
                    "rates": [],
                    "lines_prefix": LINES_PREFIX,
                },
            },
        )
        results["steps"]["import"] = run_step(
            "import", [str(binaries["oas-importer"]), "--input", str(importer_job)], work, env
        )
    except StepFailed as e:
        print(f"oas: {e}", file=sys.stderr)
        results["error"] = str(e).splitlines()[0]
        return finish(1)

    # The period folder is the file's reporting period: the preamble's
    # start date, as a month.
    period = dict(preamble).get("Start date", "")[:7] or "unknown"
    parquet = key_path(storage, f"{LINES_PREFIX}/{period}/file-{FILE_ID}.parquet")
    header = snapshot(database)
    checks = {"parquet": parquet.is_file()}
    if header is None:
        checks["snapshot"] = False
    else:
        lines, quantity, revenue, _ = header
        checks["lines"] = lines == int(expected["lines"])
        checks["quantity"] = quantity == int(expected["quantity"])
        # Exact: Decimal comparison ignores trailing zeros, nothing else.
        checks["total"] = Decimal(revenue) == Decimal(expected["total"])
        results["total"] = revenue
    results["checks"] = checks
    results["totals_match"] = all(checks.values())

    steps = results["steps"]
    work_seconds = steps["clean"]["seconds"] + steps["import"]["seconds"]
    results["seconds"] = work_seconds
    results["lines_per_second"] = results["lines"] / work_seconds if work_seconds else None
    results["peak_mib"] = max(steps["clean"]["peak_mib"], steps["import"]["peak_mib"])

    print(f"lines={results['lines']}")
    for name, step in steps.items():
        print(f"{name}: {step['seconds']:.2f}s, peak {step['peak_mib']:.0f} MiB")
    rate = f"{results['lines_per_second']:,.0f}" if results["lines_per_second"] else "n/a"
    print(f"clean+import: {work_seconds:.2f}s, {rate} lines/s")
    print(f"parquet: {'present' if checks['parquet'] else 'MISSING'} ({parquet.relative_to(work)})")
    if header is None:
        print("snapshot: MISSING")
    else:
        print(f"snapshot total: {header[2]} (expected {expected['total']})")
    failed = [name for name, ok in checks.items() if not ok]
    print("totals match: " + ("yes" if not failed else f"NO ({', '.join(failed)} do not match)"))
    return finish(0 if not failed else 1)


if __name__ == "__main__":
    sys.exit(main())
