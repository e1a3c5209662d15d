#!/usr/bin/env bash
# nats_server.sh -- run a command against real, throw-away NATS JetStream servers.
#
#   nats_server.sh run [--cluster] CMD [ARGS...]
#
# Starts one `nats-server -js` (or, with --cluster, a 3-node JetStream cluster:
# --cluster/--routes on loopback, names n1..n3, cluster name "stampede-test")
# on 127.0.0.1 and free ports, each node with its own store dir inside a fresh
# temp dir, waits until JetStream answers /healthz on the monitoring port, then
# exports
#   SP_TEST_NATS_URL    comma-separated client URLs of every node
#   SP_TEST_NATS_DIR    the temp dir: nN.pid (pid of node N), nN.mon (its monitoring
#                       URL), nN.sh (the command
#                       that starts node N again), nN.log, nN.url
#   SP_TEST_NATS_NODES  1 or 3
# runs CMD, and always stops every node and removes the dir afterwards (trap on
# EXIT, also on failure or signal).  The exit status is CMD's.  A test that
# kills a node (kill -9 $(cat $SP_TEST_NATS_DIR/n2.pid)) may restart it with
# `bash $SP_TEST_NATS_DIR/n2.sh` (the pid file is rewritten).  Servers bind
# 127.0.0.1 only.  NATS_SERVER overrides the binary (default: nats-server on PATH).
set -euo pipefail

NATS_SERVER=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}

die() {
    echo "nats_server.sh: $*" >&2
    exit 2
}

[ "${1:-}" = run ] || die "usage: nats_server.sh run [--cluster] CMD [ARGS...]"
shift
nodes=1
if [ "${1:-}" = --cluster ]; then
    nodes=3
    shift
fi
[ $# -ge 1 ] || die "usage: nats_server.sh run [--cluster] CMD [ARGS...]"
[ -x "$NATS_SERVER" ] || die "nats-server not found: install the 'nats-server' package (scripts/packages/check.txt)"

dir=$(mktemp -d /tmp/sp_nats.XXXXXX)

stop() {
    local rc=$?
    for n in $(seq 1 "$nodes"); do
        if [ -f "$dir/n$n.pid" ]; then
            kill "$(cat "$dir/n$n.pid")" 2>/dev/null || true
        fi
    done
    for n in $(seq 1 "$nodes"); do
        if [ -f "$dir/n$n.pid" ]; then
            local pid
            pid=$(cat "$dir/n$n.pid")
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$dir"
    exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT TERM

. "$(dirname "$0")/ports.sh"

# Three distinct free ports per node: client, cluster, monitoring.
pick() {
    local p
    while :; do
        p=$(sp_pick_port)
        case " ${used:-} " in *" $p "*) continue ;; esac
        used="${used:-} $p"
        echo "$p"
        return
    done
}

declare -a cport rport mport

# Start every node on fresh ports; false (nodes killed) if one does not become healthy
# within 15 s, e.g. because another process took a port between the check and the bind.
start_all() {
    used=
    for n in $(seq 1 "$nodes"); do
        cport[n]=$(pick)
        rport[n]=$(pick)
        mport[n]=$(pick)
    done
    for n in $(seq 1 "$nodes"); do
        rm -rf "$dir/n$n"
        mkdir -p "$dir/n$n"
        args=(-js -a 127.0.0.1 -p "${cport[n]}" -m "${mport[n]}"
            -sd "$dir/n$n" --server_name "n$n" -P "$dir/n$n.pid")
        if [ "$nodes" -gt 1 ]; then
            routes=
            for m in $(seq 1 "$nodes"); do
                [ "$m" = "$n" ] && continue
                routes="${routes:+$routes,}nats://127.0.0.1:${rport[m]}"
            done
            args+=(--cluster_name stampede-test --cluster "nats://127.0.0.1:${rport[n]}" --routes "$routes")
        fi
        printf '%q ' "$NATS_SERVER" "${args[@]}" >"$dir/n$n.sh"
        printf '>>%q 2>&1 &\n' "$dir/n$n.log" >>"$dir/n$n.sh"
        echo "nats://127.0.0.1:${cport[n]}" >"$dir/n$n.url"
        echo "http://127.0.0.1:${mport[n]}" >"$dir/n$n.mon"
        bash "$dir/n$n.sh"
    done
    # ready when every node's /healthz says JetStream is current (meta leader elected)
    for n in $(seq 1 "$nodes"); do
        local ok=
        for _ in $(seq 1 150); do
            if curl -fsS --max-time 1 "http://127.0.0.1:${mport[n]}/healthz" >/dev/null 2>&1; then
                ok=1
                break
            fi
            sleep 0.1
        done
        if [ -z "$ok" ]; then
            echo "nats_server.sh: node n$n did not become healthy on 127.0.0.1:${cport[n]}:" >&2
            tail -n 3 "$dir/n$n.log" >&2 || true
            for m in $(seq 1 "$nodes"); do
                [ -f "$dir/n$m.pid" ] && kill -9 "$(cat "$dir/n$m.pid")" 2>/dev/null || true
                rm -f "$dir/n$m.pid" "$dir/n$m.log"
            done
            return 1
        fi
    done
    return 0
}

started=
for attempt in 1 2 3; do
    if start_all; then
        started=1
        break
    fi
    echo "nats_server.sh: start attempt $attempt failed, retrying on other ports" >&2
done
[ -n "$started" ] || die "NATS did not start (see above)"

url=
for n in $(seq 1 "$nodes"); do
    url="${url:+$url,}nats://127.0.0.1:${cport[n]}"
done
export SP_TEST_NATS_URL=$url SP_TEST_NATS_DIR=$dir SP_TEST_NATS_NODES=$nodes
echo "nats_server.sh: $("$NATS_SERVER" --version) x$nodes on $url (dir $dir)" >&2
set +e
"$@"
rc=$?
set -e
exit "$rc"
