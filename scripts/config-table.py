#!/usr/bin/env python3
"""Rewrites the README's configuration table from the variable table in
crates/platform/src/config.rs (a test checks the two agree)."""
import re
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "crates/platform/src/config.rs").read_text()
consts = dict(re.findall(r'pub const (\w+): &str = "(\w+)";', src))
start = src.index("pub const VARIABLES")
block = src[start:src.index("\n];", start)]
rows = re.findall(r'(var|secret)\(\s*(\w+),\s*(?:"((?:[^"\\]|\\.)*)",\s*)?"((?:[^"\\]|\\.)*)",?\s*\)', block)
lines = []
for kind, const, default, desc in rows:
    name = consts[const]
    if kind == "secret":
        shown = "(generated)" if name in ("OAS_JWT_SECRET", "OAS_WEBHOOK_SECRET") else "—"
    elif default in ("number of cores", "the folder of `oas`"):
        shown = default
    else:
        shown = f"`{default}`" if default else "—"
    lines.append(f"| `{name}` | {shown} | {desc} |")
readme = root / "README.md"
text = readme.read_text()
header = "| variable | default | meaning |\n|---|---|---|\n"
a = text.index(header) + len(header)
b = text.index("\n\n", a)
readme.write_text(text[:a] + "\n".join(lines) + text[b:])
print(f"{len(lines)} variables")
