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
. "$src/tests/integration/lib.sh"
sp_tmpdir api
pid=
sp_atexit() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; }

# the store: one generated db per build dir, shared by the API tests (ingest is idempotent)
sp_api_db
sp_serve --timeout 3
port=$(cat "$tmp/port")
fail=0
node "$here/api.test.mjs" "$port" "$bin" "sqlite:$db" || fail=1
node "$here/hostile.test.mjs" "$port" || fail=1
sp_serve_stop
exit $fail
