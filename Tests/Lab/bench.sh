#!/usr/bin/env bash
# bench.sh MXCHECK: times a basic STARTTLS check by mxcheck against the same
# check by `openssl s_client -starttls smtp` (the anchor), both against the
# lab's Postfix `valid` case on 127.0.0.1, and prints a table on stdout.
#
# Starts its own lab (lab.sh) in a temporary directory and always stops it.
# Times each tool BENCH_RUNS times (default 30), alternating the two tools:
# with hyperfine when installed (in blocks of BENCH_BLOCK runs, default 10,
# swapping the order every block), else with a bash loop run by run.
# Counts mxcheck's TCP connections twice: its own JSON `connections`, and the
# `connect from` lines of the lab's Postfix log for one extra run.
#
# Exit 0 only when the lab started and every run succeeded (mxcheck exit 0,
# s_client verified the certificate and host name). Bounded: every command
# runs under timeout, and the runs stop at BENCH_BUDGET seconds (default 200).
# Talks only to 127.0.0.1.
set -euo pipefail

usage() {
    echo "usage: $0 MXCHECK   (env: BENCH_RUNS=30 BENCH_BLOCK=10 BENCH_BUDGET=200 BENCH_NO_HYPERFINE=1)" >&2
    exit 2
}

log() {
    echo "bench.sh: $*" >&2
}

die() {
    echo "bench.sh: FAILED: $*" >&2
    exit 1
}

[[ $# -eq 1 && -n $1 ]] || usage
mxcheck=$1
if [[ $mxcheck != */* ]]; then
    mxcheck=$(command -v -- "$mxcheck") || die "mxcheck binary not found: $1"
fi
mxcheck=$(realpath -- "$mxcheck") || die "mxcheck binary not found: $1"
[[ -f $mxcheck && -x $mxcheck ]] || die "not an executable file: $mxcheck"

runs=${BENCH_RUNS:-30}
block=${BENCH_BLOCK:-10}
budget=${BENCH_BUDGET:-200}
warmup=3
per_run_timeout=20
for var in runs block budget; do
    [[ ${!var} =~ ^[1-9][0-9]{0,5}$ ]] || die "BENCH_${var^^} must be a positive integer, not '${!var}'"
done

for tool in openssl timeout python3 realpath; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lab_sh=$lab_dir/lab.sh
[[ -f $lab_sh ]] || die "$lab_sh not found"

# --- temporary directory and lab, always cleaned up ---------------------------

work=
state=
lab_started=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [[ -n $state ]] && ((lab_started)); then
        timeout 60 bash "$lab_sh" stop "$state" >/dev/null 2>&1 ||
            log "warning: lab.sh stop $state did not finish cleanly"
    fi
    if [[ -n $work && -d $work && $work == */mxcheck-bench.* ]]; then
        rm -rf -- "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted (SIGINT); stopping the lab"; exit 130' INT
trap 'log "terminated (SIGTERM); stopping the lab"; exit 143' TERM
trap 'log "hung up (SIGHUP); stopping the lab"; exit 129' HUP

work=$(mktemp -d "${TMPDIR:-/tmp}/mxcheck-bench.XXXXXX") || die "mktemp -d failed"
# Postfix's unprivileged daemons must be able to walk into the lab below.
chmod 0755 "$work"
state=$work/lab
out=$work/bench
mkdir -p "$out"

log "starting the lab in $state"
lab_started=1
if ! timeout 180 bash "$lab_sh" start "$state" >"$out/lab-start.out" 2>"$out/lab-start.err"; then
    tail -n 40 "$out/lab-start.err" >&2 || true
    die "the lab could not start (bash $lab_sh start $state)"
fi
cases_json=$state/cases.json
[[ -s $cases_json ]] || die "the lab wrote no $cases_json"

# address port rootCA name, one a line.
mapfile -t lab_facts < <(python3 - "$cases_json" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    doc = json.load(f)
valid = doc["cases"]["valid"]
print(valid["address"])
print(int(valid["port"]))
print(doc["rootCA"])
print(doc["name"])
EOF
) || die "cannot read the valid case from $cases_json"
((${#lab_facts[@]} == 4)) || die "cannot read the valid case from $cases_json"
address=${lab_facts[0]}
port=${lab_facts[1]}
root_ca=${lab_facts[2]}
name=${lab_facts[3]}
[[ $address == 127.0.0.1 ]] || die "the valid case is not on 127.0.0.1 but $address"
[[ $port =~ ^[0-9]+$ ]] || die "bad port in $cases_json: $port"
[[ -s $root_ca ]] || die "root CA $root_ca missing"
maillog=$state/postfix/maillog
[[ -f $maillog ]] || die "Postfix log $maillog missing"

mx_cmd=(timeout "$per_run_timeout" "$mxcheck" smtp --json --ca-file "$root_ca" --servername "$name" "$address:$port")
sc_cmd=(timeout "$per_run_timeout" openssl s_client -starttls smtp -connect "$address:$port"
    -servername "$name" -verify_hostname "$name" -CAfile "$root_ca" -verify_return_error -brief)

# --- checks of one run ---------------------------------------------------------

# check_mx RC STDOUT STDERR: mxcheck exited 0 and printed JSON with connections.
check_mx() {
    local rc=$1 stdout=$2 stderr=$3
    if ((rc != 0)) || ! grep -q '"connections":' "$stdout"; then
        log "mxcheck run failed (exit $rc): ${mx_cmd[*]}"
        head -c 2000 "$stdout" >&2 || true
        head -c 2000 "$stderr" >&2 || true
        return 1
    fi
}

# check_sc RC OUTPUT: s_client exited 0 after a verified handshake.
check_sc() {
    local rc=$1 output=$2
    if ((rc != 0)) || ! grep -q '^Verification: OK' "$output" ||
        ! grep -qxF "Verified peername: $name" "$output"; then
        log "openssl s_client run failed (exit $rc): ${sc_cmd[*]} </dev/null"
        head -c 2000 "$output" >&2 || true
        return 1
    fi
}

run_mx() { # run_mx STDOUT STDERR: sets rc
    rc=0
    "${mx_cmd[@]}" </dev/null >"$1" 2>"$2" || rc=$?
}

run_sc() { # run_sc OUTPUT: sets rc
    rc=0
    "${sc_cmd[@]}" </dev/null >"$1" 2>&1 || rc=$?
}

# --- counting connections in the Postfix log -----------------------------------

# log_counts: "CONNECTS DISCONNECTS" of the valid service's smtpd so far.
log_counts() {
    local c d
    c=$(grep -cE ' mxcheck-lab/valid/smtpd\[[0-9]+\]: connect from ' "$maillog" || true)
    d=$(grep -cE ' mxcheck-lab/valid/smtpd\[[0-9]+\]: disconnect from ' "$maillog" || true)
    echo "${c:-0} ${d:-0}"
}

# settled_counts MIN_CONNECTS: waits (5 s at most) until every connection of
# the valid service logged its disconnect, at least MIN_CONNECTS connected, and
# nothing changed for 0.3 s; prints "CONNECTS DISCONNECTS".
settled_counts() {
    local min=$1 tenths=50 now last="" stable=0 c d
    while ((tenths-- > 0)); do
        now=$(log_counts)
        read -r c d <<<"$now"
        if ((c >= min && c == d)); then
            if [[ $now == "$last" ]]; then
                ((++stable >= 3)) && break
            else
                stable=0
            fi
        fi
        last=$now
        sleep 0.1
    done
    echo "$now"
}

# server_connections TOOL: runs the tool once and prints how many connections
# Postfix's log shows for that run.
server_connections() {
    local before c0 d0 c1 d1
    before=$(settled_counts 0)
    read -r c0 d0 <<<"$before"
    ((c0 == d0)) || die "the Postfix log does not settle before counting ($before)"
    if [[ $1 == mx ]]; then
        run_mx "$out/count.out" "$out/count.err"
        check_mx "$rc" "$out/count.out" "$out/count.err" || die "mxcheck failed in the connection-count run"
    else
        run_sc "$out/count.out"
        check_sc "$rc" "$out/count.out" || die "openssl s_client failed in the connection-count run"
    fi
    read -r c1 d1 <<<"$(settled_counts $((c0 + 1)))"
    ((c1 == d1)) || log "warning: $((c1 - d1)) connection(s) logged no disconnect yet"
    echo $((c1 - c0))
}

log "counting connections in $maillog"
server_conns_mx=$(server_connections mx)
json_conns_count_run=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["connections"])' <"$out/count.out") ||
    die "mxcheck's JSON has no connections figure"
server_conns_sc=$(server_connections sc)

# --- timing ----------------------------------------------------------------------

: >"$out/mx.us"
: >"$out/sc.us"
: >"$out/mx.json"

# stamp VAR: sets VAR to microseconds since the epoch; no fork when bash has
# EPOCHREALTIME (5.0 and later).
stamp() {
    if [[ -n ${EPOCHREALTIME:-} ]]; then
        printf -v "$1" '%s' "${EPOCHREALTIME//[.,]/}"
    else
        printf -v "$1" '%s' "$(($(date +%s%N) / 1000))"
    fi
}

check_budget() {
    ((SECONDS < budget)) || die "time budget of ${budget} s spent (BENCH_BUDGET); the runs take too long"
}

timer=
if command -v hyperfine >/dev/null && [[ -z ${BENCH_NO_HYPERFINE:-} ]]; then
    hf_version=$(hyperfine --version 2>/dev/null | head -n 1)
    hf_shell=()
    if hyperfine --help 2>/dev/null | grep -q -- '--shell'; then
        hf_shell=(-N)
    fi
    timer="${hf_version:-hyperfine}, blocks of $block runs, order swapped every block"
    mx_line=$(printf '%q ' "${mx_cmd[@]}")
    sc_line=$(printf '%q ' "${sc_cmd[@]}")
    done_runs=0
    round=0
    while ((done_runs < runs)); do
        check_budget
        chunk=$((runs - done_runs))
        ((chunk > block)) && chunk=$block
        json=$out/hyperfine-$round.json
        if ((round % 2 == 0)); then
            order=(mx sc)
            cmds=(-n mxcheck "$mx_line" -n s_client "$sc_line")
        else
            order=(sc mx)
            cmds=(-n s_client "$sc_line" -n mxcheck "$mx_line")
        fi
        rc=0
        timeout $((budget - SECONDS + per_run_timeout)) \
            hyperfine "${hf_shell[@]}" --style basic --runs "$chunk" --warmup "$warmup" \
            --export-json "$json" "${cmds[@]}" </dev/null >"$out/hyperfine-$round.log" 2>&1 || rc=$?
        if ((rc != 0)); then
            tail -n 30 "$out/hyperfine-$round.log" >&2 || true
            die "hyperfine exited $rc (a run failed or timed out)"
        fi
        python3 - "$json" "$out" "${order[@]}" <<'EOF' || die "cannot read hyperfine's $json"
import json, sys
path, out, order = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(path) as f:
    results = json.load(f)["results"]
assert len(results) == len(order), "expected %d results" % len(order)
for tool, result in zip(order, results):
    codes = result.get("exit_codes") or []
    if any(code != 0 for code in codes):
        sys.exit("%s exit codes %r" % (tool, codes))
    with open("%s/%s.us" % (out, tool), "a") as f:
        for t in result["times"]:
            f.write("%d\n" % round(t * 1e6))
EOF
        done_runs=$((done_runs + chunk))
        round=$((round + 1))
    done
    # hyperfine discards the outputs: check both tools once more after the runs.
    run_mx "$out/mx.out" "$out/mx.err"
    check_mx "$rc" "$out/mx.out" "$out/mx.err" || die "mxcheck failed after the timed runs"
    cat "$out/mx.out" >>"$out/mx.json"
    run_sc "$out/sc.out"
    check_sc "$rc" "$out/sc.out" || die "openssl s_client failed after the timed runs"
else
    t0=0
    t1=0
    timer="bash loop (EPOCHREALTIME), alternating run by run, $warmup warm-up runs each"
    [[ -n ${EPOCHREALTIME:-} ]] || timer="bash loop (date +%s%N), alternating run by run, $warmup warm-up runs each"
    for ((i = -warmup; i < runs; i++)); do
        check_budget
        # Alternate which tool goes first, too.
        if ((i % 2 == 0)); then order=(mx sc); else order=(sc mx); fi
        for tool in "${order[@]}"; do
            if [[ $tool == mx ]]; then
                stamp t0
                run_mx "$out/mx.out" "$out/mx.err"
                stamp t1
                check_mx "$rc" "$out/mx.out" "$out/mx.err" || die "mxcheck run $((i + 1)) of $runs failed"
            else
                stamp t0
                run_sc "$out/sc.out"
                stamp t1
                check_sc "$rc" "$out/sc.out" || die "openssl s_client run $((i + 1)) of $runs failed"
            fi
            if ((i >= 0)); then
                echo $((t1 - t0)) >>"$out/$tool.us"
                [[ $tool == mx ]] && cat "$out/mx.out" >>"$out/mx.json"
            fi
        done
    done
fi

# --- report ------------------------------------------------------------------------

python3 - "$out" "$address:$port" "$runs" "$timer" "$server_conns_mx" "$json_conns_count_run" "$server_conns_sc" <<'EOF'
import json, statistics, sys
out, target, runs, timer, server_mx, json_mx_count_run, server_sc = sys.argv[1:8]
runs = int(runs)

def times(tool):
    with open("%s/%s.us" % (out, tool)) as f:
        ms = [int(line) / 1000.0 for line in f if line.strip()]
    if len(ms) != runs:
        sys.exit("bench.sh: FAILED: %d timings of %s, expected %d" % (len(ms), tool, runs))
    return ms

mx, sc = times("mx"), times("sc")
conns, totals = set(), []
with open("%s/mx.json" % out) as f:
    for line in f:
        if line.strip():
            doc = json.loads(line)
            conns.add(doc["connections"])
            t = (doc.get("timings") or {}).get("totalMs")
            if t is not None:
                totals.append(float(t))
conns.add(int(json_mx_count_run))
json_conns = "/".join(str(c) for c in sorted(conns))

def row(label, ms, conns):
    return "%-28s %9.1f %9.1f %8.1f %8.1f   %s" % (
        label, statistics.median(ms), statistics.mean(ms), min(ms), max(ms), conns)

print("mxcheck bench: basic STARTTLS check against the lab's Postfix (%s), %d runs each" % (target, runs))
print("%-28s %9s %9s %8s %8s   %s" % ("tool", "median ms", "mean ms", "min ms", "max ms", "connections"))
print(row("mxcheck smtp", mx, "%s (JSON) / %s (server log)" % (json_conns, server_mx)))
print(row("openssl s_client -starttls", sc, "%s (server log)" % server_sc))
ratio = statistics.median(mx) / statistics.median(sc)
print("ratio mxcheck / s_client (median): %.2f  (target: about 1, issue #2)" % ratio)
if totals:
    print("mxcheck's own timings.totalMs: median %.1f ms over %d run(s)" % (statistics.median(totals), len(totals)))
print("timer: %s; wall time of the whole process (each under timeout)" % timer)
if len(conns) != 1 or str(min(conns)) != server_mx:
    print("WARNING: mxcheck's JSON connections (%s) and the server log (%s) disagree" % (json_conns, server_mx))
EOF
