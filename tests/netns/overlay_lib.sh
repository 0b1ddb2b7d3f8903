# shellcheck shell=bash disable=SC2034  # OV_F_* and OV_CAPTURE are for the tests
# tests/netns/overlay_lib.sh — probes of the overlay lab (lab/overlay.sh) as its VMs and its
# underlay see them. Source it after tests/netns/lib.sh:
#     . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/overlay_lib.sh"; ov_build 3
#
# What a VM observes
#   ov_ping VM TARGET_IP [COUNT]   ping from VM, bounded (-c COUNT -W 1 -i 0.2; COUNT 1);
#                                  0 if at least one reply
#   ov_ping_matrix FAMILY          4 or 6. Every ordered pair of VMs of the same segment pings
#                                  once (-c 1 -W 2), every cross-segment pair too (-c 1 -W 1:
#                                  each VM has an on-link route for the other segment, so only
#                                  a leak can answer). All in parallel (~2 s). Prints "ok N"
#                                  (N = same-segment pairs that got a reply) and returns 0, or
#                                  prints one line per problem and returns 1:
#                                    "fail SRC -> DST IP"   no reply inside a segment
#                                    "leak SRC -> DST IP"   a reply across segments
#   ov_pingloop_start VM TARGET [COUNT] [PERIOD_MS]
#                                  fping from VM every PERIOD_MS (20) for COUNT probes (500),
#                                  each timing out after 200 ms; in the background, bounded by
#                                  itself; its pid in OV_PINGLOOP_PID (call directly)
#   ov_pingloop_wait [PID]         wait until it has sent everything (bounded)
#   ov_pingloop_stop [PID]         stop it now (SIGINT: it prints its summary)
#   ov_pingloop_lost [PID]         number of probes that timed out. Stops the loop first if it
#                                  is still running (probes in flight then are not counted:
#                                  ov_pingloop_wait first to count to the end)
#   ov_pingloop_stats [PID]        "sent N received N lost N gap_ms N" (gap_ms: the longest
#                                  run of consecutive lost probes times the period)
# What the hypervisors hold
#   ov_fdb HV VNI                  remote entries of vx<VNI>: "MAC DST" lines, sorted (one line
#                                  per destination: a flood entry to 2 VTEPs is 2 lines)
#   ov_neigh HV VNI                neighbours of br<VNI> (IPv4 and IPv6, nud all, with a MAC):
#                                  "IP MAC" lines, sorted
#   ov_br_port HV VNI MAC          the br<VNI> port the hypervisor's bridge forwards MAC to
#                                  (vm1a, vx100...), empty if none
# What crosses the underlay
#   ov_capture_start [FILE]        tcpdump on u's ubr (in promiscuous mode, so frames bridged
#                                  between hypervisors are seen, each once), udp port 4789;
#                                  file in OV_CAPTURE (default $LAB_TMP/overlay-N.pcap), pid in
#                                  OV_CAPTURE_PID (call directly)
#   ov_capture_stop [PID]          flush and stop it
#   ov_count_inner CAPTURE FILTER  number of VXLAN packets whose decoded frame matches the
#                                  display FILTER (run as "vxlan && (FILTER)"). A frame flooded
#                                  to K remote VTEPs counts K times (one packet per copy).
#   Inner-frame filters. tshark decodes udp/4789 as VXLAN; the outer Ethernet is layer 1 of
#   eth, the inner one layer 2: the layer operator "#2" picks the inner field (tshark >= 4.0).
#   Plain "eth.dst == X" means "any eth.dst equals X", outer or inner. ARP, ICMPv6 and (with an
#   IPv4 underlay) IPv6 only ever occur inside.
OV_F_ARP_BCAST='arp.opcode == 1 && eth.dst#2 == ff:ff:ff:ff:ff:ff'   # broadcast ARP requests
OV_F_GARP='arp.isgratuitous'                                         # sender IP == target IP
OV_F_NS_MCAST='icmpv6.type == 135 && eth.dst#2[0:3] == 33:33:ff'     # NS to solicited-node
OV_F_UNSOL_NA='icmpv6.type == 136 && icmpv6.nd.na.flag.s == 0'       # unsolicited NA
OV_F_INNER_BUM='eth.dst.ig#2 == 1'                                   # inner broadcast/multicast
#   ov_f_src MAC / ov_f_vni VNI    'eth.src#2 == MAC' / 'vxlan.vni == VNI', to combine with &&

T_DIR=${T_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
T_ROOT=${T_ROOT:-$(cd "$T_DIR/../.." && pwd)}
# shellcheck source=lab/overlay.sh
. "$T_ROOT/lab/overlay.sh"

OV_PINGLOOP_PID=
declare -A OV_PL_LOG=() OV_PL_COUNT=() OV_PL_PERIOD=()
OV_CAPTURE=
OV_CAPTURE_PID=
OV_CAPTURE_N=0

ov_f_src() { printf 'eth.src#2 == %s\n' "$1"; }
ov_f_vni() { printf 'vxlan.vni == %s\n' "$1"; }

# --- pings ------------------------------------------------------------------------------------

ov_ping() {
    local vm=$1 target=$2 count=${3:-1}
    lab_exec "$vm" ping -q -n -c "$count" -W 1 -i 0.2 "$target" >/dev/null 2>&1
}

ov_family_ip() {   # FAMILY VM
    case $1 in
        4|inet|ipv4) ov_vm_ip4 "$2" ;;
        6|inet6|ipv6) ov_vm_ip6 "$2" ;;
        *) lab_die "ov_ping_matrix: family 4 or 6, not '$1'" ;;
    esac
}

# One line per ordered pair: "same|cross reply|none SRC DST IP". In a subshell, so that
# `wait -n` and `wait` only see these pings (not daemons the test started).
ov_matrix_run() {
    local fam=$1 src dst ip kind w
    local vms
    vms=$(ov_vms)
    for src in $vms; do
        for dst in $vms; do
            [ "$src" = "$dst" ] && continue
            ip=$(ov_family_ip "$fam" "$dst")
            if [ "$(ov_vm_vni "$src")" = "$(ov_vm_vni "$dst")" ]; then kind=same w=2; else kind=cross w=1; fi
            {
                if lab_exec "$src" ping -q -n -c 1 -W "$w" "$ip" >/dev/null 2>&1; then
                    echo "$kind reply $src $dst $ip"
                else
                    echo "$kind none $src $dst $ip"
                fi
            } &
            # At most 48 pings at once.
            [ "$(jobs -pr | wc -l)" -ge 48 ] && wait -n
        done
    done
    wait
}

ov_ping_matrix() {
    local fam=${1:?ov_ping_matrix FAMILY} out ok=0 bad=() kind res src dst ip _
    ov_family_ip "$fam" vm1a >/dev/null
    out=$(ov_matrix_run "$fam")
    while read -r kind res src dst ip; do
        case $kind:$res in
            same:reply) ok=$((ok + 1)) ;;
            same:none) bad+=("fail $src -> $dst $ip") ;;
            cross:reply) bad+=("leak $src -> $dst $ip") ;;
        esac
    done < <(sort -k3,3 -k4,4 <<<"$out")
    if [ ${#bad[@]} -eq 0 ]; then
        echo "ok $ok"
        return 0
    fi
    printf '%s\n' "${bad[@]}"
    return 1
}

# --- ping loops -------------------------------------------------------------------------------

# fping 5.x: one line per probe, "[seq], 64 bytes, ..." or "[seq], timed out"; SIGINT and the
# end of -c print "TARGET : xmt/rcv/%loss = S/R/L%" on stderr (both go to the log).
ov_pingloop_start() {
    local vm=$1 target=$2 count=${3:-500} period=${4:-20} log
    lab_tmpdir
    log=$LAB_TMP/pingloop-$vm-$RANDOM$RANDOM.log
    lab_bg "$vm" "$log" fping -p "$period" -c "$count" -t 200 "$target"
    OV_PINGLOOP_PID=$LAB_LAST_PID
    OV_PL_LOG[$OV_PINGLOOP_PID]=$log OV_PL_COUNT[$OV_PINGLOOP_PID]=$count OV_PL_PERIOD[$OV_PINGLOOP_PID]=$period
}

ov_pingloop_wait() {
    local pid=${1:-$OV_PINGLOOP_PID} s
    [ -n "${OV_PL_LOG[$pid]:-}" ] || lab_die "ov_pingloop_wait: no ping loop $pid"
    s=$(( OV_PL_COUNT[$pid] * OV_PL_PERIOD[$pid] / 1000 + 5 ))
    lab_wait_for "$s" "! lab_alive $pid" || { ov_pingloop_stop "$pid"; return 1; }
    wait "$pid" 2>/dev/null
    return 0
}

ov_pingloop_stop() {
    local pid=${1:-$OV_PINGLOOP_PID}
    if lab_alive "$pid"; then
        kill -INT "$pid" 2>/dev/null
        lab_wait_for 5 "! lab_alive $pid" || kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

ov_pingloop_stats() {
    local pid=${1:-$OV_PINGLOOP_PID} log
    log=${OV_PL_LOG[$pid]:-}
    [ -n "$log" ] || lab_die "ov_pingloop_stats: no ping loop $pid"
    lab_alive "$pid" && ov_pingloop_stop "$pid"
    awk -v period="${OV_PL_PERIOD[$pid]}" '
        # Timeouts are reported late (after later replies): gather by sequence number first.
        /\[[0-9]+\], / {
            s = $0; sub(/^[^[]*\[/, "", s); sub(/\].*/, "", s); s += 0
            if (s > max) max = s
            if ($0 ~ /timed out/) { st[s] = "L"; lost++ } else if (!(s in st)) { st[s] = "R"; recv++ }
            next
        }
        /xmt\/rcv/ { split($0, a, "= "); split(a[2], b, "/"); sent = b[1] + 0 }
        END {
            for (i = 0; i <= max; i++) {
                run = (st[i] == "L") ? run + 1 : 0
                if (run > maxrun) maxrun = run
            }
            printf "sent %d received %d lost %d gap_ms %d\n", sent, recv, lost, maxrun * period
        }
    ' "$log"
}

ov_pingloop_lost() { ov_pingloop_stats "$@" | awk '{ print $6 }'; }

# --- what the hypervisors hold --------------------------------------------------------------

ov_fdb() {
    local hv=$1 vni=$2
    lab_exec "$hv" bridge fdb show dev "vx$vni" 2>/dev/null |
        awk '{ for (i = 2; i < NF; i++) if ($i == "dst") { print $1, $(i + 1); break } }' | sort -u
}

ov_neigh() {
    local hv=$1 vni=$2
    lab_exec "$hv" ip neigh show nud all dev "br$vni" 2>/dev/null |
        awk '{ for (i = 2; i < NF; i++) if ($i == "lladdr") { print $1, $(i + 1); break } }' | sort -u
}

ov_br_port() {
    local hv=$1 vni=$2 mac=$3
    lab_exec "$hv" bridge fdb show br "br$vni" 2>/dev/null |
        awk -v m="$mac" '$1 == m && $2 == "dev" && $3 != "br'"$vni"'" && !/ permanent/ { print $3; exit }'
}

# --- captures on the underlay -----------------------------------------------------------------

ov_capture_start() {
    local file=${1:-}
    lab_tmpdir
    if [ -z "$file" ]; then
        OV_CAPTURE_N=$((OV_CAPTURE_N + 1))
        file=$LAB_TMP/overlay-$OV_CAPTURE_N.pcap
    fi
    OV_CAPTURE=$file
    lab_bg u "$file.log" tcpdump -Z root -n -U --immediate-mode -s 0 -i ubr -w "$file" udp port 4789
    OV_CAPTURE_PID=$LAB_LAST_PID
    lab_wait_for 5 grep -q 'listening on' "$file.log" || lab_die "tcpdump did not start on u:ubr"
}

ov_capture_stop() {
    local pid=${1:-$OV_CAPTURE_PID}
    sleep 0.1   # the last frames of the event just checked
    kill -INT "$pid" 2>/dev/null
    lab_wait_for 5 "! lab_alive $pid" || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

ov_count_inner() {
    local pcap=$1 filter=$2
    tshark -n -r "$pcap" -Y "vxlan && ($filter)" -T fields -e frame.number 2>/dev/null | grep -c .
}

# --- the control plane on the lab: fabricd in fm, one vtepd per hypervisor ------------------
#   ov_fabric_up                 fabricd, every VM as an API port (as an orchestrator would
#                                create them), vtepd on each hypervisor; waits until all agents
#                                are connected and every vx100 holds the other VMs. Then
#                                OV_CTL is the fabricctl command line for this fabricd.
#   ov_fabricd_start TAG [OPT..] (re)start fabricd (log fabricd-TAG.log) with these extra
#                                options (and those in the array OV_FABRICD_OPTS, which
#                                ov_fabric_up uses too; under OV_FABRICD_WRAP, a command
#                                prefix), listening on TCP with mutual TLS (the
#                                lab's PKI, ov_pki); pid in OV_FABRICD_PID
#   ov_vtepd_start HV TAG        (re)start HV's vtepd (log vtepd-HV-TAG.log, control socket
#                                $LAB_TMP/vtepd-HV.sock), over TLS with its own certificate;
#                                OV_VTEPD_PID[HV]
#   ov_agents_connected          every hypervisor's agent has a session with fabricd
declare -A OV_VTEPD_PID=()
OV_FABRICD_ADDR=198.18.0.2:7301

OV_FABRICD_OPTS=()
OV_FABRICD_WRAP=()   # a command fabricd runs under (prlimit --nofile=1024, say)
ov_fabricd_start() {
    local tag=$1; shift
    lab_tmpdir
    ov_pki
    OV_FABRICD_SOCK=$LAB_TMP/fabricd.sock
    OV_CTL=("$FABRICCTL" -s "$OV_FABRICD_SOCK")
    # shellcheck disable=SC2046  # ov_tls prints options
    lab_bg fm "$LAB_TMP/fabricd-$tag.log" "${OV_FABRICD_WRAP[@]}" "$T_BUILD/fabricd/fabricd" -f -l "$OV_FABRICD_ADDR" \
        $(ov_tls fabricd fm) -s "$OV_FABRICD_SOCK" -S "$LAB_TMP/fabricd.store" -i fm \
        "${OV_FABRICD_OPTS[@]}" "$@"
    OV_FABRICD_PID=$LAB_LAST_PID
    t_assert_wait 5 "fabricd did not start" test -S "$OV_FABRICD_SOCK"
}

ov_vtepd_start() {
    ov_pki
    # shellcheck disable=SC2046  # ov_tls prints options
    lab_bg "$1" "$LAB_TMP/vtepd-$1-$2.log" "$T_BUILD/vtepd/vtepd" -f -i "$1" -F "$OV_FABRICD_ADDR" \
        $(ov_tls vtepd "$1") -l "$(ov_hv_ip4 "$1")" -u eth0 -s 100:br100 -s 200:br200 --control-socket "$LAB_TMP/vtepd-$1.sock"
    OV_VTEPD_PID[$1]=$LAB_LAST_PID
}

ov_agents_connected() {
    [ "$("${OV_CTL[@]}" host --json | jq '[.[] | select(.connected)] | length')" = "$OV_NHV" ]
}

ov_fabric_up() {
    local vm hv
    [ -x "$T_BUILD/fabricd/fabricd" ] && [ -x "$T_BUILD/vtepd/vtepd" ] || t_skip "fabricd/vtepd not built"
    ov_fabricd_start 1
    for vm in $(ov_vms); do
        "${OV_CTL[@]}" port add --vni "$(ov_vm_vni "$vm")" --mac "$(ov_vm_mac "$vm")" \
            --host "$(ov_vm_host "$vm")" --ip "$(ov_vm_ip4 "$vm")" --ip "$(ov_vm_ip6 "$vm")" \
            --name "$vm" >/dev/null || t_fail "port add $vm"
    done
    for hv in $(ov_hvs); do ov_vtepd_start "$hv" 1; done
    t_assert_wait 10 "not all $OV_NHV agents connected" ov_agents_connected
    for hv in $(ov_hvs); do
        # every other VM of the segment is programmed: MAC -> its host's VTEP
        t_assert_wait 5 "$hv: FDB of vx100 incomplete" \
            '[ "$(ov_fdb '"$hv"' 100 | grep -vc "^00:00:00:00:00:00")" = '$((OV_NHV - 1))' ]'
    done
}
