#!/usr/bin/env bash
# The deployment test: every image built on this machine (no registry), the
# stack of docker/compose.yaml started, the README's walk-through run
# against it as written, from a report uploaded through an S3 presigned URL
# to its statement downloaded, then checked: every module run was a
# container that read its job from OAS_JOB and exited 0. Everything is torn
# down after, the engine stopped if this script started it.
#
#   scripts/deploy-test.sh [--profile release|debug] [--up | --down]
#
# --profile debug uses the binaries `make test` builds (what CI does);
# release, the default, builds them as deployed. --up leaves the stack
# running (API at http://127.0.0.1:8000); --down stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release mode=test
while (($#)); do
  case $1 in
    --profile) profile=$2; shift 2 ;;
    --up) mode=up; shift ;;
    --down) mode=down; shift ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/images.sh
source scripts/images.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oas-target}"
export OAS_STACK_PORT="${OAS_STACK_PORT:-8000}"
compose=(docker-compose --project-name oas-stack --file docker/compose.yaml)
api="http://127.0.0.1:$OAS_STACK_PORT"
work="$(mktemp -d "${TMPDIR:-/tmp}/oas-deploy.XXXXXX")"
started=$SECONDS

down() {
  "${compose[@]}" down --volumes --remove-orphans >"$work/down.log" 2>&1 || true
  # Module containers a stopped gateway left behind.
  docker ps --all --quiet --filter label=oas.job | xargs --no-run-if-empty docker rm --force >/dev/null 2>&1 || true
}

ensure_engine
export DOCKER_GID
DOCKER_GID="$(stat -c %g /var/run/docker.sock 2>/dev/null || echo 0)"
if [[ $mode == down ]]; then
  down
  exit 0
fi

step() { echo "deploy-test: $* ($((SECONDS - started)) s)" >&2; }

# The binaries, and s3s-fs for the S3 image.
if [[ $profile == release ]]; then
  step "building the release binaries"
  cargo build --release --workspace --bins
else
  cargo build --workspace --bins
fi
# shellcheck source=scripts/services.sh
s3s_fs="$(source scripts/services.sh && s3s_fs_bin && rm -rf "$OAS_SERVICES_DIR")"

step "making the images"
base_image
build_images "$profile" latest
build_stand_ins "$s3s_fs"

on_exit() {
  local status=$?
  if [[ $mode == test ]]; then
    if ((status != 0)); then
      echo "deploy-test: FAILED; the gateway's last lines:" >&2
      "${compose[@]}" logs --no-color --tail 40 oas >&2 2>&1 || true
    fi
    step "tearing down"
    down
    stop_engine
  fi
  rm -rf "$work"
  exit "$status"
}
trap on_exit EXIT

step "starting the stack"
down
since=$(date +%s)
"${compose[@]}" up --detach >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }
for _ in $(seq 1 600); do
  curl -sf "$api/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -sf "$api/healthz" >/dev/null || { echo "the gateway did not answer at $api" >&2; exit 1; }

KEY=$(echo 'violet-harbour-tangent-41' | "${compose[@]}" exec -T oas \
  oas createsuperuser --username admin --email admin@label.com --password-stdin | tail -n 1)
export KEY
if [[ $mode == up ]]; then
  step "the stack is up at $api; an administrator's API key: $KEY"
  trap - EXIT
  exit 0
fi

step "running the README's walk-through against the stack"
python3 scripts/readme-walkthrough.py --api "$api" >"$work/walkthrough.sh"
(cd "$work" && timeout 900 bash -eu walkthrough.sh) >"$work/walkthrough.log" 2>&1 ||
  { echo "the walk-through failed; its output:" >&2; tail -n 60 "$work/walkthrough.log" >&2; exit 1; }

step "a ping, so every module image runs"
ping_job=$(curl -sf -X POST "$api/api/jobs/ping/" -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
  -d '{}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 1 600); do
  status=$(curl -sf "$api/api/jobs/$ping_job/" -H "X-Api-Key: $KEY" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')
  [[ $status == queued || $status == running ]] || break
  sleep 0.2
done
[[ $status == succeeded ]] || { echo "the ping ended $status" >&2; exit 1; }

step "checking what ran"
# The gateway's image checks itself (HEALTHCHECK: oas health).
gateway=$("${compose[@]}" ps --quiet oas)
for _ in $(seq 1 300); do
  health=$(docker inspect --format '{{.State.Health.Status}}' "$gateway")
  [[ $health == starting ]] || break
  sleep 0.2
done
[[ $health == healthy ]] || { echo "the gateway's container is $health, not healthy" >&2; exit 1; }
# A run reports before its process exits: wait until the gateway has seen
# every container end and removed it.
for _ in $(seq 1 300); do
  [[ -z "$(docker ps --all --quiet --filter label=oas.job)" ]] && break
  sleep 0.2
done
"${compose[@]}" exec -T postgres psql --username=oas --dbname=oas --no-align --tuples-only \
  --field-separator=, --command "SELECT id, module, action, status, coalesce(task_ref, ''), coalesce(exit_code::text, '') FROM jobs" \
  >"$work/jobs.csv"
docker events --since "$since" --until "$(date +%s)" --filter label=oas.job --filter event=die \
  --format '{{json .}}' >"$work/events.jsonl"
"${compose[@]}" exec -T oas sh -c 'cat /var/lib/oas/logs/jobs/*.log' >"$work/runs.log"
python3 scripts/deploy-check.py --jobs "$work/jobs.csv" --events "$work/events.jsonl" \
  --logs "$work/runs.log" --work "$work"
step "passed"
