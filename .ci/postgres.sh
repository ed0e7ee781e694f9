#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 for the tests (Debian's packages), as the
# postgres user, with its data under /tmp, listening on 127.0.0.1 on a free
# port, and prints the exports the tests read:
#
#   eval "$(.ci/postgres.sh)"
#
# AGENTGATE_TEST_POSTGRES_URL    the test database (superuser, trust auth on
#                                loopback only); tests create their own
#                                databases beside it
# AGENTGATE_TEST_POSTGRES_DATA   the data directory (the restart test runs
#                                pg_ctl restart on it)
# AGENTGATE_TEST_POSTGRES_STOP   the command that stops the server
#
# Progress goes to stderr; only the exports go to stdout.
set -euo pipefail

bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$bin/initdb" ]; then
  echo "postgres.sh: installing postgresql" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
fi
id postgres >/dev/null 2>&1 || useradd --system --home-dir /tmp --shell /bin/false postgres

# A free port: the first in the range nothing answers on.
port=
for p in $(seq 55432 55632); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "postgres.sh: no free port" >&2; exit 1; }

data=$(mktemp -d /tmp/agentgate-pg.XXXXXX)
chown postgres: "$data"
chmod 700 "$data"
as_pg() { runuser -u postgres -- "$@"; }

as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale >/dev/null
as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$data -c max_connections=300 -c fsync=off" \
  start >&2
as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres agentgate_test

echo "export AGENTGATE_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/agentgate_test?sslmode=disable'"
echo "export AGENTGATE_TEST_POSTGRES_DATA='$data'"
echo "export AGENTGATE_TEST_POSTGRES_STOP='runuser -u postgres -- $bin/pg_ctl -D $data -m fast stop'"
