#!/usr/bin/env bash
# test_feed_decode.sh STAMPEDE BUILD_DIR -- `stampede decode` end to end:
# exit codes (0 clean, 1 some records rejected, 2 unusable input), the
# --errors file (reason, source, line, byte offset of each bad record),
# jsonl/csv output, the summary on stderr, .zst and .zip inputs, and a
# corrupted copy whose good lines all still decode.
set -u
bin=${1:?stampede binary}
src=${SP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$src/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check NAME EXPECTED_RC CMD... ; stdout in $out, stderr in $err
    local name=$1 want=$2; shift 2
    out=$("$@" 2>"$tmp/err"); local rc=$?
    err=$(cat "$tmp/err")
    if [ "$rc" -ne "$want" ]; then echo "FAIL $name: exit $rc, want $want: $err"; fail=1; return 1; fi
    return 0
}
expect() { # expect NAME TEXT PATTERN
    if ! printf '%s\n' "$2" | grep -qE -- "$3"; then echo "FAIL $1: no /$3/ in: ${2:0:400}"; fail=1; fi
}

ws=$data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.ws.1.0.txt
check clean 0 "$bin" decode "$ws"
expect clean-lines "$(printf '%s\n' "$out" | wc -l)" '^7068$'
expect clean-json "$(printf '%s\n' "$out" | head -1)" '^\{"kind":"ticker","venue":"binance","symbol":"SUSHIUSDT",.*"px":"7\.611","qty":"2","aux":\["7\.612","297","0"\]\}$'
expect clean-summary "$err" 'depth_update +binance +SUSHIUSDT +4029 +2021-07-22T22:25:41Z'
expect clean-total "$err" 'events 7068, rejected records 0'

check csv 0 "$bin" decode --out csv "$data/binance_um_klines_1m/BTCUSDT-1m-2026-02-05_06.csv"
expect csv-header "$(printf '%s\n' "$out" | head -1)" '^kind,venue,symbol,sub,flags,exch_ts_ns,local_ts_ns,px,qty,aux0,aux1,aux2$'
# the crash minute: 2026-02-06 00:19 UTC, low 59,800.00 (PROVENANCE §14)
expect csv-low "$out" '^kline,binance,BTCUSDT,1,8,1770337140000000000,0,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,59800$'

# a corrupted copy: a flipped byte, a cut line, garbage, an unknown event type, too many places
cp "$ws" "$tmp/BINANCE_FUTURES.ws.bad.txt"
bt=$(awk 'NR > 40 && /"e":"bookTicker"/ {print NR; exit}' "$ws")
sed -i '10s/"stream"/"str\x01eam"/; 20s/\(.\{60\}\).*/\1/; 30s/"e":"[a-zA-Z]*"/"e":"newThing"/; '"$bt"'s/"b":"\([0-9.]*\)"/"b":"\1123456789"/' "$tmp/BINANCE_FUTURES.ws.bad.txt"
printf '\x00\x01\x02 binary\n' >> "$tmp/BINANCE_FUTURES.ws.bad.txt"
check corrupted 1 "$bin" decode --out none --errors "$tmp/errors.jsonl" --format binance-ws-capture "$tmp/BINANCE_FUTURES.ws.bad.txt"
expect corrupted-count "$(wc -l < "$tmp/errors.jsonl")" '^5$'
expect corrupted-stderr "$err" '5 record\(s\) rejected'
errs=$(cat "$tmp/errors.jsonl")
expect err-flip "$errs" '"line":10,.*"code":"SP_EPARSE","reason":"control byte 0x01 inside a string"'
expect err-cut "$errs" '"line":20,.*"code":"SP_ETRUNCATED"'
expect err-unknown "$errs" '"line":30,.*"field":"e","code":"SP_EUNKNOWN_KIND","reason":"unknown event type \\"newThing\\""'
expect err-places "$errs" '"line":'"$bt"',.*"field":"b","code":"SP_EPRECISION"'
expect err-binary "$errs" '"line":1537,.*"offset":[0-9]+'
# every byte offset points at the reported line's bytes
off=$(printf '%s\n' "$errs" | grep '"line":30,' | sed 's/.*"offset":\([0-9]*\).*/\1/')
lstart=$(head -29 "$tmp/BINANCE_FUTURES.ws.bad.txt" | wc -c)
[ "$off" -ge "$lstart" ] || { echo "FAIL offset $off before line 30 at $lstart"; fail=1; }
good=$(( $("$bin" decode --out none --json "$ws" 2>&1 | sed -n 's/.*"events":\([0-9]*\).*/\1/p') ))
bad=$(( $("$bin" decode --out none --json "$tmp/BINANCE_FUTURES.ws.bad.txt" --format binance-ws-capture 2>&1 | sed -n 's/.*"events":\([0-9]*\).*/\1/p') ))
[ "$bad" -lt "$good" ] && [ "$bad" -gt $((good - 200)) ] || { echo "FAIL corrupted kept $bad of $good"; fail=1; }

# compressed inputs: .zst stream and a data.binance.vision style .zip
check zst 0 "$bin" decode --out none --json "$data/cryptofeed_bybit_v5_raw/BYBIT.jsonl.zst"
expect zst-count "$err" '"events":22143,"rejected":0'
if command -v python3 >/dev/null; then
    python3 - "$data/binance_um_klines_1m/BTCUSDT-1m-2026-02-05_06.csv" "$tmp/BTCUSDT-1m-2026-02.zip" <<'PY'
import sys, zipfile
rows = open(sys.argv[1]).read().split('\n', 1)[1]   # the older dumps have no header
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('BTCUSDT-1m-2026-02.csv', rows)
PY
    check zip 0 "$bin" decode --out none --json "$tmp/BTCUSDT-1m-2026-02.zip"
    expect zip-count "$err" '"events":2880,"rejected":0'
fi

# unusable inputs: exit 2 with what and where
check missing 2 "$bin" decode "$tmp/no-such-file.csv"; expect missing "$err" 'cannot open'
check unknown 2 "$bin" decode "$data/PROVENANCE.md"; expect unknown "$err" 'format not recognised'
check badformat 2 "$bin" decode --format nosuch "$ws"; expect badformat "$err" 'unknown format "nosuch"'
check badout 2 "$bin" decode --out xml "$ws"
check noargs 2 "$bin" decode
check formats 0 "$bin" decode --formats; expect formats "$out" '^bybit-capture '
# a usable and an unusable file together: both reported, exit 2
check mixed 2 "$bin" decode --out none "$ws" "$data/SHA256SUMS"; expect mixed "$err" 'events 7068'

# the summary rows of the Farside total scrape are rejected, with their reason
check farside 1 "$bin" decode --out none --errors "$tmp/f.jsonl" "$data/etf_flows/farside_btc_etf_total_2024-01_2026-01.csv"
expect farside-reason "$(cat "$tmp/f.jsonl")" 'summary row, not a trading day'

[ $fail -eq 0 ] && echo "test_feed_decode: all passed"
exit $fail
