#!/usr/bin/env bash
# web.sh [--tests] -- build the dashboard bundle (web/dist) from npm packages.
#
# Runs `npm ci` (the versions pinned in web/package-lock.json: Apache ECharts
# and esbuild) and `npm run build` (web/build.mjs -> web/dist/app.js, app.css,
# index.html, THIRD_PARTY_LICENSES.txt).  With --tests also installs
# tests/browser's packages (playwright-core) for the browser test.
# Offline or without npm it falls back to the bundle committed in web/dist
# and says so (exit 0); it fails only when neither works.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tests=0
[ "${1:-}" = "--tests" ] && tests=1

fallback() {
    if [ -s "$root/web/dist/app.js" ] && [ -s "$root/web/dist/index.html" ]; then
        echo "web.sh: $1; using the committed bundle in web/dist" >&2
        return 0
    fi
    echo "web.sh: $1, and no committed bundle in web/dist" >&2
    return 1
}

status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    fallback "npm/node not found" || status=1
elif ! (cd "$root/web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>"$log"); then
    fallback "npm ci failed ($(grep -m1 -o 'code [A-Z_0-9]*' "$log" || echo offline?))" || status=1
elif ! (cd "$root/web" && node build.mjs); then
    fallback "the bundle build failed" || status=1
fi
if [ "$tests" = 1 ]; then
    if ! command -v npm >/dev/null 2>&1 ||
        ! (cd "$root/tests/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
        echo "web.sh: cannot install tests/browser packages (playwright-core)" >&2
        status=1
    fi
fi
exit $status
