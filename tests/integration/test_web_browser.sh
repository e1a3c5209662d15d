#!/usr/bin/env bash
# test_web_browser.sh STAMPEDE BUILD_DIR -- the dashboard in a real browser.
#
# Starts `stampede serve` (this build: normal or ASan) on a free loopback
# port over a store filled by `stampede ingest --all-shipped`, and runs
# tests/browser/dashboard.test.mjs: Debian's chromium, headless, driven by
# playwright-core, fails on any console error, on a chart without data, on
# a calculator or simulator panel that does not answer.  Screenshots are
# kept as artefacts in BUILD_DIR/artefacts/browser/.  When playwright-core
# is not installed yet, scripts/web.sh --tests installs it (npm ci).
set -u
bin=${1:?stampede binary}
build=${2:?build dir}
src=${SP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
here="$src/tests/browser"
command -v node >/dev/null || { echo "FAIL: node is required (scripts/packages/check.txt)"; exit 1; }
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "FAIL: $chromium not found (apt-get install chromium; scripts/packages/check.txt)"; exit 1; }
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -s "$src/web/dist/app.js" ]; then
    bash "$src/scripts/web.sh" --tests || { echo "FAIL: scripts/web.sh --tests"; exit 1; }
fi
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

db="$build/api-test.db"
( flock 9
  if [ ! -s "$db" ] || ! "$bin" query --store "sqlite:$db" --kind kline --symbol BTCUSDT --count >/dev/null 2>&1; then
      "$bin" ingest --all-shipped --store "sqlite:$db" --errors "$tmp/ingest.err" --no-progress --brief >/dev/null 2>&1
      [ $? -le 1 ] || { echo "FAIL: ingest into $db"; exit 1; }
  fi
) 9>"$build/api-test.db.lock" || exit 1

"$bin" serve --store "sqlite:$db" --listen 127.0.0.1:0 --port-file "$tmp/port" \
    --web "$src/web/dist" --data "$src/data" --quiet --for 300 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "FAIL: server did not start"; cat "$tmp/serve.log"; exit 1; }
out="$build/artefacts/browser"
fail=0
CHROMIUM="$chromium" node "$here/dashboard.test.mjs" "http://127.0.0.1:$(cat "$tmp/port")/" "$out" || fail=1
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || { echo "FAIL: server exit $rc after SIGTERM"; fail=1; }
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$tmp/serve.log"; then
    echo "FAIL: sanitizer report from the server:"; head -40 "$tmp/serve.log"; fail=1
fi
echo "screenshots: $out/{dashboard,calculator,simulator}.png"
exit $fail
