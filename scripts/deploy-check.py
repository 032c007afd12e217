#!/usr/bin/env python3
"""Checks what a deployment test ran: every module run a container that
read its job from OAS_JOB and exited 0, every module among them, and the statement the walk-through downloaded a real PDF whose
figures are those of the API.

    scripts/deploy-check.py --jobs JOBS.csv --events EVENTS.jsonl --logs LOGS --work DIR

JOBS.csv: id,module,action,status,task_ref,exit_code from the jobs table;
EVENTS.jsonl: the engine's `die` events of containers labelled oas.job;
LOGS: the module runs' logs the gateway kept; DIR: where the walk-through
ran (statement.pdf).
"""

import argparse
import csv
import json
import pathlib
import shutil
import subprocess
import sys

MODULES = {"uploads", "importer", "catalogue-matching", "report", "statement", "ping"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--logs", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    problems: list[str] = []

    jobs = list(csv.reader(open(args.jobs)))
    if not jobs:
        problems.append("no module run was recorded")
    for _, module, action, status, task, exit_code in jobs:
        if status != "succeeded" or not task.startswith("docker:") or exit_code != "0":
            problems.append(f"{module} {action}: {status}, task {task!r}, exit code {exit_code!r}")
    ran = {job[1] for job in jobs}
    if missing := MODULES - ran:
        problems.append(f"no run of {sorted(missing)}")

    # The engine's own word on each run's container: it ended, exit code 0.
    ended: dict[str, list[str]] = {}
    for line in open(args.events):
        if line.strip():
            attributes = json.loads(line).get("Actor", {}).get("Attributes", {})
            ended.setdefault(attributes.get("oas.job", ""), []).append(attributes.get("exitCode"))
    for job_id, module, action, *_ in jobs:
        if ended.get(job_id) != ["0"]:
            problems.append(f"{module} {action}: its container ended {ended.get(job_id, 'never')}")

    started = []
    for line in open(args.logs, errors="replace"):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        fields = entry.get("fields", entry)
        if fields.get("message") == "started":
            started.append(fields.get("job_from"))
    if len(started) != len(jobs) or set(started) != {"OAS_JOB"}:
        problems.append(f"{len(jobs)} runs, but their logs say they started with jobs from {started}")

    pdf = pathlib.Path(args.work) / "statement.pdf"
    if not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF"):
        problems.append("the walk-through downloaded no statement PDF")
    elif shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        if "Ana Lima" not in text and "Bea Costa" not in text:
            problems.append("the statement's PDF does not name its payee")

    for problem in problems:
        print(f"deploy-check: {problem}", file=sys.stderr)
    if problems:
        return 1
    by_module: dict[str, int] = {}
    for job in jobs:
        by_module[job[1]] = by_module.get(job[1], 0) + 1
    print("deploy-check: every run a container, job from OAS_JOB, exit 0: "
          + ", ".join(f"{module} {n}" for module, n in sorted(by_module.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
