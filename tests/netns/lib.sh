# tests/netns/lib.sh — helpers for integration tests in network namespaces (sourced, bash).
#
# A test is a bash script tests/netns/test_*.sh that sources this file, builds a lab
# (seg_build from lab/segment.sh), probes it the way a peer would, and ends with t_pass,
# t_fail MSG (exit 1) or t_skip MSG (exit 77). Cleanup (lab/lib.sh) runs on every exit path.
#
# Results and probes
#   t_pass [MSG]  t_fail MSG  t_skip MSG  t_log MSG
#   t_require_root  t_require_cmd CMD...  t_require_vipd
#   t_assert_eq GOT WANT MSG     t_assert_ne GOT UNWANTED MSG
#   t_assert_wait TIMEOUT_S MSG CMD...   (poll CMD until true, else fail with MSG; CMD as in
#                                         lab_wait_for: words, or one string to eval)
#   arp_mac NS IFACE IP          MAC that answers a broadcast ARP request for IP (first answer)
#   arp_responders NS IP [IFACE] number of distinct MACs answering ARP for IP (3 requests, 2 s)
#   arp_responder_macs NS IP [IFACE]  those MACs, one a line
#   ndisc_mac NS IP [IFACE]      MAC in the first Neighbor Advertisement for IP
#   nd_responders NS IP [IFACE]  number of distinct MACs answering a Neighbor Solicitation
#   nd_responder_macs NS IP [IFACE]
#   neigh_mac NS IP [IFACE]      MAC the namespace's own neighbour cache holds for IP
# Daemons
#   vipd_conf FILE key=value...  write a one-group vipd config (see the function)
#   vipd_start NS CONFIG         start vipd in NS, wait for its control socket; VIPD_PID[NS]
#   vipd_stop NS / vipd_kill NS  SIGTERM (clean shutdown) / SIGKILL (crash)
#   vip_status_json SOCKET       fabricctl -s SOCKET vip status --json
#   vip_state SOCKET GROUP FAMILY            init | backup | master
#   vip_counter SOCKET GROUP FAMILY COUNTER  one counter of one instance
#   keepalived_conf FILE key=value...        write a keepalived VRRPv3 config
#   keepalived_start NS CONF     keepalived --vrrp in the foreground in NS; KEEPALIVED_PID[NS]
# Captures
#   t_capture_start NS IFACE FILE [FILTER...]   tcpdump to FILE; pid in T_CAPTURE_PID
#   t_capture_stop PID                          flush and stop it
#   tshark_check PCAP            print malformed / bad-checksum / warning frames; 0 if none
#   tshark_count PCAP FILTER     number of frames matching a display filter

T_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T_ROOT=$(cd "$T_DIR/../.." && pwd)
# shellcheck source=lab/segment.sh
. "$T_ROOT/lab/segment.sh"

T_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
T_BUILD=${L2F_BUILD:-$T_ROOT/build}
VIPD=$T_BUILD/vipd/vipd
FABRICCTL=$T_BUILD/fabricctl/fabricctl
# scapy is a Debian package: use the system interpreter, not one earlier on PATH (pyenv...).
T_PYTHON=/usr/bin/python3
declare -A VIPD_PID=() VIPD_SOCKET=() KEEPALIVED_PID=()

t_log() { printf '[%s] %s\n' "$T_NAME" "$*"; }

# On failure, the tail of every log the test wrote is the first thing one wants to read.
t_dump_logs() {
    local f
    [ -n "$LAB_TMP" ] || return 0
    for f in "$LAB_TMP"/*.log; do
        [ -s "$f" ] || continue
        printf -- '--- %s (last 25 lines)\n' "${f##*/}"
        tail -n 25 "$f"
    done
}

t_pass() { printf 'PASS: %s%s\n' "$T_NAME" "${1:+: $1}"; exit 0; }
t_fail() { printf 'FAIL: %s: %s\n' "$T_NAME" "$*"; t_dump_logs; exit 1; }
t_skip() { printf 'SKIP: %s: %s\n' "$T_NAME" "$*"; exit 77; }

t_require_root() { [ "$(id -u)" -eq 0 ] || t_skip "needs root (network namespaces)"; }

t_require_cmd() {
    local c
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || t_skip "$c not installed (scripts/deps.sh)"; done
}

t_require_vipd() {
    [ -z "${L2F_BUILD_FAILED:-}" ] || t_skip "the build failed; not testing a stale vipd"
    [ -x "$VIPD" ] || t_skip "$VIPD not built"
    [ -x "$FABRICCTL" ] || t_skip "$FABRICCTL not built"
}

t_assert_eq() { [ "$1" = "$2" ] || t_fail "$3: got '$1', want '$2'"; }
t_assert_ne() { [ "$1" != "$2" ] || t_fail "$3: got '$1', want anything else"; }

t_assert_wait() {
    local timeout=$1 msg=$2; shift 2
    lab_wait_for "$timeout" "$@" || t_fail "$msg (waited ${timeout}s for: $*)"
}

# --- what a peer on the segment observes ----------------------------------------------------

# arping (Habets' arping 2.x, Debian package "arping"): -i interface, -r prints only the MAC,
# -C 1 stops at the first reply; requests every 0.2 s for at most 1 s.
arp_mac() {
    local ns=$1 ifname=$2 ip=$3
    lab_exec "$ns" arping -C 1 -c 5 -W 0.2 -w 1 -r -i "$ifname" "$ip" 2>/dev/null | head -n 1
}

arp_responder_macs() {
    local ns=$1 ip=$2 ifname=${3:-eth0}
    lab_exec "$ns" arping -c 3 -W 0.5 -w 2 -r -i "$ifname" "$ip" 2>/dev/null | sort -u
}

arp_responders() { arp_responder_macs "$@" | grep -c .; }

ndisc_mac() {
    local ns=$1 ip=$2 ifname=${3:-eth0}
    lab_exec "$ns" ndisc6 -1 -q -n -r 3 -w 300 "$ip" "$ifname" 2>/dev/null | head -n 1 |
        tr 'A-F' 'a-f'
}

# ndisc6 -m waits the whole -w window and prints every advertisement received.
nd_responder_macs() {
    local ns=$1 ip=$2 ifname=${3:-eth0}
    lab_exec "$ns" ndisc6 -m -n -r 2 -w 1000 "$ip" "$ifname" 2>/dev/null |
        sed -n 's/^Target link-layer address: *//p' | tr 'A-F' 'a-f' | sort -u
}

nd_responders() { nd_responder_macs "$@" | grep -c .; }

neigh_mac() {
    local ns=$1 ip=$2 ifname=${3:-eth0}
    lab_exec "$ns" ip neigh show "$ip" dev "$ifname" 2>/dev/null |
        sed -n 's/.* lladdr \([0-9a-f:]*\).*/\1/p' | head -n 1
}

# --- vipd -------------------------------------------------------------------------------------

# vipd_conf FILE [node=n1] [socket=PATH] [group=web] [interface=eth0] [vrid=51]
#           [priority=100|auto] [advert_ms=100] [preempt=true] [assign=false]
#           [addrs="198.51.100.10 2001:db8:51::10"] [nodes="n1 n2"]
# One group; tests that need more write their YAML directly.
vipd_conf() {
    local file=$1; shift
    local node=n1 socket='' group=web interface=eth0 vrid=51 priority=100 advert_ms=100
    local preempt=true assign=false addrs="198.51.100.10 2001:db8:51::10" nodes='' kv a n
    for kv in "$@"; do
        case ${kv%%=*} in
            node|socket|group|interface|vrid|priority|advert_ms|preempt|assign|addrs|nodes)
                printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
            *) t_fail "vipd_conf: unknown key '${kv%%=*}'" ;;
        esac
    done
    [ -n "$socket" ] || { lab_tmpdir; socket=$LAB_TMP/vipd-$node.sock; }
    {
        printf 'node: "%s"\ncontrol_socket: "%s"\n' "$node" "$socket"
        if [ -n "$nodes" ]; then
            printf 'nodes:\n'
            for n in $nodes; do printf '  - "%s"\n' "$n"; done
        fi
        printf 'groups:\n  - name: "%s"\n    interface: "%s"\n    vrid: %s\n' "$group" "$interface" "$vrid"
        printf '    priority: %s\n    advert_interval_ms: %s\n' "$priority" "$advert_ms"
        printf '    preempt: %s\n    assign: %s\n    addresses:\n' "$preempt" "$assign"
        for a in $addrs; do printf '      - "%s"\n' "$a"; done
    } >"$file"
}

vipd_socket_of() {
    sed -n 's/^control_socket:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "$1" | head -n 1
}

# vipd_start NS CONFIG — foreground vipd logging to $LAB_TMP/vipd-NS.log.
vipd_start() {
    local ns=$1 conf=$2 sock pid
    t_require_vipd
    lab_tmpdir
    sock=$(vipd_socket_of "$conf")
    [ -n "$sock" ] || t_fail "vipd_start: no control_socket in $conf"
    rm -f -- "$sock"
    lab_bg "$ns" "$LAB_TMP/vipd-$ns.log" "$VIPD" -f -c "$conf"
    pid=$LAB_LAST_PID
    VIPD_PID[$ns]=$pid VIPD_SOCKET[$ns]=$sock
    lab_wait_for 5 vipd_up "$pid" "$sock" || {
        lab_alive "$pid" || t_fail "vipd on $ns exited at start"
        t_fail "vipd on $ns: no control socket $sock after 5 s"
    }
}

vipd_up() { lab_alive "$1" && [ -S "$2" ]; }

vipd_stop() {
    local pid=${VIPD_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    lab_wait_for 5 t_exited "$pid" || t_fail "vipd on $1 did not exit within 5 s of SIGTERM"
    wait "$pid" 2>/dev/null
    lab_forget_pid "$pid"
}

vipd_kill() {
    local pid=${VIPD_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    lab_forget_pid "$pid"
    return 0
}

t_exited() { ! lab_alive "$1"; }

vip_status_json() { "$FABRICCTL" -s "$1" vip status --json; }

vip_state() {
    vip_status_json "$1" | jq -r --arg g "$2" --arg f "$3" \
        '.groups[] | select(.name == $g) | .instances[] | select(.family == $f) | .state'
}

vip_counter() {
    vip_status_json "$1" | jq -r --arg g "$2" --arg f "$3" --arg c "$4" \
        '.groups[] | select(.name == $g) | .instances[] | select(.family == $f) | .counters[$c]'
}

# --- keepalived as a VRRPv3 peer --------------------------------------------------------------

# keepalived_conf FILE [router_id=n1] [interface=eth0] [vrid=51] [priority=100]
#                 [advert=0.1] [preempt=true] [addrs="198.51.100.10 2001:db8:51::10"]
# One vrrp_instance per address family (a VRRP instance carries one family), both with the
# same VRID. advert is in seconds; VRRPv3 allows fractions (centisecond resolution).
keepalived_conf() {
    local file=$1; shift
    local router_id=n1 interface=eth0 vrid=51 priority=100 advert=0.1 preempt=true
    local addrs="198.51.100.10" kv a fam list
    for kv in "$@"; do
        case ${kv%%=*} in
            router_id|interface|vrid|priority|advert|preempt|addrs) printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
            *) t_fail "keepalived_conf: unknown key '${kv%%=*}'" ;;
        esac
    done
    {
        printf 'global_defs {\n    router_id %s\n    vrrp_version 3\n}\n' "$router_id"
        for fam in 4 6; do
            list=
            for a in $addrs; do
                case $fam:$a in
                    4:*:*|6:*.*) ;;
                    4:*) list+="        $a/32"$'\n' ;;
                    6:*) list+="        $a/128"$'\n' ;;
                esac
            done
            [ -n "$list" ] || continue
            printf 'vrrp_instance vi%s_%s {\n    state BACKUP\n    interface %s\n' "$fam" "$vrid" "$interface"
            printf '    virtual_router_id %s\n    priority %s\n    advert_int %s\n' "$vrid" "$priority" "$advert"
            [ "$preempt" = true ] || printf '    nopreempt\n'
            printf '    virtual_ipaddress {\n%s    }\n}\n' "$list"
        done
    } >"$file"
}

# keepalived 2.2.7: -n (--dont-fork) keeps the parent in the foreground, -R does not respawn
# a crashed child (a test should see the crash), -P runs only VRRP, -l -G log to the console
# and not syslog, -D details; -p / -r put the parent's and the VRRP child's pid files in our
# temp dir (the defaults in /run would clash between nodes).
keepalived_start() {
    local ns=$1 conf=$2 pidf vpidf pid
    t_require_cmd keepalived
    lab_tmpdir
    pidf=$LAB_TMP/keepalived-$ns.pid vpidf=$LAB_TMP/keepalived-$ns-vrrp.pid
    rm -f -- "$pidf" "$vpidf"
    lab_bg "$ns" "$LAB_TMP/keepalived-$ns.log" keepalived -n -R -l -G -D -P -f "$conf" -p "$pidf" -r "$vpidf"
    pid=$LAB_LAST_PID
    KEEPALIVED_PID[$ns]=$pid
    lab_wait_for 5 test -s "$vpidf" || {
        lab_alive "$pid" || t_fail "keepalived on $ns exited at start"
        t_fail "keepalived on $ns: no VRRP child after 5 s"
    }
    lab_track_pid "$(cat "$vpidf")"
}

keepalived_stop() {
    local pid=${KEEPALIVED_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    lab_wait_for 5 t_exited "$pid" || t_fail "keepalived on $1 did not exit within 5 s"
    wait "$pid" 2>/dev/null
    lab_forget_pid "$pid"
}

# --- captures -----------------------------------------------------------------------------

# tcpdump -Z root: Debian's tcpdump otherwise drops to user tcpdump, which cannot write into
# our 0700 temp dir. -U writes each packet as it comes; --immediate-mode makes libpcap hand
# it over at once (its TPACKET_V3 ring otherwise holds packets up to a 1 s block timeout,
# and SIGINT then loses them).
t_capture_start() {
    local ns=$1 ifname=$2 file=$3; shift 3
    lab_tmpdir
    lab_bg "$ns" "$file.log" tcpdump -Z root -n -U --immediate-mode -s 0 -i "$ifname" -w "$file" "$@"
    T_CAPTURE_PID=$LAB_LAST_PID
    lab_wait_for 5 grep -q 'listening on' "$file.log" || t_fail "tcpdump did not start on $ns:$ifname"
}

t_capture_stop() {
    # A test often stops right after the event it checks: a moment to write the last frames.
    sleep 0.1
    kill -INT "$1" 2>/dev/null
    lab_wait_for 5 t_exited "$1" || kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    lab_forget_pid "$1"
    return 0
}

# Checksums: IPv4 header validation is off by default in tshark (ip.check_checksum); VRRP
# (pseudo-header per RFC 5798 unless vrrp.v3_checksum_as_in_v2) and ICMPv6 are always checked.
# A bad VRRP or ICMPv6 checksum is a Warning, a bad IPv4 one an Error, so ">= Warning" catches
# all three. arp.detect_duplicate_ips is off: a VIP changing MAC is what we test (split brain
# is asserted with arp_responders instead).
T_TSHARK_OPTS=(-o ip.check_checksum:TRUE -o arp.detect_duplicate_ips:FALSE)

tshark_check() {
    local pcap=$1 bad
    bad=$(tshark -n -r "$pcap" "${T_TSHARK_OPTS[@]}" \
        -Y '_ws.malformed || _ws.expert.severity >= "Warning"' \
        -T fields -e frame.number -e _ws.col.Protocol -e _ws.col.Info -e _ws.expert.message \
        2>/dev/null)
    if [ -n "$bad" ]; then
        printf 'tshark: %d bad frame(s) in %s:\n%s\n' "$(grep -c . <<<"$bad")" "$pcap" "$bad" >&2
        return 1
    fi
    return 0
}

tshark_count() {
    tshark -n -r "$1" "${T_TSHARK_OPTS[@]}" -Y "$2" -T fields -e frame.number 2>/dev/null | grep -c .
}
