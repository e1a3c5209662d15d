#!/usr/bin/env bash
# test_bus_cluster.sh -- kill the stream leader of a real 3-node JetStream cluster
# (replicas 3) in the middle of a publish; every event must reach PostgreSQL exactly once.
#
#   test_bus_cluster.sh STAMPEDE_BIN BUILD_DIR
#
# Re-runs itself under tests/integration/pg_server.sh and nats_server.sh --cluster
# (127.0.0.1, free ports, one store dir per node, all stopped by trap).  Steps:
#   1. a deterministic synthetic trade file of SP_BUS_EVENTS events (default 10^5;
#      bench/bench_bus.cmake registers the 10^6 variant under the labels bench;soak);
#   2. `stampede publish --replicas 3` in the background; as soon as the stream holds
#      messages, kill -9 the node that leads STAMPEDE_EVENTS (read from /jsz);
#   3. the publish must still succeed (batches whose ack was lost are republished
#      with the same Msg-Id, so the stream holds each once);
#   4. `stampede sink` on the two surviving nodes into PostgreSQL; the store's
#      count and digest must equal the source's;
#   5. the killed node is restarted and catches up (the cluster is whole again).
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
# a build without NATS or PostgreSQL: the verbs refuse clearly, nothing more to test here
sp_bus_preamble --pg --cluster "$bin" "$@"
N=${SP_BUS_EVENTS:-100000}
sp_tmpdir bus_cluster
work=$tmp
nd=$SP_TEST_NATS_DIR

csv=$work/BTCUSDT-trades-2026-02-06.csv
sp_trade_csv "$csv" "$N"
timeout 120 "$bin" publish --dry-run --json "$csv" >"$work/dry.json"
want_n=$(json "$work/dry.json" events)
want_d=$(json "$work/dry.json" digest)
[ "$want_n" = "$N" ] || fail "dry run decoded $want_n events, want $N"

# The leader of STAMPEDE_EVENTS and its message count, as node $1 sees them.
leader_of() {
    curl -fsS --max-time 2 "$(cat "$nd/n$1.mon")/jsz?streams=true" 2>/dev/null |
        awk '/"name": "STAMPEDE_EVENTS"/ { f = 1 } f && /"leader"/ { gsub(/[",]/, ""); print $2; exit }'
}
msgs_of() {
    curl -fsS --max-time 2 "$(cat "$nd/n$1.mon")/jsz" 2>/dev/null |
        sed -n 's/^ *"messages": \([0-9]*\),*/\1/p' | head -n 1
}

# small batches and a narrow in-flight window so the publish is still running when the node dies
"$bin" publish --nats "$SP_TEST_NATS_URL" --replicas 3 --batch 256 --inflight 32 --timeout-ms 2000 \
    --json --no-progress "$csv" >"$work/pub.json" 2>"$work/pub.err" &
pub=$!
victim=
for _ in $(seq 1 400); do
    for n in 1 2 3; do
        l=$(leader_of "$n" || true)
        m=$(msgs_of "$n" || true)
        if [ -n "$l" ] && [ "${m:-0}" -gt 0 ]; then
            victim=${l#n}
            break 2
        fi
    done
    sleep 0.02
done
[ -n "$victim" ] || fail "the stream never appeared on the cluster"
if kill -0 "$pub" 2>/dev/null; then
    during="during the publish"
else
    during="AFTER the publish had ended (fast machine: only the sink side is tested)"
fi
kill -9 "$(cat "$nd/n$victim.pid")"
echo "node kill $during"
echo "killed stream leader n$victim at $(msgs_of $(( victim % 3 + 1 )) || echo '?') stored messages"
set +e
timeout 300 bash -c "wait $pub" 2>/dev/null
wait "$pub"
rc=$?
set -e
cat "$work/pub.json" "$work/pub.err"
[ "$rc" = 0 ] || fail "publish exited $rc after the node kill"
[ "$(json "$work/pub.json" digest)" = "$want_d" ] || fail "publish digest differs"
batches=$(json "$work/pub.json" batches)
[ "$(json "$work/pub.json" acked)" -ge "$batches" ] || fail "not every batch acknowledged"
grep -q '"published":true' "$work/pub.json" || fail "publish summary"

# the sink talks to the survivors only
alive=
for n in 1 2 3; do
    [ "$n" = "$victim" ] && continue
    alive="${alive:+$alive,}$(cat "$nd/n$n.url")"
done
db=$SP_TEST_PG_URI/postgres
timeout 300 "$bin" sink --nats "$alive" --store "$db" --idle-exit 2 --fetch 64 --json >"$work/sink.json"
cat "$work/sink.json"
timeout 120 "$bin" sink --store "$db" --digest --json >"$work/final.json"
cat "$work/final.json"
[ "$(json "$work/final.json" events)" = "$want_n" ] || fail "store holds $(json "$work/final.json" events) events, want $want_n"
[ "$(json "$work/final.json" digest)" = "$want_d" ] || fail "store digest differs from the source"

# the killed node comes back and the cluster serves from all three again; its
# /healthz answers 503 until JetStream has caught the stream up from the others,
# which on a busy 2-core machine took over 10 s once (allow 60)
bash "$nd/n$victim.sh"
for _ in $(seq 1 600); do
    curl -fsS --max-time 1 "$(cat "$nd/n$victim.mon")/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
if ! curl -fsS --max-time 2 "$(cat "$nd/n$victim.mon")/healthz" >/dev/null; then
    if kill -0 "$(cat "$nd/n$victim.pid" 2>/dev/null || echo 0)" 2>/dev/null; then
        echo "n$victim is running but /healthz does not answer 200; its log ends:"
    else
        echo "n$victim is not running; its log ends:"
    fi
    tail -n 15 "$nd/n$victim.log" || true
    fail "restarted node n$victim is not healthy"
fi
echo "PASS: stream leader n$victim killed mid-publish; $want_n events in PostgreSQL exactly once (digest $want_d); retried $(json "$work/pub.json" retried) batches, $(json "$work/pub.json" duplicates) server-side duplicates"
