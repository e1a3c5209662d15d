#!/usr/bin/env bash
# test_bus_mc.sh -- distributed Monte Carlo on a real nats-server -js: the aggregate equals
# the single-process run bit for bit, also when a worker is killed -9 in the middle of a job.
#
#   test_bus_mc.sh STAMPEDE_BIN BUILD_DIR
#
# Re-runs itself under tests/integration/nats_server.sh (127.0.0.1, free port, temp dir,
# stopped by trap).  Steps:
#   1. the reference: `stampede stress` in one process (summary hash = hash of every row);
#   2. two workers, `stampede stress --nats` with the same options: same output;
#   3. worker A (ack wait 2 s) takes a job and is killed -9 while computing it; worker B
#      redoes it after the ack wait (its summary counts a redelivered job); the driver's
#      output equals the reference again.
# The JSON outputs are compared whole, after dropping the fields that describe the run
# rather than its result (elapsed_ms, threads).
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
# a build without NATS: the verbs refuse clearly, nothing more to test here
sp_bus_preamble "$bin" "$@"
K=${SP_BUS_MC_SCENARIOS:-12000}
JOB=${SP_BUS_MC_JOB:-3000}
sp_tmpdir bus_mc
work=$tmp
pids=()
sp_atexit() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.err; do [ -f "$f" ] && { echo "== $f"; tail -n 5 "$f"; } >&2; done
    exit 1
}
strip() { # the result, without elapsed time and thread count
    sed -e 's/"elapsed_ms":[0-9]*,//' -e 's/"threads":[0-9]*,//' "$1"
}
url=$SP_TEST_NATS_URL
opts=(--scenarios "$K" --positions 20000 --seed 11 --json)

# 1. the reference, one process
timeout 300 "$bin" stress "${opts[@]}" --threads 1 >"$work/ref.json"
strip "$work/ref.json" >"$work/ref.cmp"
echo "reference hash $(json "$work/ref.json" hash)"

# 2. two workers, no fault
for w in 1 2; do
    "$bin" worker --nats "$url" --threads 1 --ack-wait-ms 2000 --idle-exit 2 --json \
        >"$work/w$w.json" 2>"$work/w$w.err" &
    pids+=($!)
done
timeout 300 "$bin" stress "${opts[@]}" --nats "$url" --job-size "$JOB" --timeout 240 \
    >"$work/dist.json" 2>"$work/dist.err" || fail "distributed stress failed"
strip "$work/dist.json" >"$work/dist.cmp"
cmp -s "$work/ref.cmp" "$work/dist.cmp" || fail "distributed result differs from the single-process one"
wait "${pids[@]}" || true
pids=()
jobs_done=$(($(json "$work/w1.json" jobs) + $(json "$work/w2.json" jobs)))
[ "$jobs_done" = $(((K + JOB - 1) / JOB)) ] || fail "workers did $jobs_done jobs"

# 3. kill worker A in the middle of its first job
"$bin" worker --nats "$url" --threads 1 --ack-wait-ms 2000 --json >"$work/a.json" 2>"$work/a.err" &
a=$!
pids+=($a)
"$bin" stress "${opts[@]}" --nats "$url" --job-size "$JOB" --timeout 240 \
    >"$work/kill.json" 2>"$work/kill.err" &
drv=$!
pids+=($drv)
for _ in $(seq 1 1500); do
    grep -q "job" "$work/a.err" 2>/dev/null && break
    sleep 0.01
done
grep -q "job" "$work/a.err" || fail "worker A never took a job"
kill -9 "$a"
echo "killed worker A during: $(grep job "$work/a.err" | tail -n 1)"
"$bin" worker --nats "$url" --threads 1 --ack-wait-ms 2000 --idle-exit 3 --json \
    >"$work/b.json" 2>"$work/b.err" &
b=$!
pids+=($b)
set +e
wait "$drv"
rc=$?
set -e
[ "$rc" = 0 ] || fail "driver exited $rc after the worker kill"
wait "$b" || true
pids=()
cat "$work/b.json"
strip "$work/kill.json" >"$work/kill.cmp"
cmp -s "$work/ref.cmp" "$work/kill.cmp" || fail "result after the worker kill differs from the reference"
[ "$(json "$work/b.json" redelivered)" -ge 1 ] || fail "worker B did not redo the killed worker's job"
grep -q "delivery 2" "$work/b.err" || fail "no job was delivered a second time"
echo "PASS: $K scenarios in jobs of $JOB: distributed = single process (hash $(json "$work/ref.json" hash)); a job of a killed worker was redone and the aggregate is unchanged"
