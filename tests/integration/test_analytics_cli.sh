#!/usr/bin/env bash
# test_analytics_cli.sh STAMPEDE BUILD_DIR -- `stampede report` and
# `stampede metric` end to end: a fresh `stampede ingest --all-shipped` into
# a temp SQLite store, then the report (text and JSON) with the figures a
# reader can check in data/PROVENANCE.md, every metric verb, the PNG plots,
# and the exit codes of bad input (2 usage / unusable store).
set -u
bin=${1:?stampede binary}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
check() { # check NAME EXPECTED_RC CMD... ; output in $out
    local name=$1 want=$2; shift 2
    out=$("$@" 2>&1); local rc=$?
    if [ "$rc" -ne "$want" ]; then echo "FAIL $name: exit $rc, want $want: $(printf '%s' "$out" | head -5)"; fail=1; return 1; fi
    return 0
}
expect() { # expect NAME PATTERN  (grep -E in $out)
    if ! printf '%s\n' "$out" | grep -qE -- "$2"; then echo "FAIL $1: no /$2/ in output"; fail=1; fi
}
json_ok() { # the output parses as JSON (when python3 is there)
    command -v python3 >/dev/null || return 0
    printf '%s' "$out" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null ||
        { echo "FAIL $1: not valid JSON"; fail=1; }
}

S="sqlite:$tmp/t.db"
# usage errors and an unusable store: exit 2 with a clear message
check report-bad-day 2 "$bin" report --store "$S" --day 2026-13-45; expect report-bad-day "--day"
check report-bad-window 2 "$bin" report --store "$S" --window 7x; expect report-bad-window "--window"
check report-bad-ret 2 "$bin" report --store "$S" --corr-ret cubic; expect report-bad-ret "--corr-ret"
check report-no-store 2 "$bin" report --store "sqlite:$tmp/missing.db"; expect report-no-store "ingest"
check metric-unknown 2 "$bin" metric nonsense --store "$S"; expect metric-unknown "unknown metric"
check metric-no-name 2 "$bin" metric

# the shipped data has a few records the decoders reject on purpose (Farside's trailing
# Total/Average rows), so ingest exits 1 ("some records rejected"); 2 would be a failure
"$bin" ingest --all-shipped --store "$S" --errors "$tmp/err" --no-progress --brief >/dev/null 2>&1
rc=$?
[ "$rc" -le 1 ] || { echo "FAIL ingest: exit $rc"; exit 1; }

# the report: the article's figures beside the data's (PROVENANCE.md §1, §2, §7, §8, §9, §14)
check report 0 "$bin" report --store "$S"
expect report "BTC all-time high.* 126,223 +126,199\.63 on 2025-10-06"
expect report "BTC low of the day \(spot\).* 60,000\.00"
expect report "59,800\.00 at 2026-02-06 00:19"
expect report "-52\.46% \(126,199\.63 -> 60,000\.00 on 2026-02-06\)"
expect report "ETH 24h move to 2026-02-06 08:00 .* -11% +-9\.2%"
expect report "net flow, Nov .* -3\.47 net \(outflow days -4\.77\)"
expect report "net flow, Jan .* -1\.60 net \(outflow days -4\.59\)"
expect report "Nasdaq-100 correlation .* 0\.72 +0\.58 \(30 returns\)"
expect report "Fear & Greed \(alternative\.me\) .* 10 +9 \(Extreme Fear\)"
expect report "2026-02-06 08:00  -0\.00013688"
expect report "differs: "
expect report "no liquidation feed for this window"
check report-json 0 "$bin" report --store "$S" --json; json_ok report-json
expect report-json '"key":"btc_ath","label":"[^"]*","article":"126,223","data":"126,199.63 on 2025-10-06","value":126199.63'
expect report-json '"key":"liq_total".*"value":null'
# a window with liquidations: the COIN-M liquidationSnapshot head of 2024-10-01
check report-liq 0 "$bin" report --store "$S" --day 2024-10-01 --window 12h
expect report-liq "binance_cm +BTCUSD_PERP +short +3 +8,600\.00"
check report-plots 0 "$bin" report --store "$S" --plots "$tmp/plots"
for f in price_liquidations heatmap correlation etf_flows fear_greed; do
    if ! head -c 8 "$tmp/plots/$f.png" 2>/dev/null | od -An -c | grep -q "P   N   G"; then
        echo "FAIL plots: $f.png missing or not a PNG"; fail=1
    fi
done

# single metrics
check m-drawdown 0 "$bin" metric drawdown --store "$S"; expect m-drawdown "worst drawdown -52\.46%"
check m-extremes 0 "$bin" metric extremes --store "$S" --venue binance --interval 1m --from 2026-02-06 --to 2026-02-07
expect m-extremes "low +59,800\.00 +at 2026-02-06T00:19"
check m-change 0 "$bin" metric change --store "$S" --symbol SOLUSDT --interval 4h --at 2026-02-06T08:00:00Z
expect m-change "-12\.09%"
check m-change-miss 2 "$bin" metric change --store "$S" --interval 4h --at 2026-02-06T07:00:00Z
check m-vol 0 "$bin" metric vol --store "$S" --from 2026-01-01 --to 2026-02-07 --json; json_ok m-vol
check m-corr 0 "$bin" metric corr --store "$S" --at 2026-02-06 --json; json_ok m-corr; expect m-corr '"r":0\.58'
check m-corr-series 0 "$bin" metric corr --store "$S" --against GC=F --window 20 --ret simple --series
check m-funding 0 "$bin" metric funding --store "$S" --from 2026-02-06 --to 2026-02-07
expect m-funding "2026-02-06 +3 +-0\.009588"
check m-etf 0 "$bin" metric etf --store "$S" --from 2025-11-01 --to 2025-12-01; expect m-etf "2025-11 +19 +-3466\.7"
check m-etf-fund 0 "$bin" metric etf --store "$S" --fund IBIT --json; json_ok m-etf-fund
check m-liq 0 "$bin" metric liq --store "$S" --json; json_ok m-liq; expect m-liq '"count":7'
check m-fg 0 "$bin" metric fg --store "$S" --to 2026-02-07; expect m-fg "published 9 \(Extreme Fear\)"
expect m-fg "agreement with the published series: corr"
check m-heat-nooi 2 "$bin" metric heatmap --store "$S" --interval 4h --from 2026-01-20 --to 2026-02-07
expect m-heat-nooi "no open interest"
check m-heat 0 "$bin" metric heatmap --store "$S" --interval 4h --from 2026-01-20 --to 2026-02-07 --proxy-volume 0.01
expect m-heat "PROXY"
check m-none 2 "$bin" metric drawdown --store "$S" --symbol NOSUCH

exit $fail
