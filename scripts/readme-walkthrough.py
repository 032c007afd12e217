#!/usr/bin/env python3
"""Prints the README's walk-through as one shell script, for a test to run
against a deployment: the shell blocks of "A first session" (from the
organisation on: the administrator's KEY comes from the caller), "Your
first sales report", "Your catalog", "Reports and the dashboard" and
"Statements", in order, as written, with the API's address and the project's folder filled in.

    scripts/readme-walkthrough.py --api http://127.0.0.1:8000 > walkthrough.sh
"""

import argparse
import pathlib
import re
import sys

SECTIONS = [
    "A first session",
    "Your first sales report",
    "Your catalog",
    "Reports and the dashboard",
    "Statements",
]
README_API = "http://127.0.0.1:8000"


def blocks(readme: str) -> dict[str, list[str]]:
    """The ```sh blocks of each second-level section."""
    found: dict[str, list[str]] = {}
    for section in re.split(r"^## ", readme, flags=re.M)[1:]:
        title, _, body = section.partition("\n")
        found[title.strip()] = re.findall(r"^```sh\n(.*?)^```", body, flags=re.M | re.S)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default=README_API)
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--readme", default=root / "README.md")
    args = parser.parse_args()
    found = blocks(pathlib.Path(args.readme).read_text())
    script = ['# The README\'s walk-through; KEY is the administrator\'s API key.',
              ': "${KEY:?set KEY}"']
    for title in SECTIONS:
        if not found.get(title):
            print(f"the README has no shell block under '## {title}'", file=sys.stderr)
            return 1
        for block in found[title]:
            if title == "A first session":
                start = block.find("# An organisation")
                if start < 0:
                    print("the first session no longer creates an organisation", file=sys.stderr)
                    return 1
                block = block[start:]
            script.append(f"echo '== {title}'")
            # The project's own scripts, from wherever the walk-through runs.
            block = re.sub(r"(?<=\s)scripts/", f"{root}/scripts/", block)
            script.append(block.replace(README_API, args.api))
    print("\n".join(script))
    return 0


if __name__ == "__main__":
    sys.exit(main())
