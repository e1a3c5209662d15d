#!/usr/bin/env bash
# test_bus_cli.sh -- the bus verbs' command-line contract, without servers:
# --help, usage errors (exit 2), --dry-run digests (order-independent, equal for the
# same events), a rejected record (exit 1), an unreadable file and an unreachable
# server (exit 2 with a message saying what).
#
#   test_bus_cli.sh STAMPEDE_BIN BUILD_DIR
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d /tmp/sp_bus_cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
check() { # check NAME WANT_RC CMD...
    local name=$1 want=$2
    shift 2
    set +e
    "$@" >"$work/$name.out" 2>"$work/$name.err"
    local rc=$?
    set -e
    if [ "$rc" != "$want" ]; then
        echo "FAIL $name: exit $rc, want $want"
        cat "$work/$name.out" "$work/$name.err"
        fail=1
    fi
}
expect() { # expect NAME REGEX (in stdout or stderr)
    if ! grep -Eq -- "$2" "$work/$1.out" "$work/$1.err"; then
        echo "FAIL $1: no match for $2"
        cat "$work/$1.out" "$work/$1.err"
        fail=1
    fi
}

for v in publish sink worker; do
    check "help-$v" 0 "$bin" "$v" --help
    expect "help-$v" "usage: stampede $v"
done
expect help-publish "--dry-run"
expect help-sink "--digest"
check stress-help 0 "$bin" stress --help
expect stress-help "--nats URL"

check pub-nofile 2 "$bin" publish
check pub-badbatch 2 "$bin" publish --batch 5000 x.csv
expect pub-badbatch "--batch"
check sink-badfetch 2 "$bin" sink --fetch 0
check sink-extra 2 "$bin" sink extra-arg
check worker-badack 2 "$bin" worker --ack-wait-ms 5

csv=$work/BTCUSDT-trades-2026-02-06.csv
printf 'id,price,qty,quote_qty,time,is_buyer_maker\n1,60000.5,0.010,600.005,1770336000000,true\n2,60001.0,0.020,1200.02,1770336000001,false\n3,60002.0,0.030,1800.06,1770336000002,true\n' >"$csv"
# the same events in another order: same digest
rev=$work/rev/BTCUSDT-trades-2026-02-06.csv
mkdir -p "$work/rev"
{ head -n 1 "$csv"; tail -n 3 "$csv" | tac; } >"$rev"
check dry1 0 "$bin" publish --dry-run --json "$csv"
check dry2 0 "$bin" publish --dry-run --json "$rev"
expect dry1 '"events":3,'
d1=$(sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p' "$work/dry1.out")
d2=$(sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p' "$work/dry2.out")
[ -n "$d1" ] && [ "$d1" = "$d2" ] || { echo "FAIL digest: order changed it ($d1 vs $d2)"; fail=1; }
# one changed price: another digest
sed 's/60002.0/60002.1/' "$csv" >"$work/rev/x.csv" && mv "$work/rev/x.csv" "$rev"
check dry3 0 "$bin" publish --dry-run --json "$rev"
d3=$(sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p' "$work/dry3.out")
[ "$d3" != "$d1" ] || { echo "FAIL digest: a changed price kept the digest"; fail=1; }

# a rejected record: exit 1, the reason in --errors, the good ones still counted
printf '4,notaprice,0.1,1,1770336000003,true\n' >>"$csv"
check dry-reject 1 "$bin" publish --dry-run --json --errors "$work/errors.txt" "$csv"
expect dry-reject '"events":3,"rejected":1'
grep -q . "$work/errors.txt" || { echo "FAIL reject: no reason written"; fail=1; }

check pub-missing 2 "$bin" publish --dry-run "$work/nope.csv"
expect pub-missing "nope.csv"
# nothing listens on port 1: a clear connection error, exit 2
check pub-noserver 2 "$bin" publish --nats nats://127.0.0.1:1 --timeout-ms 500 "$csv"
if "$bin" version --json | grep -q '"nats":true'; then
    expect pub-noserver "127.0.0.1:1"
else
    expect pub-noserver "built without NATS"
fi
check sink-noserver 2 "$bin" sink --nats nats://127.0.0.1:1 --store "sqlite:$work/s.db"
check worker-noserver 2 "$bin" worker --nats nats://127.0.0.1:1
check stress-noserver 2 "$bin" stress --nats nats://127.0.0.1:1 --scenarios 10 --positions 1000
# no store there: exit 2, saying so; after `stampede ingest` the store digests to the
# dry-run digest of the same (good) records: the ingest and publish paths agree
check sink-nostore 2 "$bin" sink --store "sqlite:$work/s2.db" --digest --json
expect sink-nostore "no such store"
check ingest 1 "$bin" ingest --store "sqlite:$work/s2.db" --errors "$work/ing.err" "$csv"
check sink-digest 0 "$bin" sink --store "sqlite:$work/s2.db" --digest --json
expect sink-digest '"events":3,'
expect sink-digest "\"digest\":\"$d1\""
[ "$fail" = 0 ] && echo "PASS: bus CLI contract"
exit "$fail"
