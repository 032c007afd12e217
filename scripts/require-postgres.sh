#!/usr/bin/env bash
# Fails unless the PostgreSQL server of OAS_TEST_DATABASE_URL accepts
# connections; on a machine with a local cluster that is down, starts it first.
set -euo pipefail
url="${OAS_TEST_DATABASE_URL:?OAS_TEST_DATABASE_URL must name a PostgreSQL server}"

# host and port from postgres://user[:pw]@host[:port]/db
authority="${url#*://}"; authority="${authority%%/*}"; authority="${authority##*@}"
host="${authority%%:*}"; port="${authority##*:}"
[[ "$port" == "$authority" ]] && port=5432

reachable() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

if ! reachable && command -v pg_ctlcluster >/dev/null && [[ "$host" == 127.0.0.1 || "$host" == localhost ]]; then
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$version" ]] && pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do reachable && break; sleep 1; done
fi

if ! reachable; then
  echo "PostgreSQL at $host:$port is unreachable; the PostgreSQL tests cannot run." >&2
  exit 1
fi
echo "PostgreSQL at $host:$port is reachable." >&2
