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
. "$src/tests/integration/lib.sh"
sp_tmpdir web_browser
pid=
sp_atexit() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; }

sp_api_db
sp_serve
out="$build/artefacts/browser"
fail=0
CHROMIUM="$chromium" node "$here/dashboard.test.mjs" "http://127.0.0.1:$(cat "$tmp/port")/" "$out" || fail=1
sp_serve_stop
echo "screenshots: $out/{dashboard,calculator,simulator}.png"
exit $fail
