#!/usr/bin/env bash
# test_install: `meson install` of build/ into a scratch DESTDIR (no namespace needed).
#  - the four programs in sbindir, executable; the units in a directory systemd reads units
#    from, the sysusers.d file in one systemd-sysusers reads, naming the installed programs
#    and the installed configurations; the seven man pages in mandir/man5 and man8; the
#    example configurations in sysconfdir/l2fabric, as in etc/;
#  - systemd-analyze verify is silent on the installed units (their ExecStart= pointed into
#    DESTDIR), man pages included (MANPATH: the installed ones);
#  - installing again keeps a configuration someone edited;
#  - a build configured with --prefix=/usr puts programs in /usr/sbin, units under /usr/lib,
#    and has its units read /etc/l2fabric (meson's sysconfdir for /usr).
# DESTDIR and the second build directory are removed at exit.
. "$(dirname "$0")/lib.sh"

t_require_cmd meson jq mandoc
[ -z "${L2F_BUILD_FAILED:-}" ] || t_skip "the build failed"
[ -f "$T_BUILD/build.ninja" ] || t_skip "$T_BUILD is not configured (scripts/build.sh)"
lab_tmpdir
D=$LAB_TMP/destdir

opt() { meson introspect "$1" --buildoptions | jq -r --arg n "$2" '.[] | select(.name == $n) | .value'; }
abs() { case $2 in /*) echo "$2" ;; *) echo "$1/$2" ;; esac; }   # abs PREFIX DIR
prefix=$(opt "$T_BUILD" prefix)
sbindir=$(abs "$prefix" "$(opt "$T_BUILD" sbindir)")
mandir=$(abs "$prefix" "$(opt "$T_BUILD" mandir)")
confdir=$(abs "$prefix" "$(opt "$T_BUILD" sysconfdir)")/l2fabric
t_log "prefix $prefix: sbindir $sbindir, mandir $mandir, configurations $confdir"

DESTDIR=$D meson install -C "$T_BUILD" --no-rebuild >"$LAB_TMP/install.log" 2>&1 ||
    t_fail "meson install failed"

# --- programs ---------------------------------------------------------------------------------
for p in vipd fabricd vtepd switchd fabricctl; do
    [ -x "$D$sbindir/$p" ] || t_fail "$sbindir/$p not installed (or not executable)"
done

# --- units and the user -----------------------------------------------------------------------
# Where systemd looks, from systemd itself (it reads no unit here: unit-paths lists them).
mapfile -t unit_paths < <(systemd-analyze unit-paths 2>/dev/null)
[ ${#unit_paths[@]} -gt 0 ] || unit_paths=(/etc/systemd/system /usr/local/lib/systemd/system
                                          /usr/lib/systemd/system /lib/systemd/system)
unitdir=
for u in vipd fabricd vtepd switchd; do
    found=$(find "$D" -name "$u.service" -path '*/systemd/system/*' -printf '%h\n')
    [ "$(printf '%s' "$found" | grep -c .)" -eq 1 ] ||
        t_fail "$u.service: installed $(printf '%s' "$found" | grep -c .) times, want once"
    dir=${found#"$D"}
    printf '%s\n' "${unit_paths[@]}" | grep -qx -- "$dir" ||
        t_fail "$u.service installed in $dir, where systemd does not read units"
    [ -z "$unitdir" ] || t_assert_eq "$dir" "$unitdir" "$u.service's directory"
    unitdir=$dir
    f=$D$unitdir/$u.service
    grep -qx -- "ExecStart=$sbindir/$u -f -c $confdir/$u.yaml" "$f" ||
        t_fail "$unitdir/$u.service: ExecStart= is not '$sbindir/$u -f -c $confdir/$u.yaml': $(grep ^ExecStart= "$f")"
    # Everything else as in etc/: only the two paths change.
    diff <(sed -e "s|$sbindir|/usr/local/sbin|g" -e "s|$confdir|/etc/l2fabric|g" "$f") \
        "$T_ROOT/etc/$u.service" >"$LAB_TMP/unit-diff.log" ||
        t_fail "$unitdir/$u.service differs from etc/$u.service beyond its paths"
done
t_log "units in $unitdir"
sysusers=$(find "$D" -path '*/sysusers.d/l2fabric.conf')
case ${sysusers#"$D"} in
    /etc/sysusers.d/*|/usr/local/lib/sysusers.d/*|/usr/lib/sysusers.d/*) ;;
    *) t_fail "sysusers.d/l2fabric.conf installed as '${sysusers#"$D"}', where systemd-sysusers does not read" ;;
esac
grep -qE '^u l2fabric ' "$sysusers" || t_fail "${sysusers#"$D"} does not create the user l2fabric"
if command -v systemd-sysusers >/dev/null; then
    # What systemd-sysusers makes of it, in a scratch root: the user and its group.
    mkdir -p "$LAB_TMP/sysroot/etc"
    systemd-sysusers --root="$LAB_TMP/sysroot" "$sysusers" >"$LAB_TMP/sysusers.log" 2>&1 ||
        t_fail "systemd-sysusers refuses ${sysusers#"$D"}"
    grep -q '^l2fabric:' "$LAB_TMP/sysroot/etc/passwd" && grep -q '^l2fabric:' "$LAB_TMP/sysroot/etc/group" ||
        t_fail "systemd-sysusers made no user and group l2fabric from ${sysusers#"$D"}"
fi
grep -qx 'User=l2fabric' "$D$unitdir/vipd.service" || t_fail "the units do not run as the sysusers.d user"

# --- man pages ----------------------------------------------------------------------------------
for page in man8/vipd.8 man8/fabricd.8 man8/vtepd.8 man8/switchd.8 man8/fabricctl.8 \
            man5/vipd.yaml.5 man5/fabricd.yaml.5 man5/vtepd.yaml.5 man5/switchd.yaml.5; do
    f=$D$mandir/$page
    [ -s "$f" ] || t_fail "$mandir/$page not installed"
    name=${page#*/}
    grep -q "^\.TH \"${name%.*}\" \"${name##*.}\"" "$f" || t_fail "$mandir/$page: no .TH for ${name%.*}(${name##*.})"
done
mandoc -T utf8 "$D$mandir/man8/vipd.8" | col -b | grep -qF "$confdir/vipd.yaml" ||
    t_fail "vipd.8 does not name the configuration where it is installed ($confdir/vipd.yaml)"

# --- configurations -------------------------------------------------------------------------------
for c in vipd fabricd vtepd switchd; do
    cmp -s "$D$confdir/$c.yaml" "$T_ROOT/etc/$c.yaml" || t_fail "$confdir/$c.yaml is not etc/$c.yaml"
done

# --- systemd-analyze verify on the installed units -------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$LAB_TMP/verify"
    for u in vipd fabricd vtepd switchd; do
        sed "s|^ExecStart=$sbindir/|ExecStart=$D$sbindir/|" "$D$unitdir/$u.service" \
            >"$LAB_TMP/verify/$u.service"
    done
    MANPATH=$D$mandir systemd-analyze verify "$LAB_TMP"/verify/*.service >"$LAB_TMP/verify.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ] || [ -s "$LAB_TMP/verify.log" ]; then
        cat "$LAB_TMP/verify.log"
        t_fail "systemd-analyze verify of the installed units: exit $rc or warnings (above)"
    fi
    t_log "systemd-analyze verify: silent, Documentation= pages found"
else
    t_log "systemd-analyze not installed: the installed units not verified"
fi

# --- a second install keeps an edited configuration --------------------------------------------
echo "# edited" >>"$D$confdir/vipd.yaml"
DESTDIR=$D meson install -C "$T_BUILD" --no-rebuild >"$LAB_TMP/reinstall.log" 2>&1 ||
    t_fail "meson install (again) failed"
[ "$(tail -n 1 "$D$confdir/vipd.yaml")" = "# edited" ] ||
    t_fail "installing again overwrote $confdir/vipd.yaml"
cmp -s "$D$confdir/fabricd.yaml" "$T_ROOT/etc/fabricd.yaml" || t_fail "$confdir/fabricd.yaml changed"

# --- prefix /usr: configured only, and its units generated (no compiler needed) -------------------
B2=$LAB_TMP/build-usr
meson setup "$B2" "$T_ROOT" --prefix=/usr >"$LAB_TMP/setup-usr.log" 2>&1 ||
    t_fail "meson setup --prefix=/usr failed"
meson introspect "$B2" --installed >"$LAB_TMP/installed-usr.json" || t_fail "meson introspect failed"
want() { jq -e --arg to "$1" 'to_entries | any(.value == $to)' "$LAB_TMP/installed-usr.json" >/dev/null ||
         t_fail "--prefix=/usr: nothing would be installed as $1"; }
want /usr/sbin/vipd
want /usr/sbin/fabricctl
want /usr/share/man/man8/vtepd.8
usr_unit=$(jq -r 'to_entries[] | select(.value | endswith("/vtepd.service")) | .value' \
    "$LAB_TMP/installed-usr.json")
case $usr_unit in
    /usr/lib/systemd/system/vtepd.service|/lib/systemd/system/vtepd.service) ;;
    *) t_fail "--prefix=/usr: vtepd.service would go to '$usr_unit'" ;;
esac
ninja -C "$B2" etc/vtepd.service >"$LAB_TMP/ninja-usr.log" 2>&1 || t_fail "generating the /usr unit failed"
grep -qx 'ExecStart=/usr/sbin/vtepd -f -c /etc/l2fabric/vtepd.yaml' "$B2/etc/vtepd.service" ||
    t_fail "--prefix=/usr: vtepd.service runs '$(grep ^ExecStart= "$B2/etc/vtepd.service")'"

t_pass "programs in $sbindir, units in $unitdir, pages in $mandir, configurations in $confdir"
