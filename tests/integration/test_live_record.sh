#!/usr/bin/env bash
# test_live_record.sh -- `stampede record` against `stampede replay-server`
# over real WebSocket on 127.0.0.1, end to end through the CLI:
#   1. Binance: record the shipped capture (ws + REST snapshot) into SQLite
#      with --raw; the stored events equal `stampede ingest` of the same
#      capture (every kind, local receive time aside), and the raw capture
#      written by record ingests to exactly the recorded store (local time
#      included): a recording replays bit for bit.
#   2. Bybit v5 linear and OKX v5: the same equality against their JSONL
#      files, and the venues' application pings answered during a stall.
#   3. Faults through the CLI: malformed + oversize frames are counted with
#      their reason (exit 1, --errors file), a dropped connection is
#      reconnected and recorded as gap events.
#   4. SIGTERM mid-stream: exit 0, summary printed, the store opens, its
#      count equals what record reported, PRAGMA integrity_check is ok.
#   5. Nothing listening: a few attempts spaced by the backoff, exit 2.
#   6. The status line (messages/s per stream, gaps, reconnects) appears on a
#      terminal (script(1)) and never in a pipe.
#
#   test_live_record.sh STAMPEDE_BINARY BUILD_DIR
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=${SP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
data=$src/data
ws=$data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.ws.1.0.txt
rest=$data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.http.0.0.txt
bybit=$data/cryptofeed_bybit_v5_raw/BYBIT.jsonl.zst
sp_tmpdir live_rec
srv_pid=
sp_atexit() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; }
cd "$tmp"

# start_server ARGS... : replay-server on port 0, sets $port and $srv_pid
start_server() { sp_start_replay "$@"; }
stop_server() {
    kill -TERM "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
    srv_pid=
}
# config VENUE_JSON: endpoints pointing at the server
config() {
    cat >cfg.json <<EOF
{"max_frame": 65536, "backoff_min_ms": 20, "backoff_max_ms": 200, "stall_s": 10, "seed": 7,
 "venues": {$1}}
EOF
}
binance_venue() {
    echo '"binance": {"ws": "ws://127.0.0.1:'"$port"'/stream", "rest": "http://127.0.0.1:'"$port"'",
      "streams": {"trades": "{sym}@aggTrade", "depth": "{sym}@depth@100ms",
                  "ticker": "{sym}@bookTicker", "kline": "{sym}@kline_1m"}}'
}
# dump STORE FILE [keep-local]: every stored event as sorted JSON lines
dump() {
    : >"$2"
    for k in trade depth_update book_level ticker kline mark funding open_interest liquidation gap; do
        "$bin" query --store "$1" --kind "$k" >>"$2" || bad "query $k of $1"
    done
    if [ "${3:-}" != keep-local ]; then sed -i 's/,"local_ts_ns":[0-9]*//' "$2"; fi
    sort -o "$2" "$2"
}

# record_venue LABEL PREFIX ARGS...: `record --config cfg.json ARGS --json` into
# PREFIX.json / PREFIX.err, then the server is stopped; ok/bad on exit 0
record_venue() {
    local label=$1 pre=$2
    shift 2
    "$bin" record --config cfg.json "$@" --json >"$pre.json" 2>"$pre.err"
    local rc=$?
    stop_server
    [ $rc = 0 ] && ok "$label record exit 0" || bad "$label record exit $rc: $(cat "$pre.err")"
}
# expect_same LABEL GOT REF WHAT: the dumps GOT and REF are equal (and REF not empty)
expect_same() {
    if [ -s "$3" ] && cmp -s "$2" "$3"; then ok "$1: stored events == $4 ($(wc -l <"$2") events)"; else
        bad "$1: stored events differ: $(diff "$2" "$3" | head -5)"
    fi
}

syms=SUSHIUSDT,AKROUSDT,KEEPUSDT,CTKUSDT
nframes=$(($(wc -l <"$ws") - 1))

# ---- 1. Binance: record == ingest of the capture; raw capture == record ----
start_server "$ws" "$rest"
config "$(binance_venue)"
mkdir raw
"$bin" record --config cfg.json --venue binance --symbols $syms --streams trades,depth,ticker,kline \
    --store sqlite:rec.db --raw raw --max-messages $((nframes + 1)) --duration 20 --json \
    >rec.json 2>rec.err
rc=$?
stop_server
[ $rc = 0 ] && ok "binance record exit 0" || bad "binance record exit $rc: $(cat rec.err)"
[ "$(json_field frames rec.json)" = $((nframes + 1)) ] && ok "binance: $nframes data frames + reply" ||
    bad "binance frames: $(cat rec.json)"
[ "$(json_field gaps rec.json)" = 0 ] && ok "binance: no gap" || bad "binance gaps: $(cat rec.json)"
"$bin" ingest --store sqlite:ref.db --errors ref.err "$ws" "$rest" >/dev/null 2>&1 || bad "ingest reference"
dump sqlite:rec.db rec.txt
dump sqlite:ref.db ref.txt
expect_same binance rec.txt ref.txt "ingest of the capture"
ls raw/BINANCE_FUTURES.ws.0.txt raw/BINANCE_FUTURES.http.txt >/dev/null 2>&1 && ok "raw capture files written" ||
    bad "raw files: $(ls raw)"
"$bin" decode --out none --json raw/* >dec.out 2>dec.err && ok "decode reads the raw capture (exit 0)" ||
    bad "decode raw: $(cat dec.err)"
"$bin" ingest --store sqlite:raw.db raw/* >/dev/null 2>&1 || bad "ingest raw"
dump sqlite:rec.db rec_local.txt keep-local
dump sqlite:raw.db raw_local.txt keep-local
if cmp -s rec_local.txt raw_local.txt; then ok "raw capture replays bit for bit (local times included)"; else
    bad "raw capture differs: $(diff rec_local.txt raw_local.txt | head -5)"
fi

# ---- 1b. REST unreachable: the stream is still recorded, failures counted ------
start_server "$ws" "$rest"
config "$(binance_venue | sed 's#"rest": "http://127.0.0.1:[0-9]*"#"rest": "http://127.0.0.1:1"#')"
"$bin" record --config cfg.json --venue binance --symbols $syms --streams trades,depth,ticker,kline \
    --store sqlite:norest.db --max-messages $((nframes + 1)) --duration 20 --json >norest.json 2>norest.err
rc=$?
stop_server
[ $rc = 0 ] && [ "$(json_field frames norest.json)" = $((nframes + 1)) ] &&
    ok "REST down: every frame still recorded" || bad "REST down: exit $rc: $(cat norest.json norest.err)"
nrf=$(json_field resync_failures norest.json)
# one failed snapshot per depth symbol at connect, retried at most once a second per symbol
# (per-frame retries would count ~1500)
[ -n "$nrf" ] && [ "$nrf" -ge 4 ] && [ "$nrf" -le 40 ] &&
    ok "REST down: $nrf snapshot failures counted, not retried per frame" ||
    bad "REST down: resync_failures '$nrf'"

# ---- 2. Bybit v5 linear ------------------------------------------------------
# the server stalls after frame 5 for 2.5 s: the connector's {"op":"ping"}
# every second is answered with a pong frame (2 of them) in the meantime
start_server --faults stall@5:2500ms "$bybit"
config '"bybit": {"ws": "ws://127.0.0.1:'"$port"'/v5/public/linear", "ping_s": 1,
  "streams": {"trades": "publicTrade.{SYM}", "depth": "orderbook.200.{SYM}",
              "ticker": "tickers.{SYM}", "kline": "kline.1.{SYM}"}}'
nby=$(grep -c '"t":"recv","conn":"BYBIT.ws.2".*topic' "$data/cryptofeed_bybit_v5_raw/BYBIT.jsonl")
record_venue bybit by --venue bybit --symbols BTCUSDT,ETHUSDT,SOLUSDT,DOGEUSDT \
    --streams trades,depth,ticker,kline --store sqlite:by.db --duration 4
# every data frame, the reply, and at least one pong (one ping a second; timing on a loaded
# machine decides whether 2 or 3 fit in the run)
nbf=$(json_field frames by.json)
[ -n "$nbf" ] && [ "$nbf" -ge $((nby + 2)) ] && grep -q '"reconnects":0,' by.json &&
    ok "bybit: $nby data frames, reply, $((nbf - nby - 1)) pong(s), no reconnect" ||
    bad "bybit frames: $(cat by.json)"
"$bin" ingest --store sqlite:byref.db "$bybit" >/dev/null 2>&1 || bad "ingest bybit reference"
dump sqlite:by.db by.txt
dump sqlite:byref.db byref_all.txt
grep -v '"symbol":"spot:' byref_all.txt >byref.txt # the linear connection only
expect_same bybit by.txt byref.txt "ingest of the linear capture"

# ---- 2b. OKX v5: messages written from the OKX docs (tests/data/live) --------
okx=$src/tests/data/live/okx_public.jsonl
start_server --faults stall@3:2500ms "$okx"
config '"okx": {"ws": "ws://127.0.0.1:'"$port"'/ws/v5/public", "ping_s": 1,
  "streams": {"trades": "trades:{inst}", "depth": "books:{inst}",
              "liquidations": "liquidation-orders:SWAP", "mark": "mark-price:{inst}",
              "funding": "funding-rate:{inst}"}}'
nokx=$(wc -l <"$okx")
# data frames + 5 subscribe replies + "pong" answers to the "ping"s sent during the stall
record_venue okx okx --venue okx --symbols BTCUSDT --store sqlite:okx.db --duration 4
nof=$(json_field frames okx.json)
[ -n "$nof" ] && [ "$nof" -ge $((nokx + 6)) ] && grep -q '"reconnects":0,' okx.json &&
    ok "okx: $nokx frames, 5 replies, $((nof - nokx - 5)) pong(s), no reconnect" ||
    bad "okx frames: $(cat okx.json)"
"$bin" ingest --store sqlite:okxref.db "$okx" >/dev/null 2>&1 || bad "ingest okx reference"
dump sqlite:okx.db okx.txt
dump sqlite:okxref.db okxref.txt
expect_same okx okx.txt okxref.txt "ingest of the file"

# ---- 3. faults through the CLI -------------------------------------------------
start_server "$ws" "$rest" --faults malformed@50,oversize@60:100000,drop@700
config "$(binance_venue)"
"$bin" record --config cfg.json --venue binance --symbols $syms --streams trades,depth,ticker,kline \
    --store sqlite:f.db --errors f.err --max-messages $((nframes + 2)) --duration 20 --json >f.json 2>f.stderr
rc=$?
stop_server
[ $rc = 1 ] && ok "faults: exit 1 (frames rejected)" || bad "faults exit $rc: $(cat f.stderr)"
grep -q '"rejected":1,' f.json && grep -q '"oversize":1,' f.json && ok "faults: 1 malformed, 1 oversize counted" ||
    bad "fault counts: $(cat f.json)"
grep -Eq '"rejected_by":\{"SP_E(TRUNCATED|PARSE)":1\}' f.json && ok "faults: reject reason recorded" ||
    bad "reject reason: $(cat f.json)"
grep -q '"code":"SP_E' f.err && ok "faults: --errors lists the bad frame" || bad "errors file: $(cat f.err)"
grep -q '"reconnects":1,' f.json && ok "faults: dropped connection reconnected" || bad "reconnect: $(cat f.json)"
ngap=$("$bin" query --store sqlite:f.db --kind gap | grep -c '"sub":[34],')
[ "$ngap" = 2 ] && ok "faults: disconnect + reconnect stored as gap events" || bad "gap events: $ngap"

# ---- 4. SIGTERM mid-stream -----------------------------------------------------
start_server --speed 10x "$ws" "$rest"
config "$(binance_venue)"
"$bin" record --config cfg.json --venue binance --symbols $syms --store sqlite:term.db --json \
    >term.json 2>term.err &
rec_pid=$!
# stop it mid-stream: once something is stored (the stream lasts 3 s at 10x)
for _ in $(seq 1 100); do
    n=$("$bin" query --store sqlite:term.db --count 2>/dev/null || echo 0)
    [ "${n:-0}" -gt 0 ] && break
    sleep 0.05
done
sleep 0.5
kill -TERM $rec_pid
wait $rec_pid
rc=$?
stop_server
[ $rc = 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM exit $rc: $(cat term.err)"
stored=$(json_field inserted term.json)
count=$("$bin" query --store sqlite:term.db --count)
[ -n "$stored" ] && [ "$stored" -gt 0 ] && [ "$count" = "$stored" ] &&
    ok "SIGTERM: store holds the $count events record reported" || bad "SIGTERM: store $count, reported '$stored'"
[ "$(sqlite3 term.db 'PRAGMA integrity_check')" = ok ] && ok "SIGTERM: integrity_check ok" || bad "integrity"

# ---- 5. nothing listening: backoff, then exit 2 --------------------------------
cat >cfg.json <<EOF
{"backoff_min_ms": 50, "backoff_max_ms": 400, "venues": {"binance": {"ws": "ws://127.0.0.1:1/stream",
 "rest": "http://127.0.0.1:1", "streams": {"trades": "{sym}@aggTrade"}}}}
EOF
"$bin" record --config cfg.json --store sqlite:none.db --duration 1.5 --json >none.json 2>none.err
rc=$?
nf=$(json_field connect_failures none.json)
[ $rc = 2 ] && grep -q "could not connect" none.err && ok "unreachable: exit 2 with the reason" ||
    bad "unreachable: exit $rc: $(cat none.err)"
# backoff 50 ms doubling to 400 ms (+ jitter) in 1.5 s: a handful of attempts, not a hot loop
[ -n "$nf" ] && [ "$nf" -ge 3 ] && [ "$nf" -le 15 ] && ok "unreachable: $nf attempts with backoff" ||
    bad "unreachable attempts: '$nf'"

# ---- 6. status line: on a terminal only ------------------------------------------
grep -q '/s ' rec.err && bad "status line printed without a terminal" || ok "no status line off a terminal"
if command -v script >/dev/null; then
    start_server --speed 10x "$ws" "$rest"
    config "$(binance_venue)"
    script -qc "'$bin' record --config cfg.json --venue binance --symbols $syms --store sqlite:tty.db \
        --duration 2.5" /dev/null | tr '\r' '\n' >tty.out
    stop_server
    grep -Eq '^trades [0-9]+/s +depth [0-9]+/s .*\| frames [0-9]+ events [0-9]+ gaps 0 reconnects 0' tty.out &&
        ok "status line on a terminal: messages/s per stream, gaps, reconnects" ||
        bad "status line: $(head -c 300 tty.out)"
fi

sp_summary
