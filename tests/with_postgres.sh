#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on 127.0.0.1, its URL in
# APPBEAM_TEST_DATABASE_URL. The server lives in a temporary folder and is removed after.
#
#   tests/with_postgres.sh .venv/bin/python -m pytest tests/relay
#
# Without PostgreSQL's server programs it says so and exits 0, unless APPBEAM_REQUIRE_POSTGRES=1
# (CI sets it, after installing Debian's postgresql package).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  if [ "${APPBEAM_REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "with_postgres: PostgreSQL server programs not found" >&2
    exit 1
  fi
  echo "with_postgres: PostgreSQL is not installed; skipping: $*" >&2
  exit 0
fi

workdir=$(mktemp -d /tmp/appbeam-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# PostgreSQL refuses to run as root: run it as the postgres user (or nobody) when we are root.
as_user=()
if [ "$(id -u)" = "0" ]; then
  user=$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)
  chown "$user" "$workdir"
  as_user=(runuser -u "$user" --)
fi
cleanup() {
  "${as_user[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

"${as_user[@]}" "$bindir/initdb" -D "$workdir/data" -U appbeam --auth=trust -E UTF8 >"$workdir/initdb.log" 2>&1
"${as_user[@]}" "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $workdir -c fsync=off -c max_connections=200" start >/dev/null
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U appbeam appbeam_test

export APPBEAM_TEST_DATABASE_URL="postgresql://appbeam@127.0.0.1:$port/appbeam_test"
echo "with_postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $port" >&2
"$@"
