#!/usr/bin/env bash
# bench_mtasts.sh MXCHECK: what MTA-STS and TLS-RPT cost in --mx mode (issue 11). A two-MX domain of the
# DNS lab (sts-bench.lab.example: MX 10 mx1, MX 20 mx2, the Postfix lab's mx_pool) with an MTA-STS policy
# served by Tests/Lab/mtasts_server.py on 127.0.9.1:443, checked with --mx and with --mx --no-mta-sts in
# BENCH_PAIRS (default 15, at least 10) alternating pairs. Prints both medians and their ratio (goal <= 1.3).
# Needs root (Postfix and port 443); loopback only.
set -euo pipefail
mxcheck=$(realpath "${1:?usage: bench_mtasts.sh PATH/TO/mxcheck}")
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pairs=${BENCH_PAIRS:-15}
((pairs >= 10)) || pairs=10

log() { echo "bench_mtasts.sh: $*" >&2; }

state=$(mktemp -d /tmp/mxcheck-bench-mtasts.XXXXXX)
chmod 755 "$state"
server_pid=
cleanup() {
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
    bash "$lab_dir/dns.sh" stop "$state/dns" >/dev/null 2>&1 || true
    bash "$lab_dir/lab.sh" stop "$state/lab" >/dev/null 2>&1 || true
    rm -rf "$state"
}
trap cleanup EXIT INT TERM HUP

log "starting the Postfix lab, the DNS lab and the policy server"
bash "$lab_dir/lab.sh" start "$state/lab" >/dev/null
bash "$lab_dir/dns.sh" start "$state/dns" >/dev/null
mkdir -p "$state/policy"
python3 "$lab_dir/mtasts_server.py" "$state/lab/pki" "$state/policy" 127.0.9.1 443 >"$state/policy/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do [[ -e $state/policy/mtasts-ready ]] && break; sleep 0.1; done
[[ -e $state/policy/mtasts-ready ]] || { cat "$state/policy/server.log" >&2; log "the policy server did not start"; exit 1; }

port=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cases']['mx_pool']['port'])" "$state/lab/cases.json")
dns_port=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['port'])" "$state/dns/dns.json")
# DANE is off in both (--no-dane): the unsigned lab has none, and bench_dane.sh times it.
args=(smtp --mx --no-dane --json --resolver "127.0.0.1:$dns_port" --port "$port" --ca-file "$state/lab/pki/root.pem" --timeout 10 sts-bench.lab.example)

# One run's wall time in milliseconds; the output is checked so a broken run cannot pass as a fast one.
timed() {
    local start end
    start=$(date +%s%N)
    "$mxcheck" "$@" >"$state/out.jsonl" 2>"$state/err" || true
    end=$(date +%s%N)
    [[ $(wc -l <"$state/out.jsonl") -eq 2 ]] || { cat "$state/out.jsonl" "$state/err" >&2; log "expected two endpoint objects"; exit 1; }
    echo $(((end - start) / 1000))
}

# Warm-up (page cache, the trust store), then alternating pairs so drift hits both sides alike.
timed "${args[@]}" >/dev/null
grep -q '"status":"enforce"' "$state/out.jsonl" || { log "the policy was not evaluated"; cat "$state/out.jsonl" >&2; exit 1; }
with=()
without=()
for _ in $(seq "$pairs"); do
    with+=("$(timed "${args[@]}")")
    without+=("$(timed "${args[@]:0:2}" --no-mta-sts "${args[@]:2}")")
done
python3 - "$pairs" "${with[*]}" "${without[*]}" <<'PY'
import statistics, sys
pairs, a, b = int(sys.argv[1]), [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
ma, mb = statistics.median(a) / 1000, statistics.median(b) / 1000
print("mta-sts (%d pairs, two-MX domain, loopback): --mx median %.1f ms, --mx --no-mta-sts median %.1f ms, ratio %.2fx (goal <= 1.3x)"
      % (pairs, ma, mb, ma / mb))
PY
