#!/usr/bin/env bash
# bench_engine.sh MXCHECK: the run engine's benchmarks (issue 8), each in a network namespace of its own
# (unshare -n), so every address of 127.0.0.0/8 is local and nothing leaves the namespace.
#
# 1. Latency-bound: 5,000 endpoints (250 loopback addresses x 20 ports), each greeting after 1 s with a
#    421, input in address order and shuffled, --concurrency 1000 --per-host 8. Anchor: 5 s (five waves of
#    1,000); goal <= 7 s and peak RSS <= 128 MB.
# 2. Long input: 200,000 IP literals of closed loopback ports (each refused at once), --concurrency 64.
#    Goal: <= 30 s and peak RSS <= 64 MB; the same input cut to 2,000 lines is the memory anchor.
set -euo pipefail
mxcheck=$(realpath "${1:?usage: bench_engine.sh PATH/TO/mxcheck}")
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lines=${BENCH_LINES:-200000}

log() { echo "bench_engine.sh: $*" >&2; }

if [[ ${MXCHECK_BENCH_NETNS:-} != 1 ]]; then
    command -v unshare >/dev/null || { log "unshare (util-linux) is needed"; exit 1; }
    exec unshare -n env MXCHECK_BENCH_NETNS=1 bash "${BASH_SOURCE[0]}" "$mxcheck"
fi
ip link set lo up

state=$(mktemp -d /tmp/mxcheck-bench-engine.XXXXXX)
server_pid=
cleanup() {
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$state"
}
trap cleanup EXIT INT TERM HUP

# One "elapsed RSS user sys" line for a command, from GNU time.
measure() {
    local name=$1
    shift
    /usr/bin/time -q -f "%e %M %U %S" -o "$state/$name.time" timeout 900 "$@" >"$state/$name.jsonl" 2>"$state/$name.err" || true
    read -r seconds rss_kb user sys <"$state/$name.time"
    objects=$(wc -l <"$state/$name.jsonl")
    rss_mb=$(python3 -c "print(round($rss_kb / 1024, 1))")
}

# --- 1. latency-bound -------------------------------------------------------------------------------
python3 "$lab_dir/slowsmtp.py" --address 0.0.0.0 --count 20 --delay 1 --code 421 >"$state/ports.json" &
server_pid=$!
for _ in $(seq 100); do [[ -s $state/ports.json ]] && break; sleep 0.1; done
python3 - "$state" <<'EOF'
import json, random, sys
state = sys.argv[1]
ports = json.load(open(state + "/ports.json"))["ports"]
targets = ["127.0.%d.%d:%d" % (3 + a // 250, 1 + a % 250, p) for a in range(250) for p in ports]
open(state + "/sorted.txt", "w").write("\n".join(targets) + "\n")
random.seed(7)
random.shuffle(targets)
open(state + "/shuffled.txt", "w").write("\n".join(targets) + "\n")
EOF
ulimit -n "$(ulimit -Hn)"
for order in sorted shuffled; do
    log "latency-bound: 5,000 endpoints greeting after 1 s, input $order"
    measure "latency-$order" "$mxcheck" smtp --json --concurrency 1000 --per-host 8 --timeout 10 --input "$state/$order.txt"
    limited=$(grep -c '"smtp.rate_limited"' "$state/latency-$order.jsonl" || true)
    printf 'latency-bound (%s): %s objects (%s rate-limited), wall %s s (anchor 5 s, goal <= 7 s: ratio %s), peak RSS %s MB (goal <= 128)\n' \
        "$order" "$objects" "$limited" "$seconds" "$(python3 -c "print(round($seconds / 5, 2))")" "$rss_mb"
done
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=

# --- 2. a long input of closed ports ----------------------------------------------------------------
python3 - "$state" "$lines" <<'EOF'
import sys
state, count = sys.argv[1], int(sys.argv[2])
with open(state + "/closed.txt", "w") as out:
    for i in range(count):
        out.write("127.%d.%d.%d:%d\n" % (10 + i // 62500 % 200, i // 250 % 250, 1 + i % 250, 1 + i % 97))
EOF
head -2000 "$state/closed.txt" >"$state/closed-2000.txt"
log "closed ports: 2,000 lines, --concurrency 64"
measure closed-2000 "$mxcheck" smtp --json --concurrency 64 --timeout 10 --input "$state/closed-2000.txt"
small_rss=$rss_mb small_seconds=$seconds
log "closed ports: $lines lines, --concurrency 64"
measure closed "$mxcheck" smtp --json --concurrency 64 --timeout 10 --input "$state/closed.txt"
refused=$(grep -c '"smtp.connect_failed"' "$state/closed.jsonl" || true)
cpu_us=$(python3 -c "print(round(($user + $sys) / max(1, $objects) * 1e6, 1))")
printf 'closed ports: %s lines -> %s objects (%s refused), wall %s s (goal <= 30 s), peak RSS %s MB (goal <= 64; 2,000 lines: %s MB in %s s), CPU %s us per target\n' \
    "$lines" "$objects" "$refused" "$seconds" "$rss_mb" "$small_rss" "$small_seconds" "$cpu_us"
