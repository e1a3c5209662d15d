#!/usr/bin/env bash
# pg_server.sh -- run a command against a real, throw-away PostgreSQL 15.
#
#   pg_server.sh run CMD [ARGS...]
#
# initdb's a cluster into a fresh temp dir, starts it with pg_ctl on
# 127.0.0.1 and a free port (unix socket inside the temp dir), exports
# SP_TEST_PG_URI=postgresql://stampede@127.0.0.1:PORT (no database name:
# the tests create their own), runs CMD, and always stops the server and
# removes the dir afterwards (trap on EXIT, also on failure or signal).
# The exit status is CMD's.
#
# PostgreSQL refuses to run as root: when run as root (CI) the server runs
# as the system user $SP_PG_USER (default "stampede-test", created with
# useradd if missing) through runuser.  Binaries come from
# /usr/lib/postgresql/15/bin (Debian's postgresql-15) unless PG_BIN is set.
# SP_PG_FSYNC=off trades crash safety of the *server* for speed (tests and
# benchmarks keep the default, on).  SP_PG_OPTS adds server settings
# ("-c shared_buffers=512MB -c max_wal_size=4GB", used by bench_store_pg).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=${SP_PG_USER:-stampede-test}

die() {
    echo "pg_server.sh: $*" >&2
    exit 2
}

[ "${1:-}" = run ] || die "usage: pg_server.sh run CMD [ARGS...]"
shift
[ $# -ge 1 ] || die "usage: pg_server.sh run CMD [ARGS...]"
[ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb not found: install the 'postgresql' package (scripts/packages/check.txt)"

as_pg=()
if [ "$(id -u)" = 0 ]; then
    if ! id "$PG_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" 2>/dev/null ||
            id "$PG_USER" >/dev/null 2>&1 || die "cannot create system user $PG_USER"
    fi
    as_pg=(runuser -u "$PG_USER" --)
fi

dir=$(mktemp -d /tmp/sp_pg.XXXXXX)
chmod 0755 "$dir"
[ ${#as_pg[@]} -eq 0 ] || chown "$PG_USER" "$dir"

stop() {
    local rc=$?
    if [ -f "$dir/data/postmaster.pid" ]; then
        "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT TERM

"${as_pg[@]}" "$PG_BIN/initdb" -D "$dir/data" -U stampede --auth=trust -E UTF8 --locale=C \
    --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    die "initdb failed"
}

. "$(dirname "$0")/ports.sh"

started=
for attempt in 1 2 3 4 5; do
    port=$(sp_pick_port)
    if "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=${SP_PG_FSYNC:-on} -c max_connections=50 ${SP_PG_OPTS:-}" \
        start >/dev/null 2>&1; then
        started=1
        break
    fi
    echo "pg_server.sh: start on port $port failed (attempt $attempt):" >&2
    tail -n 5 "$dir/server.log" >&2 || true
done
[ -n "$started" ] || die "PostgreSQL did not start (log: see above)"

export SP_TEST_PG_URI="postgresql://stampede@127.0.0.1:$port"
echo "pg_server.sh: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data $dir/data)" >&2
set +e
"$@"
rc=$?
set -e
exit "$rc"
