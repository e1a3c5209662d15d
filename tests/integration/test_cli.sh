#!/usr/bin/env bash
# test_cli.sh STAMPEDE BUILD_DIR -- the command's contract: --help on every
# verb, exit code 2 with a clear message for unknown verbs and bad flags,
# version, and the demo's leverage table (exact fixed-point figures).
set -u
bin=${1:?stampede binary}
. "$(dirname "$0")/lib.sh" # check, expect; fail=0

check no-args 2 "$bin"; expect no-args "usage: stampede"
check help 0 "$bin" --help; expect help "verbs:"
check unknown-verb 2 "$bin" frobnicate; expect unknown-verb "unknown verb 'frobnicate'"
check version 0 "$bin" version; expect version "^stampede [0-9]+\.[0-9]+\.[0-9]+"
check version-json 0 "$bin" version --json; expect version-json '^\{"version":"[0-9.]+"'
# every verb listed by --help answers --help with a usage line and exit 0
verbs=$("$bin" --help | awk '/^verbs:/{f=1;next} f&&/^  [a-z]/{print $1} /^$/{if(f)exit}')
[ -n "$verbs" ] || { echo "FAIL: no verbs parsed from --help"; fail=1; }
for v in $verbs; do
    check "help-$v" 0 "$bin" "$v" --help; expect "help-$v" "^usage: stampede $v"
    check "help-cmd-$v" 0 "$bin" help "$v"; expect "help-cmd-$v" "^usage: stampede $v"
    check "badflag-$v" 2 "$bin" "$v" --no-such-flag; expect "badflag-$v" "unknown option '--no-such-flag'"
    check "shortflag-$v" 2 "$bin" "$v" -x; expect "shortflag-$v" "unknown option '-x'"
done
check demo-extra-arg 2 "$bin" demo extra; expect demo-extra-arg "unexpected argument 'extra'"
check demo-dup 2 "$bin" demo --json --json; expect demo-dup "given twice"
check demo-flag-value 2 "$bin" demo --json=1; expect demo-flag-value "takes no value"
check demo-missing-value 2 "$bin" demo --store; expect demo-missing-value "needs a value"
long=$(head -c 5000 /dev/zero | tr '\0' 'a')
check demo-long-arg 2 "$bin" demo --store "$long"; expect demo-long-arg "longer than"

# the article's arithmetic, exact
check demo-json 0 "$bin" demo --json
expect demo-json '"leverage":10,"notional_usdt":"10000","size_btc":"0.16","naive_move_pct":"10.00","wipe_price":"56250"'
expect demo-json '"leverage":100,"notional_usdt":"100000","size_btc":"1.6","naive_move_pct":"1.00","wipe_price":"61875"'
check demo-text 0 "$bin" demo
expect demo-text '20x +20000 +0.32 +5.00% +59375'

if [ $fail -eq 0 ]; then echo "test_cli: all checks passed"; fi
exit $fail
