#!/usr/bin/env bash
# bench_batch.sh MXCHECK: the batch benchmark (issue 4). 1,000 endpoints of the lab's private Postfix
# (250 loopback addresses x 4 ports) checked at --concurrency 64: endpoints per second and peak memory,
# next to sslyze --targets_in on the same list when the benchmark's virtualenv has it. With BENCH_BASELINE=PATH,
# that binary and mxcheck also run alternately BENCH_BASELINE_ROUNDS times (default 3), CPU per endpoint each.
# The minimal C client (minclient.c, built with the machine's C compiler) makes the same two connections per
# endpoint on the same OpenSSL: its CPU per endpoint is the floor mxcheck's is printed against.
#
# It runs in a network namespace of its own (unshare -n), whose loopback gets the 250 addresses, so
# Postfix can serve them all from four smtpd pools; nothing leaves that namespace.
set -euo pipefail
mxcheck=$(realpath "${1:?usage: bench_batch.sh PATH/TO/mxcheck}")
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(cd "$lab_dir/../.." && pwd)
endpoints=${BENCH_ENDPOINTS:-1000}
concurrency=${BENCH_CONCURRENCY:-64}

log() { echo "bench_batch.sh: $*" >&2; }

if [[ ${MXCHECK_BENCH_NETNS:-} != 1 ]]; then
    command -v unshare >/dev/null || { log "unshare (util-linux) is needed"; exit 1; }
    exec unshare -n env MXCHECK_BENCH_NETNS=1 bash "${BASH_SOURCE[0]}" "$mxcheck"
fi

ip link set lo up
hosts=$(((endpoints + 3) / 4))
for ((h = 1; h <= hosts; h++)); do ip addr add "127.0.2.$h/32" dev lo; done

state=$(mktemp -d /tmp/mxcheck-bench-batch.XXXXXX)
chmod 755 "$state"
cleanup() {
    bash "$lab_dir/lab.sh" stop "$state/lab" >/dev/null 2>&1 || true
    rm -rf "$state"
}
trap cleanup EXIT INT TERM HUP

log "starting the lab with $endpoints bench endpoints in $state/lab"
LAB_VERBOSE_LOG=0 LAB_BENCH_ENDPOINTS=$endpoints bash "$lab_dir/lab.sh" start "$state/lab" >/dev/null
targets=$state/lab/bench-targets.txt
root=$state/lab/pki/root.pem
[[ $(wc -l <"$targets") -eq $endpoints ]] || { log "the lab wrote $(wc -l <"$targets") targets, not $endpoints"; exit 1; }

# One warm-up check, so Postfix has its first processes and the page cache holds the binary.
"$mxcheck" smtp --json --servername mx.lab.example --ca-file "$root" "$(head -1 "$targets")" >/dev/null

log "mxcheck: $endpoints endpoints at --concurrency $concurrency"
/usr/bin/time -q -f "%e %M %U %S" -o "$state/mxcheck.time" \
    timeout 600 "$mxcheck" smtp --json --concurrency "$concurrency" --servername mx.lab.example --ca-file "$root" \
    --input "$targets" >"$state/mxcheck.jsonl" || true
read -r m_seconds m_rss_kb m_user m_sys <"$state/mxcheck.time"
m_cpu_ms=$(python3 -c "print(round(($m_user + $m_sys) * 1000 / $endpoints, 2))")

# BENCH_BASELINE=PATH: another mxcheck binary (an earlier commit's release build) over the same list,
# run as many times as mxcheck, alternating with it, for CPU per endpoint before and after a change.
baseline_rows=()
if [[ -n ${BENCH_BASELINE:-} ]]; then
    baseline=$(realpath "$BENCH_BASELINE")
    rounds=${BENCH_BASELINE_ROUNDS:-3}
    for ((r = 1; r <= rounds; r++)); do
        for bin in "$mxcheck" "$baseline"; do
            /usr/bin/time -q -f "%e %M %U %S" -o "$state/ab.time" timeout 600 "$bin" smtp --json --concurrency "$concurrency" \
                --servername mx.lab.example --ca-file "$root" --input "$targets" >"$state/ab.jsonl" || true
            read -r a_seconds a_rss_kb a_user a_sys <"$state/ab.time"
            label=$([[ $bin == "$mxcheck" ]] && echo "mxcheck (A/B round $r)" || echo "baseline (A/B round $r)")
            baseline_rows+=("$(printf '%-34s %10s %12s %12s %14s %12s' "$label" "$a_seconds" \
                "$(python3 -c "print(round($(wc -l <"$state/ab.jsonl") / $a_seconds, 1))")" \
                "$(python3 -c "print(round($a_rss_kb / 1024, 1))")" "-" \
                "$(python3 -c "print(round(($a_user + $a_sys) * 1000 / $endpoints, 2))")")")
        done
    done
fi

# The CPU floor: the same two connections per endpoint in C on this machine's OpenSSL (Tests/Lab/minclient.c),
# full handshake and chain verification on the first, the first's session resumed on the second.
c_status="not available"
c_compiler=$(command -v cc || command -v gcc || command -v clang || true)
if [[ -n $c_compiler ]] && "$c_compiler" -O2 -o "$state/minclient" "$lab_dir/minclient.c" -lssl -lcrypto -lpthread 2>"$state/minclient-build.err"; then
    log "minimal C client: the same two connections per endpoint"
    /usr/bin/time -q -f "%e %M %U %S" -o "$state/c.time" timeout 600 "$state/minclient" "$targets" "$concurrency" mx.lab.example "$root" \
        >"$state/c.out" 2>"$state/c.err" && c_status=ok || c_status="failed: $(head -c 300 "$state/c.err")"
    if [[ $c_status == ok ]]; then
        read -r c_seconds c_rss_kb c_user c_sys <"$state/c.time"
        c_cpu_ms=$(python3 -c "print(round(($c_user + $c_sys) * 1000 / $endpoints, 2))")
        c_rate=$(python3 -c "print(round($endpoints / $c_seconds, 1))")
    fi
else
    [[ -n $c_compiler ]] && c_status="does not build: $(head -c 300 "$state/minclient-build.err")"
fi

# The ceiling: the least client doing the same two connections per endpoint (Tests/Lab/minclient.py).
log "minimal client: the same two connections per endpoint"
/usr/bin/time -q -f "%e %M %U %S" -o "$state/min.time" timeout 600 python3 "$lab_dir/minclient.py" --targets "$targets" \
    --concurrency "$concurrency" >/dev/null 2>"$state/min.err" || true
read -r n_seconds n_rss_kb n_user n_sys <"$state/min.time"
n_rate=$(python3 -c "print(round($endpoints / $n_seconds, 1))")
n_cpu_ms=$(python3 -c "print(round(($n_user + $n_sys) * 1000 / $endpoints, 2))")
m_lines=$(wc -l <"$state/mxcheck.jsonl")
m_ok=$(grep -c '"status":"ok"' "$state/mxcheck.jsonl" || true)
m_connections=$(python3 -c 'import json,sys; print(sum(json.loads(l)["connections"] for l in open(sys.argv[1])))' "$state/mxcheck.jsonl")
m_rate=$(python3 -c "print(round($m_lines / $m_seconds, 1))")
m_rss_mb=$(python3 -c "print(round($m_rss_kb / 1024, 1))")

s_status="not available"
venv=$root_dir/.build/bench-venv
if [[ -x $venv/bin/sslyze ]]; then
    log "sslyze --targets_in, certificate scan only (the closest to mxcheck's basic check)"
    /usr/bin/time -f "%e %M" -o "$state/sslyze.time" timeout 900 "$venv/bin/sslyze" --starttls smtp --certinfo \
        --targets_in "$targets" --json_out "$state/sslyze.json" >/dev/null 2>&1 || true
    if [[ -s $state/sslyze.json ]]; then
        read -r s_seconds s_rss_kb <"$state/sslyze.time"
        s_done=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for r in d.get("server_scan_results", []) if r.get("scan_status") == "COMPLETED"))' "$state/sslyze.json")
        s_rate=$(python3 -c "print(round($s_done / $s_seconds, 1))")
        s_status="ok"
    else
        s_status="failed (see sslyze's output)"
    fi
else
    s_status="not available (make bench installs it into $venv)"
fi

echo
echo "mxcheck batch bench: $endpoints endpoints of the lab's Postfix ($hosts addresses x 4 ports), --concurrency $concurrency"
printf '%-34s %10s %12s %12s %14s %12s\n' tool seconds endpoints/s "peak RSS MB" connections "CPU ms/ep"
printf '%-34s %10s %12s %12s %14s %12s\n' "mxcheck smtp (basic check)" "$m_seconds" "$m_rate" "$m_rss_mb" "$m_connections" "$m_cpu_ms"
printf '%-34s %10s %12s %12s %14s %12s\n' "minimal client (ceiling)" "$n_seconds" "$n_rate" "$(python3 -c "print(round($n_rss_kb / 1024, 1))")" "$((2 * endpoints))" "$n_cpu_ms"
if [[ $c_status == ok ]]; then
    printf '%-34s %10s %12s %12s %14s %12s\n' "minimal C client (CPU floor)" "$c_seconds" "$c_rate" "$(python3 -c "print(round($c_rss_kb / 1024, 1))")" "$((2 * endpoints))" "$c_cpu_ms"
else
    echo "minimal C client: $c_status"
fi
for row in "${baseline_rows[@]}"; do echo "$row"; done
[[ -n ${BENCH_BASELINE:-} ]] && echo "baseline: $BENCH_BASELINE (BENCH_BASELINE), alternating with mxcheck"
echo "mxcheck CPU (user+sys) per endpoint: $m_cpu_ms ms (goal <= 1.5 ms, injection probe included); endpoints/s vs the minimal client: $(python3 -c "print(round($m_rate / $n_rate, 2))")"
[[ $c_status == ok ]] && echo "mxcheck CPU per endpoint vs the minimal C client on the same OpenSSL: $m_cpu_ms / $c_cpu_ms ms = $(python3 -c "print(round($m_cpu_ms / $c_cpu_ms, 2))") (the goal of 1.5 ms is $(python3 -c "print(round(1.5 / $c_cpu_ms, 2))") of the floor)"
if [[ $s_status == ok ]]; then
    printf '%-34s %10s %12s %12s %14s\n' "sslyze --certinfo --targets_in" "$s_seconds" "$s_rate" "$(python3 -c "print(round($s_rss_kb / 1024, 1))")" "-"
    echo "ratio mxcheck / sslyze (endpoints/s): $(python3 -c "print(round($m_rate / $s_rate, 2))")  (target: at least 5)"
else
    echo "sslyze: $s_status"
fi
echo "mxcheck results: $m_lines objects, $m_ok ok"
echo "targets: at least 200 endpoints/s: $(python3 -c "print('PASS' if $m_rate >= 200 else 'FAIL')"); at most 64 MB peak: $(python3 -c "print('PASS' if $m_rss_kb <= 65536 else 'FAIL')")"
[[ $m_lines -eq $endpoints ]] || { log "mxcheck reported $m_lines of $endpoints endpoints"; exit 1; }
