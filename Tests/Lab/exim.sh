#!/usr/bin/env bash
# exim.sh start|stop|status STATE_DIR [OPTION = VALUE]...: Debian's own Exim (exim4-daemon-light, the GnuTLS
# build) as a private daemon of the test lab.
#
# start: unpacks the .deb (apt-get download + dpkg -x, never installed: Debian's MTA packages conflict
#        with Postfix) into STATE_DIR/exim/root, writes a configuration of its own (spool, log and pid in
#        STATE_DIR/exim, STARTTLS with the lab's `valid` certificate, never accepting mail) plus each
#        OPTION = VALUE given as a main-section line, starts the daemon on a free loopback port, waits for
#        its greeting, writes STATE_DIR/exim.json and prints its path:
#          {"address": "127.0.0.1", "port": N, "tls": "starttls", "server": "exim", "version": "4.96",
#           "tlsLibrary": "GnuTLS", "config": ".../exim.conf", "mainlog": ".../mainlog", "paniclog": ...}
#        Run again in the same directory and it stops the old daemon first (a restart with other options).
#        A configuration Exim refuses (exim -bV) or a daemon that does not greet: exit 1, the reason and
#        the end of the panic log on stderr.
# stop:  stops the daemon; safe to repeat.
# status: exit 0 while the daemon runs.
# exim:  exim.sh exim STATE_DIR ARGS... runs the unpacked binary with this configuration (after start).
#
# Needs root. The binary looks up the user Debian-exim at start, which only exists where Exim is installed:
# the daemon runs in a mount namespace of its own (unshare) where /etc/passwd and /etc/group are copies with
# that user added (as nobody's uid), so nothing on the machine changes.
# LAB_EXIM_DEB=/path/to/exim4-daemon-light_*.deb uses that package instead of downloading one.
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin

lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Tests/Lab/common.sh
source "$lab_dir/common.sh"

log() {
    echo "exim.sh: $*" >&2
}

usage() {
    echo "usage: $0 start|stop|status STATE_DIR [OPTION = VALUE]... | exim STATE_DIR ARGS..." >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
command=$1
[[ -n $2 ]] || usage
state=$(realpath -m -- "$2")
shift 2
if [[ ! $state =~ ^/[A-Za-z0-9._/+-]+$ ]]; then
    log "STATE_DIR must be a path of letters, digits and . _ / + - only: $state"
    exit 2
fi

dir=$state/exim
root=$dir/root
exim=$root/usr/sbin/exim4
conf=$dir/exim.conf
pid_file=$dir/exim.pid
spool=$dir/spool
logs=$dir/log
json=$state/exim.json

daemon_pid() {
    local pid
    [[ -r $pid_file ]] || return 1
    pid=$(tr -dc '0-9' <"$pid_file")
    [[ -n $pid ]] && alive "$pid" || return 1
    # Only a daemon of this state directory counts (pids get reused).
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$conf" || return 1
    echo "$pid"
}

do_stop() {
    local pid
    if pid=$(daemon_pid); then
        log "stopping Exim ($pid)"
        kill "$pid" 2>/dev/null || true
        if ! wait_gone 5 "$pid"; then
            kill -9 "$pid" 2>/dev/null || true
            wait_gone 2 "$pid" || true
        fi
    fi
    rm -f "$pid_file"
    return 0
}

fail() {
    log "$*"
    if [[ -s $logs/paniclog ]]; then
        echo "---- last lines of $logs/paniclog ----" >&2
        tail -n 10 "$logs/paniclog" >&2
    fi
    do_stop
    exit 1
}

unpack() {
    [[ -x $exim ]] && return 0
    local deb=${LAB_EXIM_DEB:-}
    mkdir -p "$dir/deb"
    if [[ -z $deb ]]; then
        log "downloading exim4-daemon-light (apt-get download)"
        # apt's sandbox user must be able to write the directory.
        chmod 0777 "$dir/deb"
        (cd "$dir/deb" && timeout 120 apt-get download -q exim4-daemon-light >/dev/null 2>"$dir/deb/download.log") ||
            { cat "$dir/deb/download.log" >&2; fail "apt-get download exim4-daemon-light failed"; }
        deb=$(ls "$dir"/deb/exim4-daemon-light_*.deb 2>/dev/null | head -n 1)
        [[ -n $deb ]] || fail "no .deb after apt-get download"
    fi
    rm -rf "$root"
    dpkg -x "$deb" "$root" || fail "dpkg -x $deb failed"
    [[ -x $exim ]] || fail "$deb holds no usr/sbin/exim4"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_greeting PORT: the daemon answers with a 220 line within 10 s.
wait_greeting() {
    python3 - "$1" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
deadline = time.monotonic() + 10
last = None
while time.monotonic() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        data = b""
        while b"\n" not in data and len(data) < 4096:
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
        s.sendall(b"QUIT\r\n")
        s.close()
        if data.startswith(b"220"):
            sys.exit(0)
        last = "greeting %r" % data[:80]
    except OSError as e:
        last = str(e)
    time.sleep(0.1)
print("no greeting on port %d: %s" % (port, last), file=sys.stderr)
sys.exit(1)
EOF
}

do_start() {
    [[ $(id -u) == 0 ]] || { log "start needs root"; exit 1; }
    local tool
    for tool in apt-get dpkg unshare mount setsid python3 openssl; do
        command -v "$tool" >/dev/null || { log "$tool not found"; exit 1; }
    done
    do_stop
    mkdir -p "$dir"
    chmod 0755 "$state" "$dir"
    rm -f "$json"
    unpack
    local missing
    missing=$(ldd "$exim" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')
    [[ -z $missing ]] || fail "libraries missing for $exim: $missing(run make lab-deps)"

    if [[ ! -f $state/pki/valid.fullchain.pem ]]; then
        log "generating PKI in $state/pki"
        bash "$lab_dir/pki.sh" "$state/pki"
    fi

    rm -rf "$spool" "$logs"
    mkdir -p "$spool" "$logs"
    chown nobody:nogroup "$spool" "$logs"
    # The copies of passwd and group the daemon's namespace sees.
    { grep -v '^Debian-exim:' /etc/passwd; echo "Debian-exim:x:65534:65534:mxcheck lab Exim:/nonexistent:/usr/sbin/nologin"; } >"$dir/passwd"
    { grep -v '^Debian-exim:' /etc/group; echo "Debian-exim:x:65534:"; } >"$dir/group"
    chmod 0644 "$dir/passwd" "$dir/group"

    local port
    port=$(free_port)
    {
        echo "# Private Exim of the mxcheck test lab (generated by exim.sh); it never accepts mail."
        echo "exim_user = nobody"
        echo "exim_group = nogroup"
        echo "primary_hostname = mx.lab.example"
        echo "spool_directory = $spool"
        echo "log_file_path = $logs/%slog"
        echo "local_interfaces = <; 127.0.0.1.$port"
        echo "host_lookup ="
        echo "rfc1413_hosts ="
        echo "keep_environment ="
        echo "smtp_accept_max = 200"
        echo "smtp_accept_max_per_host = 200"
        echo "smtp_accept_queue_per_connection = 0"
        echo "tls_advertise_hosts = *"
        echo "tls_certificate = $state/pki/valid.fullchain.pem"
        echo "tls_privatekey = $state/pki/valid.key"
        local option
        for option in "$@"; do
            [[ $option == *=* && $option != *$'\n'* ]] || fail "not an OPTION = VALUE line: $option"
            echo "$option"
        done
        # No acl_smtp_rcpt: Exim rejects every RCPT.
    } >"$conf"
    chmod 0644 "$conf"

    local checked
    if ! checked=$(run_in_namespace "$exim" -C "$conf" -bV 2>&1); then
        echo "$checked" >&2
        fail "Exim refuses the configuration $conf"
    fi
    local version library
    version=$(sed -n 's/^Exim version \([^ ]*\).*/\1/p' <<<"$checked" | head -n 1)
    library=$(grep -q GnuTLS <<<"$checked" && echo GnuTLS || echo OpenSSL)

    # setsid: the daemon outlives this script in a session of its own; -bdf keeps it in the foreground
    # of that session, so its pid is the one unshare and sh exec'd into.
    setsid unshare --mount --propagation private -- /bin/sh -c \
        'mount --bind "$0/passwd" /etc/passwd && mount --bind "$0/group" /etc/group && exec "$@"' "$dir" \
        "$exim" -C "$conf" -bdf -oP "$pid_file" </dev/null >"$dir/daemon.out" 2>&1 &
    local started=$! tenths=100
    while ! daemon_pid >/dev/null; do
        alive "$started" || { cat "$dir/daemon.out" >&2; fail "the Exim daemon exited at start"; }
        ((tenths-- > 0)) || { cat "$dir/daemon.out" >&2; fail "Exim wrote no pid file within 10 s"; }
        sleep 0.1
    done
    wait_greeting "$port" || { cat "$dir/daemon.out" >&2; fail "Exim does not greet on 127.0.0.1:$port"; }

    python3 - "$json" "$port" "$version" "$library" "$conf" "$logs" <<'EOF'
import json, os, sys
path, port, version, library, conf, logs = sys.argv[1:7]
doc = {"address": "127.0.0.1", "port": int(port), "tls": "starttls", "server": "exim", "version": version,
       "tlsLibrary": library, "config": conf, "mainlog": os.path.join(logs, "mainlog"),
       "paniclog": os.path.join(logs, "paniclog")}
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2, sort_keys=True)
    f.write("\n")
os.replace(tmp, path)
EOF
    echo "$json"
}

# run_in_namespace EXIM ARGS...: runs Exim in a private mount namespace whose /etc/passwd and /etc/group
# (the copies in STATE_DIR/exim) know the Debian-exim user the binary asks for.
run_in_namespace() {
    unshare --mount --propagation private -- /bin/sh -c \
        'mount --bind "$0/passwd" /etc/passwd && mount --bind "$0/group" /etc/group && exec "$@"' "$dir" "$@"
}

do_status() {
    local pid
    if pid=$(daemon_pid); then
        echo "exim: running ($pid, config $conf)"
        return 0
    fi
    echo "exim: not running"
    return 1
}

case $command in
    exim)
        # exim STATE_DIR ARGS...: the unpacked binary with this state's configuration (e.g. -bP OPTION).
        [[ -x $exim && -f $conf ]] || { log "no Exim in $dir: run start first"; exit 1; }
        run_in_namespace "$exim" -C "$conf" "$@"
        ;;
    start) do_start "$@" ;;
    stop) do_stop ;;
    status) do_status ;;
    *) usage ;;
esac
