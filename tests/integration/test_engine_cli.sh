#!/usr/bin/env bash
# test_engine_cli.sh STAMPEDE BUILD_DIR -- `stampede engine run`: the article's
# trader is liquidated at the mark equal to the liquidation price `stampede liq`
# prints (and not one tick before), the fund's fill and fee are reported, bad
# lines are refused with their line number while the rest runs (exit 1),
# unusable input exits 2, and --store writes the events to SQLite.
set -u
bin=${1:?stampede binary}
src=${SP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check NAME EXPECTED_RC CMD... ; stdout+stderr in $out
    local name=$1 want=$2; shift 2
    out=$("$@" 2>&1); local rc=$?
    if [ "$rc" -ne "$want" ]; then echo "FAIL $name: exit $rc, want $want: $out"; fail=1; return 1; fi
    return 0
}
expect() { # expect NAME PATTERN  (grep -E in $out)
    if ! printf '%s\n' "$out" | grep -qE -- "$2"; then echo "FAIL $1: no /$2/ in: $out"; fail=1; fi
}
trim() { sed -E 's/(\.[0-9]*[1-9])0+$/\1/; s/\.0+$//'; }

check help 0 "$bin" engine --help; expect help "^usage: stampede engine run"
check subcmd 2 "$bin" engine walk x; expect subcmd "unknown sub-command 'walk'"
check missing 2 "$bin" engine run "$tmp/none.jsonl"; expect missing "cannot read"
check venue 2 "$bin" engine run "$src/data/scenarios/article_trader.jsonl" --venue nowhere

# the article: liquidation at stampede liq's price
check liq 0 "$bin" liq --venue binance --symbol BTCUSDT --side long --entry 62500 --qty 0.16 \
    --margin 1000 --json
lp=$(printf '%s\n' "$out" | sed -nE 's/.*"liq_price":"([0-9.]+)".*/\1/p' | trim)
check article 0 "$bin" engine run "$src/data/scenarios/article_trader.jsonl" --json
trig=$(printf '%s\n' "$out" | grep '"step":"trigger"')
[ "$(printf '%s\n' "$trig" | grep -c .)" = 1 ] || { echo "FAIL article: want one trigger: $out"; fail=1; }
mark=$(printf '%s\n' "$trig" | sed -nE 's/.*"mark":"([0-9.]+)".*/\1/p' | trim)
[ -n "$lp" ] && [ "$mark" = "$lp" ] || { echo "FAIL article: liquidated at mark '$mark', stampede liq says '$lp'"; fail=1; }
expect article '"reason":"liquidation_fee","change":"36.144"'
expect article '"reason":"liquidation_fill","change":"-0.944","balance":"10035.2"'
expect article '"invariants":true'
# one tick earlier (56,476.0) nothing happens
head -n -1 "$src/data/scenarios/article_trader.jsonl" > "$tmp/early.jsonl"
check early 0 "$bin" engine run "$tmp/early.jsonl" --json
if printf '%s\n' "$out" | grep -q liquidation_engine; then echo "FAIL early: liquidated before LP"; fail=1; fi

# malformed lines: reported with their line, the rest runs, exit 1
cat > "$tmp/bad.jsonl" <<'JSONL'
{"cmd":"deposit","account":1,"amount":"100"}
{"cmd":"deposit","account":1,"amount":1.5}
{"cmd":"order","account":1,"symbol":"NOPE","id":1,"side":"buy","price":"1","qty":"1"}
{"cmd":"withdraw","account":1,"amount":"40"}
JSONL
check bad 1 "$bin" engine run "$tmp/bad.jsonl"
expect bad "bad.jsonl:2:.*amount: decimal numbers must be JSON strings"
expect bad "bad.jsonl:3:.*symbol: unknown instrument"
expect bad "2 commands \(2 malformed, 0 rejected"

# --store: events land in SQLite
check store 0 "$bin" engine run "$src/tests/data/engine/liquidation_adl.jsonl" --quiet \
    --store "sqlite:$tmp/engine.db"
[ -s "$tmp/engine.db" ] || { echo "FAIL store: no database written"; fail=1; }
check store-query 0 "$bin" query --store "sqlite:$tmp/engine.db" --kind adl
expect store-query "adl"
exit $fail
