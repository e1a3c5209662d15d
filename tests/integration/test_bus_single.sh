#!/usr/bin/env bash
# test_bus_single.sh -- publish -> one real nats-server -js -> sink -> real PostgreSQL 15.
#
#   test_bus_single.sh STAMPEDE_BIN BUILD_DIR
#
# Re-runs itself under tests/integration/pg_server.sh and nats_server.sh (both on
# 127.0.0.1, free ports, temp dirs, stopped by trap).  Checks, on a deterministic
# synthetic trade file (SP_BUS_EVENTS events, default 100000, unique ids):
#   1. publish: every batch acknowledged; the digest equals the --dry-run digest;
#   2. publishing the same file again: every batch is a server-side duplicate;
#   3. a malformed message on ev.binance.trade.BTCUSDT is dead-lettered to
#      dlq.ev.binance.trade.BTCUSDT with its reason, the sink exits 1 and the rest goes on;
#   4. kill -9 of the sink while it is storing, then a restart: the store holds every
#      event exactly once (count and digest equal to the source);
#   5. a second sink run finds nothing new (idempotent, nothing doubled).
# Bounded: every step has a timeout; the whole test takes a few seconds.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
# a build without NATS or PostgreSQL: the verbs refuse clearly, nothing more to test here
sp_bus_preamble --pg "$bin" "$@"
N=${SP_BUS_EVENTS:-100000}
sp_tmpdir bus_single
work=$tmp

# A deterministic trade file: unique trade ids, prices and times (one event per line).
csv=$work/BTCUSDT-trades-2026-02-06.csv
sp_trade_csv "$csv" "$N"

db=$SP_TEST_PG_URI/postgres
url=$SP_TEST_NATS_URL

timeout 60 "$bin" publish --dry-run --json "$csv" >"$work/dry.json"
want_n=$(json "$work/dry.json" events)
want_d=$(json "$work/dry.json" digest)
[ "$want_n" = "$N" ] || fail "dry run decoded $want_n events, want $N"

# 1. publish: every batch acked, digest equal
timeout 120 "$bin" publish --nats "$url" --json --no-progress "$csv" >"$work/pub1.json"
cat "$work/pub1.json"
[ "$(json "$work/pub1.json" digest)" = "$want_d" ] || fail "publish digest differs from dry run"
batches=$(json "$work/pub1.json" batches)
[ "$(json "$work/pub1.json" acked)" = "$batches" ] || fail "not every batch acked"
[ "$(json "$work/pub1.json" duplicates)" = 0 ] || fail "first publish saw duplicates"

# 2. the same file again: the server drops every batch as a duplicate (Nats-Msg-Id)
timeout 120 "$bin" publish --nats "$url" --json --no-progress "$csv" >"$work/pub2.json"
cat "$work/pub2.json"
[ "$(json "$work/pub2.json" duplicates)" = "$batches" ] || fail "re-publish was not de-duplicated"

# 3. a malformed message on the subject
printf 'this is not an sp_event batch, just text on the subject' >"$work/garbage.bin"
timeout 30 "$bin" publish --nats "$url" --raw ev.binance.trade.BTCUSDT "$work/garbage.bin"

# 4. sink in the background, killed -9 while storing (small fetches: many transactions)
"$bin" sink --nats "$url" --store "$db" --fetch 2 --ack-wait-ms 1000 --json >"$work/sink1.json" 2>"$work/sink1.err" &
sink=$!
stored=0
for _ in $(seq 1 300); do
    # (the store may not exist yet: the sink creates it on its first open)
    stored=$(timeout 30 "$bin" sink --store "$db" --digest --json 2>/dev/null | sed -n 's/.*"events":\([0-9]*\).*/\1/p' || true)
    stored=${stored:-0}
    [ "$stored" -gt 0 ] && break
    sleep 0.05
done
kill -9 "$sink" 2>/dev/null || true
wait "$sink" 2>/dev/null || true
echo "sink killed with $stored of $N events stored"
[ "$stored" -lt "$N" ] || echo "note: the sink finished before the kill (machine fast); resume still checked"

# restart: resumes from the durable consumer; the unacked batch is redelivered
set +e
timeout 120 "$bin" sink --nats "$url" --store "$db" --idle-exit 2 --ack-wait-ms 1000 --json >"$work/sink2.json"
rc=$?
set -e
cat "$work/sink2.json"
dead=$(json "$work/sink2.json" dead_lettered)
if [ "$stored" -lt "$N" ] && ! grep -q garbage "$work/sink1.json" 2>/dev/null; then
    : # the garbage message may have been dead-lettered by the killed sink already
fi
timeout 30 "$bin" sink --nats "$url" --dlq --json >"$work/dlq.json"
cat "$work/dlq.json"
[ "$(wc -l <"$work/dlq.json")" = 1 ] || fail "want exactly one dead-lettered message"
grep -q '"subject":"dlq.ev.binance.trade.BTCUSDT"' "$work/dlq.json" || fail "dead letter subject"
grep -q 'magic' "$work/dlq.json" || fail "dead letter reason does not name the bad field"
if [ "$dead" = 1 ]; then
    [ "$rc" = 1 ] || fail "sink exit $rc, want 1 after dead-lettering"
fi

timeout 60 "$bin" sink --store "$db" --digest --json >"$work/final.json"
cat "$work/final.json"
[ "$(json "$work/final.json" events)" = "$want_n" ] || fail "store holds $(json "$work/final.json" events) events, want $want_n"
[ "$(json "$work/final.json" digest)" = "$want_d" ] || fail "store digest differs from the source: lost or changed events"

# 5. nothing left, nothing doubled on another pass
timeout 60 "$bin" sink --nats "$url" --store "$db" --idle-exit 1 --json >"$work/sink3.json"
[ "$(json "$work/sink3.json" inserted)" = 0 ] || fail "a third sink run inserted events"
echo "PASS: $want_n events published, de-duplicated on re-publish, stored exactly once across a sink kill -9; 1 message dead-lettered"
