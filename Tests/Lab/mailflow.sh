#!/usr/bin/env bash
# mailflow.sh start|stop|status STATE_DIR: a private Postfix that really delivers mail, for the
# end-to-end tests of `mxcheck headers` (which read the Received fields Postfix writes).
#
# start: writes a self-signed certificate, starts a Postfix instance of its own (config, queue and
#        data directories under STATE_DIR) with three smtpd services on free 127.0.0.1 ports, checks
#        they greet, writes STATE_DIR/mailflow.json and prints its path.
#          mx     receives for mailflow.example and delivers to STATE_DIR/mail/ (one Maildir per
#                 mailbox: tls@, plain@, relay@, loopback@, legacy@, readme@, box1@..box9@); STARTTLS offered;
#                 smtpd_tls_received_header = yes
#          relay  receives and hands every message on to mx over TLS (content_filter to the smtp
#                 client service "tlsrelay", smtp_tls_security_level = encrypt): a two-hop trace
#          legacy like mx, but TLS 1.0 and 1.1 only (tls_medium_cipherlist = ALL:@SECLEVEL=0)
#          All accept XCLIENT from 127.0.0.0/8, so a test can give a message the client address it
#          would have from another host (192.0.2.x) without any traffic off loopback.
# stop:  stops it; safe to repeat; leaves STATE_DIR in place.
# status: exit 0 while the instance runs.
#
# This instance is apart from lab.sh's on purpose: lab.sh's Postfix must never accept mail.
# Needs root (Postfix's master), postfix >= 3.6, openssl and python3. Never touches /etc.
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin

lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Tests/Lab/common.sh
source "$lab_dir/common.sh"

usage() {
    echo "usage: $0 start|stop|status STATE_DIR" >&2
    exit 2
}

log() {
    echo "mailflow.sh: $*" >&2
}

[[ $# -eq 2 ]] || usage
command=$1
[[ -n $2 ]] || usage
state=$(realpath -m -- "$2")
if [[ ! $state =~ ^/[A-Za-z0-9._/+-]+$ ]]; then
    log "STATE_DIR must be a path of letters, digits and . _ / + - only: $state"
    exit 2
fi

conf=$state/postfix
queue=$conf/queue
maillog=$conf/maillog
mail=$state/mail
pki=$state/pki
description=$state/mailflow.json
domain=mailflow.example

master_pid() {
    local pid
    [[ -r $queue/pid/master.pid ]] || return 1
    pid=$(tr -dc '0-9' <"$queue/pid/master.pid")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "MAIL_CONFIG=$conf" || return 1
    echo "$pid"
}

leftover_pids() {
    local environ pid
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}
        pid=${pid%/environ}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        if { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qxF "MAIL_CONFIG=$conf"; then
            echo "$pid"
        fi
    done
}

do_stop() {
    local pid pids=()
    if pid=$(master_pid); then
        log "stopping Postfix (master $pid)"
        timeout 15 postfix -c "$conf" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        if ! wait_gone 8 "$pid"; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
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

started=0
on_start_exit() {
    local rc=$?
    ((started)) && return 0
    ((rc)) || rc=1
    log "start FAILED (exit $rc)"
    if [[ -s $maillog ]]; then
        echo "---- last lines of $maillog ----" >&2
        grep -v -e 'postfix-script.*warning: not owned by' -e 'postfix-script.*warning: group or other writable' \
            "$maillog" | tail -n 40 >&2 || true
    fi
    do_stop
    exit "$rc"
}

fail() {
    log "$*"
    exit 1
}

# free_ports N: N distinct free ports above 1024 on 127.0.0.1, one a line; all held until all are chosen.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
held, ports = [], []
tries = 0
while len(ports) < int(sys.argv[1]):
    tries += 1
    if tries > 200:
        sys.exit("no free ports")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    if port <= 1024 or port in ports:
        s.close()
        continue
    held.append(s)
    ports.append(port)
for s in held:
    s.close()
print("\n".join(map(str, ports)))
EOF
}

check_traversable() {
    local dir=$1 mode
    while [[ $dir != / ]]; do
        mode=$(stat -c %A "$dir")
        [[ ${mode:9:1} == [xt] ]] || fail "$dir is not searchable by others (mode $mode); Postfix's daemons cannot reach $queue"
        dir=$(dirname "$dir")
    done
}

# wait_greeting PORT...: each port answers with 220 within 10 s in all.
wait_greeting() {
    python3 - "$@" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + 10
pending = list(sys.argv[1:])
while pending and time.monotonic() < deadline:
    still = []
    for port in pending:
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=max(0.5, min(3, deadline - time.monotonic()))) as s:
                if not s.recv(512).startswith(b"220"):
                    raise OSError("no 220")
        except OSError:
            still.append(port)
    pending = still
    if pending:
        time.sleep(0.2)
if pending:
    sys.exit("no greeting on port(s) %s" % " ".join(pending))
EOF
}

do_start() {
    local tool
    for tool in postfix postconf openssl python3 timeout; do
        command -v "$tool" >/dev/null || fail "$tool not found"
    done
    [[ $(id -u) == 0 ]] || fail "start needs root (Postfix's master)"
    do_stop
    trap on_start_exit EXIT
    mkdir -p "$state"
    chmod go+rx "$state"
    check_traversable "$state"
    rm -rf "$conf" "$mail" "$pki" "$description"
    mkdir -p "$queue" "$conf/data" "$mail" "$pki"
    chown postfix: "$conf/data"
    chmod 0755 "$conf" "$queue"
    # Mail is delivered as nobody, into a directory only nobody writes (virtual(8) refuses root).
    chown nobody: "$mail"
    chmod 0755 "$mail"

    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=mx.$domain" \
        -addext "subjectAltName=DNS:mx.$domain,DNS:relay.$domain,IP:127.0.0.1" \
        -keyout "$pki/mx.key" -out "$pki/mx.pem" 2>/dev/null || fail "openssl could not make the certificate"
    chmod 0644 "$pki/mx.key" "$pki/mx.pem"

    local -a ports
    mapfile -t ports < <(free_ports 3)
    ((${#ports[@]} == 3)) || fail "could not pick free ports"
    local mx_port=${ports[0]} relay_port=${ports[1]} legacy_port=${ports[2]}

    cat >"$conf/main.cf" <<EOF
# Private delivering Postfix of mxcheck's headers tests (generated by mailflow.sh).
compatibility_level = 3.6
queue_directory = $queue
data_directory = $conf/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = mxcheck-mailflow
maillog_file = $maillog
maillog_file_prefixes = $state
myhostname = mx.$domain
mydomain = $domain
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
relayhost =
local_recipient_maps =
alias_maps =
alias_database =
smtp_dns_support_level = disabled
# Each mailbox of the list is delivered into STATE_DIR/mail/LOCALPART/ (a Maildir).
virtual_mailbox_domains = $domain
virtual_mailbox_base = $mail
virtual_mailbox_maps = texthash:$conf/mailboxes
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 100
default_transport = error:mail leaves only for $domain
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_tls_security_level = may
smtpd_tls_chain_files = $pki/mx.key, $pki/mx.pem
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
smtp_tls_session_cache_database =
biff = no
EOF
    local box
    for box in tls plain relay loopback legacy readme box1 box2 box3 box4 box5 box6 box7 box8 box9; do
        echo "$box@$domain $box/"
    done >"$conf/mailboxes"

    cat >"$conf/master.cf" <<EOF
# Private delivering Postfix of mxcheck's headers tests (generated by mailflow.sh).
127.0.0.1:$mx_port inet n - n - - smtpd
  -o syslog_name=mxcheck-mailflow/mx
127.0.0.1:$relay_port inet n - n - - smtpd
  -o syslog_name=mxcheck-mailflow/relay
  -o myhostname=relay.$domain
  -o content_filter=tlsrelay:[127.0.0.1]:$mx_port
127.0.0.1:$legacy_port inet n - n - - smtpd
  -o syslog_name=mxcheck-mailflow/legacy
  -o tls_medium_cipherlist=ALL:@SECLEVEL=0
  -o smtpd_tls_protocols=>=TLSv1,<=TLSv1.1
  -o smtpd_tls_mandatory_protocols=>=TLSv1,<=TLSv1.1
tlsrelay      unix  -       -      n      -      -       smtp
  -o syslog_name=mxcheck-mailflow/tlsrelay
  -o smtp_helo_name=relay.$domain
  -o smtp_tls_security_level=encrypt
  -o smtp_tls_loglevel=1
pickup        unix  n       -      n      60     1       pickup
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
smtp          unix  -       -      n      -      -       smtp
relay         unix  -       -      n      -      -       smtp
showq         unix  n       -      n      -      -       showq
error         unix  -       -      n      -      -       error
retry         unix  -       -      n      -      -       error
discard       unix  -       -      n      -      -       discard
virtual       unix  -       n      n      -      -       virtual
anvil         unix  -       -      n      -      1       anvil
scache        unix  -       -      n      -      1       scache
postlog       unix-dgram n  -      n      -      1       postlogd
EOF

    log "starting Postfix ($conf)"
    local out
    if ! out=$(timeout 20 postfix -c "$conf" start 2>&1); then
        [[ -z $out ]] || echo "$out" >&2
        fail "postfix -c $conf start failed"
    fi
    master_pid >/dev/null || fail "Postfix master is not running after start"
    wait_greeting "$mx_port" "$relay_port" "$legacy_port" || fail "Postfix services do not answer"

    python3 - "$description" "$state" "$mail" "$maillog" "$domain" "$mx_port" "$relay_port" "$legacy_port" <<'EOF'
import json, os, sys
path, state, mail, maillog, domain, mx, relay, legacy = sys.argv[1:]
doc = {"stateDir": state, "mailDir": mail, "maillog": maillog, "domain": domain,
       "mx": {"address": "127.0.0.1", "port": int(mx), "name": "mx." + domain},
       "relay": {"address": "127.0.0.1", "port": int(relay), "name": "relay." + domain},
       "legacy": {"address": "127.0.0.1", "port": int(legacy), "name": "mx." + domain}}
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2, sort_keys=True)
    f.write("\n")
os.replace(tmp, path)
EOF
    started=1
    trap - EXIT
    echo "$description"
}

case $command in
    start) do_start ;;
    stop) do_stop ;;
    status)
        if pid=$(master_pid); then echo "postfix: running (master $pid, config $conf)"; else echo "postfix: not running"; exit 1; fi
        ;;
    *) usage ;;
esac
