#!/usr/bin/env bash
# docs/man/check.sh BUILD_DIR SRC_DIR ETC_DIR MODE NAME=BINARY... — the man pages against the
# code, so that neither drifts from the other (meson test --suite unit: manpages, examples).
#
# manpages  every page built in BUILD_DIR lints clean: `mandoc -T lint -W warning` says
#           nothing; every long option a program's --help shows is in its page (SRC_DIR/
#           NAME.8.scd); and for the daemons, every option the page's OPTIONS section
#           defines (its "*-x*, *--long*" lines) is shown by --help.
# examples  ETC_DIR/NAME.yaml passes `NAME -n -c FILE` for each daemon, every key the
#           normalized output prints is documented in SRC_DIR/NAME.yaml.5.scd, and every key
#           that page defines is named in the daemon's key tables (ETC_DIR/../NAME/config.c).
# Every problem is printed, one a line, naming the page or the program to fix; exit 1 if any.
set -u
export LC_ALL=C
build=$1 src=$2 etc=$3 mode=$4
root=$(cd "$etc/.." && pwd)
shift 4
declare -A bin=()
for nb in "$@"; do bin[${nb%%=*}]=${nb#*=}; done

fails=0
bad() { printf 'FAIL: %s\n' "$*"; fails=$((fails + 1)); }
ok() { printf 'ok: %s\n' "$*"; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf -- "$tmp"' EXIT

# has TEXT_FILE OPTION: OPTION appears in the file as a whole option (--log vs --log-file).
has() { grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" "$1"; }
# help_has HELP_FILE OPTION: --help shows OPTION. A short one counts where usage texts put
# options (a line's start, "[-n]", "-a|-b", "-c, --config"), not in prose ("ulimit -n").
help_has() {
    case $2 in
        --*) has "$1" "$2" ;;
        *) grep -qE -- "(^[[:space:]]*|[[|])$2([^A-Za-z0-9-]|\$)" "$1" ;;
    esac
}

# run_help NAME: NAME's --help on stdout into $tmp/NAME.help; false (after saying why) when
# it does not print its usage there and exit 0.
run_help() {
    local name=$1 b=${bin[$1]} rc
    if [ ! -x "$b" ]; then
        bad "$name: $b is not built"
        return 1
    fi
    "$b" --help >"$tmp/$name.help" 2>"$tmp/$name.err"
    rc=$?
    if [ $rc -ne 0 ] || [ ! -s "$tmp/$name.help" ]; then
        bad "$name --help exits $rc with $(wc -c <"$tmp/$name.help") bytes on stdout" \
            "(its usage on stdout and exit 0 expected): $(head -n 1 "$tmp/$name.err")"
        return 1
    fi
}

check_manpages() {
    local scd page name opt out n

    # 1. mandoc's lint, on what is installed.
    for scd in "$src"/*.scd; do
        page=$build/$(basename "$scd" .scd)
        if [ ! -f "$page" ]; then
            bad "${page##*/}: not built from docs/man/${scd##*/}"
            continue
        fi
        out=$(mandoc -T lint -W warning "$page" 2>&1)
        if [ $? -ne 0 ] || [ -n "$out" ]; then
            while IFS= read -r line; do bad "${page##*/}: $line"; done <<<"$out"
        else
            ok "${page##*/}: mandoc -T lint -W warning is silent"
        fi
    done

    # 2. options: --help against the page, both ways for the daemons.
    for name in vipd fabricd vtepd switchd fabricctl; do
        [ -n "${bin[$name]:-}" ] || continue
        scd=$src/$name.8.scd
        run_help "$name" || continue
        n=0 before=$fails
        while read -r opt; do
            n=$((n + 1))
            has "$scd" "$opt" ||
                bad "$name --help shows $opt, which docs/man/$name.8.scd does not document"
        done < <(grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' "$tmp/$name.help" | sort -u)
        [ $fails -eq $before ] && ok "$name: the $n long option(s) of --help are in docs/man/$name.8.scd"
        [ "$name" = fabricctl ] && continue
        # The OPTIONS section's definitions: lines "*-c*, *--config* _FILE_" (up to the
        # next top-level heading; subsections such as "## LIMITS" belong to it).
        awk '/^# / { in_opts = ($0 == "# OPTIONS") } in_opts && /^\*-/' "$scd" |
            grep -oE -- '(^|[^A-Za-z0-9-])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[^-]*//' |
            sort -u >"$tmp/$name.documented"
        n=0 before=$fails
        while read -r opt; do
            # --help itself ran: -h and --help need no further proof.
            [ "$opt" = -h ] || [ "$opt" = --help ] && continue
            n=$((n + 1))
            help_has "$tmp/$name.help" "$opt" ||
                bad "docs/man/$name.8.scd documents $opt, which $name --help does not show" \
                    "(add it to the daemon's options and usage, or drop it from the page)"
        done <"$tmp/$name.documented"
        [ $n -gt 0 ] || bad "docs/man/$name.8.scd: no option definitions found under # OPTIONS"
        [ $fails -eq $before ] && ok "$name: the $n option(s) docs/man/$name.8.scd defines are in --help"
    done
}

check_examples() {
    local name ex rc key n
    for name in vipd fabricd vtepd switchd; do
        [ -n "${bin[$name]:-}" ] || continue
        ex=$etc/$name.yaml
        if [ ! -x "${bin[$name]}" ]; then
            bad "$name: ${bin[$name]} is not built"
            continue
        fi
        "${bin[$name]}" -n -c "$ex" >"$tmp/$name.norm" 2>"$tmp/$name.err"
        rc=$?
        if [ $rc -ne 0 ]; then
            bad "$name -n -c etc/$name.yaml exits $rc: $(head -n 3 "$tmp/$name.err" | tr '\n' ' ')"
            continue
        fi
        n=0
        while read -r key; do
            n=$((n + 1))
            grep -qF -- "*$key*" "$src/$name.yaml.5.scd" ||
                bad "$name -n prints the key '$key', which docs/man/$name.yaml.5.scd does not document"
        done < <(sed -n 's/^[[:space:]]*\(- \)\{0,1\}\([a-z_][a-z0-9_]*\):.*/\2/p' "$tmp/$name.norm" |
                 sort -u)
        if [ $n -eq 0 ]; then
            bad "$name -n -c etc/$name.yaml printed no key at all"
        else
            ok "$name: etc/$name.yaml is valid; its $n normalized key(s) are in docs/man/$name.yaml.5.scd"
        fi
        # The other way: each key the page defines ("*key*: ..." lines) is one the
        # daemon's key tables name (NAME/config.c), even if -n leaves it out by default.
        n=0 before=$fails
        while read -r key; do
            n=$((n + 1))
            grep -qF -- "\"$key\"" "$root/$name/config.c" ||
                bad "docs/man/$name.yaml.5.scd documents the key '$key', which $name/config.c does not know"
        done < <(sed -n 's/^\*\([a-z_][a-z0-9_]*\)\*: .*/\1/p' "$src/$name.yaml.5.scd" | sort -u)
        [ $fails -eq $before ] && ok "$name: the $n key(s) docs/man/$name.yaml.5.scd defines are in $name/config.c"
    done
}

case $mode in
    manpages)
        command -v mandoc >/dev/null || { echo "SKIP: mandoc not installed"; exit 77; }
        check_manpages ;;
    examples) check_examples ;;
    *) echo "check.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac
[ $fails -eq 0 ] || { echo "$fails problem(s)"; exit 1; }
