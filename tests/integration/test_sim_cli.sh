#!/usr/bin/env bash
# test_sim_cli.sh STAMPEDE BUILD_DIR -- `stampede simulate` and `stampede
# stress` from the command line: the README example, JSON output, exact
# determinism by seed, the naive loop agreeing with the fast one, a loaded
# positions file with rejected rows (exit 1), and every kind of bad
# parameter (exit 2 with a clear message).
set -u
bin=${1:?stampede binary}
src=${SP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh" # check, expect; fail=0

# the README example (smaller population to keep the suite fast)
check sim 0 "$bin" simulate --venue binance --symbol BTCUSDT --positions 20000 --oi-usd 8e9 \
    --shock-pct -8 --book shipped:bybit-btcusdt --seed 7
expect sim "^scenario: binance BTCUSDT"
expect sim "amplification: [0-9]+\.[0-9]{3} x"
expect sim "traders liquidated +[0-9]+ +[0-9]+"
expect sim "^ +1 +[0-9]+ "

# JSON: valid, and identical for the same seed
check sim-json 0 "$bin" simulate --positions 20000 --seed 7 --json
a=$out
expect sim-json '"with_forced_orders":\{"dir":-1'
if command -v python3 >/dev/null; then
    printf '%s' "$a" | python3 -m json.tool >/dev/null || { echo "FAIL sim-json: invalid JSON"; fail=1; }
fi
check sim-json-again 0 "$bin" simulate --positions 20000 --seed 7 --json
[ "$a" = "$out" ] || { echo "FAIL determinism: two runs with seed 7 differ"; fail=1; }
check sim-seed8 0 "$bin" simulate --positions 20000 --seed 8 --json
[ "$a" != "$out" ] || { echo "FAIL seed: seeds 7 and 8 gave the same output"; fail=1; }

# the naive rescan loop prints the same waves and totals
check fast 0 "$bin" simulate --positions 20000 --seed 3 --shock-pct -6 --thin-pct 40 --json
f=$out
check naive 0 "$bin" simulate --positions 20000 --seed 3 --shock-pct -6 --thin-pct 40 --json --naive
[ "$f" = "$out" ] || { echo "FAIL naive: differs from the fast loop"; fail=1; }

# other books and shocks
check sim-spot 0 "$bin" simulate --positions 5000 --book shipped:binance-spot-btcusdt --shock-pct 5
expect sim-spot "exogenous shock to"
check sim-model 0 "$bin" simulate --positions 5000 --book model --shock-usd -5e8
check sim-file 1 "$bin" simulate --positions-file "$src/tests/data/sim/positions_bad.csv" --shock-pct -20
expect sim-file "rejected: .*positions_bad.csv:3:1: side"
expect sim-file "2 positions"

# full fidelity through the exchange core: the same waves (positions, BTC, marks; the VWAP can
# differ by a tick because the engine rounds the square-root levels down to the lot); the
# multi-wave agreement is test_sim_full's, this checks the verb end to end
waves() { printf '%s\n' "$out" | awk '/^ +[0-9]+ +[0-9]+ /{print $1, $2, $3, $5, $6}'; }
for dep in 3e5 1e6; do
    check "fast$dep" 0 "$bin" simulate --positions-file "$src/tests/data/sim/positions_close.csv" \
        --price 73000 --shock-pct -2.5 --book model --depth-1pct-usd "$dep" --waves 50
    wf=$(waves)
    check "full$dep" 0 "$bin" simulate --positions-file "$src/tests/data/sim/positions_close.csv" \
        --price 73000 --shock-pct -2.5 --book model --depth-1pct-usd "$dep" --waves 50 --full
    wx=$(waves)
    [ -n "$wf" ] && [ "$wf" = "$wx" ] || { echo "FAIL full$dep: waves differ: [$wf] vs [$wx]"; fail=1; }
done
check full-refused 2 "$bin" simulate --positions 500 --full; expect full-refused "entries too far apart"

# bad parameters: exit 2, a clear message
check bad-count 2 "$bin" simulate --positions -5; expect bad-count "--positions"
check bad-shock 2 "$bin" simulate --shock-pct -100; expect bad-shock "strictly between -100 and 100"
check bad-shock2 2 "$bin" simulate --shock-pct 150; expect bad-shock2 "strictly between"
check bad-shock3 2 "$bin" simulate --shock-pct abc; expect bad-shock3 "--shock-pct"
check bad-venue 2 "$bin" simulate --venue kraken; expect bad-venue "unknown or unsupported venue"
check empty-book 2 "$bin" simulate --book model --depth-1pct-usd 0; expect empty-book "empty book"
check bad-book 2 "$bin" simulate --book shipped:nope; expect bad-book "unknown shipped book"
check bad-oi 2 "$bin" simulate --oi-usd 0; expect bad-oi "oi-usd"
check bad-thin 2 "$bin" simulate --thin-pct 100; expect bad-thin "thin-pct"
check both-shocks 2 "$bin" simulate --shock-pct -5 --shock-usd -1e8; expect both-shocks "not both"
check no-file 2 "$bin" simulate --positions-file /nonexistent.csv; expect no-file "cannot open"
check bad-at 2 "$bin" simulate --at yesterday; expect bad-at "--at"

# stress: deterministic whatever the thread count
check stress1 0 "$bin" stress --scenarios 60 --positions 5000 --threads 1 --json
s1=$(printf '%s' "$out" | sed 's/"threads":[0-9]*//; s/"elapsed_ms":[0-9]*//')
check stress2 0 "$bin" stress --scenarios 60 --positions 5000 --threads 2 --json
s2=$(printf '%s' "$out" | sed 's/"threads":[0-9]*//; s/"elapsed_ms":[0-9]*//')
[ "$s1" = "$s2" ] || { echo "FAIL stress: 1 and 2 threads differ"; fail=1; }
expect stress2 '"p_fall":\[\{"fall_pct":"5"'
check stress-table 0 "$bin" stress --scenarios 20 --positions 2000 --rows
expect stress-table "P\(fall > 10%\) = [0-9.]+%"
check stress-bad 2 "$bin" stress --scenarios 0; expect stress-bad "--scenarios"
check stress-bad2 2 "$bin" stress --shock-min-pct 20 --shock-max-pct 10; expect stress-bad2 "shock-min-pct"

[ $fail -eq 0 ] && echo "test_sim_cli: all checks passed"
exit $fail
