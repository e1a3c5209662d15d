#!/usr/bin/env bash
# test_store_cli.sh -- `stampede ingest` and `stampede query` end to end on
# the shipped data, on SQLite: exact values back out, idempotent re-ingest,
# rejected records and their reasons file, exit codes 0/1/2, a locked
# database, a full disk (ulimit -f), and kill -9 of a running ingest
# followed by a re-run that completes the set with no duplicates.
#
#   test_store_cli.sh STAMPEDE_BINARY BUILD_DIR
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=${SP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$src/data
. "$(dirname "$0")/lib.sh"
sp_tmpdir store_cli
cd "$tmp"

klines=$data/binance_um_klines_1m/BTCUSDT-1m-2026-02-05_06.csv
rows=$(grep -c '^[0-9]' "$klines")

# 1. ingest, count, re-ingest
expect_rc 0 "ingest klines" "$bin" ingest --store sqlite:a.db --no-progress "$klines"
grep -q "$rows new" out.txt && ok "all $rows rows new" || bad "first ingest: $(tail -1 out.txt)"
n=$("$bin" query --store sqlite:a.db --count --kind kline --symbol BTCUSDT)
[ "$n" = "$rows" ] && ok "query --count = $rows" || bad "count $n != $rows"
expect_rc 0 "re-ingest" "$bin" ingest --store sqlite:a.db --no-progress "$klines"
grep -q " 0 new" out.txt && ok "re-ingest adds 0" || bad "re-ingest: $(tail -1 out.txt)"
n2=$("$bin" query --store sqlite:a.db --count)
[ "$n2" = "$rows" ] && ok "count unchanged after re-ingest" || bad "count $n2 after re-ingest"

# 2. exact values back: the first bar's close equals the file's, digit for digit
first=$(grep -m1 '^[0-9]' "$klines")
close=$(echo "$first" | cut -d, -f5)
got=$("$bin" query --store sqlite:a.db --kind kline --symbol BTCUSDT --limit 1 --out csv | sed -n 2p | cut -d, -f9)
# compare as decimals (the file may carry trailing zeros)
norm() { echo "$1" | sed -E 's/(\.[0-9]*[1-9])0+$/\1/; s/\.0+$//'; }
[ "$(norm "$close")" = "$(norm "$got")" ] && ok "close $got exact" || bad "close: file $close, query $got"
"$bin" query --store sqlite:a.db --kind kline --limit 3 >q.jsonl
[ "$(wc -l <q.jsonl)" = 3 ] && grep -q '"kind":"kline","venue":"binance","symbol":"BTCUSDT"' q.jsonl &&
    ok "jsonl output" || bad "jsonl: $(head -1 q.jsonl)"
from=$("$bin" query --store sqlite:a.db --count --kind kline --from 2026-02-06T00:00:00Z)
[ "$from" -gt 0 ] && [ "$from" -lt "$rows" ] && ok "--from window ($from)" || bad "--from gave $from"

# 3. rejected records: exit 1, reasons with file:line
etf=$data/etf_flows/farside_btc_etf_total_2024-01_2026-01.csv
expect_rc 1 "ingest with rejected records" "$bin" ingest --store sqlite:a.db --no-progress --errors rej.txt "$etf"
[ -s rej.txt ] && grep -q "farside_btc_etf_total_2024-01_2026-01.csv:[0-9]*" rej.txt &&
    ok "reasons in rej.txt ($(wc -l <rej.txt) lines)" || bad "no reasons file"
grep -q "rej.txt" out.txt && ok "summary names the reasons file" || bad "summary lacks reasons file"

# 4. usage and unusable input: exit 2, message names the problem
expect_rc 2 "missing file" "$bin" ingest --store sqlite:a.db --no-progress "$tmp/nope.csv"
grep -q "nope.csv" err.txt && ok "message names the file" || bad "missing-file message: $(cat err.txt)"
expect_rc 2 "bad store URI" "$bin" ingest --store mysql://x "$klines"
expect_rc 2 "no FILE" "$bin" ingest --store sqlite:a.db
expect_rc 2 "query without --kind" "$bin" query --store sqlite:a.db
expect_rc 2 "query of a missing store" "$bin" query --store sqlite:none.db --kind trade
expect_rc 0 "ingest --help" "$bin" ingest --help
expect_rc 0 "query --help" "$bin" query --help

# 5. locked database: a writer holds the lock past ?busy_ms
(
    echo 'BEGIN EXCLUSIVE;'
    sleep 3
    echo 'COMMIT;'
) | sqlite3 a.db &
lockpid=$!
sleep 0.5
expect_rc 2 "locked database" "$bin" ingest --store "sqlite:a.db?busy_ms=100" --no-progress "$etf"
grep -qi "lock" err.txt && ok "lock message: $(grep -i -m1 lock err.txt | cut -c1-90)" || bad "lock message: $(cat err.txt)"
wait "$lockpid" || true

# 6. full disk: a file-size limit makes writes fail; clear error, exit 2, db consistent
big=$data/binance_spot_klines/XRPUSDT_4h.csv
set +e
(
    ulimit -f 640
    "$bin" ingest --store sqlite:full.db --no-progress --batch 2000 "$big"
) >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" = 2 ] && ok "full disk: exit 2" || bad "full disk: exit $rc"
grep -q "full.db" err.txt && ok "full disk message: $(grep -m1 full.db err.txt | cut -c1-100)" || bad "full disk message: $(cat err.txt)"
[ "$(sqlite3 full.db 'PRAGMA integrity_check')" = ok ] && ok "full disk: integrity ok" || bad "integrity after full disk"
c=$(sqlite3 full.db 'SELECT count(*) FROM event')
[ "$c" -gt 0 ] && ok "full disk: earlier batches kept" || bad "full disk: nothing stored before the limit"
[ $((c % 2000)) = 0 ] && ok "full disk: whole batches only ($c events)" || bad "partial batch: $c events"

# 7. kill -9 during ingest (fixed delays), re-run completes with no duplicates
kdata=$data/binance_um_fundingRate/raw # ~40k events in ~500 files: many transactions
"$bin" ingest --store sqlite:ref.db --no-progress --all-shipped --data "$kdata" >/dev/null 2>&1 || true
"$bin" query --store sqlite:ref.db --summary >ref.txt
for delay in 0.05 0.2 0.45; do
    rm -f k.db k.db-wal k.db-shm
    "$bin" ingest --store sqlite:k.db --no-progress --batch 50 --all-shipped --data "$kdata" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    part=$(sqlite3 k.db 'SELECT count(*) FROM event' 2>/dev/null || echo 0)
    "$bin" ingest --store sqlite:k.db --no-progress --all-shipped --data "$kdata" >/dev/null 2>&1 || true
    "$bin" query --store sqlite:k.db --summary >k.txt
    if cmp -s ref.txt k.txt; then ok "kill -9 after ${delay}s ($part events stored), re-run = clean run"; else
        bad "kill -9 after ${delay}s: summary differs"
        diff ref.txt k.txt | head -5
    fi
done

echo "test_store_cli: $fails failure(s)"
[ "$fails" = 0 ]
