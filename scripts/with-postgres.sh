#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server: a new cluster in a temporary folder, on a
# free port of 127.0.0.1, stopped and removed afterwards. The command sees its URL in
# TTFA_TEST_DATABASE_URL (for the tests) — e.g.  scripts/with-postgres.sh swift test
# Needs Debian's postgresql package (`make test` installs it). As root, the server runs as the
# postgres user (initdb refuses root).
set -uo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: no PostgreSQL server here (install Debian's postgresql package); running without it" >&2
  exec "$@"
fi
dir=$(mktemp -d /tmp/ttfa-postgres-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  as_server=(runuser -u postgres --)
fi
cleanup() {
  "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop > /dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
if ! "${as_server[@]}" "$bin/initdb" -D "$dir/data" -U ttfa -A trust > "$dir/initdb.log" 2>&1 ||
   ! "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
       -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start > /dev/null 2>&1; then
  echo "with-postgres: the server did not start (see below); running without it" >&2
  cat "$dir"/*.log >&2
  "$@"
  exit $?
fi
export TTFA_TEST_DATABASE_URL="postgresql://ttfa@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port ($dir)" >&2
"$@"
