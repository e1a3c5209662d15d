#!/usr/bin/env bash
# format.sh [--check] -- apply (or, with --check, verify) .clang-format on
# every C source and header of the project.  --check lists the files that
# differ and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^web/node_modules/' || true)
[ ${#files[@]} -eq 0 ] && exit 0
if [ "${1:-}" = "--check" ]; then
    bad=0
    for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        if ! clang-format --style=file "$f" | cmp -s - "$f"; then
            echo "format: $f differs from .clang-format (run scripts/format.sh)" >&2
            bad=1
        fi
    done
    exit $bad
fi
clang-format --style=file -i "${files[@]}"
