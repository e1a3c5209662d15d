# lib.sh -- helpers shared by the shell integration tests (sourced, never run:
# tests/CMakeLists.txt registers only test_*.sh).  Each test does
#   . "$(dirname "$0")/lib.sh"
# and uses what it needs:
#   sp_tmpdir NAME        a fresh /tmp/sp_NAME.XXXXXX in $tmp, removed on exit
#                         (after the test's own sp_atexit, if it defines one);
#   ok / bad              "ok   - ..." / "FAIL - ..." lines, bad counts $fails;
#   sp_summary            "all ok" or "N failure(s)", status 0 only when all ok;
#   check / expect        run a command into $out and test its exit code / output
#                         (failures set fail=1);
#   expect_rc             run a command into out.txt/err.txt and ok/bad on its exit code;
#   fail                  print FAIL: ... on stderr and exit 1;
#   json / json_field     a field of a one-line JSON object (string or number / number);
#   sp_bus_preamble       refuse/skip/re-exec under nats_server.sh (and pg_server.sh);
#   sp_trade_csv          a deterministic synthetic Binance trade file;
#   sp_start_replay       `stampede replay-server` on port 0, sets $port and $srv_pid;
#   sp_api_db / sp_serve  the shared ingested store of the API tests, `stampede serve` on
#                         a free port (sets $pid; the port is in $tmp/port);
#   sp_serve_stop         SIGTERM the server, fail=1 on a bad exit or a sanitizer report.

fails=0
fail=0

# sp_tmpdir NAME: mktemp -d /tmp/sp_NAME.XXXXXX into $tmp, removed (with the test's
# sp_atexit, if defined, run first) when the shell exits.
sp_tmpdir() {
    tmp=$(mktemp -d "/tmp/sp_$1.XXXXXX")
    trap sp__cleanup EXIT
}
sp__cleanup() {
    if declare -F sp_atexit >/dev/null; then sp_atexit || true; fi
    rm -rf "$tmp"
}

ok() { echo "ok   - $*"; }
bad() {
    echo "FAIL - $*"
    fails=$((fails + 1))
}
# sp_summary: the closing line of an ok/bad test; its status is the test's
sp_summary() {
    [ $fails = 0 ] && echo "all ok" || echo "$fails failure(s)"
    [ $fails = 0 ]
}

check() { # check NAME EXPECTED_RC CMD... ; output in $out
    local name=$1 want=$2
    shift 2
    out=$("$@" 2>&1)
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, want $want: $out"
        fail=1
        return 1
    fi
    return 0
}
expect() { # expect NAME PATTERN  (grep -E in $out)
    if ! printf '%s\n' "$out" | grep -qE -- "$2"; then
        echo "FAIL $1: no /$2/ in: $out"
        fail=1
    fi
}
expect_rc() { # expect_rc WANT DESCRIPTION CMD...  (output in out.txt, err.txt)
    local want=$1 what=$2
    shift 2
    local e=0
    case $- in *e*) e=1 ;; esac
    set +e
    "$@" >out.txt 2>err.txt
    local rc=$?
    [ $e = 1 ] && set -e
    if [ "$rc" = "$want" ]; then ok "$what (exit $rc)"; else
        bad "$what: exit $rc, want $want"
        cat err.txt
    fi
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
json() { # json FILE KEY -> value of "KEY": in a one-line JSON object
    sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"
}
json_field() { # json_field KEY FILE -> the first numeric "KEY":N
    sed -n 's/.*"'"$1"'":\([0-9]*\).*/\1/p' "$2" | head -1
}

# sp_bus_preamble [--pg] [--cluster] BIN ARGS...: outside nats_server.sh (no
# $SP_TEST_NATS_URL), a build without NATS must refuse `publish --nats` with exit 2 and
# the reason (then the test ends: SKIP); without PostgreSQL (--pg) or nats-server the
# test is skipped; otherwise the calling script re-runs itself with ARGS under
# nats_server.sh [--cluster] (and pg_server.sh with --pg).
sp_bus_preamble() {
    local pg=0 cluster=()
    while :; do
        case $1 in
        --pg) pg=1 ;;
        --cluster) cluster=(--cluster) ;;
        *) break ;;
        esac
        shift
    done
    local bin=$1
    shift
    [ -z "${SP_TEST_NATS_URL:-}" ] || return 0
    local here msg rc
    here=$(cd "$(dirname "$0")" && pwd)
    if ! "$bin" version --json | grep -q '"nats":true'; then
        set +e
        msg=$("$bin" publish --nats nats://127.0.0.1:4222 /dev/null 2>&1)
        rc=$?
        set -e
        [ "$rc" = 2 ] && echo "$msg" | grep -q "built without NATS" || {
            echo "FAIL: exit $rc: $msg"
            exit 1
        }
        echo "SKIP: built without NATS (publish --nats refused with exit 2 and the reason)"
        exit 0
    fi
    if [ $pg = 1 ]; then
        "$bin" version --json | grep -q '"postgres":true' || {
            echo "SKIP: built without PostgreSQL"
            exit 0
        }
    fi
    command -v nats-server >/dev/null || {
        echo "SKIP: nats-server not installed"
        exit 0
    }
    if [ $pg = 1 ]; then
        exec bash "$here/pg_server.sh" run bash "$here/nats_server.sh" run "${cluster[@]}" bash "$0" "$@"
    fi
    exec bash "$here/nats_server.sh" run "${cluster[@]}" bash "$0" "$@"
}

# sp_trade_csv FILE N: a Binance trades CSV of N events with unique trade ids, prices
# and times (one event per line).
sp_trade_csv() {
    awk -v n="$2" 'BEGIN { print "id,price,qty,quote_qty,time,is_buyer_maker";
    for (i = 1; i <= n; i++)
        printf "%d,%d.%02d,0.%03d,1.0,%.0f,%s\n", i, 60000 + i % 5000, i % 100, 1 + i % 999,
               1770336000000 + i, (i % 3 == 0) ? "true" : "false" }' >"$1"
}

# sp_start_replay ARGS...: `$bin replay-server --listen 127.0.0.1:0 ARGS` in the
# background (cwd: srv.out, srv.err); sets $srv_pid and, once it listens, $port.
# Exits the test when the server does not start within 5 s.
sp_start_replay() {
    rm -f srv.out
    "$bin" replay-server --listen 127.0.0.1:0 "$@" >srv.out 2>srv.err &
    srv_pid=$!
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' srv.out 2>/dev/null)
        [ -n "$port" ] && return 0
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "FAIL - replay-server did not start: $(cat srv.err)"
    exit 1
}

# sp_api_db: $db = BUILD_DIR/api-test.db, filled once per build dir by `stampede ingest
# --all-shipped` (under a lock: the API tests share it; ingest is idempotent).
sp_api_db() {
    db="$build/api-test.db"
    (
        flock 9
        if [ ! -s "$db" ] || ! "$bin" query --store "sqlite:$db" --kind kline --symbol BTCUSDT --count >/dev/null 2>&1; then
            "$bin" ingest --all-shipped --store "sqlite:$db" --errors "$tmp/ingest.err" --no-progress --brief >/dev/null 2>&1
            [ $? -le 1 ] || {
                echo "FAIL: ingest into $db"
                exit 1
            }
        fi
    ) 9>"$build/api-test.db.lock" || exit 1
}

# sp_serve ARGS...: `stampede serve` over $db on a free loopback port (written to
# $tmp/port), the dashboard and data of the source tree, extra ARGS; sets $pid.
sp_serve() {
    "$bin" serve --store "sqlite:$db" --listen 127.0.0.1:0 --port-file "$tmp/port" "$@" \
        --web "$src/web/dist" --data "$src/data" --quiet --for 300 2>"$tmp/serve.log" &
    pid=$!
    for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    [ -s "$tmp/port" ] || {
        echo "FAIL: server did not start"
        cat "$tmp/serve.log"
        exit 1
    }
}
# sp_serve_stop: SIGTERM; fail=1 unless it exits 0 with no sanitizer report in its log.
sp_serve_stop() {
    kill -TERM "$pid"
    wait "$pid"
    local rc=$?
    pid=
    [ "$rc" -eq 0 ] || {
        echo "FAIL: server exit $rc after SIGTERM"
        fail=1
    }
    if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$tmp/serve.log"; then
        echo "FAIL: sanitizer report from the server:"
        head -40 "$tmp/serve.log"
        fail=1
    fi
}
