#!/usr/bin/env bash
# lab/segment.sh — one L2 segment in namespaces: the topology vipd runs on.
#
#            sw (bridge br0, ports n1..nN, cl)
#         /      |          \
#   n1:eth0  n2:eth0 ...  cl:eth0          (veth, the bridge side is named after the peer)
#
#   node i:  198.18.0.(10+i)/24  2001:db8:18::(10+i)/64  MAC 02:00:00:00:00:(10+i)
#   client:  198.18.0.100/24     2001:db8:18::100/64     MAC 02:00:00:00:01:00
#            + on-link routes for the VIP ranges (198.51.100.0/24, 203.0.113.0/24,
#              2001:db8:51::/64): it resolves VIPs by ARP / NDP directly.
#
# Sourced:    . lab/segment.sh; seg_build 2; seg_cut n1; seg_restore n1
#             (namespace names: "$(lab_ns n1)"; run commands with lab_exec n1 CMD...)
# Standalone: lab/segment.sh [N] [--hold SECONDS]
#             builds N nodes (default 2), checks the client reaches each node, prints the
#             namespaces, optionally keeps them for SECONDS for manual poking, removes them.

SEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/lib.sh
. "$SEG_DIR/lib.sh"

SEG_NODES=0
SEG_NET4=198.18.0
SEG_NET6=2001:db8:18:
SEG_CLIENT4=198.18.0.100
SEG_CLIENT6=2001:db8:18::100
SEG_CLIENT_MAC=02:00:00:00:01:00

seg_node_ip4() { printf '%s.%d\n' "$SEG_NET4" $((10 + ${1#n})); }
seg_node_ip6() { printf '%s:%d\n' "$SEG_NET6" $((10 + ${1#n})); }
seg_node_mac() { printf '02:00:00:00:00:%02d\n' $((10 + ${1#n})); }

# seg_attach NAME MAC IP4/LEN IP6/LEN — a host namespace wired to the bridge.
seg_attach() {
    local name=$1 mac=$2 ip4=$3 ip6=$4
    lab_ns_add "$name"
    lab_veth sw "$name" "$name" eth0
    lab_bridge_port sw br0 "$name"
    lab_exec "$name" ip link set eth0 address "$mac"
    lab_exec "$name" ip addr add "$ip4" dev eth0
    lab_exec "$name" ip -6 addr add "$ip6" dev eth0 nodad
    lab_exec "$name" ip link set eth0 up
}

seg_build() {
    local n=${1:-2} i
    [ "$n" -ge 1 ] && [ "$n" -le 89 ] || lab_die "seg_build: 1..89 nodes, not '$n'"
    lab_require_root
    lab_ns_add sw
    lab_exec sw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    # A switch forwards frames as they are: with br_netfilter loaded, bridged IPv4 would go
    # through netfilter, which drops what it finds malformed before a node can see it.
    lab_exec sw sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
        net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
    lab_bridge sw br0
    for ((i = 1; i <= n; i++)); do
        seg_attach "n$i" "$(seg_node_mac "n$i")" "$(seg_node_ip4 "n$i")/24" "$(seg_node_ip6 "n$i")/64"
    done
    seg_attach cl "$SEG_CLIENT_MAC" "$SEG_CLIENT4/24" "$SEG_CLIENT6/64"
    lab_exec cl ip route add 198.51.100.0/24 dev eth0
    lab_exec cl ip route add 203.0.113.0/24 dev eth0
    lab_exec cl ip -6 route add 2001:db8:51::/64 dev eth0
    SEG_NODES=$n
    # Both ends of every veth up, and the link-local addresses the VRRPv3 IPv6 adverts use.
    for ((i = 1; i <= n; i++)); do
        lab_wait_for 5 seg_link_ready "n$i" || lab_die "n$i: eth0 not ready"
    done
    lab_wait_for 5 seg_link_ready cl || lab_die "cl: eth0 not ready"
}

seg_link_ready() {
    lab_exec "$1" ip link show eth0 | grep -q 'state UP' &&
        lab_exec "$1" ip -6 addr show dev eth0 scope link | grep -q 'inet6 fe80'
}

# Cut / restore a node's link: its bridge-side veth goes down, so the node loses carrier,
# as with a pulled cable.
seg_cut() { lab_exec sw ip link set "$1" down; }
seg_restore() { lab_exec sw ip link set "$1" up; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    nodes=2 hold=0
    while [ $# -gt 0 ]; do
        case $1 in
            --hold) hold=${2:?--hold SECONDS}; shift 2 ;;
            [0-9]*) nodes=$1; shift ;;
            *) echo "usage: $0 [N] [--hold SECONDS]" >&2; exit 2 ;;
        esac
    done
    seg_build "$nodes"
    rc=0
    for ((i = 1; i <= nodes; i++)); do
        for addr in "$(seg_node_ip4 "n$i")" "$(seg_node_ip6 "n$i")"; do
            if lab_exec cl ping -q -c 1 -W 1 "$addr" >/dev/null; then
                echo "cl -> n$i $addr ok"
            else
                echo "cl -> n$i $addr FAILED"; rc=1
            fi
        done
    done
    lab_standalone_end "$rc" "$hold"
fi
