#!/usr/bin/env bash
# lab.sh start|stop|status STATE_DIR: the end-to-end test lab.
#
# start: generates the PKI (pki.sh), starts the scripted odd server
#        (oddsmtp.py), starts a private Postfix instance with one smtpd per
#        TLS case on free loopback ports, checks every Postfix service
#        answers, writes STATE_DIR/cases.json and prints its path on stdout.
# stop:  stops all of it; safe to repeat; leaves STATE_DIR in place.
# status: says what runs; exit 0 only when the Postfix instance runs.
#
# Needs root (Postfix's master binds and drops privileges), postfix >= 3.6,
# openssl and python3. Never touches /etc or the system's Postfix.
# LAB_ODDSMTP=/path/to/server.py overrides the odd server script.
set -euo pipefail
# postfix and postconf live in /usr/sbin, which a test runner's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Tests/Lab/common.sh
source "$lab_dir/common.sh"
lab_name=mx.lab.example
odd_script=${LAB_ODDSMTP:-$lab_dir/oddsmtp.py}

usage() {
    echo "usage: $0 start|stop|status STATE_DIR" >&2
    exit 2
}

log() {
    echo "lab.sh: $*" >&2
}

[[ $# -eq 2 ]] || usage
command=$1
[[ -n $2 ]] || usage
# Absolute path; Postfix lists and master.cf arguments cannot hold spaces or commas.
state=$(realpath -m -- "$2")
if [[ ! $state =~ ^/[A-Za-z0-9._/+-]+$ ]]; then
    log "STATE_DIR must be a path of letters, digits and . _ / + - only: $state"
    exit 2
fi

conf=$state/postfix
pki=$state/pki
queue=$conf/queue
maillog=$conf/maillog
odd_json=$state/odd.json
odd_pid_file=$state/odd.pid
odd_out=$state/odd.out
cases_json=$state/cases.json

# --- processes of this instance ----------------------------------------------

master_pid() {
    local pid
    [[ -r $queue/pid/master.pid ]] || return 1
    pid=$(tr -dc '0-9' <"$queue/pid/master.pid")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    # Only a master started with our config counts (pids get reused).
    { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "MAIL_CONFIG=$conf" || return 1
    echo "$pid"
}

odd_pid() {
    local pid
    [[ -r $odd_pid_file ]] || return 1
    pid=$(tr -dc '0-9' <"$odd_pid_file")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "--state $odd_json" || return 1
    echo "$pid"
}

# Pids of any process left of this instance: Postfix daemons carry MAIL_CONFIG,
# the odd server names the state directory on its command line.
leftover_pids() {
    local environ pid
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}
        pid=${pid%/environ}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        if { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qxF "MAIL_CONFIG=$conf"; then
            echo "$pid"
        elif { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "--state $odd_json"; then
            echo "$pid"
        fi
    done
}

do_stop() {
    local pid pids=()
    # Signal both servers first, then wait for them together.
    if pid=$(master_pid); then
        log "stopping Postfix (master $pid)"
        timeout 15 postfix -c "$conf" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        pids+=("$pid")
    fi
    if pid=$(odd_pid); then
        log "stopping odd server ($pid)"
        kill "$pid" 2>/dev/null || true
        pids+=("$pid")
    fi
    rm -f "$odd_pid_file"
    if ((${#pids[@]})) && ! wait_gone 8 "${pids[@]}"; then
        log "forcing: kill -9 ${pids[*]}"
        kill -9 "${pids[@]}" 2>/dev/null || true
    fi
    # Postfix children leave once their master is gone; be sure, then force.
    mapfile -t pids < <(leftover_pids)
    if ((${#pids[@]})) && ! wait_gone 5 "${pids[@]}"; then
        mapfile -t pids < <(leftover_pids)
        if ((${#pids[@]})); then
            log "killing leftover processes: ${pids[*]}"
            kill -9 "${pids[@]}" 2>/dev/null || true
            wait_gone 2 "${pids[@]}" || true
        fi
    fi
    return 0
}

do_status() {
    local rc=0 pid
    if pid=$(master_pid); then
        echo "postfix: running (master $pid, config $conf)"
    else
        echo "postfix: not running"
        rc=1
    fi
    if pid=$(odd_pid); then
        echo "odd server: running ($pid)"
    else
        echo "odd server: not running"
    fi
    [[ -f $cases_json ]] && echo "cases: $cases_json"
    return "$rc"
}

# --- start -------------------------------------------------------------------

started=0
on_start_exit() {
    local rc=$?
    ((started)) && return 0
    ((rc)) || rc=1
    log "start FAILED (exit $rc)"
    if [[ -s $maillog ]]; then
        # Without postfix-script's warnings about the lab's layout (queue inside config dir).
        echo "---- last lines of $maillog ----" >&2
        grep -v -e 'postfix-script.*warning: not owned by' -e 'postfix-script.*warning: group or other writable' \
            "$maillog" | tail -n 40 >&2 || true
    fi
    if [[ -s $odd_out ]]; then
        echo "---- last lines of $odd_out ----" >&2
        tail -n 20 "$odd_out" >&2
    fi
    do_stop
    exit "$rc"
}

fail() {
    log "$*"
    exit 1
}

# free_ports N4 N6: N4 free ports on 127.0.0.1 then N6 on ::1, one a line, all
# distinct and above 1024; every socket stays bound until all are chosen.
free_ports() {
    python3 - "$1" "$2" <<'EOF'
import socket, sys
n4, n6 = int(sys.argv[1]), int(sys.argv[2])
held, ports = [], []
for family, address, count in ((socket.AF_INET, "127.0.0.1", n4), (socket.AF_INET6, "::1", n6)):
    tries = 0
    while count > 0:
        tries += 1
        if tries > 200:
            sys.exit("no free ports")
        s = socket.socket(family, socket.SOCK_STREAM)
        s.bind((address, 0))
        port = s.getsockname()[1]
        if port <= 1024 or port in ports:
            s.close()
            continue
        if family == socket.AF_INET6:
            # IPv6 ports are also free on 127.0.0.1, so a dual-stack case can listen on both.
            v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                v4.bind(("127.0.0.1", port))
            except OSError:
                v4.close()
                s.close()
                continue
            held.append(v4)
        held.append(s)
        ports.append(port)
        count -= 1
for s in held:
    s.close()
print("\n".join(map(str, ports)))
EOF
}

have_ipv6() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

# Every directory above the queue must be searchable by the postfix user.
check_traversable() {
    local dir=$1 mode
    while [[ $dir != / ]]; do
        mode=$(stat -c %A "$dir")
        if [[ ${mode:9:1} != [xt] ]]; then
            fail "$dir is not searchable by others (mode $mode); Postfix's daemons cannot reach $queue"
        fi
        dir=$(dirname "$dir")
    done
}

start_odd_server() {
    rm -f "$odd_json" "$odd_pid_file"
    if [[ ! -f $odd_script ]]; then
        {
            echo "************************************************************"
            echo "lab.sh: WARNING: odd server $odd_script is MISSING."
            echo "lab.sh: WARNING: cases.json will have NO odd-server cases."
            echo "************************************************************"
        } >&2
        return 0
    fi
    # setsid: the server outlives this script and has its own session.
    setsid python3 "$odd_script" --state "$odd_json" --log "$state/odd-commands.log" --pki "$pki" \
        </dev/null >"$odd_out" 2>&1 &
    local pid=$! tenths=100
    echo "$pid" >"$odd_pid_file"
    while [[ ! -s $odd_json ]]; do
        kill -0 "$pid" 2>/dev/null || fail "odd server exited before writing $odd_json"
        ((tenths-- > 0)) || fail "odd server wrote no $odd_json within 10 s"
        sleep 0.1
    done
}

write_main_cf() {
    local interfaces=$1 protocols=$2
    local debug_peers="127.0.0.0/8 [::1]/128"
    [[ ${LAB_VERBOSE_LOG:-1} == 0 ]] && debug_peers=""
    cat >"$conf/main.cf" <<EOF
# Private Postfix instance of the mxcheck test lab (generated by lab.sh).
compatibility_level = 3.6
queue_directory = $queue
data_directory = $conf/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = mxcheck-lab
maillog_file = $maillog
maillog_file_prefixes = $state
myhostname = $lab_name
mydomain = lab.example
myorigin = \$myhostname
inet_interfaces = $interfaces
inet_protocols = $protocols
mynetworks = 127.0.0.0/8 [::1]/128
# Never accept or deliver mail.
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
# Nothing rejects or slows a loopback client before RCPT.
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_data_restrictions =
smtpd_helo_required = no
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_client_connection_count_limit = 0
# Log every command a loopback client sends ("< client: VERB ..."): the tests read what mxcheck said.
# LAB_VERBOSE_LOG=0 (benchmarks) turns it off.
debug_peer_list = ${debug_peers}
debug_peer_level = 1
biff = no
# TLS defaults; each service overrides the whole set with -o.
smtpd_tls_security_level = may
smtpd_tls_chain_files = $pki/valid.key, $pki/valid.fullchain.pem
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
EOF
}

# Services smtpd may talk to; no pickup, no local delivery.
write_master_cf_base() {
    cat >"$conf/master.cf" <<'EOF'
# Private Postfix instance of the mxcheck test lab (generated by lab.sh).
# service     type  private unpriv chroot wakeup maxproc command + args
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
}

# The case list: every add_case appends a master.cf service and a cases row.
cases_rows=()
add_case() {
    local name=$1 address=$2 port=$3 tls=$4
    shift 4
    local listen=$address
    [[ $address == *:* ]] && listen="[$address]"
    {
        echo "$listen:$port inet n - n - - smtpd"
        echo "  -o syslog_name=mxcheck-lab/$name"
        local opt
        for opt in "$@"; do
            echo "  -o $opt"
        done
    } >>"$conf/master.cf"
    cases_rows+=("$name $address $port $tls")
}

# add_listen NAME ADDRESS PORT OPTIONS...: one more smtpd listener without a cases row.
add_listen() {
    local name=$1 address=$2 port=$3
    shift 3
    {
        echo "${address:+$address:}$port inet n - n - - smtpd"
        echo "  -o syslog_name=mxcheck-lab/$name"
        local opt
        for opt in "$@"; do
            echo "  -o $opt"
        done
    } >>"$conf/master.cf"
}

chain() {
    echo "smtpd_tls_chain_files=$pki/$1.key,$pki/$1.fullchain.pem"
}

# check_banners: every Postfix case answers with a 220 greeting (bounded, 10 s).
check_banners() {
    printf '%s\n' "${cases_rows[@]}" | python3 -c '
import socket, ssl, sys, time
deadline = time.monotonic() + 10
pending = [line.split() for line in sys.stdin if line.strip()]
last = {}
while pending and time.monotonic() < deadline:
    still = []
    for name, address, port, tls in pending:
        try:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(max(0.5, min(3, deadline - time.monotonic())))
            s.connect((address, int(port)))
            if tls == "implicit":
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                s = ctx.wrap_socket(s, server_hostname="mx.lab.example")
            data = b""
            while b"\n" not in data:
                chunk = s.recv(512)
                if not chunk:
                    break
                data += chunk
            s.close()
            if not data.startswith(b"220"):
                raise OSError("greeting %r" % data[:80])
        except OSError as e:
            last[name] = "%s:%s %s" % (address, port, e)
            still.append((name, address, port, tls))
    pending = still
    if pending:
        time.sleep(0.2)
for name, address, port, tls in pending:
    print("service %s does not answer: %s" % (name, last.get(name)), file=sys.stderr)
sys.exit(1 if pending else 0)
'
}

write_cases_json() {
    local refused_port=$1
    printf '%s\n' "${cases_rows[@]}" | python3 -c '
import json, os, sys
state, root, name, odd_json, refused, odd_server = sys.argv[1:7]
cases = {}
for line in sys.stdin:
    if line.strip():
        case, address, port, tls = line.split()
        cases[case] = {"address": address, "port": int(port), "tls": tls, "server": "postfix"}
if os.path.exists(odd_json):
    with open(odd_json) as f:
        modes = json.load(f)
    for mode, port in sorted(modes.items()):
        # A mode named like a Postfix case (no_starttls, starttls_454) is kept as odd_MODE.
        key = "odd_" + mode if mode in cases else mode
        if key in cases:
            sys.exit("odd server mode %s clashes with case %s" % (mode, key))
        cases[key] = {"address": "127.0.0.1", "port": int(port), "tls": "starttls", "server": "odd"}
cases["refused"] = {"address": "127.0.0.1", "port": int(refused), "tls": "starttls", "server": "none"}
doc = {"stateDir": state, "rootCA": root, "name": name, "oddServer": odd_server == "1",
       "cases": cases}
tmp = os.path.join(state, ".cases.json.tmp")
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2, sort_keys=True)
    f.write("\n")
os.replace(tmp, os.path.join(state, "cases.json"))
' "$state" "$pki/root.pem" "$lab_name" "$odd_json" "$refused_port" "$([[ -f $odd_script ]] && echo 1 || echo 0)"
}

do_start() {
    local tool
    for tool in postfix postconf openssl python3 setsid timeout; do
        command -v "$tool" >/dev/null || { log "$tool not found"; exit 1; }
    done
    [[ $(id -u) == 0 ]] || { log "start needs root (Postfix's master)"; exit 1; }

    # A previous run in the same directory is stopped first.
    do_stop
    trap on_start_exit EXIT
    mkdir -p "$state"
    chmod go+rx "$state"
    check_traversable "$state"
    rm -f "$cases_json" "$maillog" "$odd_out"

    log "generating PKI in $pki"
    bash "$lab_dir/pki.sh" "$pki"

    start_odd_server

    local ipv6=0 n6=0
    if have_ipv6; then
        ipv6=1
        n6=2
    else
        log "WARNING: ::1 is not usable; the ipv6 case is left out"
    fi
    local -a ports
    mapfile -t ports < <(free_ports 19 "$n6")
    ((${#ports[@]} == 19 + n6)) || fail "could not pick free ports"

    rm -rf "$conf"
    mkdir -p "$queue" "$conf/data"
    chown postfix: "$conf/data"
    chmod 0755 "$conf" "$queue"
    local bench=${LAB_BENCH_ENDPOINTS:-0} bench_hosts=0 extra=""
    if ((bench > 0)); then
        ((bench <= 1000)) || fail "LAB_BENCH_ENDPOINTS is at most 1000"
        bench_hosts=$(((bench + 3) / 4))
        local h
        for ((h = 1; h <= bench_hosts; h++)); do extra+=", 127.0.2.$h"; done
    fi
    if ((ipv6)); then
        write_main_cf "127.0.0.1, [::1]$extra" all
    else
        write_main_cf "127.0.0.1$extra" ipv4
    fi
    write_master_cf_base

    local a=127.0.0.1 i=0
    local may=smtpd_tls_security_level=may
    local seclevel0=tls_medium_cipherlist=ALL:@SECLEVEL=0
    add_case valid "$a" "${ports[i++]}" starttls "$may" "$(chain valid)"
    add_case expired "$a" "${ports[i++]}" starttls "$may" "$(chain expired)"
    add_case not_yet_valid "$a" "${ports[i++]}" starttls "$may" "$(chain notyet)"
    add_case expiring_crit "$a" "${ports[i++]}" starttls "$may" "$(chain expcrit)"
    add_case expiring_warn "$a" "${ports[i++]}" starttls "$may" "$(chain expwarn)"
    add_case self_signed "$a" "${ports[i++]}" starttls "$may" "$(chain selfsigned)"
    add_case unknown_ca "$a" "${ports[i++]}" starttls "$may" "$(chain unknownca)"
    add_case chain_incomplete "$a" "${ports[i++]}" starttls "$may" "$(chain chainless)"
    add_case hostname_mismatch "$a" "${ports[i++]}" starttls "$may" "$(chain mismatch)"
    add_case ecdsa "$a" "${ports[i++]}" starttls "$may" "$(chain ecdsa)"
    # OpenSSL refuses a 1024-bit key and a SHA-1 signature above security level 0.
    add_case weak_key "$a" "${ports[i++]}" starttls "$may" "$(chain weak)" "$seclevel0"
    add_case legacy_tls "$a" "${ports[i++]}" starttls "$may" "$(chain valid)" "$seclevel0" \
        "smtpd_tls_protocols=>=TLSv1,<=TLSv1.1" "smtpd_tls_mandatory_protocols=>=TLSv1,<=TLSv1.1"
    add_case tls13_only "$a" "${ports[i++]}" starttls "$may" "$(chain valid)" \
        "smtpd_tls_protocols=>=TLSv1.3" "smtpd_tls_mandatory_protocols=>=TLSv1.3"
    add_case no_starttls "$a" "${ports[i++]}" starttls smtpd_tls_security_level=none
    # A key that does not match its certificate disables smtpd's TLS engine, yet
    # STARTTLS is still offered and answered with 454. (A missing chain file
    # does not do this: Postfix 3.7 then says 220 and fails the handshake.)
    add_case starttls_454 "$a" "${ports[i++]}" starttls "$may" \
        "smtpd_tls_chain_files=$pki/expired.key,$pki/valid.fullchain.pem"
    add_case implicit_tls "$a" "${ports[i++]}" implicit "$may" "$(chain valid)" smtpd_tls_wrappermode=yes
    add_case submission_encrypt "$a" "${ports[i++]}" starttls smtpd_tls_security_level=encrypt "$(chain valid)"
    if ((ipv6)); then
        # The last two ports were picked free on ::1 (and on 127.0.0.1).
        add_case ipv6 ::1 "${ports[19]}" starttls "$may" "$(chain valid)"
        # One port on both loopback addresses: a host name with A and AAAA gives two endpoints.
        add_case dual ::1 "${ports[20]}" starttls "$may" "$(chain pool)"
        add_case dual_v4 "$a" "${ports[20]}" starttls "$may" "$(chain pool)"
        # The same port on the addresses of the DNS lab's MX hosts (127.0.0.2-6, 127.0.1.1-12): --mx tests.
        local pool
        for pool in 127.0.0.{2..6} 127.0.1.{1..12}; do
            add_listen "mx_pool" "$pool" "${ports[20]}" "$may" "$(chain pool)"
        done
        cases_rows+=("mx_pool 127.0.0.2 ${ports[20]} starttls")
    fi
    add_case dhe1024 "$a" "${ports[i++]}" starttls "$may" "$(chain valid)" \
        "smtpd_tls_dh1024_param_file=$pki/dh1024.pem" \
        "smtpd_tls_protocols=<=TLSv1.2" "smtpd_tls_mandatory_protocols=<=TLSv1.2" \
        "tls_medium_cipherlist=kDHE:@SECLEVEL=0"
    # The server's cipher order wins over the client's (Postfix: tls_preempt_cipherlist).
    add_case server_order "$a" "${ports[i++]}" starttls "$may" "$(chain valid)" tls_preempt_cipherlist=yes
    # A leaf with 1,001 DNS SANs, mx.lab.example last; its port is picked apart from (and distinct from) the rest.
    local many_port tries=0
    while many_port=$(free_ports 1 0) && [[ " ${ports[*]} " == *" $many_port "* ]] && ((tries++ < 10)); do :; done
    [[ $many_port =~ ^[0-9]+$ && " ${ports[*]} " != *" $many_port "* ]] || fail "could not pick a port for many_names"
    add_case many_names "$a" "$many_port" starttls "$may" "$(chain many)"
    # LAB_BENCH_ENDPOINTS=N (the batch benchmark, at most 1000): four smtpd services of the valid setup on
    # ports probed free at start, without an address, so each listens on every bench address of
    # inet_interfaces (127.0.2.1 upwards): one pool of smtpd processes a port, as a real server has.
    if ((bench > 0)); then
        local -a bench_ports
        mapfile -t bench_ports < <(free_ports 4 0)
        local p n=0 host bench_list=$state/bench-targets.txt
        : >"$bench_list"
        for p in "${bench_ports[@]}"; do
            add_listen bench "" "$p" "$may" "$(chain pool)"
        done
        for ((host = 1; host <= bench_hosts; host++)); do
            for p in "${bench_ports[@]}"; do
                ((n < bench)) || break 2
                echo "127.0.2.$host:$p" >>"$bench_list"
                n=$((n + 1))
            done
        done
        cases_rows+=("bench 127.0.2.1 ${bench_ports[0]} starttls")
    fi
    # The fix texts proven (FixTextTests): fix_weak accepts TLS 1.0/1.1, NULL, anonymous and static-RSA suites
    # and uses a 1024-bit DH group; fix_applied starts the same, and the tests apply each fix text to it
    # (postconf -P, postfix reload).
    local -a fix_ports
    local fix_try
    for fix_try in 1 2 3 4 5; do
        mapfile -t fix_ports < <(free_ports 2 0)
        # Picked apart from the ports above, so none may be one of those.
        [[ " ${ports[*]} " != *" ${fix_ports[0]:-x} "* && " ${ports[*]} " != *" ${fix_ports[1]:-x} "* ]] && break
        fix_ports=()
    done
    ((${#fix_ports[@]} == 2)) || fail "could not pick free ports for the fix cases"
    local -a fix_weak=("$may" "$(chain valid)" "tls_medium_cipherlist=ALL:COMPLEMENTOFALL:@SECLEVEL=0"
        "smtpd_tls_dh1024_param_file=$pki/dh1024.pem")
    add_case fix_weak "$a" "${fix_ports[0]}" starttls "${fix_weak[@]}"
    add_case fix_applied "$a" "${fix_ports[1]}" starttls "${fix_weak[@]}"
    ports+=("${fix_ports[@]}")
    for port in "${ports[@]}"; do
        ((port > 1024)) || fail "port $port is not above 1024"
    done

    log "starting Postfix ($conf)"
    local out
    if ! out=$(timeout 20 postfix -c "$conf" start 2>&1); then
        [[ -z $out ]] || echo "$out" >&2
        fail "postfix -c $conf start failed"
    fi
    master_pid >/dev/null || fail "Postfix master is not running after start"

    check_banners || fail "Postfix services do not answer"

    # The refused case: a port that is free now, and that nothing here binds.
    local refused
    refused=$(free_ports 1 0)
    if [[ ! $refused =~ ^[0-9]+$ ]] || ((refused <= 1024)); then
        fail "could not pick the refused port"
    fi

    write_cases_json "$refused"
    started=1
    trap - EXIT
    echo "$cases_json"
}

case $command in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) usage ;;
esac
