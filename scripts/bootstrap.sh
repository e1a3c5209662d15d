#!/usr/bin/env bash
# bootstrap.sh PROFILE... -- install the Debian packages a make target needs.
#
# PROFILE is demo, check or bench; each reads scripts/packages/<profile>.txt
# (demo.txt is always included).  Only missing packages are installed, with
# one `apt-get update` first; nothing happens when all are present.  Runs
# as root (or through sudo when available).  Exits non-zero with a clear
# message when something cannot be installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
profiles=(demo "$@")

want=()
for p in "${profiles[@]}"; do
    f="$here/packages/$p.txt"
    [ -f "$f" ] || { echo "bootstrap: unknown profile '$p' (no $f)" >&2; exit 2; }
    while read -r pkg _; do
        case "$pkg" in ''|'#'*) continue ;; esac
        want+=("$pkg")
    done <"$f"
done

missing=()
for pkg in "${want[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
# Commands some profiles need that may come from outside Debian's packages
# (the machine image ships Node.js and npm); Debian's own only when absent.
for p in "${profiles[@]}"; do
    case "$p" in
    check | bench)
        command -v node >/dev/null 2>&1 || missing+=(nodejs)
        command -v npm >/dev/null 2>&1 || missing+=(npm)
        ;;
    esac
done
# de-duplicate
if [ ${#missing[@]} -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "bootstrap: missing packages: ${missing[*]}" >&2
        echo "bootstrap: run as root (or install them) and try again" >&2
        exit 1
    fi
fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done" >&2
