#!/usr/bin/env bash
# test_api.sh STAMPEDE BUILD_DIR -- the HTTP API of `stampede serve` over
# real HTTP on 127.0.0.1: every route, every error status, answers checked
# against the OpenAPI document and against the CLI (tests/browser/
# api.test.mjs), then hostile inputs (hostile.test.mjs: 1 MB query, invalid
# UTF-8, negative and huge numbers, SQL-like strings, path traversal,
# slowloris, 1,000 concurrent connections) after which the server must
# still serve.  The server runs from the build (normal or ASan) on a free
# port, against a store filled by `stampede ingest --all-shipped`; its
# stderr must hold no sanitizer report and it must exit 0 on SIGTERM.
set -u
bin=${1:?stampede binary}
build=${2:?build dir}
src=${SP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
here="$src/tests/browser"
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
command -v node >/dev/null || { echo "FAIL: node is required (scripts/packages/check.txt)"; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# the store: one generated db per build dir, shared by the API tests (ingest is idempotent)
db="$build/api-test.db"
( flock 9
  if [ ! -s "$db" ] || ! "$bin" query --store "sqlite:$db" --kind kline --symbol BTCUSDT --count >/dev/null 2>&1; then
      "$bin" ingest --all-shipped --store "sqlite:$db" --errors "$tmp/ingest.err" --no-progress --brief >/dev/null 2>&1
      [ $? -le 1 ] || { echo "FAIL: ingest into $db"; exit 1; }
  fi
) 9>"$build/api-test.db.lock" || exit 1

"$bin" serve --store "sqlite:$db" --listen 127.0.0.1:0 --port-file "$tmp/port" --timeout 3 \
    --web "$src/web/dist" --data "$src/data" --quiet --for 300 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "FAIL: server did not start"; cat "$tmp/serve.log"; exit 1; }
port=$(cat "$tmp/port")
fail=0
node "$here/api.test.mjs" "$port" "$bin" "sqlite:$db" || fail=1
node "$here/hostile.test.mjs" "$port" || fail=1
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || { echo "FAIL: server exit $rc after SIGTERM"; fail=1; }
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$tmp/serve.log"; then
    echo "FAIL: sanitizer report from the server:"; head -40 "$tmp/serve.log"; fail=1
fi
exit $fail
