#!/usr/bin/env bash
# docs/man/scdoc.sh SCDOC IN OUT VERSION SBINDIR CONFDIR — one man page from its scdoc source.
#
# The paths of an install with the default prefix (/usr/local/sbin, /etc/l2fabric) become
# the configured ones, and @VERSION@ the project's version; then scdoc. scdoc puts a
# paragraph macro after every heading and before every block's end, which mandoc -T lint
# reports ("skipping paragraph macro"); the last step drops those (they render as nothing)
# and moves a paragraph break that precedes .RE after it, where it separates two items for
# every formatter. What is left must lint clean (docs/man/check.sh).
set -euo pipefail
scdoc=$1 in=$2 out=$3 version=$4 sbindir=$5 confdir=$6

sed -e "s|/usr/local/sbin|$sbindir|g" -e "s|/etc/l2fabric|$confdir|g" \
    -e "s|@VERSION@|$version|g" "$in" | "$scdoc" | awk '
    { l[NR] = $0 }
    END {
        n = NR
        for (i = 1; i < n; i++)           # ".P" ".RE" -> ".RE" ".P", past every .RE
            if (l[i] == ".P" && l[i + 1] == ".RE") { l[i] = ".RE"; l[i + 1] = ".P" }
        prev = ""
        for (i = 1; i <= n; i++) {
            if (l[i] == ".P") {
                next_l = i < n ? l[i + 1] : ".SH"
                if (prev ~ /^\.(SH|SS|P)( |$)/ || next_l ~ /^\.(SH|SS|P)( |$)/)
                    continue
            }
            print l[i]
            prev = l[i]
        }
    }' > "$out.tmp"
mv "$out.tmp" "$out"
