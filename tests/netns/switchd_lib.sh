# shellcheck shell=bash
# switchd_lib.sh — what the switchd tests share, sourced after lib.sh: a k-ary fat tree
# (lab/fattree.sh) with its certificates, a private bpffs for the switches' pins (unmounted
# on every exit path, before the tree goes), and fabricd in fm over mutual TLS.
#   sw_lab K                 build all of that (skips when switchd is not built)
#   sw_start SW [ARG...]     switchd in SW: its certificate, fabricd's address, the pins
#                            under $BPFFS, control socket $LAB_TMP/switchd-SW.sock
#   sw_start_all             every switch, in a random order (logged)
#   ctl ARG...               fabricctl on fabricd's Unix socket ($SOCK)
#   sw_ctl SW ARG...         fabricctl on SW's control socket
# shellcheck source=lab/fattree.sh
. "$T_ROOT/lab/fattree.sh"
SWITCHD=$T_BUILD/switchd/switchd

sw_cleanup() {
    local rc=$?
    umount -l "$BPFFS" 2>/dev/null
    (exit "$rc")
    ft_cleanup
}

sw_lab() {
    [ -x "$SWITCHD" ] || t_skip "switchd not built (clang, bpftool, libbpf-dev: scripts/deps.sh)"
    lab_tmpdir
    ft_build "$1" || t_fail "ft_build $1"
    ft_pki >/dev/null || t_fail "ft_pki"
    BPFFS=$LAB_TMP/bpffs
    mkdir "$BPFFS" && mount -t bpf bpf "$BPFFS" || t_skip "cannot mount a bpffs"
    trap sw_cleanup EXIT
    SOCK=$LAB_TMP/fabricd.sock
    # shellcheck disable=SC2046  # ft_tls prints options
    ft_start fm fabricd "$T_BUILD/fabricd/fabricd" -f -l "$FT_CTL_NET.1:$FT_FM_PORT" \
        $(ft_tls fabricd fm) -s "$SOCK" -S none
    t_assert_wait 5 "fabricd did not start" test -S "$SOCK"
}

sw_start() {
    local sw=$1
    shift
    # shellcheck disable=SC2046  # ft_tls prints options
    ft_start_switchd "$sw" -f -F "$FT_CTL_NET.1:$FT_FM_PORT" $(ft_tls switchd "$sw") \
        --bpf-dir "$BPFFS" --control-socket "$LAB_TMP/switchd-$sw.sock" "$@"
}

sw_start_all() {
    local sw order
    order=$(ft_switches | shuf)
    t_log "start order: $(echo $order)"
    for sw in $order; do sw_start "$sw" "$@"; done
}

ctl() { "$FABRICCTL" -s "$SOCK" "$@"; }
sw_ctl() { local sw=$1; shift; "$FABRICCTL" -s "$LAB_TMP/switchd-$sw.sock" "$@"; }
