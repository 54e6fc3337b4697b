#!/usr/bin/env bash
# demo.sh MXCHECK: starts the local lab, checks a few of its servers with mxcheck, stops the lab.
# Everything happens on loopback, so it works offline.
set -euo pipefail
mxcheck=${1:?usage: demo.sh PATH/TO/mxcheck}
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
state=$(mktemp -d /tmp/mxcheck-demo.XXXXXX)
cleanup() {
    bash "$lab_dir/lab.sh" stop "$state" >/dev/null 2>&1 || true
    rm -rf "$state"
}
trap cleanup EXIT

echo "Starting the local lab (a private Postfix on loopback and a few scripted servers)..."
bash "$lab_dir/lab.sh" start "$state" >/dev/null
root=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rootCA"])' "$state/cases.json")

target() {
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["cases"][sys.argv[2]]; a=c["address"]; print(("[%s]" % a if ":" in a else a) + ":%d" % c["port"])' "$state/cases.json" "$1"
}

show() {
    local title=$1 name=$2
    shift 2
    echo
    echo "== $title"
    echo "\$ mxcheck smtp $* $(target "$name")"
    set +e
    "$mxcheck" smtp "$@" "$(target "$name")"
    echo "(exit code $?)"
    set -e
}

show "a well-configured server (lab CA given as extra trust anchor)" valid --ca-file "$root" --servername mx.lab.example
show "a certificate that expires in 10 days" expiring_warn --ca-file "$root"
show "a server that still speaks only TLS 1.0/1.1" legacy_tls --ca-file "$root"
show "a server that sends its leaf without the intermediate" chain_incomplete --ca-file "$root"
show "a server without STARTTLS" no_starttls
show "a server that is rate-limiting (421 greeting)" greet_421
show "the same well-configured server, as JSON for scripts" valid --json --ca-file "$root" --servername mx.lab.example
