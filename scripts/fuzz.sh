#!/usr/bin/env bash
# fuzz.sh BUILD_DIR SECONDS -- run every libFuzzer harness built in BUILD_DIR
# for SECONDS each, starting from its saved corpus (tests/fuzz/corpus/<name>/).
# New interesting inputs go to a scratch directory, not the repo; a crash
# leaves its input in BUILD_DIR/fuzz-artifacts/ and fails the run: copy it
# into the corpus once fixed so it is replayed by every `make check`.
set -euo pipefail
build=${1:?build dir}
secs=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/fuzz-artifacts"
shopt -s nullglob
ran=0
for bin in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin"); short=${name#fuzz_}
    case "$name" in *_replay) continue ;; esac
    corpus="$root/tests/fuzz/corpus/$short"
    scratch="$build/fuzz-work/$short"
    mkdir -p "$scratch"
    echo "fuzz: $name for ${secs}s"
    log="$build/fuzz-artifacts/$name.log"
    if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
            -artifact_prefix="$build/fuzz-artifacts/$name-" -print_final_stats=1 \
            "$scratch" "$corpus" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz: $name FAILED (input saved under $build/fuzz-artifacts/)" >&2
        exit 1
    fi
    grep -E 'stat::number_of_executed_runs|Done [0-9]+ runs' "$log" | tail -n 2 | sed "s/^/fuzz: $name: /"
    ran=$((ran + 1))
done
echo "fuzz: $ran harness(es) ran ${secs}s each without a crash"
