#!/usr/bin/env bash
# test_units: the systemd units in etc/ (no namespace needed).
#  - systemd-analyze security --offline=true: each unit's overall exposure is 3.0 or below
#    (printed for each);
#  - what the daemons need is what the units grant: Type=notify with the main process
#    notifying; CapabilityBoundingSet= and AmbientCapabilities= both exactly the daemon's
#    list (vipd, vtepd: CAP_NET_ADMIN CAP_NET_RAW; switchd: those and CAP_BPF; fabricd:
#    none), and equal to the .caps
#    of its struct daemon_spec (what it keeps once set up); one User= for the three (they
#    share /run/l2fabric), RuntimeDirectoryPreserve=yes in each (stopping one must not take
#    the others' sockets); vipd's /proc/sys/net/ipv4/conf writable under
#    ProtectKernelTunables=yes, and no ProcSubset=pid there (it hides /proc/sys);
#  - systemd-analyze verify, silent, on copies whose ExecStart= names the built binaries.
# Skips (77) without systemd-analyze.
. "$(dirname "$0")/lib.sh"

t_require_cmd systemd-analyze
ETC=$T_ROOT/etc
UNITS=(vipd fabricd vtepd switchd)
lab_tmpdir

# unit_values FILE KEY: every value KEY= is given in FILE, one a line (later ones last).
unit_values() { sed -n "s/^$2=//p" "$1"; }
# unit_value FILE KEY: the value in force for a single-valued KEY (the last one).
unit_value() { unit_values "$1" "$2" | tail -n 1; }
# sorted words, for comparing capability lists
words() { tr ' ' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//'; }

declare -A want_caps=([vipd]="CAP_NET_ADMIN CAP_NET_RAW" [vtepd]="CAP_NET_ADMIN CAP_NET_RAW"
                      [fabricd]="" [switchd]="CAP_BPF CAP_NET_ADMIN CAP_NET_RAW")
scores=()
user=

for u in "${UNITS[@]}"; do
    f=$ETC/$u.service
    [ -f "$f" ] || t_fail "etc/$u.service is missing"

    # --- exposure -----------------------------------------------------------------------
    systemd-analyze security --offline=true --no-pager "$f" >"$LAB_TMP/$u-security.log" 2>&1
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p' \
        "$LAB_TMP/$u-security.log")
    [ -n "$score" ] || t_fail "$u.service: no overall exposure in systemd-analyze security's output"
    t_log "$u.service: exposure $score"
    if ! awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
        grep '✗' "$LAB_TMP/$u-security.log"
        t_fail "$u.service: exposure $score is above 3.0 (what counts against it: above)"
    fi
    # The threshold the command enforces itself (0-100 scale) agrees with the parse.
    systemd-analyze security --offline=true --threshold=30 "$f" >/dev/null 2>&1 ||
        t_fail "$u.service: systemd-analyze security --threshold=30 fails (exposure $score)"
    scores+=("$u $score")

    # --- what the daemon needs ----------------------------------------------------------
    t_assert_eq "$(unit_value "$f" Type)" notify "$u.service Type="
    t_assert_eq "$(unit_value "$f" NotifyAccess)" main "$u.service NotifyAccess="
    unit_value "$f" WatchdogSec | grep -qE '^[1-9][0-9]*s?$' ||
        t_fail "$u.service: WatchdogSec= is not a number of seconds"
    unit_value "$f" ExecStart | grep -qE -- "^/[^ ]*/$u( .*)? -c /etc/l2fabric/$u\.yaml( |\$)" ||
        t_fail "$u.service: ExecStart= does not run $u -c /etc/l2fabric/$u.yaml"
    t_assert_eq "$(unit_value "$f" ExecReload)" '/bin/kill -HUP $MAINPID' "$u.service ExecReload="
    t_assert_eq "$(unit_values "$f" CapabilityBoundingSet | words)" "${want_caps[$u]}" \
        "$u.service CapabilityBoundingSet="
    t_assert_eq "$(unit_values "$f" AmbientCapabilities | words)" "${want_caps[$u]}" \
        "$u.service AmbientCapabilities="
    # The daemon's own list: the .caps of its struct daemon_spec (lib/daemon keeps those
    # and drops the rest), in whichever of its sources defines it.
    spec_c=$(grep -l 'struct daemon_spec [a-z]*_spec = ' "$T_ROOT/$u"/*.c | head -n 1)
    [ -n "$spec_c" ] || t_fail "$u: no struct daemon_spec in $u/*.c to compare $u.service with"
    code_caps=$(sed -n 's/.*\.caps *= *{\(.*\)}.*/\1/p' "$spec_c" | tr -d ',' | sed 's/-1//' | words)
    t_assert_eq "$code_caps" "${want_caps[$u]}" "${spec_c#"$T_ROOT"/} .caps against $u.service"
    t_assert_eq "$(unit_value "$f" NoNewPrivileges)" yes "$u.service NoNewPrivileges="
    t_assert_eq "$(unit_value "$f" ProtectSystem)" strict "$u.service ProtectSystem="
    t_assert_eq "$(unit_value "$f" RuntimeDirectory)" l2fabric "$u.service RuntimeDirectory="
    t_assert_eq "$(unit_value "$f" RuntimeDirectoryPreserve)" yes "$u.service RuntimeDirectoryPreserve="
    u_user=$(unit_value "$f" User)
    [ -n "$u_user" ] || t_fail "$u.service: no User= (the daemons share /run/l2fabric as one user)"
    [ -z "$user" ] || t_assert_eq "$u_user" "$user" "$u.service User= (the same for every unit)"
    user=$u_user
done

# vipd writes arp_ignore / arp_announce of a virtual MAC's parent.
f=$ETC/vipd.service
if [ "$(unit_value "$f" ProtectKernelTunables)" = yes ]; then
    unit_values "$f" ReadWritePaths | tr ' ' '\n' | grep -qx -- '-\{0,1\}/proc/sys/net/ipv4/conf' ||
        t_fail "vipd.service: ProtectKernelTunables=yes without ReadWritePaths=/proc/sys/net/ipv4/conf"
fi
[ "$(unit_value "$f" ProcSubset)" != pid ] || t_fail "vipd.service: ProcSubset=pid hides /proc/sys"
t_assert_eq "$(unit_value "$ETC/fabricd.service" StateDirectory)" l2fabric "fabricd.service StateDirectory="

# --- systemd-analyze verify, on copies that run the built binaries -------------------------
if [ -n "${L2F_BUILD_FAILED:-}" ]; then
    t_log "verify: skipped, the build failed"
else
    mkdir -p "$LAB_TMP/verify"
    copies=()
    for u in "${UNITS[@]}"; do
        [ -x "$T_BUILD/$u/$u" ] || t_fail "verify: $T_BUILD/$u/$u is not built"
        sed "s|^ExecStart=[^ ]*/$u |ExecStart=$T_BUILD/$u/$u |" "$ETC/$u.service" \
            >"$LAB_TMP/verify/$u.service"
        grep -q "^ExecStart=$T_BUILD/$u/$u " "$LAB_TMP/verify/$u.service" ||
            t_fail "verify: could not point $u.service's ExecStart= at the build"
        copies+=("$LAB_TMP/verify/$u.service")
    done
    # --man=no: the pages are checked installed, by test_install.
    systemd-analyze verify --man=no "${copies[@]}" >"$LAB_TMP/verify.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ] || [ -s "$LAB_TMP/verify.log" ]; then
        cat "$LAB_TMP/verify.log"
        t_fail "systemd-analyze verify: exit $rc or warnings (above)"
    fi
    t_log "systemd-analyze verify: silent on the three units"
fi

t_pass "exposure: ${scores[*]}"
