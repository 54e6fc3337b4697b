#!/usr/bin/env bash
# bench_dane.sh MXCHECK: what DANE costs (issue 10). A domain with two MX hosts, one with a good 3 1 1 record and
# one securely without TLSA (the DNSSEC lab's two_mx case: signed zones, a loopback iterating unbound, the lab's
# Postfix), checked with `--mx` and with `--mx --no-dane`, in pairs (alternating which goes first), RUNS pairs
# (default 15, at least 10). Prints the median wall time of each and the ratio; goal: DANE <= 1.3x.
# MTA-STS is off in both (--no-mta-sts): the DNSSEC lab publishes none, and bench_mtasts.sh times it.
# Loopback only; the lab is started in a temporary directory and stopped at the end.
set -euo pipefail
mxcheck=$(realpath "${1:?usage: bench_dane.sh PATH/TO/mxcheck}")
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runs=${BENCH_DANE_RUNS:-15}
((runs >= 10)) || runs=10

log() { echo "bench_dane.sh: $*" >&2; }

state=$(mktemp -d /tmp/mxcheck-bench-dane.XXXXXX)
# Postfix runs as its own user: it must reach the lab below.
chmod 0755 "$state"
cleanup() {
    bash "$lab_dir/dnssec.sh" stop "$state/lab" >/dev/null 2>&1 || true
    rm -rf "$state"
}
trap cleanup EXIT INT TERM HUP

log "starting the DNSSEC lab"
json=$(bash "$lab_dir/dnssec.sh" start "$state/lab" 2>"$state/lab.log") || { cat "$state/lab.log" >&2; exit 1; }

python3 - "$mxcheck" "$json" "$runs" <<'PY'
import json, statistics, subprocess, sys, time
mxcheck, description, runs = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
case = description["cases"]["two_mx"]
base = [mxcheck, "smtp", "--mx", "--no-mta-sts", "--json", "--resolver", description["resolver"].replace("@", ":"),
        "--trust-anchor", description["trustAnchor"], "--port", str(description["smtpPort"]),
        "--ca-file", description["rootCA"], "--timeout", "10", case["domain"]]
variants = {"dane": base, "no-dane": base + ["--no-dane"]}

def run(name):
    started = time.monotonic()
    done = subprocess.run(variants[name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    elapsed = time.monotonic() - started
    objects = [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
    statuses = sorted((o["dane"] or {}).get("status") or "-" for o in objects)
    expected = ["absent", "valid"] if name == "dane" else ["-", "-"]
    if done.returncode != 0 or statuses != expected:
        sys.exit("bench_dane.sh: %s run gave exit %d, dane %s: %s" % (name, done.returncode, statuses, done.stderr.decode()[-400:]))
    return elapsed

for name in variants:  # warm-up: page cache, unbound's cache
    run(name)
times = {name: [] for name in variants}
for i in range(runs):
    order = ["dane", "no-dane"] if i % 2 == 0 else ["no-dane", "dane"]
    for name in order:
        times[name].append(run(name))
dane, plain = statistics.median(times["dane"]), statistics.median(times["no-dane"])
ratio = dane / plain
print("dane: two MX (valid 3 1 1, absent), %d paired runs: --mx median %.1f ms, --mx --no-dane median %.1f ms, ratio %.2fx (goal <= 1.3x)%s"
      % (runs, dane * 1000, plain * 1000, ratio, "" if ratio <= 1.3 else "  OVER GOAL"))
PY
