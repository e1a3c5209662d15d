#!/usr/bin/env bash
# test_live_nats.sh -- `stampede record --nats`: the live connector, fed by
# `stampede replay-server` over WebSocket on 127.0.0.1, publishes its events
# to a real throw-away `nats-server -js` (tests/integration/nats_server.sh);
# `stampede sink` then stores the stream in SQLite, and the stored events
# equal `stampede ingest` of the same capture (every kind, local time aside).
# In a build without NATS, --nats must be refused with exit 2 and the reason.
#
#   test_live_nats.sh STAMPEDE_BINARY BUILD_DIR
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
src=${SP_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
. "$here/lib.sh"
if ! "$bin" version --json | grep -q '"nats":true'; then
    "$bin" record --nats nats://127.0.0.1:4222 --duration 1 >/dev/null 2>err.$$
    rc=$?
    msg=$(cat err.$$)
    rm -f err.$$
    if [ $rc = 2 ] && printf '%s' "$msg" | grep -q "built without NATS"; then
        echo "ok   - built without NATS: --nats refused (exit 2)"
        exit 0
    fi
    echo "FAIL - --nats in a build without NATS: exit $rc: $msg"
    exit 1
fi
if [ -z "${SP_TEST_NATS_URL:-}" ]; then
    command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || {
        echo "SKIP: nats-server not installed"
        exit 0
    }
    exec bash "$here/nats_server.sh" run bash "$0" "$@"
fi
data=$src/data
ws=$data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.ws.1.0.txt
rest=$data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.http.0.0.txt
sp_tmpdir live_nats
srv_pid=
sp_atexit() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; }
cd "$tmp"

sp_start_replay "$ws" "$rest"
cat >cfg.json <<EOF
{"backoff_min_ms": 20, "backoff_max_ms": 200, "venues": {"binance": {
  "ws": "ws://127.0.0.1:$port/stream", "rest": "http://127.0.0.1:$port",
  "streams": {"trades": "{sym}@aggTrade", "depth": "{sym}@depth@100ms",
              "ticker": "{sym}@bookTicker", "kline": "{sym}@kline_1m"}}}}
EOF
nframes=$(($(wc -l <"$ws") - 1))
timeout 60 "$bin" record --config cfg.json --venue binance --symbols SUSHIUSDT,AKROUSDT,KEEPUSDT,CTKUSDT \
    --nats "$SP_TEST_NATS_URL" --max-messages $((nframes + 1)) --duration 20 --json >rec.json 2>rec.err
rc=$?
kill -TERM "$srv_pid"
wait "$srv_pid" 2>/dev/null
srv_pid=
[ $rc = 0 ] && ok "record --nats exit 0" || bad "record --nats exit $rc: $(cat rec.err)"
events=$(sed -n 's/.*"stored":\([0-9]*\).*/\1/p' rec.json)
[ -n "$events" ] && [ "$events" -gt 10000 ] && ok "record --nats: $events events published" ||
    bad "record --nats summary: $(cat rec.json)"

timeout 60 "$bin" sink --nats "$SP_TEST_NATS_URL" --store sqlite:sink.db --max-events "$events" \
    --idle-exit 5 >sink.out 2>sink.err
rc=$?
[ $rc = 0 ] && ok "sink exit 0" || bad "sink exit $rc: $(cat sink.err)"
"$bin" ingest --store sqlite:ref.db "$ws" "$rest" >/dev/null 2>&1 || bad "ingest reference"
dump() {
    : >"$2"
    for k in trade depth_update book_level ticker kline gap; do
        "$bin" query --store "$1" --kind "$k" >>"$2" || bad "query $k of $1"
    done
    sed -i 's/,"local_ts_ns":[0-9]*//' "$2"
    sort -o "$2" "$2"
}
dump sqlite:sink.db sink.txt
dump sqlite:ref.db ref.txt
if [ -s ref.txt ] && cmp -s sink.txt ref.txt; then
    ok "recorded via NATS == ingest of the capture ($(wc -l <sink.txt) events)"
else
    bad "recorded via NATS differs: $(diff sink.txt ref.txt | head -5)"
fi
sp_summary
