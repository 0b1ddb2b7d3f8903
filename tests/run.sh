#!/usr/bin/env bash
# tests/run.sh [--no-deps] [--only REGEX] — the one test command (`make test`, `.ci/run`).
#
# Installs what is missing (scripts/deps.sh), builds (scripts/build.sh), then runs:
#   unit/NAME    every test of `meson test --suite unit`, each counted
#   fuzz/TARGET  every libFuzzer target in build-fuzz/tests/fuzz (fuzz_*), L2F_FUZZ_SECONDS
#                (20) each, run by tests/fuzz/run.sh BUILD_DIR SECONDS (one result line each)
#   netns/NAME   every tests/netns/test_*.sh, alone, under a timeout; exit 0 pass, 77 skip
#                (its "SKIP: ..." line is the reason), anything else fail; each gets its own
#                namespace prefix, and namespaces it leaves behind are removed and fail it
# --only REGEX keeps the tests whose name (as above) matches. A failed install or build counts
# as one failed test; the tests that need it are skipped with that reason.
# Ends with exactly one line "N passed, N failed[, N skipped]"; exits 1 if anything failed.
# The whole run keeps within L2F_CI_BUDGET seconds (default 1680, CI allows 30 min): netns
# tests that would start after it is spent are skipped with that reason.
set -u
cd "$(dirname "$0")/.." || exit 1

deps=1 only=
while [ $# -gt 0 ]; do
    case $1 in
        --no-deps) deps=0; shift ;;
        --only) only=${2:?--only REGEX}; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--no-deps] [--only REGEX]" >&2; exit 2 ;;
    esac
done

NETNS_TIMEOUT=${L2F_NETNS_TIMEOUT:-300}
FUZZ_SECONDS=${L2F_FUZZ_SECONDS:-20}
BUDGET=${L2F_CI_BUDGET:-1680}
LOGDIR=$(mktemp -d /tmp/l2f-tests-XXXXXX) || exit 1
export LC_ALL=C

npass=0 nfail=0 nskip=0
SUMMARY=()

record() {   # record NAME pass|fail|skip [NOTE]
    local name=$1 st=$2 note=${3:-}
    case $st in pass) npass=$((npass + 1)) ;; fail) nfail=$((nfail + 1)) ;; skip) nskip=$((nskip + 1)) ;; esac
    SUMMARY+=("$(printf '%-4s  %s%s' "${st^^}" "$name" "${note:+  ($note)}")")
    printf '%-4s  %s%s\n' "${st^^}" "$name" "${note:+  ($note)}"
}

selected() { [ -z "$only" ] || [[ $1 =~ $only ]]; }

show_tail() {   # show_tail LOG LINES
    printf -- '----- %s (last %d lines) -----\n' "$1" "$2"
    tail -n "$2" "$1"
    printf -- '-----\n'
}

section() { printf '\n== %s\n' "$*"; }

# --- install and build ------------------------------------------------------------------------
build_ok=1 why_not=
if [ $deps -eq 1 ]; then
    section "dependencies (scripts/deps.sh)"
    if ! timeout 1200 bash scripts/deps.sh </dev/null >"$LOGDIR/deps.log" 2>&1; then
        show_tail "$LOGDIR/deps.log" 30
        record setup/deps fail "scripts/deps.sh failed"
    else
        tail -n 1 "$LOGDIR/deps.log"
    fi
fi

section "build (scripts/build.sh)"
if timeout 1200 bash scripts/build.sh </dev/null >"$LOGDIR/build.log" 2>&1; then
    echo "build/ ok"
else
    show_tail "$LOGDIR/build.log" 40
    record setup/build fail "scripts/build.sh failed"
    build_ok=0 why_not="the build failed"
    export L2F_BUILD_FAILED=1
fi

# --- unit tests ---------------------------------------------------------------------------------
section "unit tests (meson test --suite unit)"
if [ $build_ok -eq 0 ]; then
    selected unit/ && record unit skip "$why_not"
else
    testlog=build/meson-logs/testlog.json
    rm -f "$testlog"
    timeout 900 meson test -C build --suite unit --no-rebuild --print-errorlogs </dev/null \
        >"$LOGDIR/unit.log" 2>&1
    unit_rc=$?
    if [ ! -s "$testlog" ]; then
        if grep -q 'No suitable tests defined' "$LOGDIR/unit.log"; then
            echo "no unit tests defined yet"
        else
            show_tail "$LOGDIR/unit.log" 40
            record unit fail "meson test exited $unit_rc without results"
        fi
    else
        n_unit=0
        while IFS=$'\t' read -r name result; do
            selected "unit/$name" || continue
            n_unit=$((n_unit + 1))
            case $result in
                OK|EXPECTEDFAIL) record "unit/$name" pass ;;
                SKIP) record "unit/$name" skip "skipped by the test" ;;
                *) record "unit/$name" fail "$result"; unit_failed=1 ;;
            esac
        done < <(jq -r '[.name, .result] | @tsv' "$testlog")
        [ -n "${unit_failed:-}" ] && show_tail "$LOGDIR/unit.log" 60
        [ $n_unit -gt 0 ] || echo "no unit test matches '$only'"
    fi
fi

# --- fuzz targets -------------------------------------------------------------------------------
section "fuzz targets (${FUZZ_SECONDS}s each)"
fuzz_wanted() {   # is any fuzz target (by its source file) selected?
    local src
    for src in tests/fuzz/fuzz_*.c; do
        [ -e "$src" ] || continue
        src=${src##*/}
        selected "fuzz/${src%.c}" && return 0
    done
    [ -z "$only" ]
}
if ! fuzz_wanted; then
    echo "not selected by --only"
elif [ $build_ok -eq 0 ]; then
    record fuzz skip "$why_not"
elif ! timeout 1200 bash scripts/build.sh --fuzz </dev/null >"$LOGDIR/build-fuzz.log" 2>&1; then
    show_tail "$LOGDIR/build-fuzz.log" 40
    record fuzz/build fail "scripts/build.sh --fuzz failed"
else
    mapfile -t targets < <(find build-fuzz/tests/fuzz -maxdepth 1 -type f -perm -u+x \
        -name 'fuzz_*' 2>/dev/null | sed 's|.*/||' | sort)
    if [ ${#targets[@]} -eq 0 ]; then
        record fuzz skip "no fuzz targets in build-fuzz/tests/fuzz (none written yet)"
    elif [ ! -f tests/fuzz/run.sh ]; then
        record fuzz fail "targets built but tests/fuzz/run.sh is missing"
    else
        # tests/fuzz/run.sh BUILD_DIR SECONDS runs every target and prints one line per target:
        # "fuzz_X: ok (N runs)" or "fuzz_X: CRASH" followed by its reasons.
        timeout $((${#targets[@]} * (FUZZ_SECONDS + 30) + 60)) \
            bash tests/fuzz/run.sh build-fuzz "$FUZZ_SECONDS" </dev/null >"$LOGDIR/fuzz.log" 2>&1
        fuzz_rc=$?
        n_fuzz=0 fuzz_failed=
        for name in "${targets[@]}"; do
            selected "fuzz/$name" || continue
            n_fuzz=$((n_fuzz + 1))
            result=$(sed -n "s/^$name: //p" "$LOGDIR/fuzz.log" | head -n 1)
            case $result in
                ok*) runs=${result#ok (}; record "fuzz/$name" pass "${runs%)}" ;;
                "") record "fuzz/$name" fail "no result from tests/fuzz/run.sh (exit $fuzz_rc)"; fuzz_failed=1 ;;
                *) record "fuzz/$name" fail "$result"; fuzz_failed=1 ;;
            esac
        done
        [ -n "$fuzz_failed" ] && show_tail "$LOGDIR/fuzz.log" 40
        [ $n_fuzz -gt 0 ] || echo "no fuzz target matches '$only'"
    fi
fi

# --- network-namespace tests --------------------------------------------------------------------
section "netns tests (tests/netns, ${NETNS_TIMEOUT}s each at most)"

# Namespaces a test left behind: stop what runs in them (it was started by that test), delete
# them. Only names with the test's own prefix are touched.
sweep() {
    local prefix=$1 ns pid n=0
    while read -r ns _; do
        case $ns in "$prefix"*) ;; *) continue ;; esac
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns delete "$ns" 2>/dev/null
        n=$((n + 1))
    done < <(ip netns list 2>/dev/null)
    echo $n
}

idx=0
for f in tests/netns/test_*.sh; do
    [ -e "$f" ] || continue
    name=netns/$(basename "$f" .sh)
    selected "$name" || continue
    idx=$((idx + 1))
    if [ "$(id -u)" -ne 0 ]; then
        record "$name" skip "not root: run as root (network namespaces)"
        continue
    fi
    left=$((BUDGET - SECONDS))
    limit=$((left < NETNS_TIMEOUT ? left : NETNS_TIMEOUT))
    if [ $limit -lt 30 ]; then
        record "$name" skip "CI time budget of ${BUDGET}s spent"
        continue
    fi
    prefix="l2f-$$-$idx-"
    log=$LOGDIR/${name#netns/}.log
    t0=$SECONDS
    LAB_PREFIX=$prefix timeout -k 10 "$limit" bash "$f" </dev/null >"$log" 2>&1
    rc=$?
    dt=$((SECONDS - t0))
    leaked=$(sweep "$prefix")
    if [ "$leaked" -gt 0 ]; then
        show_tail "$log" 60
        record "$name" fail "left $leaked namespace(s) behind (exit $rc, ${dt}s)"
    elif [ $rc -eq 0 ]; then
        record "$name" pass "${dt}s"
    elif [ $rc -eq 77 ]; then
        reason=$(sed -n 's/^SKIP: [^:]*: //p' "$log" | tail -n 1)
        record "$name" skip "${reason:-no reason given}"
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        show_tail "$log" 60
        record "$name" fail "timed out after ${limit}s"
    else
        show_tail "$log" 60
        record "$name" fail "exit $rc, ${dt}s"
    fi
done
[ $idx -gt 0 ] || echo "no netns test${only:+ matches '$only'}"

# --- summary --------------------------------------------------------------------------------------
section "summary ($((SECONDS / 60))m$((SECONDS % 60))s)"
printf '%s\n' "${SUMMARY[@]}"
if [ $nfail -eq 0 ]; then
    rm -rf -- "$LOGDIR"
else
    echo "logs: $LOGDIR"
fi
line="$npass passed, $nfail failed"
[ $nskip -gt 0 ] && line+=", $nskip skipped"
echo "$line"
[ $nfail -eq 0 ]
