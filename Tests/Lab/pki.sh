#!/usr/bin/env bash
# pki.sh OUT_DIR: generate the test lab's PKI into OUT_DIR with the openssl CLI only.
#
# Layout (every leaf has NAME.key, NAME.pem = leaf only, NAME.fullchain.pem =
# leaf then the certificates a server should send after it):
#   root.pem/.key                  "mxcheck Lab Root" (the trust anchor for tests)
#   intermediate.pem/.key          "mxcheck Lab Intermediate", signed by the root
#   valid expired notyet expcrit expwarn mismatch ecdsa weak   leaves of the intermediate
#   chainless                      the valid key and leaf, fullchain = leaf only
#   selfsigned                     self-signed leaf (CA:FALSE), fullchain = itself
#   unknown-root.pem/.key, unknown-intermediate.pem/.key, unknownca   a hierarchy
#                                  whose root is NOT root.pem
#   dh1024.pem                     1024-bit DH parameters (safe prime, PKCS#3)
#   many                           a leaf of the intermediate with 1,001 DNS SANs, mx.lab.example last
# Keys are test-only and world-readable. Re-running regenerates everything.
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
out=$1
lab_name=mx.lab.example
lab_san="DNS:${lab_name},IP:127.0.0.1,IP:::1"

die() {
    echo "pki.sh: $*" >&2
    exit 1
}

command -v openssl >/dev/null || die "openssl not found"

# Build into a fresh sibling directory, then swap it in: a failed run leaves no half PKI.
mkdir -p "$(dirname "$out")"
build=$(mktemp -d "${out%/}.build.XXXXXX")
dh_pid=
key_pids=()
cleanup() {
    local pid
    for pid in "${key_pids[@]}" ${dh_pid:+"$dh_pid"}; do
        kill "$pid" 2>/dev/null || true
    done
    rm -rf "$build"
}
trap cleanup EXIT
work=$build/work
mkdir -p "$work"

# DH parameters with a safe prime (PKCS#3: Postfix cannot load the X9.42 form
# that -dsaparam writes). Generation takes 0.1-3 s, so it runs beside the rest.
timeout 30 openssl dhparam -out "$build/dh1024.pem" 1024 >"$work/dhparam.log" 2>&1 &
dh_pid=$!

# Run openssl quietly; on failure show what it said.
ossl() {
    local log=$work/openssl.log
    if ! openssl "$@" >"$log" 2>&1; then
        cat "$log" >&2
        die "openssl $1 failed"
    fi
}

# Dates for `openssl ca -startdate/-enddate` (GeneralizedTime, UTC).
stamp() {
    date -u -d "$1" +%Y%m%d%H%M%SZ
}

cat >"$work/ca.cnf" <<'EOF'
# Minimal `openssl ca` configuration; per-call values come from the environment.
[ ca ]
default_ca = lab_ca

[ lab_ca ]
dir             = $ENV::LAB_CA_DIR
database        = $dir/index.txt
new_certs_dir   = $dir/newcerts
serial          = $dir/serial
rand_serial     = yes
unique_subject  = no
default_md      = sha256
policy          = policy_any
email_in_dn     = no
copy_extensions = none
preserve        = yes

[ policy_any ]
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied

[ ext_root ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ ext_intermediate ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_leaf ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, $ENV::LAB_KEY_USAGE
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = $ENV::LAB_SAN

[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]
CN = placeholder
EOF

export LAB_SAN=$lab_san
export LAB_KEY_USAGE="digitalSignature, keyEncipherment"
export LAB_CA_DIR=$work

new_ca_dir() {
    local dir=$work/ca-$1
    mkdir -p "$dir/newcerts"
    : >"$dir/index.txt"
    echo 01 >"$dir/serial"
}

# genkey NAME rsa:BITS|ec: writes NAME.key, in the background (see wait_keys).
genkey() {
    local name=$1 kind=$2
    local -a opts
    case $kind in
        rsa:*) opts=(-algorithm RSA -pkeyopt "rsa_keygen_bits:${kind#rsa:}") ;;
        ec) opts=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
        *) die "unknown key kind $kind" ;;
    esac
    openssl genpkey "${opts[@]}" -out "$build/$name.key" >"$work/genkey-$name.log" 2>&1 &
    key_pids+=("$!")
}

wait_keys() {
    local pid failed=0
    for pid in "${key_pids[@]}"; do
        wait "$pid" || failed=1
    done
    key_pids=()
    if ((failed)); then
        cat "$work"/genkey-*.log >&2
        die "key generation failed"
    fi
}

# sign NAME ISSUER_CA_NAME|self EXT SUBJECT START END [DIGEST]
# Writes NAME.pem from NAME.key, signed by ISSUER (its .pem/.key in $build).
sign() {
    local name=$1 issuer=$2 ext=$3 subject=$4 start=$5 end=$6 digest=${7:-sha256}
    local csr=$work/$name.csr
    ossl req -new -config "$work/ca.cnf" -key "$build/$name.key" -subj "$subject" -out "$csr"
    local ca_dir
    if [[ $issuer == self ]]; then
        ca_dir=ca-self-$name
        new_ca_dir "self-$name"
        LAB_CA_DIR=$work/$ca_dir ossl ca -batch -notext -config "$work/ca.cnf" \
            -selfsign -keyfile "$build/$name.key" -in "$csr" -subj "$subject" \
            -extensions "$ext" -md "$digest" -startdate "$start" -enddate "$end" \
            -out "$build/$name.pem"
    else
        ca_dir=ca-$issuer
        LAB_CA_DIR=$work/$ca_dir ossl ca -batch -notext -config "$work/ca.cnf" \
            -cert "$build/$issuer.pem" -keyfile "$build/$issuer.key" -in "$csr" -subj "$subject" \
            -extensions "$ext" -md "$digest" -startdate "$start" -enddate "$end" \
            -out "$build/$name.pem"
    fi
}

# --- keys, generated in parallel ------------------------------------------------
for name in root intermediate unknown-root unknown-intermediate \
    valid expired notyet expcrit expwarn mismatch selfsigned unknownca pool; do
    genkey "$name" rsa:2048
done
genkey weak rsa:1024
genkey ecdsa ec
genkey many ec
wait_keys

now_minus_1d=$(stamp "now - 1 day")
ca_end=$(stamp "now + 3650 days")
org="/O=mxcheck Lab"

# --- the trusted hierarchy ---------------------------------------------------
new_ca_dir root
new_ca_dir intermediate
sign root self ext_root "$org/CN=mxcheck Lab Root" "$now_minus_1d" "$ca_end"
sign intermediate root ext_intermediate "$org/CN=mxcheck Lab Intermediate" "$now_minus_1d" "$ca_end"

# leaf NAME START END [DIGEST]: a leaf of ISSUER (default intermediate).
issuer=intermediate
leaf() {
    local name=$1 start=$2 end=$3 digest=${4:-sha256}
    sign "$name" "$issuer" ext_leaf "$org/OU=$name/CN=$lab_name" "$start" "$end" "$digest"
}

leaf valid "$now_minus_1d" "$(stamp "now + 365 days")"
leaf expired "$(stamp "now - 400 days")" "$(stamp "now - 30 days")"
leaf notyet "$(stamp "now + 30 days")" "$(stamp "now + 400 days")"
leaf expcrit "$(stamp "now - 60 days")" "$(stamp "now + 3 days")"
leaf expwarn "$(stamp "now - 60 days")" "$(stamp "now + 10 days")"
leaf weak "$now_minus_1d" "$(stamp "now + 365 days")" sha1
LAB_KEY_USAGE="digitalSignature" leaf ecdsa "$now_minus_1d" "$(stamp "now + 365 days")"
# 1,000 other names, then the MX host's (no IP SANs): every name must count, not the first thousand.
LAB_KEY_USAGE="digitalSignature" LAB_SAN="$(printf 'DNS:n%d.lab.example,' $(seq 1 1000))DNS:$lab_name" \
    leaf many "$now_minus_1d" "$(stamp "now + 365 days")"

# The MX hosts of the DNS lab's zone (Tests/Lab/dns.sh), for --mx checks.
LAB_SAN="DNS:mx.lab.example,DNS:*.lab.example,DNS:*.many-mx.lab.example,DNS:*.many-addr.lab.example,IP:127.0.0.1,IP:::1" \
    sign pool intermediate ext_leaf "$org/OU=pool/CN=$lab_name" "$now_minus_1d" "$(stamp "now + 365 days")"

LAB_SAN="DNS:other.lab.example" sign mismatch intermediate ext_leaf \
    "$org/OU=mismatch/CN=other.lab.example" "$now_minus_1d" "$(stamp "now + 365 days")"

# --- a self-signed leaf (not a CA) -------------------------------------------
sign selfsigned self ext_leaf "$org/OU=selfsigned/CN=$lab_name" "$now_minus_1d" "$(stamp "now + 365 days")"

# --- an unknown hierarchy ------------------------------------------------------
new_ca_dir unknown-root
new_ca_dir unknown-intermediate
sign unknown-root self ext_root "/O=Unknown Lab/CN=Unknown Lab Root" "$now_minus_1d" "$ca_end"
sign unknown-intermediate unknown-root ext_intermediate "/O=Unknown Lab/CN=Unknown Lab Intermediate" \
    "$now_minus_1d" "$ca_end"
issuer=unknown-intermediate
leaf unknownca "$now_minus_1d" "$(stamp "now + 365 days")"
issuer=intermediate

# --- full chains ---------------------------------------------------------------
for name in valid expired notyet expcrit expwarn mismatch ecdsa weak pool; do
    cat "$build/$name.pem" "$build/intermediate.pem" >"$build/$name.fullchain.pem"
done
cat "$build/unknownca.pem" "$build/unknown-intermediate.pem" >"$build/unknownca.fullchain.pem"
cat "$build/many.pem" "$build/intermediate.pem" >"$build/many.fullchain.pem"
cp "$build/selfsigned.pem" "$build/selfsigned.fullchain.pem"
cp "$build/valid.key" "$build/chainless.key"
cp "$build/valid.pem" "$build/chainless.pem"
cp "$build/valid.pem" "$build/chainless.fullchain.pem"

# --- DH parameters -----------------------------------------------------------
if ! wait "$dh_pid"; then
    cat "$work/dhparam.log" >&2
    die "openssl dhparam 1024 failed"
fi
dh_pid=
ossl pkeyparam -in "$build/dh1024.pem" -check

# --- sanity checks -------------------------------------------------------------
for name in valid expcrit expwarn mismatch ecdsa pool; do
    ossl verify -CAfile "$build/root.pem" -untrusted "$build/intermediate.pem" "$build/$name.pem"
done
ossl verify -CAfile "$build/unknown-root.pem" -untrusted "$build/unknown-intermediate.pem" "$build/unknownca.pem"
ossl verify -CAfile "$build/root.pem" -untrusted "$build/intermediate.pem" "$build/many.pem"

rm -rf "$work"
chmod 0644 "$build"/*
chmod 0755 "$build"

# Swap the new PKI in place of any previous one.
if [[ -e $out ]]; then
    rm -rf "$out"
fi
mv "$build" "$out"
trap - EXIT
