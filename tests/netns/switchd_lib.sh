# shellcheck shell=bash
# switchd_lib.sh — what the switchd tests share, sourced after lib.sh: a k-ary fat tree
# (lab/fattree.sh) with its certificates, a private bpffs for the switches' pins (unmounted
# on every exit path, before the tree goes), and fabricd in fm over mutual TLS. The bring-up
# is lab/fattree.sh's (ft_fabric and the rest); these are the tests' names for it.
#   sw_lab K                 build all of that (skips when switchd is not built); BPFFS is the
#                            pins' bpffs, SOCK fabricd's Unix socket
#   sw_start SW [ARG...]     switchd in SW: its certificate, fabricd's address, the pins
#                            under $BPFFS, control socket $LAB_TMP/switchd-SW.sock
#   sw_start_all [ARG...]    every switch, in a random order (logged)
#   ctl ARG...               fabricctl on fabricd's Unix socket ($SOCK)
#   sw_ctl SW ARG...         fabricctl on SW's control socket
# shellcheck source=lab/fattree.sh
. "$T_ROOT/lab/fattree.sh"
SWITCHD=$T_BUILD/switchd/switchd
FABRICD=$T_BUILD/fabricd/fabricd

sw_lab() {
    [ -x "$SWITCHD" ] || t_skip "switchd not built (clang, bpftool, libbpf-dev: scripts/deps.sh)"
    lab_tmpdir
    ft_build "$1" || t_fail "ft_build $1"
    ft_pki >/dev/null || t_fail "ft_pki"
    ft_bpffs || t_skip "cannot mount a bpffs"
    # shellcheck disable=SC2034  # the tests' name for it
    BPFFS=$FT_BPFFS
    ft_start_fabricd || t_fail "fabricd did not start (waited 5s for: test -S $FT_FM_SOCK)"
    SOCK=$FT_FM_SOCK
}

sw_start() { ft_fabric_switchd "$@"; }

sw_start_all() {
    ft_fabric_switchds "$@"
    t_log "start order: ${FT_START_ORDER[*]}"
}

ctl() { "$FABRICCTL" -s "$SOCK" "$@"; }
sw_ctl() { local sw=$1; shift; "$FABRICCTL" -s "$LAB_TMP/switchd-$sw.sock" "$@"; }
