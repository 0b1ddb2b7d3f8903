# lab/lib.sh — helpers for building labs in network namespaces (sourced, bash).
#
# Everything a lab creates lives in namespaces named "$LAB_PREFIX<name>"; the prefix is unique
# per run (l2f-<pid>-, or whatever the caller exported), so concurrent runs never collide and
# cleanup only ever removes what this run made. Nothing is created in the root namespace: veth
# pairs are born straight inside their namespaces.
#
#   lab_ns NAME                 print the full namespace name for NAME
#   lab_ns_add NAME             create it: lo up, IPv6 DAD off, recorded for cleanup
#   lab_exec NAME CMD...        run CMD inside NAME
#   lab_veth NS1 IF1 NS2 IF2    veth pair IF1 (in NS1) <-> IF2 (in NS2), both left down
#   lab_bridge NS BR            a Linux bridge (STP and multicast snooping off), up
#   lab_bridge_port NS BR IF    enslave IF to BR and bring it up
#   lab_bg NS LOG CMD...        start CMD in NS in the background; pid in LAB_LAST_PID
#   lab_wait_for TIMEOUT_S CMD  poll CMD every 20 ms until it succeeds or the deadline passes;
#                               CMD is one command with its words, or a single string that is
#                               eval'd each time: lab_wait_for 5 '[ "$(f)" = x ]'
#   lab_tmpdir                  create (once) a temp dir removed on cleanup; path in LAB_TMP
#   lab_cleanup                 kill what we started, delete our namespaces and temp dirs
#   lab_standalone_end RC HOLD  end of a lab script run by hand: list our namespaces, keep
#                               them HOLD seconds (0: not at all), exit RC (cleanup on EXIT)
#
# Sourcing this file registers lab_cleanup on EXIT, INT and TERM.

[ -n "${LAB_LIB_SOURCED:-}" ] && return 0
LAB_LIB_SOURCED=1

LAB_PREFIX=${LAB_PREFIX:-l2f-$$-}
LAB_NAMESPACES=()
LAB_PIDS=()
declare -gA LAB_PID_START=()   # pid -> its start time (/proc/PID/stat): still the one we started?
LAB_TMPDIRS=()
LAB_TMP=
LAB_LAST_PID=

lab_log() { printf '[lab] %s\n' "$*" >&2; }
lab_die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

lab_require_root() {
    [ "$(id -u)" -eq 0 ] || lab_die "must run as root (network namespaces)"
}

lab_ns() { printf '%s%s\n' "$LAB_PREFIX" "$1"; }

lab_exec() {
    local ns=$1; shift
    ip netns exec "$LAB_PREFIX$ns" "$@"
}

lab_ns_add() {
    local full=$LAB_PREFIX$1
    ip netns add "$full" || lab_die "cannot create namespace $full"
    LAB_NAMESPACES+=("$full")
    ip -n "$full" link set lo up
    # Addresses usable at once: no duplicate address detection delay on new interfaces.
    ip netns exec "$full" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
        net.ipv6.conf.default.accept_dad=0 >/dev/null
}

lab_veth() {
    local ns1=$LAB_PREFIX$1 if1=$2 ns2=$LAB_PREFIX$3 if2=$4
    ip link add name "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" ||
        lab_die "cannot create veth $1:$if1 <-> $3:$if2"
}

lab_bridge() {
    local ns=$LAB_PREFIX$1 br=$2
    ip -n "$ns" link add name "$br" type bridge stp_state 0 forward_delay 0 mcast_snooping 0 ||
        lab_die "cannot create bridge $br in $1"
    ip -n "$ns" link set "$br" up
}

lab_bridge_port() {
    local ns=$LAB_PREFIX$1 br=$2 ifname=$3
    ip -n "$ns" link set "$ifname" master "$br" || lab_die "cannot enslave $ifname to $br"
    ip -n "$ns" link set "$ifname" up
}

# lab_bg NS LOGFILE CMD... — `ip netns exec` execs CMD, so the recorded pid is CMD's own.
# Call it directly (not in $(...)), then read LAB_LAST_PID.
lab_bg() {
    local ns=$LAB_PREFIX$1 log=$2; shift 2
    ip netns exec "$ns" "$@" </dev/null >"$log" 2>&1 &
    LAB_LAST_PID=$!
    lab_track_pid "$LAB_LAST_PID"
}

# PID's start time in clock ticks since boot (field 22 of /proc/PID/stat), or nothing.
_lab_starttime() {
    local st f
    read -r st 2>/dev/null </proc/"$1"/stat || return 1
    read -ra f <<<"${st##*) }"   # the fields after "(comm)", which may hold spaces
    printf '%s\n' "${f[19]}"
}

# Record a pid started some other way (e.g. a daemon's child read from its pid file). With its
# start time: lab_kill_pids signals it only while that pid is still the same process.
lab_track_pid() {
    LAB_PIDS+=("$1")
    LAB_PID_START[$1]=$(_lab_starttime "$1")
}

# Whether PID is no longer the process we recorded (it ended, and the number may be another's).
_lab_not_ours() {
    local want=${LAB_PID_START[$1]:-}
    [ -n "$want" ] && [ "$(_lab_starttime "$1")" != "$want" ]
}

lab_now_ms() {
    local t=${EPOCHREALTIME/./}
    printf '%s\n' $((t / 1000))
}

lab_wait_for() {
    local timeout=$1; shift
    local deadline=$(( $(lab_now_ms) + ${timeout%.*} * 1000 ))
    case $timeout in *.*) local frac=${timeout#*.}000; deadline=$((deadline + 10#${frac:0:3})) ;; esac
    while :; do
        if [ $# -eq 1 ]; then eval "$1"; else "$@"; fi >/dev/null 2>&1 && return 0
        [ "$(lab_now_ms)" -ge "$deadline" ] && return 1
        sleep 0.02
    done
}

# Call directly (not in $(...)): the path is kept in LAB_TMP for cleanup.
lab_tmpdir() {
    if [ -z "$LAB_TMP" ]; then
        LAB_TMP=$(mktemp -d "/tmp/${LAB_PREFIX}XXXXXX") || lab_die "mktemp failed"
        LAB_TMPDIRS+=("$LAB_TMP")
    fi
}

lab_alive() { kill -0 "$1" 2>/dev/null; }

# PID... ended and waited for: no longer ours to end. Its number may be given to another
# process from now on, so the cleanup must not signal it (every stop path calls this).
lab_forget_pid() {
    local p q keep=()
    for p in "${LAB_PIDS[@]}"; do
        for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
        keep+=("$p")
    done
    LAB_PIDS=("${keep[@]}")
    for q in "$@"; do unset 'LAB_PID_START[$q]'; done
}

# Terminate pids politely, then forcibly after ~2 s. Only pids given by the caller.
lab_kill_pids() {
    local pid left i mine=() all=("$@")
    for pid in "$@"; do _lab_not_ours "$pid" || mine+=("$pid"); done
    [ ${#mine[@]} -gt 0 ] || { lab_forget_pid "${all[@]}"; return 0; }
    set -- "${mine[@]}"
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null; done
    for ((i = 0; i < 100; i++)); do
        left=0
        for pid in "$@"; do lab_alive "$pid" && left=1; done
        [ $left -eq 0 ] && break
        sleep 0.02
    done
    for pid in "$@"; do lab_alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
    for pid in "$@"; do wait "$pid" 2>/dev/null; done
    lab_forget_pid "${all[@]}"
    return 0
}

lab_cleanup() {
    local rc=$? ns pids=() d
    set +e  # a cleanup must run to the end, whatever the caller's errexit
    trap - EXIT INT TERM
    lab_kill_pids "${LAB_PIDS[@]}"
    LAB_PIDS=()
    # Anything still running inside our namespaces was started by us (children of daemons).
    for ns in "${LAB_NAMESPACES[@]}"; do
        case $ns in "$LAB_PREFIX"*) ;; *) continue ;; esac
        ip netns list 2>/dev/null | grep -q "^$ns\( \|$\)" || continue
        mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
    done
    lab_kill_pids "${pids[@]}"
    for ns in "${LAB_NAMESPACES[@]}"; do
        case $ns in "$LAB_PREFIX"*) ip netns delete "$ns" 2>/dev/null ;; esac
    done
    LAB_NAMESPACES=()
    for d in "${LAB_TMPDIRS[@]}"; do
        case $d in /tmp/"$LAB_PREFIX"*) rm -rf -- "$d" ;; esac
    done
    LAB_TMPDIRS=() LAB_TMP=
    return $rc
}

trap lab_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lab_standalone_end() {
    local rc=$1 hold=$2
    echo "namespaces: $(ip netns list | awk -v p="$LAB_PREFIX" 'index($1, p) == 1 {printf "%s ", $1}')"
    if [ "$hold" -gt 0 ]; then
        echo "holding for ${hold}s (Ctrl-C to remove now)"
        sleep "$hold" & lab_track_pid $!; wait $!
    fi
    exit "$rc"
}
