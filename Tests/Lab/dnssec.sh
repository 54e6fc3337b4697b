#!/usr/bin/env bash
# dnssec.sh start|stop|status STATE_DIR: the DNSSEC and DANE test lab, loopback only.
#
# start:  generates a small PKI (EC P-256: fast) and, from it, signed zones under example.
#         (dane.example. and expired.example. signed with DS in example.; insecure.example.
#         delegated without DS) with one MX host per DANE case, each TLSA record computed from
#         the certificates; serves them with nsd on a free loopback port; starts a loopback
#         unbound doing iteration only (stub zones to that nsd, "." too, so nothing ever asks
#         the real root servers); starts a second nsd serving the same zones unsigned (a
#         resolver that strips DNSSEC records); starts a private Postfix with one smtpd per
#         MX host address (127.0.3.N, one port for all) sending the chain its case needs;
#         writes the trust anchor (the DS of example.) to STATE_DIR/trust-anchor.ds and
#         STATE_DIR/dnssec.json (addresses, ports, every case with its expected DANE status),
#         and prints the path of dnssec.json on stdout.
# stop:   stops all of it; safe to repeat; leaves STATE_DIR in place.
# status: exit 0 only when this instance's unbound runs.
#
# DNSSEC_LAB_SMTP=0 leaves Postfix out (no root needed then): "smtpServer" is null.
# Needs nsd, unbound, ldnsutils (ldns-keygen, ldns-signzone), openssl, python3, and for the
# SMTP servers root and postfix. Never reads or writes /etc; the system's nsd, unbound and
# Postfix services are never started or touched.
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Tests/Lab/common.sh
source "$lab_dir/common.sh"
# nsd, unbound and postfix live in /usr/sbin, which a test runner's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
zones_py=$lab_dir/dnssec_zones.py

usage() {
    echo "usage: $0 start|stop|status STATE_DIR" >&2
    exit 2
}

log() {
    echo "dnssec.sh: $*" >&2
}

fail() {
    log "$*"
    exit 1
}

[[ $# -eq 2 ]] || usage
command=$1
[[ -n $2 ]] || usage
state=$(realpath -m -- "$2")
# Config files quote paths and Postfix lists split on spaces and commas.
[[ $state =~ ^/[A-Za-z0-9._/+-]+$ ]] || fail "STATE_DIR must be a path of letters, digits and . _ / + - only: $state"

pki=$state/pki
dns=$state/dnssec
signed_conf=$dns/nsd.conf
stripped_conf=$dns/nsd-stripped.conf
unbound_conf=$dns/unbound.conf
postfix_conf=$state/postfix
queue=$postfix_conf/queue
maillog=$postfix_conf/maillog
anchor=$state/trust-anchor.ds
json=$state/dnssec.json
smtp=${DNSSEC_LAB_SMTP:-1}

# --- processes of this instance ----------------------------------------------

# Pids with an argument exactly CONF (pids get reused: the config path tells ours apart). One grep reads
# every command line; the pattern comes from a file, so grep's own command line does not match.
pids_with_conf() {
    grep -lzsxF -f <(printf '%s\n' "$1") /proc/[0-9]*/cmdline 2>/dev/null | sed -E 's|^/proc/([0-9]+)/cmdline$|\1|' \
        | grep -vxF -e "$$" -e "$BASHPID" || true
}

# Postfix daemons carry MAIL_CONFIG in their environment.
postfix_pids() {
    grep -lzsxF -f <(printf 'MAIL_CONFIG=%s\n' "$postfix_conf") /proc/[0-9]*/environ 2>/dev/null \
        | sed -E 's|^/proc/([0-9]+)/environ$|\1|' | grep -vxF -e "$$" -e "$BASHPID" || true
}

do_stop() {
    local pids=() conf
    if [[ -f $postfix_conf/main.cf ]] && [[ -n $(postfix_pids) ]]; then
        log "stopping Postfix ($postfix_conf)"
        timeout 15 postfix -c "$postfix_conf" stop >/dev/null 2>&1 || true
    fi
    for conf in "$unbound_conf" "$signed_conf" "$stripped_conf"; do
        mapfile -t -O "${#pids[@]}" pids < <(pids_with_conf "$conf")
    done
    mapfile -t -O "${#pids[@]}" pids < <(postfix_pids)
    ((${#pids[@]} == 0)) && return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    if ! wait_gone 5 "${pids[@]}"; then
        log "still running after 5 s; killing ${pids[*]}"
        kill -KILL "${pids[@]}" 2>/dev/null || true
        wait_gone 2 "${pids[@]}" || fail "could not stop ${pids[*]}"
    fi
    return 0
}

do_status() {
    local pid
    pid=$(pids_with_conf "$unbound_conf" | head -1)
    if [[ -n $pid ]]; then
        echo "unbound runs (pid $pid, config $unbound_conf)"
        return 0
    fi
    echo "unbound does not run (config $unbound_conf)"
    return 1
}

# --- start -------------------------------------------------------------------

# free_ports N: N distinct ports above 1024, each free for UDP and TCP on 127.0.0.1 and for TCP on
# 127.0.3.1 (the SMTP servers' first address), all held until every one is chosen.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
count, held, ports = int(sys.argv[1]), [], []
for _ in range(400):
    if len(ports) == count:
        break
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    group = [u]
    try:
        for family, kind, address in ((socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"),
                                      (socket.AF_INET, socket.SOCK_STREAM, "127.0.3.1")):
            s = socket.socket(family, kind)
            group.append(s)
            s.bind((address, port))
    except OSError:
        for s in group:
            s.close()
        continue
    if port <= 1024 or port in ports:
        for s in group:
            s.close()
        continue
    held += group
    ports.append(port)
for s in held:
    s.close()
if len(ports) != count:
    sys.exit("no free ports")
print("\n".join(map(str, ports)))
EOF
}

# answers PORT NAME SECONDS: true once an SOA query for NAME over UDP gets NOERROR with an answer.
answers() {
    python3 - "$1" "$2" "$3" <<'EOF'
import socket, struct, sys, time
port, zone, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
qname = b"".join(bytes([len(label)]) + label.encode() for label in zone.split(".")) + b"\0"
query = struct.pack(">HHHHHH", 0x4D59, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 6, 1)
end = time.monotonic() + seconds
while time.monotonic() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    try:
        s.sendto(query, ("127.0.0.1", port))
        reply, _ = s.recvfrom(4096)
        ident, flags, _, ancount = struct.unpack(">HHHH", reply[:8])
        if ident == 0x4D59 and flags & 0x000F == 0 and ancount >= 1:
            sys.exit(0)
    except OSError:
        pass
    finally:
        s.close()
    time.sleep(0.05)
sys.exit(1)
EOF
}

# Run openssl quietly; on failure show what it said.
ossl() {
    local out
    if ! out=$(openssl "$@" 2>&1); then
        echo "$out" >&2
        fail "openssl $1 failed"
    fi
}

stamp() {
    date -u -d "$1" +%Y%m%d%H%M%SZ
}

# The lab's PKI, EC P-256 throughout (key generation takes milliseconds). For each certificate
# NAME: NAME.key, NAME.pem, NAME.der and NAME.spki.der (its SubjectPublicKeyInfo); for the keys
# that sign nothing (next, stale) only .key and .spki.der. Chains a server sends: CHAIN.chain.pem.
make_pki() {
    local work=$pki/work name
    rm -rf "$pki"
    mkdir -p "$work"
    cat >"$work/ca.cnf" <<'EOF'
[ ca ]
default_ca = lab_ca
[ lab_ca ]
dir             = $ENV::DANE_CA_DIR
database        = $dir/index.txt
new_certs_dir   = $dir
serial          = $dir/serial
rand_serial     = yes
unique_subject  = no
default_md      = sha256
policy          = policy_any
email_in_dn     = no
copy_extensions = none
preserve        = yes
[ policy_any ]
organizationName = optional
commonName       = supplied
[ ext_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
[ ext_leaf ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = $ENV::DANE_SAN
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = placeholder
EOF
    for name in root intermediate good expired selfsigned othername domainonly domainonly-insecure next stale; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$name.key" 2>"$work/$name.log" &
    done
    wait || fail "key generation failed"
    local start end ca_end
    start=$(stamp "now - 1 day")
    end=$(stamp "now + 365 days")
    ca_end=$(stamp "now + 3650 days")
    export DANE_SAN="DNS:placeholder.example" DANE_CA_DIR=$work
    # sign NAME ISSUER|self EXT SUBJECT START END [SAN]
    sign() {
        local name=$1 issuer=$2 ext=$3 subject=$4 from=$5 until=$6
        DANE_SAN=${7:-$DANE_SAN}
        local dir=$work/ca-$name
        mkdir -p "$dir"
        : >"$dir/index.txt"
        ossl req -new -config "$work/ca.cnf" -key "$pki/$name.key" -subj "$subject" -out "$work/$name.csr"
        if [[ $issuer == self ]]; then
            DANE_CA_DIR=$dir ossl ca -batch -notext -config "$work/ca.cnf" -selfsign -keyfile "$pki/$name.key" \
                -in "$work/$name.csr" -subj "$subject" -extensions "$ext" -startdate "$from" -enddate "$until" \
                -out "$pki/$name.pem"
        else
            DANE_CA_DIR=$dir ossl ca -batch -notext -config "$work/ca.cnf" -cert "$pki/$issuer.pem" \
                -keyfile "$pki/$issuer.key" -in "$work/$name.csr" -subj "$subject" -extensions "$ext" \
                -startdate "$from" -enddate "$until" -out "$pki/$name.pem"
        fi
    }
    local names="DNS:mx.dane.example,DNS:*.dane.example,DNS:dane.example,DNS:*.insecure.example,DNS:*.expired.example"
    sign root self ext_ca "/O=mxcheck DANE Lab/CN=mxcheck DANE Lab Root" "$start" "$ca_end"
    sign intermediate root ext_ca "/O=mxcheck DANE Lab/CN=mxcheck DANE Lab Intermediate" "$start" "$ca_end"
    sign good intermediate ext_leaf "/O=mxcheck DANE Lab/CN=mx.dane.example" "$start" "$end" "$names"
    sign expired intermediate ext_leaf "/O=mxcheck DANE Lab/OU=expired/CN=mx.dane.example" \
        "$(stamp "now - 400 days")" "$(stamp "now - 30 days")" "$names"
    sign selfsigned self ext_leaf "/O=mxcheck DANE Lab/OU=selfsigned/CN=mx.dane.example" "$start" "$end" "$names"
    sign othername intermediate ext_leaf "/O=mxcheck DANE Lab/CN=other.example" "$start" "$end" "DNS:other.example"
    sign domainonly intermediate ext_leaf "/O=mxcheck DANE Lab/CN=ta-domain-name.dane.example" "$start" "$end" \
        "DNS:ta-domain-name.dane.example"
    sign domainonly-insecure intermediate ext_leaf "/O=mxcheck DANE Lab/CN=ta-domain-name.insecure.example" \
        "$start" "$end" "DNS:ta-domain-name.insecure.example"
    for name in root intermediate good expired selfsigned othername domainonly domainonly-insecure; do
        ossl x509 -in "$pki/$name.pem" -outform DER -out "$pki/$name.der"
    done
    for name in root intermediate good expired selfsigned othername domainonly domainonly-insecure next stale; do
        ossl pkey -in "$pki/$name.key" -pubout -outform DER -out "$pki/$name.spki.der"
    done
    cat "$pki/good.pem" "$pki/intermediate.pem" >"$pki/good-full.chain.pem"
    cp "$pki/good.pem" "$pki/good-leaf.chain.pem"
    cat "$pki/expired.pem" "$pki/intermediate.pem" >"$pki/expired-full.chain.pem"
    cp "$pki/selfsigned.pem" "$pki/selfsigned.chain.pem"
    cat "$pki/othername.pem" "$pki/intermediate.pem" >"$pki/othername-full.chain.pem"
    cat "$pki/domainonly.pem" "$pki/intermediate.pem" >"$pki/domainonly-full.chain.pem"
    cat "$pki/domainonly-insecure.pem" "$pki/intermediate.pem" >"$pki/domainonly-insecure-full.chain.pem"
    rm -rf "$work"
    chmod 0755 "$pki"
    chmod 0644 "$pki"/*
}

# The key of a chain file: the leaf it starts with.
chain_key() {
    local leaf=${1%-full}
    leaf=${leaf%-leaf}
    echo "$pki/$leaf.key"
}

# sign_zones: keys for example., dane.example. and expired.example.; children first, so their DS
# go into example. before it is signed. expired.example.'s signatures ended 100 days ago (unbound
# tolerates a skew of 10 % of the signature lifetime, at most a day).
sign_zones() {
    local zone key inception expiration
    inception=$(date -u -d "now - 1 day" +%Y%m%d%H%M%S)
    expiration=$(date -u -d "now + 30 days" +%Y%m%d%H%M%S)
    for zone in dane.example expired.example example; do
        key=$(cd "$dns/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$zone.") || fail "ldns-keygen $zone failed"
        echo "$key" >"$dns/keys/$zone.name"
    done
    for zone in dane.example expired.example; do
        key=$dns/keys/$(cat "$dns/keys/$zone.name")
        cat "$key.ds" >>"$dns/example.zone"
    done
    key=$dns/keys/$(cat "$dns/keys/dane.example.name")
    ldns-signzone -i "$inception" -e "$expiration" -o dane.example. -f "$dns/dane.example.signed" \
        "$dns/dane.example.zone" "$key" || fail "ldns-signzone dane.example failed"
    python3 "$zones_py" tamper "$dns/dane.example.signed" "$dns/cases.plan.json"
    key=$dns/keys/$(cat "$dns/keys/expired.example.name")
    ldns-signzone -i "$(date -u -d "now - 400 days" +%Y%m%d%H%M%S)" -e "$(date -u -d "now - 100 days" +%Y%m%d%H%M%S)" \
        -o expired.example. -f "$dns/expired.example.signed" "$dns/expired.example.zone" "$key" \
        || fail "ldns-signzone expired.example failed"
    key=$dns/keys/$(cat "$dns/keys/example.name")
    ldns-signzone -i "$inception" -e "$expiration" -o example. -f "$dns/example.signed" \
        "$dns/example.zone" "$key" || fail "ldns-signzone example failed"
    # The trust anchor mxcheck is given: the DS of example. (zone-file format).
    cp "$key.ds" "$anchor"
    chmod 0644 "$anchor"
}

# write_nsd_conf CONF PORT SUFFIX: nsd serving the four zones, from ZONE.SUFFIX files.
write_nsd_conf() {
    local conf=$1 port=$2 suffix=$3 tag zone file
    tag=$(basename "$conf" .conf)
    cat >"$conf" <<EOF
# nsd of the mxcheck DNSSEC lab; generated by Tests/Lab/dnssec.sh. Loopback only, no chroot.
server:
    ip-address: 127.0.0.1@$port
    port: $port
    do-ip4: yes
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$dns"
    database: ""
    zonelistfile: "$dns/$tag.zone.list"
    xfrdfile: "$dns/$tag.xfrd.state"
    xfrdir: "$dns"
    pidfile: "$dns/$tag.pid"
    logfile: "$dns/$tag.log"
    verbosity: 1
    hide-version: yes
    hide-identity: yes
    refuse-any: yes
    reuseport: no
remote-control:
    control-enable: no
EOF
    for zone in example dane.example insecure.example expired.example; do
        file=$dns/$zone.$suffix
        [[ $zone == insecure.example ]] && file=$dns/$zone.zone
        printf 'zone:\n    name: "%s."\n    zonefile: "%s"\n' "$zone" "$file" >>"$conf"
    done
}

write_unbound_conf() {
    local port=$1 nsd_port=$2
    cat >"$unbound_conf" <<EOF
# unbound of the mxcheck DNSSEC lab; generated by Tests/Lab/dnssec.sh. Iteration only: mxcheck
# validates by itself. Every zone, "." too, is a stub to the lab's nsd on loopback.
server:
    interface: 127.0.0.1@$port
    port: $port
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    outgoing-interface: 127.0.0.1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    chroot: ""
    username: ""
    directory: "$dns"
    pidfile: "$dns/unbound.pid"
    logfile: "$dns/unbound.log"
    use-syslog: no
    verbosity: 1
    num-threads: 1
    so-reuseport: no
    qname-minimisation: no
    root-hints: ""
    # Answers are never kept long: a test that restarts a zone sees it at once.
    cache-max-ttl: 5
    cache-max-negative-ttl: 5
remote-control:
    control-enable: no
stub-zone:
    name: "example."
    stub-addr: 127.0.0.1@$nsd_port
stub-zone:
    name: "."
    stub-addr: 127.0.0.1@$nsd_port
EOF
}

write_postfix() {
    local port=$1 key address chain
    rm -rf "$postfix_conf"
    mkdir -p "$queue" "$postfix_conf/data"
    chown postfix: "$postfix_conf/data"
    chmod 0755 "$postfix_conf" "$queue"
    cat >"$postfix_conf/main.cf" <<EOF
# Private Postfix instance of the mxcheck DNSSEC lab (generated by dnssec.sh): one smtpd per MX host.
compatibility_level = 3.6
queue_directory = $queue
data_directory = $postfix_conf/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = mxcheck-dane-lab
maillog_file = $maillog
maillog_file_prefixes = $state
myhostname = mx.dane.example
mydomain = dane.example
# Every smtpd names its own address in master.cf (127.0.3.N are no interface addresses, which
# inet_interfaces must be).
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
relayhost =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:mail is not accepted here
default_transport = error:mail is not accepted here
smtpd_relay_restrictions = reject
smtpd_recipient_restrictions = reject
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_helo_required = no
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_client_connection_count_limit = 0
biff = no
smtpd_tls_security_level = may
smtpd_tls_chain_files = $pki/good.key, $pki/good-full.chain.pem
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
EOF
    cat >"$postfix_conf/master.cf" <<'EOF'
# Private Postfix instance of the mxcheck DNSSEC lab (generated by dnssec.sh).
cleanup       unix  n       -      n      -      0       cleanup
qmgr          unix  n       -      n      300    1       qmgr
tlsmgr        unix  -       -      n      1000?  1       tlsmgr
rewrite       unix  -       -      n      -      -       trivial-rewrite
bounce        unix  -       -      n      -      0       bounce
defer         unix  -       -      n      -      0       bounce
trace         unix  -       -      n      -      0       bounce
verify        unix  -       -      n      -      1       verify
flush         unix  n       -      n      1000?  0       flush
proxymap      unix  -       -      n      -      -       proxymap
anvil         unix  -       -      n      -      1       anvil
scache        unix  -       -      n      -      1       scache
error         unix  -       -      n      -      -       error
retry         unix  -       -      n      -      -       error
discard       unix  -       -      n      -      -       discard
postlog       unix-dgram n  -      n      -      1       postlogd
EOF
    while read -r name address chain; do
        key=$(chain_key "$chain")
        {
            echo "$address:$port inet n - n - - smtpd"
            echo "  -o syslog_name=mxcheck-dane-lab/$name"
            echo "  -o smtpd_tls_chain_files=$key,$pki/$chain.chain.pem"
        } >>"$postfix_conf/master.cf"
    done <"$dns/listeners.txt"
}

# smtp_answers PORT SECONDS: every listener greets with 220 (bounded).
smtp_answers() {
    python3 - "$1" "$2" "$dns/listeners.txt" <<'EOF'
import socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
pending = [line.split()[1] for line in open(sys.argv[3]) if line.strip()]
end = time.monotonic() + seconds
last = {}
while pending and time.monotonic() < end:
    still = []
    for address in pending:
        try:
            s = socket.create_connection((address, port), timeout=max(0.3, min(2, end - time.monotonic())))
            data = s.recv(512)
            s.close()
            if not data.startswith(b"220"):
                raise OSError("greeting %r" % data[:60])
        except OSError as e:
            last[address] = str(e)
            still.append(address)
    pending = still
    if pending:
        time.sleep(0.1)
for address in pending:
    print("%s:%d does not greet: %s" % (address, port, last.get(address)), file=sys.stderr)
sys.exit(1 if pending else 0)
EOF
}

started=0
on_start_exit() {
    local rc=$?
    ((started)) && return 0
    ((rc)) || rc=1
    log "start FAILED (exit $rc)"
    local file
    for file in "$dns/unbound.log" "$dns/nsd.log" "$dns/nsd-stripped.log" "$maillog"; do
        if [[ -s $file ]]; then
            echo "---- last lines of $file ----" >&2
            tail -n 15 "$file" >&2 || true
        fi
    done
    do_stop
    exit "$rc"
}

do_start() {
    local tool began ports nsd_port stripped_port unbound_port smtp_port=0 smtp_server=""
    began=$(date +%s.%N)
    for tool in nsd nsd-checkconf unbound unbound-checkconf ldns-keygen ldns-signzone openssl python3 realpath; do
        command -v "$tool" >/dev/null || fail "$tool not found (Debian packages: nsd unbound ldnsutils openssl python3)"
    done
    if ((smtp)); then
        command -v postfix >/dev/null || fail "postfix not found (or set DNSSEC_LAB_SMTP=0)"
        [[ $(id -u) == 0 ]] || fail "the SMTP servers need root (Postfix's master); DNSSEC_LAB_SMTP=0 leaves them out"
    fi
    do_stop
    trap on_start_exit EXIT
    mkdir -p "$state"
    chmod go+rx "$state"
    rm -rf "$dns" "$json" "$anchor"
    mkdir -p "$dns/keys"

    mapfile -t ports < <(free_ports 4)
    ((${#ports[@]} == 4)) || fail "could not pick free ports"
    nsd_port=${ports[0]} stripped_port=${ports[1]} unbound_port=${ports[2]} smtp_port=${ports[3]}
    make_pki
    # The TLSA records are published for port 25 and for the lab's SMTP port.
    python3 "$zones_py" plan "$pki" "$dns" "$smtp_port"
    sign_zones
    # The stripped copy: the same zones as published before signing.
    local zone
    for zone in example dane.example expired.example; do
        cp "$dns/$zone.zone" "$dns/$zone.unsigned"
    done
    # (example.zone got the DS records appended: the stripped parent keeps them, as a stripping
    # resolver passes DS on while dropping RRSIGs.)

    write_nsd_conf "$signed_conf" "$nsd_port" signed
    write_nsd_conf "$stripped_conf" "$stripped_port" unsigned
    write_unbound_conf "$unbound_port" "$nsd_port"
    nsd-checkconf "$signed_conf" || fail "nsd-checkconf rejected $signed_conf"
    nsd-checkconf "$stripped_conf" || fail "nsd-checkconf rejected $stripped_conf"
    unbound-checkconf "$unbound_conf" >/dev/null || fail "unbound-checkconf rejected $unbound_conf"

    log "starting nsd on 127.0.0.1@$nsd_port, the stripped nsd on @$stripped_port, unbound on @$unbound_port"
    # Each daemonizes itself; the timeout bounds the parent's start-up.
    timeout 15 nsd -c "$signed_conf" >>"$dns/nsd.log" 2>&1 || fail "nsd did not start"
    timeout 15 nsd -c "$stripped_conf" >>"$dns/nsd-stripped.log" 2>&1 || fail "the stripped nsd did not start"
    timeout 15 unbound -c "$unbound_conf" >>"$dns/unbound.log" 2>&1 || fail "unbound did not start"
    if ((smtp)); then
        write_postfix "$smtp_port"
        log "starting Postfix ($postfix_conf) on port $smtp_port of 127.0.3.*"
        local out
        out=$(timeout 20 postfix -c "$postfix_conf" start 2>&1) || { echo "$out" >&2; fail "postfix -c $postfix_conf start failed"; }
        smtp_server=postfix
    fi
    answers "$nsd_port" dane.example 10 || fail "nsd does not answer on port $nsd_port"
    answers "$stripped_port" dane.example 10 || fail "the stripped nsd does not answer on port $stripped_port"
    answers "$unbound_port" dane.example 10 || fail "unbound does not answer on port $unbound_port"
    if ((smtp)); then
        smtp_answers "$smtp_port" 15 || fail "the SMTP servers do not answer"
    fi
    local seconds
    seconds=$(python3 -c "import sys; print(round($(date +%s.%N) - $began, 2))")
    python3 "$zones_py" json "$dns/cases.plan.json" "$state" "$unbound_port" "$nsd_port" "$stripped_port" \
        "$smtp_port" "$smtp_server" "$anchor" "$seconds" >"$json.tmp"
    mv "$json.tmp" "$json"
    log "started in $seconds s"
    started=1
    trap - EXIT
    echo "$json"
}

case $command in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) usage ;;
esac
