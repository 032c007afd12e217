#!/usr/bin/env bash
# Runs the whole test suite. PostgreSQL cases run when OAS_TEST_DATABASE_URL
# names a server the tests may create databases on (CI always sets it);
# everything else needs nothing installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${OAS_TEST_DATABASE_URL:-}" ]]; then
  scripts/require-postgres.sh
else
  echo "OAS_TEST_DATABASE_URL is not set: PostgreSQL cases will be skipped." >&2
fi

cargo test --workspace --all-targets "$@"
