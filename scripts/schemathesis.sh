#!/usr/bin/env bash
# The API contract, checked from outside: schemathesis (PyPI) against a
# live gateway in embedded mode, with an administrator's API key and an
# active organisation. Every check, every phase (examples, coverage,
# fuzzing, stateful); any failure fails. Figures go to
# $CARGO_TARGET_DIR/schemathesis/ (JUnit and the run's output).
#
# Usage: scripts/schemathesis.sh   (after `cargo build --workspace --bins`)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oas-target}"
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap stop_services EXIT

bin="$(tool_venv schemathesis schemathesis 'schemathesis==4.32.5')"
oas="$CARGO_TARGET_DIR/debug/oas"
[[ -x "$oas" ]] || { echo "build the binaries first: cargo build --workspace --bins" >&2; exit 1; }

data="$OAS_SERVICES_DIR/gateway"
mkdir -p "$data"
port="$(free_port)"
# Always run in a subshell (a pipeline, or `&`): exec makes the gateway the
# subshell itself, so the pid the services list keeps is the gateway's and
# it is stopped with the others.
run_oas() {
  exec env -u OAS_DATABASE_URL -u OAS_STORAGE_URL -u OAS_SNAPSHOTS_URL \
    OAS_DATA_DIR="$data" OAS_BIND="127.0.0.1:$port" OAS_MODULES_DIR="$CARGO_TARGET_DIR/debug" \
    OAS_LOG_FORMAT=json OAS_ACCESS_TOKEN_TTL=3600 "$oas" "$@"
}
# The administrator the run acts as (its key is the last line printed).
password='violet-harbour-tangent-41'
key="$(echo "$password" | run_oas createsuperuser --username schemathesis \
  --email schemathesis@label.com --password-stdin | tail -n 1)"
run_oas serve >"$OAS_SERVICES_DIR/gateway.log" 2>&1 &
OAS_SERVICE_PIDS+=("$!")
wait_for_port "$port" gateway
base="http://127.0.0.1:$port"
# The README's walk-through first: the run then acts on an organisation (its
# first, so its active one) with an imported report, a catalog, a rule, a
# contract, a report and a statement, and the operations that need one of
# these (or the organisation, a release, a request for an account) are
# given its id (dictionaries appended to a copy of the settings), so their
# success paths are tested too, not only their 404s.
walk="$OAS_SERVICES_DIR/walkthrough"
mkdir -p "$walk"
{
  python3 scripts/readme-walkthrough.py --api "$base"
  # shellcheck disable=SC2016 # the walk-through's own variables
  echo 'for name in FILE RULE CONTRACT REPORT STATEMENT; do echo "$name=${!name}"; done >ids.env'
} >"$walk/walkthrough.sh"
(cd "$walk" && KEY="$key" timeout 600 bash -eu walkthrough.sh >walkthrough.log 2>&1) ||
  { echo "the README's walk-through failed against $base; its output:" >&2; tail -n 40 "$walk/walkthrough.log" >&2; exit 1; }
# Three the walk-through does not name: its organisation, a release of the
# catalog it generated, and a request for an account, waiting for approval.
first_id() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["results"][0]["id"] if "results" in d else d["id"])'; }
echo "ORGANISATION=$(curl -sf "$base/api/organisations/?page_size=1" -H "X-Api-Key: $key" | first_id)" >>"$walk/ids.env"
echo "RELEASE=$(curl -sf "$base/api/catalog/releases/?page_size=1" -H "X-Api-Key: $key" | first_id)" >>"$walk/ids.env"
echo "REGISTRATION=$(curl -sf -X POST "$base/api/auth/register/" -H 'Content-Type: application/json' \
  -d '{"username": "newcomer", "email": "newcomer@label.com", "password": "amber-lantern-quarry-73"}' | first_id)" >>"$walk/ids.env"
settings="$OAS_SERVICES_DIR/schemathesis.toml"
cp scripts/schemathesis/schemathesis.toml "$settings"
while IFS='=' read -r name id; do
  [[ $id =~ ^[0-9]+$ ]] || { echo "the walk-through made no ${name,,} (got '$id')" >&2; exit 1; }
  printf '\n[dictionaries.%s]\nvalues = [%s]\n' "${name,,}" "$id" >>"$settings"
done <"$walk/ids.env"

# A bearer access token too (for an hour): both schemes are exercised.
token="$(curl -sf -X POST "$base/api/auth/login/" -H 'Content-Type: application/json' \
  -d "{\"username\": \"schemathesis\", \"email\": \"schemathesis@label.com\", \"password\": \"$password\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')"

out="$CARGO_TARGET_DIR/schemathesis"
rm -rf "$out" && mkdir -p "$out"
echo "schemathesis against $base" >&2
status=0
(cd "$OAS_SERVICES_DIR" && OAS_API_KEY="$key" OAS_ACCESS_TOKEN="$token" NO_PROXY=127.0.0.1 \
  "$bin/st" --config-file "$settings" \
  run "$base/api/openapi.json" \
  --report junit --report-junit-path "$out/junit.xml") 2>&1 | tee "$out/output.txt" || status=$?
if [[ $status -ne 0 ]]; then
  echo "schemathesis found contract failures (exit $status); the gateway's log: $OAS_SERVICES_DIR/gateway.log" >&2
  tail -n 50 "$OAS_SERVICES_DIR/gateway.log" >&2 || true
fi
cp "$OAS_SERVICES_DIR/gateway.log" "$out/gateway.log" 2>/dev/null || true
exit "$status"
