# Local stand-ins for outside services, for the tests. Sourced by test.sh.
# Tools are installed once into a cache outside the clone and reused.
#
#   start_smtp   aiosmtpd (PyPI) on 127.0.0.1, delivering into a Maildir;
#                exports OAS_TEST_SMTP_URL and OAS_TEST_SMTP_MAILDIR
#   start_s3     s3s-fs (crates.io), an S3 server that checks signatures,
#                over a temporary folder; exports OAS_TEST_S3_ENDPOINT,
#                AWS_ENDPOINT_URL_S3 and test credentials
#   start_moto   the moto server (PyPI) for the SQS and ECS APIs; exports
#                OAS_TEST_MOTO_ENDPOINT, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_ECS
#                (moto does not check S3 signatures: S3 is s3s-fs's)
#   start_mongodb  SecantusDB (PyPI), a MongoDB-wire server, in memory;
#                exports OAS_TEST_MONGODB_URI. It is GPL-licensed: it is only
#                ever run as a separate process, never vendored or linked.
#   start_ftp    pyftpdlib (PyPI), FTP and explicit FTPS on one port, with a
#                test authority's certificate; exports OAS_TEST_FTP_PORT,
#                OAS_TEST_FTP_ROOT (the folder it serves) and OAS_TEST_FTP_CA
#   start_sftp   asyncssh (PyPI), SFTP over the same folder; exports
#                OAS_TEST_SFTP_PORT and OAS_TEST_SFTP_HOST_KEY (its public key)
#   stop_services
#
# Every server listens on 127.0.0.1 only, on a free port, and is stopped on exit.

OAS_TOOLS_DIR="${OAS_TOOLS_DIR:-$HOME/.cache/oas-tools}"
OAS_SERVICES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/oas-services.XXXXXX")"
OAS_SERVICE_PIDS=()

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits (up to 30 s) until 127.0.0.1:$1 accepts connections.
wait_for_port() {
  local port="$1" name="$2"
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start on 127.0.0.1:$port; its log:" >&2
  cat "$OAS_SERVICES_DIR/$name.log" >&2 || true
  return 1
}

python_tools() {
  local venv="$OAS_TOOLS_DIR/venv"
  if [[ ! -x "$venv/bin/python" ]]; then
    mkdir -p "$OAS_TOOLS_DIR"
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c 'import aiosmtpd, moto.server' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd>=1.4,<2' 'moto[server]>=5,<6' >&2
  fi
  echo "$venv/bin/python"
}

# A tool of its own from PyPI in its own virtual environment under the
# tools cache (its dependencies never meet another tool's); prints the
# environment's bin folder. `tool_venv NAME MODULE SPEC...` installs SPEC
# when MODULE does not import.
tool_venv() {
  local name="$1" module="$2" venv="$OAS_TOOLS_DIR/venv-$1"
  shift 2
  if [[ ! -x "$venv/bin/python" ]]; then
    mkdir -p "$OAS_TOOLS_DIR"
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c "import $module" 2>/dev/null; then
    echo "Installing $name into $venv (once)..." >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
  fi
  echo "$venv/bin"
}

start_smtp() {
  local python port maildir
  python="$(python_tools)"
  port="$(free_port)"
  maildir="$OAS_SERVICES_DIR/maildir"
  "$python" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$maildir" \
    >"$OAS_SERVICES_DIR/smtp.log" 2>&1 &
  OAS_SERVICE_PIDS+=("$!")
  wait_for_port "$port" smtp
  export OAS_TEST_SMTP_URL="smtp://127.0.0.1:$port"
  export OAS_TEST_SMTP_MAILDIR="$maildir"
  echo "SMTP (aiosmtpd) on 127.0.0.1:$port" >&2
}

# The credentials every local AWS stand-in accepts.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-oas-test-access-key}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-oas-test-secret-key}"
export AWS_REGION="${AWS_REGION:-us-east-1}"

# The s3s-fs binary, installed once into the tools cache; prints its path.
s3s_fs_bin() {
  local bin="$OAS_TOOLS_DIR/bin/s3s-fs"
  if [[ ! -x "$bin" ]]; then
    echo "Installing s3s-fs into $OAS_TOOLS_DIR (once)..." >&2
    cargo install s3s-fs@0.14.1 --features binary --locked --root "$OAS_TOOLS_DIR" >&2
  fi
  echo "$bin"
}

start_s3() {
  local bin port root
  bin="$(s3s_fs_bin)"
  port="$(free_port)"
  root="$OAS_SERVICES_DIR/s3"
  mkdir -p "$root"
  "$bin" --host 127.0.0.1 --port "$port" \
    --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" "$root" \
    >"$OAS_SERVICES_DIR/s3.log" 2>&1 &
  OAS_SERVICE_PIDS+=("$!")
  wait_for_port "$port" s3
  export OAS_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
  export AWS_ENDPOINT_URL_S3="$OAS_TEST_S3_ENDPOINT"
  echo "S3 (s3s-fs) on 127.0.0.1:$port" >&2
}

start_moto() {
  local python port
  python="$(python_tools)"
  port="$(free_port)"
  "$(dirname "$python")/moto_server" -H 127.0.0.1 -p "$port" >"$OAS_SERVICES_DIR/moto.log" 2>&1 &
  OAS_SERVICE_PIDS+=("$!")
  wait_for_port "$port" moto
  export OAS_TEST_MOTO_ENDPOINT="http://127.0.0.1:$port"
  export AWS_ENDPOINT_URL_SQS="$OAS_TEST_MOTO_ENDPOINT"
  export AWS_ENDPOINT_URL_ECS="$OAS_TEST_MOTO_ENDPOINT"
  echo "SQS and ECS (moto) on 127.0.0.1:$port" >&2
}

start_mongodb() {
  local bin port
  bin="$(tool_venv secantusdb secantus --pre 'SecantusDB==0.7.0b3')"
  port="$(free_port)"
  "$bin/secantusd-py" --host 127.0.0.1 --port "$port" --storage-path :memory: \
    >"$OAS_SERVICES_DIR/mongodb.log" 2>&1 &
  OAS_SERVICE_PIDS+=("$!")
  wait_for_port "$port" mongodb
  export OAS_TEST_MONGODB_URI="mongodb://127.0.0.1:$port/?directConnection=true"
  echo "MongoDB wire protocol (SecantusDB) on 127.0.0.1:$port" >&2
}

OAS_STAND_INS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/stand-ins"

# The folder the FTP and SFTP servers share.
ftp_root() {
  export OAS_TEST_FTP_ROOT="$OAS_SERVICES_DIR/ftp-root"
  mkdir -p "$OAS_TEST_FTP_ROOT"
}

start_ftp() {
  local bin port
  bin="$(tool_venv ftp pyftpdlib 'pyftpdlib==2.2.0' 'pyOpenSSL==26.4.0')"
  ftp_root
  port="$(free_port)"
  export OAS_TEST_FTP_CA="$OAS_SERVICES_DIR/ftp-ca.pem"
  "$bin/python" "$OAS_STAND_INS/ftp.py" "$port" "$OAS_TEST_FTP_ROOT" "$OAS_TEST_FTP_CA" \
    >"$OAS_SERVICES_DIR/ftp.log" 2>&1 &
  OAS_SERVICE_PIDS+=("$!")
  wait_for_port "$port" ftp
  export OAS_TEST_FTP_PORT="$port"
  echo "FTP and FTPS (pyftpdlib) on 127.0.0.1:$port" >&2
}

start_sftp() {
  local bin port
  bin="$(tool_venv sftp asyncssh 'asyncssh==2.24.1')"
  ftp_root
  port="$(free_port)"
  export OAS_TEST_SFTP_HOST_KEY="$OAS_SERVICES_DIR/sftp-host-key.pub"
  "$bin/python" "$OAS_STAND_INS/sftp.py" "$port" "$OAS_TEST_FTP_ROOT" "$OAS_TEST_SFTP_HOST_KEY" \
    >"$OAS_SERVICES_DIR/sftp.log" 2>&1 &
  OAS_SERVICE_PIDS+=("$!")
  wait_for_port "$port" sftp
  export OAS_TEST_SFTP_PORT="$port"
  echo "SFTP (asyncssh) on 127.0.0.1:$port" >&2
}

stop_services() {
  local pid
  for pid in "${OAS_SERVICE_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${OAS_SERVICE_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$OAS_SERVICES_DIR"
}
