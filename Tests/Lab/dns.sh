#!/usr/bin/env bash
# dns.sh start|stop|status STATE_DIR: the DNS test lab, an authoritative nsd on loopback.
#
# start:  writes a zone "lab.example." (one domain per --mx case), an nsd config,
#         pid, database and log files, all under STATE_DIR; starts nsd on a free
#         unprivileged port of 127.0.0.1 (UDP and TCP), waits (bounded) until it
#         answers, writes STATE_DIR/dns.json and prints its path on stdout.
# stop:   stops that nsd; safe to repeat; leaves STATE_DIR in place.
# status: exit 0 only when this instance's nsd runs.
#
# Needs nsd (Debian package nsd; its own system service is never started or
# touched) and python3. Never reads or writes /etc, never forwards anywhere:
# nsd is authoritative only, for lab.example., and REFUSES everything else.
# Names live under example. because libunbound answers NXDOMAIN by itself for
# special-use names such as test. and invalid.
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Tests/Lab/common.sh
source "$lab_dir/common.sh"
# nsd and nsd-checkconf live in /usr/sbin, which a test runner's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

zone=lab.example

usage() {
    echo "usage: $0 start|stop|status STATE_DIR" >&2
    exit 2
}

log() {
    echo "dns.sh: $*" >&2
}

fail() {
    log "$*"
    exit 1
}

[[ $# -eq 2 ]] || usage
command=$1
[[ -n $2 ]] || usage
state=$(realpath -m -- "$2")
# nsd.conf quotes paths; keep them to characters that need no escaping.
[[ $state =~ ^/[A-Za-z0-9._/+-]+$ ]] || fail "STATE_DIR must be a path of letters, digits and . _ / + - only: $state"

dns=$state/dns
conf=$dns/nsd.conf
zonefile=$dns/$zone.zone
pidfile=$dns/nsd.pid
logfile=$dns/nsd.log
json=$state/dns.json

# The pid of this instance's nsd, if it runs: the pid file's process, still an
# nsd started with our config (pids get reused).
nsd_pid() {
    local pid
    [[ -r $pidfile ]] || return 1
    pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "-c $conf" || return 1
    echo "$pid"
}

# Every process of this instance (nsd forks a main, xfrd and server children), by
# their command line naming our config.
instance_pids() {
    local cmdline pid
    for cmdline in /proc/[0-9]*/cmdline; do
        pid=${cmdline#/proc/}
        pid=${pid%/cmdline}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        if { tr '\0' ' ' <"$cmdline"; } 2>/dev/null | grep -qF -- "-c $conf"; then
            echo "$pid"
        fi
    done
}

do_stop() {
    local pid pids=()
    if pid=$(nsd_pid); then
        log "stopping nsd (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
    fi
    mapfile -t pids < <(instance_pids)
    ((${#pids[@]} == 0)) && { rm -f "$pidfile"; return 0; }
    # nsd's main process stops its children on TERM; anything left after 5 s is killed.
    kill -TERM "${pids[@]}" 2>/dev/null || true
    if ! wait_gone 5 "${pids[@]}"; then
        log "nsd did not stop within 5 s; killing ${pids[*]}"
        kill -KILL "${pids[@]}" 2>/dev/null || true
        wait_gone 2 "${pids[@]}" || fail "could not stop nsd (${pids[*]})"
    fi
    rm -f "$pidfile"
}

do_status() {
    local pid
    if pid=$(nsd_pid); then
        echo "nsd runs (pid $pid, config $conf)"
        return 0
    fi
    echo "nsd does not run (config $conf)"
    return 1
}

# A port above 1024, free for both UDP and TCP on 127.0.0.1 right now.
free_port() {
    python3 - <<'EOF'
import socket, sys
for _ in range(200):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port))
    except OSError:
        u.close()
        t.close()
        continue
    u.close()
    t.close()
    if port > 1024:
        print(port)
        sys.exit(0)
sys.exit("no free port")
EOF
}

# answers PORT SECONDS: true once an SOA query for the zone gets an authoritative
# NOERROR answer over UDP, polled until SECONDS pass.
answers() {
    python3 - "$1" "$2" "$zone" <<'EOF'
import socket, struct, sys, time
port, seconds, zone = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
qname = b"".join(bytes([len(label)]) + label.encode() for label in zone.split(".")) + b"\0"
query = struct.pack(">HHHHHH", 0x4D58, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 6, 1)
end = time.monotonic() + seconds
while time.monotonic() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    try:
        s.sendto(query, ("127.0.0.1", port))
        reply, _ = s.recvfrom(4096)
        ident, flags, _, ancount = struct.unpack(">HHHH", reply[:8])
        if ident == 0x4D58 and flags & 0x000F == 0 and flags & 0x0400 and ancount >= 1:
            sys.exit(0)
    except OSError:
        pass
    finally:
        s.close()
    time.sleep(0.1)
sys.exit(1)
EOF
}

write_zone() {
    local i
    {
        cat <<EOF
; The mxcheck DNS lab: one domain per --mx case. Generated by Tests/Lab/dns.sh.
\$ORIGIN $zone.
\$TTL 300
@               SOA     ns.$zone. hostmaster.$zone. 1 3600 600 86400 300
@               NS      ns.$zone.
ns              A       127.0.0.1

; Shared MX hosts.
mx1             A       127.0.0.2
mx2             A       127.0.0.3
mx-dual         A       127.0.0.4
mx-dual         AAAA    ::1
mx-alias        CNAME   mx1.$zone.
no-address-host TXT     "this name exists but has no A or AAAA"

; Two MX at different preferences, listed highest first to prove sorting.
two-mx          MX      20 mx2.$zone.
two-mx          MX      10 mx1.$zone.

; Three MX hosts, one address each, all served by the same certificate: three endpoints.
mx3             A       127.0.0.5
three-mx        MX      10 mx1.$zone.
three-mx        MX      20 mx2.$zone.
three-mx        MX      30 mx3.$zone.

; One MX host with both A and AAAA: two endpoints.
dual            MX      10 mx-dual.$zone.

; Null MX (RFC 7505): accepts no mail.
null-mx         MX      0 .

; No MX, but an A record: the implicit MX (RFC 5321 section 5.1).
implicit        A       127.0.0.5

; No MX and no address at all.
bare            TXT     "no MX, no A, no AAAA"

; An MX host that exists but has no address.
no-address      MX      10 no-address-host.$zone.

; An MX host without address beside a good one: the empty host is an object of its own.
half-empty      MX      10 no-address-host.$zone.
half-empty      MX      20 mx2.$zone.

; An MX host that does not exist.
missing-host    MX      10 nonexistent-host.$zone.

; An MX target that is a CNAME (RFC 5321 section 5.1 forbids it), and a good MX beside it.
cname           MX      10 mx-alias.$zone.
cname           MX      20 mx2.$zone.

; An MX target that is an IP address written as a name, and a good MX beside it.
ip-literal      MX      10 192.0.2.1.
ip-literal      MX      20 mx2.$zone.

; 22 MX hosts: the first 20 by preference are checked, 2 skipped.
EOF
        for i in $(seq -w 1 22); do
            printf 'many-mx         MX      %d mx%s.many-mx.%s.\n' "$((10#$i * 10))" "$i" "$zone"
            printf 'mx%s.many-mx     A       127.0.0.6\n' "$i"
        done
        echo
        echo "; One MX host with 12 addresses: the first 10 are checked, 2 skipped."
        echo "many-addr       MX      10 mx.many-addr.$zone."
        for i in $(seq 1 12); do
            printf 'mx.many-addr    A       127.0.1.%d\n' "$i"
        done
        echo
        bash "$lab_dir/mtasts_zone.sh" "$zone"
    } >"$zonefile"
}

write_conf() {
    local port=$1
    cat >"$conf" <<EOF
# nsd for the mxcheck DNS lab; generated by Tests/Lab/dns.sh. Loopback only, no
# privileges dropped, no chroot, every file under $dns.
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
    zonelistfile: "$dns/zone.list"
    xfrdfile: "$dns/xfrd.state"
    xfrdir: "$dns"
    pidfile: "$pidfile"
    logfile: "$logfile"
    verbosity: 1
    hide-version: yes
    hide-identity: yes
    refuse-any: yes
    reuseport: no
    round-robin: no
remote-control:
    control-enable: no
zone:
    name: "$zone."
    zonefile: "$zonefile"
EOF
}

write_json() {
    local port=$1
    python3 - "$state" "$port" "$zone" >"$json.tmp" <<'EOF'
import json, sys
state, port, zone = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def d(name):
    return name + "." + zone
domains = {
    d("two-mx"): "two MX, preference 20 (mx2, 127.0.0.3) listed before 10 (mx1, 127.0.0.2): sorted by preference",
    d("three-mx"): "MX 10 mx1, 20 mx2, 30 mx3 (127.0.0.2, .3, .5), one certificate: three endpoints",
    d("dual"): "one MX host (mx-dual) with A 127.0.0.4 and AAAA ::1: two endpoints",
    d("null-mx"): "null MX (MX 0 .): dns.null_mx, no endpoint",
    d("implicit"): "no MX, A 127.0.0.5: implicit MX, dns.implicit_mx",
    d("bare"): "no MX, no A/AAAA (only TXT): dns.implicit_mx and dns.mx_no_address, no endpoint",
    d("no-address"): "MX no-address-host, which exists (TXT) but has no A/AAAA: dns.mx_no_address",
    d("half-empty"): "MX 10 no-address-host (no A/AAAA) and MX 20 mx2: an MX host object with dns.mx_no_address, mx2 checked",
    d("missing-host"): "MX nonexistent-host, which does not exist: dns.nxdomain for the host",
    d("cname"): "MX 10 mx-alias (CNAME to mx1, 127.0.0.2) and MX 20 mx2: dns.mx_cname, both checked",
    d("ip-literal"): "MX 10 192.0.2.1. and MX 20 mx2: dns.mx_ip_literal, only mx2 checked",
    d("many-mx"): "22 MX (mx01..mx22.many-mx, preferences 10..220, all 127.0.0.6): 20 checked, dns.skipped",
    d("many-addr"): "one MX host with A 127.0.1.1 .. 127.0.1.12: 10 checked, dns.skipped",
    d("does-not-exist"): "no such name: dns.nxdomain",
}
doc = {"resolver": "127.0.0.1@%d" % port, "port": port, "zone": zone + ".", "stateDir": state, "domains": domains}
json.dump(doc, sys.stdout, indent=2, sort_keys=True)
sys.stdout.write("\n")
EOF
    mv "$json.tmp" "$json"
}

do_start() {
    local tool port attempt
    for tool in nsd nsd-checkconf python3 realpath; do
        command -v "$tool" >/dev/null || fail "$tool not found (Debian package: nsd, python3, coreutils)"
    done
    do_stop
    mkdir -p "$dns"
    rm -f "$json" "$logfile"
    write_zone
    # A port taken between choosing and binding makes nsd fail: try a few ports.
    for attempt in 1 2 3; do
        port=$(free_port) || fail "no free port on 127.0.0.1"
        if [[ ! $port =~ ^[0-9]+$ ]] || ((port <= 1024)); then fail "bad port: $port"; fi
        write_conf "$port"
        nsd-checkconf "$conf" || fail "nsd-checkconf rejected $conf"
        log "starting nsd on 127.0.0.1@$port ($conf)"
        # nsd daemonizes itself; the timeout bounds the parent's start-up.
        if timeout 15 nsd -c "$conf" >>"$logfile" 2>&1 && answers "$port" 10; then
            write_json "$port"
            echo "$json"
            return 0
        fi
        log "nsd did not answer on port $port (attempt $attempt); its log:"
        tail -5 "$logfile" >&2 || true
        do_stop
    done
    fail "nsd did not start"
}

case $command in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) usage ;;
esac
