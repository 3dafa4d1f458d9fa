#!/usr/bin/env bash
# Starts a throw-away Postgres on loopback for the tests and prints its URL.
# Usage: eval "$(.ci/postgres.sh start)"   (sets ASSESSGATE_TEST_DATABASE_URL and PGDIR)
#        .ci/postgres.sh stop "$PGDIR"
# Installs Debian's postgresql package when no server is installed. As root it
# runs the server as the postgres user, since initdb refuses to run as root.
set -euo pipefail

pgbin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "${1:-}" in
start)
  bin=$(pgbin || true)
  if [ -z "$bin" ]; then
    echo "installing postgresql from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin=$(pgbin)
  fi
  dir=$(mktemp -d /tmp/assessgate-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
  as_pg "'$bin/initdb' -D '$dir/data' -U postgres -A trust -E UTF8 >'$dir/initdb.log' 2>&1"
  as_pg "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=on -c max_connections=300\" start >&2"
  echo "export PGDIR='$dir'"
  echo "export ASSESSGATE_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
  ;;
stop)
  dir=${2:?usage: postgres.sh stop PGDIR}
  bin=$(pgbin)
  as_pg "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start | stop PGDIR" >&2
  exit 2
  ;;
esac
