#!/usr/bin/env bash
# scripts/certs.sh — a test CA and per-host certificates for l2fabric's mutual TLS, made with
# the openssl CLI (for tests, labs and the demo; production uses the site's own PKI).
#
#   certs.sh DIR ca                        DIR/ca.pem + DIR/ca.key (EC P-256, 10 years)
#   certs.sh DIR issue ROLE ID [IP ...]    DIR/ROLE-ID.pem + DIR/ROLE-ID.key, signed by DIR's CA
#   certs.sh DIR issue-many ROLE ID ...    the same for each ID, without IP SANs, in one
#                                          openssl run per certificate (req -x509 -CA,
#                                          OpenSSL >= 3.0): a lab's 80 switches in ~1 s
#
# ROLE is vtepd, vipd, fabricctl, switchd or fabricd. The identity is the subject alternative
# name URI:urn:l2fabric:ROLE:ID (what fabricd believes, never a Hello); each IP becomes an IP
# SAN (for vtepd: the VTEP addresses it may announce). fabricd's certificate is for servers
# and clients, the others' for clients. CERTS_DAYS (default 30) sets a leaf's lifetime.
# Keys are written mode 0600. Prints the files it wrote.
set -euo pipefail

usage() { sed -n '2,15p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
dir=$1 cmd=$2
shift 2
command -v openssl >/dev/null || { echo "certs.sh: openssl is not installed" >&2; exit 1; }
mkdir -p "$dir"
umask 077

case $cmd in
ca)
    [ $# -eq 0 ] || usage
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 -subj "/CN=l2fabric test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    chmod 0644 "$dir/ca.pem"
    echo "$dir/ca.pem"
    ;;
issue)
    [ $# -ge 2 ] || usage
    role=$1 id=$2
    shift 2
    case $role in vtepd|vipd|fabricctl|switchd|fabricd) ;; *) echo "certs.sh: unknown role '$role'" >&2; exit 2 ;; esac
    [[ $id =~ ^[!-~]{1,64}$ ]] && [[ $id != *:* ]] || { echo "certs.sh: id '$id': 1-64 printable characters, no ':' or space" >&2; exit 2; }
    [ -f "$dir/ca.pem" ] && [ -f "$dir/ca.key" ] || { echo "certs.sh: no CA in $dir (run: certs.sh $dir ca)" >&2; exit 1; }
    san="URI:urn:l2fabric:$role:$id"
    for ip in "$@"; do san="$san,IP:$ip"; done
    eku=clientAuth
    [ "$role" = fabricd ] && eku=serverAuth,clientAuth
    name=$dir/$role-$id
    ext=$(mktemp)
    trap 'rm -f "$ext" "$name.csr"' EXIT
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
        "$eku" "$san" >"$ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$name.key" -out "$name.csr" -subj "/CN=$role $id" 2>/dev/null
    openssl x509 -req -in "$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 12)" \
        -days "${CERTS_DAYS:-30}" -extfile "$ext" -out "$name.pem" 2>/dev/null
    chmod 0644 "$name.pem"
    echo "$name.pem"
    ;;
issue-many)
    [ $# -ge 2 ] || usage
    role=$1
    shift
    case $role in vtepd|vipd|fabricctl|switchd|fabricd) ;; *) echo "certs.sh: unknown role '$role'" >&2; exit 2 ;; esac
    for id in "$@"; do
        [[ $id =~ ^[!-~]{1,64}$ ]] && [[ $id != *:* ]] || { echo "certs.sh: id '$id': 1-64 printable characters, no ':' or space" >&2; exit 2; }
    done
    [ -f "$dir/ca.pem" ] && [ -f "$dir/ca.key" ] || { echo "certs.sh: no CA in $dir (run: certs.sh $dir ca)" >&2; exit 1; }
    eku=clientAuth
    [ "$role" = fabricd ] && eku=serverAuth,clientAuth
    # A config of our own: the system's openssl.cnf would add its req extensions (v3_ca).
    cnf=$(mktemp)
    trap 'rm -f "$cnf"' EXIT
    printf '[req]\ndistinguished_name = dn\n[dn]\n' >"$cnf"
    for id in "$@"; do
        name=$dir/$role-$id
        openssl req -config "$cnf" -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$name.key" -out "$name.pem" -subj "/CN=$role $id" \
            -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -days "${CERTS_DAYS:-30}" \
            -set_serial "$(printf '0x%08x%08x%08x' "$SRANDOM" "$SRANDOM" "$SRANDOM")" \
            -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
            -addext "extendedKeyUsage=$eku" -addext "subjectAltName=URI:urn:l2fabric:$role:$id" 2>/dev/null
        chmod 0644 "$name.pem"
        echo "$name.pem"
    done
    ;;
*)
    usage
    ;;
esac
