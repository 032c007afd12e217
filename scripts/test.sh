#!/usr/bin/env bash
# Runs the whole test suite against real stand-ins it starts itself on
# 127.0.0.1 (an SMTP server, moto and a MongoDB-wire server from PyPI, an S3
# server from crates.io) and stops afterwards. PostgreSQL
# cases run when OAS_TEST_DATABASE_URL names a server the tests may create
# databases on (CI always sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${OAS_TEST_DATABASE_URL:-}" ]]; then
  scripts/require-postgres.sh
else
  echo "OAS_TEST_DATABASE_URL is not set: PostgreSQL cases will be skipped." >&2
fi

# Statements' PDFs are read back with pdftotext (Debian's poppler-utils).
if ! command -v pdftotext >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "Installing poppler-utils (pdftotext, pdftoppm) to read statements' PDFs" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; }
  else
    echo "pdftotext is missing: install poppler-utils (apt-get install poppler-utils)" >&2
    exit 1
  fi
fi

# shellcheck source=scripts/services.sh
source scripts/services.sh
# shellcheck source=scripts/images.sh
source scripts/images.sh
trap 'stop_services; stop_engine' EXIT
start_smtp
start_s3
start_moto
start_mongodb
start_ftp
start_sftp
# Every stand-in above is running: a test that finds one missing fails
# instead of skipping.
export OAS_TEST_STAND_INS=required

# The gateway's tests run the modules as processes: every binary must be
# built, and `cargo test` builds only those of packages with tests of
# their own.
cargo build --workspace --bins

# Module runs as containers: the launcher suite runs against the Docker
# Engine too, with the ping module's image made from the binary just built.
ensure_engine
base_image
build_images debug test ping
export OAS_TEST_DOCKER_TAG=test

cargo test --workspace --all-targets "$@"

# The API contract from outside: schemathesis against a live gateway.
scripts/schemathesis.sh
