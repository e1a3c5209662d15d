# ports.sh -- sourced by pg_server.sh and nats_server.sh: pick listening ports for
# the throw-away test servers.
#
# Ports are drawn from 10000 up to just below the kernel's ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range, 32768 by default).  A port inside that
# range can be handed to some outgoing connection (a client, curl, a cluster route
# retrying a dead peer) while a killed server is down, and the server then cannot
# bind it again when the test restarts it: a 3-node JetStream test failed that way.

sp_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# sp_pick_port: print a free port below the ephemeral range.
sp_pick_port() {
    local lo=32768 p
    read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
    [ "$lo" -gt 12000 ] || lo=32768
    while :; do
        p=$((10000 + (RANDOM * 32768 + RANDOM + $$) % (lo - 10000)))
        sp_port_free "$p" && break
    done
    echo "$p"
}
