#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS server for trying geo's database commands by hand (no docker).
#   scripts/pg_test_server.sh start   # prints the connection string; data in $GEO_PG_DIR (default /tmp/geo-pg)
#   scripts/pg_test_server.sh stop    # stops the server and deletes its data
# Needs Debian's postgresql-15-postgis-3 (or another PostgreSQL with PostGIS). As root, the server runs as
# the postgres user. The tests (tests/test_postgis.py) start and stop their own server the same way.
set -euo pipefail
DIR="${GEO_PG_DIR:-/tmp/geo-pg}"
PORT="${GEO_PG_PORT:-54329}"
BIN="$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | tail -1)")")"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
start)
    mkdir -p "$DIR/sock" && chmod 755 "$DIR"
    [ "$(id -u)" = 0 ] && chown -R postgres "$DIR"
    [ -d "$DIR/data" ] || as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth-local=trust --auth-host=trust >/dev/null
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
        -o "-p $PORT -k $DIR/sock -c listen_addresses=127.0.0.1" start >/dev/null
    as_pg "$BIN/psql" -h "$DIR/sock" -p "$PORT" -U postgres -qc "CREATE DATABASE geo" 2>/dev/null || true
    as_pg "$BIN/psql" -h "$DIR/sock" -p "$PORT" -U postgres -d geo -qc "CREATE EXTENSION IF NOT EXISTS postgis"
    echo "postgresql://postgres@127.0.0.1:$PORT/geo"
    ;;
stop)
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null || true
    rm -rf "$DIR"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
