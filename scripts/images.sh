#!/usr/bin/env bash
# The images of OAS, built on this machine without pulling any: a Debian
# base made with debootstrap (once), and the gateway's and every module's
# image from binaries cargo built here (the Dockerfiles' `prebuilt` stage).
#
#   scripts/images.sh [--profile release|debug] [--tag TAG] [IMAGE...]
#
# IMAGE is oas or a module name (all of them when none is given). Source it
# for its functions (ensure_engine, stop_engine, base_image, build_images).
# The Docker Engine is started when it is not running (Debian's docker.io,
# installed when missing, as root), and stopped by stop_engine if this
# script started it.
set -euo pipefail

OAS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OAS_TOOLS="${OAS_TOOLS_DIR:-$HOME/.cache/oas-tools}"
OAS_BASE_IMAGE="${OAS_BASE_IMAGE:-oas-base:bookworm}"
# Every module, in the order the pipeline runs them; one source of truth
# with crates/domain (Module::ALL), checked by a test.
OAS_MODULES=(uploads importer catalogue-matching report statement ping)
OAS_ENGINE_STARTED=""

say() { echo "images: $*" >&2; }

# Debian's packages this needs, installed when missing (as root).
install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  if ((${#missing[@]})); then
    if [[ $(id -u) != 0 ]]; then
      say "needs ${missing[*]} (Debian packages); install them as root"
      return 1
    fi
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$OAS_TOOLS/apt.log" 2>&1 ||
      { apt-get update -q >>"$OAS_TOOLS/apt.log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$OAS_TOOLS/apt.log" 2>&1; } ||
      { say "apt-get could not install ${missing[*]}; see $OAS_TOOLS/apt.log"; return 1; }
  fi
}

# The Docker Engine answers, started here when it was not running.
ensure_engine() {
  mkdir -p "$OAS_TOOLS"
  install_packages
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    say "no Docker Engine answers at DOCKER_HOST=$DOCKER_HOST"
    return 1
  fi
  if [[ $(id -u) != 0 ]]; then
    say "the Docker Engine is not running, and starting it (dockerd) needs root"
    return 1
  fi
  say "starting the Docker Engine (dockerd; its log: $OAS_TOOLS/dockerd.log)"
  dockerd >"$OAS_TOOLS/dockerd.log" 2>&1 &
  OAS_ENGINE_STARTED=$!
  local waited=0
  until docker info >/dev/null 2>&1; do
    if ! kill -0 "$OAS_ENGINE_STARTED" 2>/dev/null || ((waited >= 600)); then
      say "the Docker Engine did not start; the end of its log:"
      tail -n 20 "$OAS_TOOLS/dockerd.log" >&2
      OAS_ENGINE_STARTED=""
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Stops the engine if ensure_engine started it.
stop_engine() {
  if [[ -n "$OAS_ENGINE_STARTED" ]]; then
    kill "$OAS_ENGINE_STARTED" 2>/dev/null || true
    local waited=0
    while kill -0 "$OAS_ENGINE_STARTED" 2>/dev/null && ((waited < 300)); do
      sleep 0.1
      waited=$((waited + 1))
    done
    OAS_ENGINE_STARTED=""
  fi
}

# A minimal Debian bookworm made with debootstrap and imported as
# $OAS_BASE_IMAGE, once: what the Dockerfiles' BASE is here.
base_image() {
  if docker image inspect "$OAS_BASE_IMAGE" >/dev/null 2>&1; then
    return 0
  fi
  local root="$OAS_TOOLS/base-bookworm"
  say "making the base image $OAS_BASE_IMAGE with debootstrap"
  rm -rf "$root"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$OAS_TOOLS/debootstrap.log" 2>&1 ||
    { say "debootstrap failed; see $OAS_TOOLS/debootstrap.log"; return 1; }
  # Smaller, and kept small: no documentation, manuals or translations,
  # now or in what images install later.
  cat >"$root/etc/dpkg/dpkg.cfg.d/01-oas-slim" <<'CFG'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
CFG
  cat >"$root/etc/apt/apt.conf.d/01-oas-slim" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
CFG
  # This machine's own certificate authorities (a proxy's, a company's):
  # images reach what the machine reaches, once they install ca-certificates.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  fi
  rm -rf "$root"/usr/share/{doc,man,info}/* "$root"/var/lib/apt/lists/* \
    "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' - "$OAS_BASE_IMAGE" >/dev/null
  rm -rf "$root"
}

# build_images PROFILE TAG [IMAGE...]: binaries from $CARGO_TARGET_DIR/PROFILE.
build_images() {
  local profile=$1 tag=$2
  shift 2
  local images=("$@")
  ((${#images[@]})) || images=(oas "${OAS_MODULES[@]}")
  local bin="${CARGO_TARGET_DIR:-$HOME/.cache/oas-target}/$profile"
  local context="$OAS_TOOLS/images/context"
  rm -rf "$context"
  mkdir -p "$context/bin"
  local image
  for image in "${images[@]}"; do
    local binaries=("oas-$image")
    [[ $image == oas ]] && binaries=(oas oas-ping)
    local binary
    for binary in "${binaries[@]}"; do
      [[ -x "$bin/$binary" ]] || { say "$bin/$binary is missing: build it first (cargo build --workspace --bins$([[ $profile == release ]] && echo ' --release'))"; return 1; }
      cp "$bin/$binary" "$context/bin/"
    done
  done
  for image in "${images[@]}"; do
    if [[ $image == oas ]]; then
      build_image "$OAS_ROOT/docker/oas.Dockerfile" prebuilt "oas:$tag" "$context"
    else
      build_image "$OAS_ROOT/docker/module.Dockerfile" prebuilt "oas-$image:$tag" "$context" \
        --build-arg "MODULE=$image"
    fi
  done
}

# build_stand_ins S3S_FS: the images of docker/compose.yaml's outside
# services (PostgreSQL, s3s-fs, and moto, SecantusDB and aiosmtpd), on the
# same base; S3S_FS is the s3s-fs binary to carry.
build_stand_ins() {
  local context="$OAS_TOOLS/images/stand-ins" target
  rm -rf "$context"
  mkdir -p "$context/bin"
  cp "$1" "$context/bin/s3s-fs"
  for target in postgres s3 tools; do
    build_image "$OAS_ROOT/docker/stand-ins.Dockerfile" "$target" "oas-stack-$target:latest" "$context"
  done
}

# build_image DOCKERFILE TARGET NAME CONTEXT [ARG...]: one image on the
# local base, with the classic builder (BuildKit would fetch its Dockerfile
# frontend from a registry); says its size.
build_image() {
  local dockerfile=$1 target=$2 name=$3 context=$4
  shift 4
  DOCKER_BUILDKIT=0 docker build --quiet -f "$dockerfile" --target "$target" \
    --build-arg "BASE=$OAS_BASE_IMAGE" "$@" -t "$name" "$context" >/dev/null 2>"$OAS_TOOLS/images/build.log" ||
    { say "building $name failed:"; cat "$OAS_TOOLS/images/build.log" >&2; return 1; }
  say "$name $(docker image inspect --format '{{.Size}}' "$name" | awk '{printf "%.0f MB", $1 / 1e6}')"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  profile=release tag=latest
  while (($#)); do
    case $1 in
      --profile) profile=$2; shift 2 ;;
      --tag) tag=$2; shift 2 ;;
      -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
      *) break ;;
    esac
  done
  ensure_engine
  base_image
  build_images "$profile" "$tag" "$@"
fi
