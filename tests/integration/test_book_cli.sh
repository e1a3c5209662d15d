#!/usr/bin/env bash
# test_book_cli.sh -- `stampede book`: W1 through the real binary.
# The 1 M replay must match the spec's oracle (exit 0, "match"), on both book kinds;
# --json must carry the oracle verdict and counts; usage errors exit 2 with a message.
set -euo pipefail
bin="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$bin" book) || fail "book exited $?"
grep -q "oracle (perf-anchors.md 1.2): match" <<<"$out" || fail "no oracle match: $out"
grep -q "fills 220769 (5628861 lots), cancels accepted 322473, rejected 117362, resting 14689" <<<"$out" \
  || fail "counts: $out"

out=$("$bin" book --kind ref --json --depth 1) || fail "ref exited $?"
grep -q '"oracle":"match"' <<<"$out" || fail "ref json: $out"
grep -q '"fills":220769,' <<<"$out" || fail "ref json fills: $out"

out=$("$bin" book --ops 5000 --seed 7 --json) || fail "small run exited $?"
grep -q '"oracle":"none"' <<<"$out" || fail "no-oracle run: $out"

err=$(mktemp)
trap 'rm -f "$err"' EXIT
set +e
"$bin" book --kind nope >/dev/null 2>"$err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad --kind exit $rc"
grep -q "expected fast or ref" "$err" || fail "bad --kind message"
set +e
"$bin" book --ops -3 >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad --ops exit $rc"
"$bin" book --help | grep -q "usage: stampede book" || fail "--help"
echo "test_book_cli: ok"
