#!/usr/bin/env bash
# bench.sh MXCHECK: times a basic STARTTLS check by mxcheck against the same
# check by `openssl s_client -starttls smtp` (the anchor), both against the
# lab's Postfix `valid` case on 127.0.0.1, and prints a table on stdout.
#
# Starts its own lab (lab.sh) in a temporary directory and always stops it.
# Times each tool BENCH_RUNS times (default 30), alternating the two tools:
# with hyperfine when installed (in blocks of BENCH_BLOCK runs, default 10,
# swapping the order every block), else with a bash loop run by run.
# Then (issue 13) BENCH_PAIRS (default 100) pairs A B A B of the same two commands after a warm-up,
# with medians of wall, CPU, peak RSS and page faults and the ratios (bench_pairs.py, perf stat when
# installed), and the same for `mxcheck --version` against `openssl version`. On a shared 2-core machine the
# ratio of medians of 20 to 40 pairs moves by about 5 % from one run to the next; of 100, by 1 to 2 %.
# Counts mxcheck's TCP connections twice: its own JSON `connections`, and the
# `connect from` lines of the lab's Postfix log for one extra run.
#
# Exit 0 only when the lab started and every run succeeded (mxcheck exit 0,
# s_client verified the certificate and host name). Bounded: every command
# runs under timeout, and the runs stop at BENCH_BUDGET seconds (default 200).
# Talks only to 127.0.0.1.
#
# Second section (issue 3): `mxcheck smtp --ciphers` on the same port (Postfix's
# default TLS settings) next to sslyze and testssl.sh, each counted in the
# Postfix log, with ratios and the budget checks; the table comes from
# bench_ciphers.py, which also compares the suites, protocols and groups each
# tool found accepted.
# - mxcheck --ciphers and --protocols, BENCH_CIPHER_RUNS times each (default 5):
#   median wall time, JSON `connections` and the server's count for every run.
# - sslyze BENCH_SSLYZE_VERSION (default 6.3.1), from PyPI into the virtualenv
#   .build/bench-venv (BENCH_VENV), made once and reused; every scan command
#   sslyze runs by default, with --starttls smtp; BENCH_SSLYZE_RUNS times
#   (default 1), each under timeout 600.
# - testssl.sh (Debian's package installs it as `testssl`) with
#   BENCH_TESTSSL_ARGS (default "-p -E -P -f -S": protocols, suites per
#   protocol, server order, forward secrecy with the curves, certificate),
#   BENCH_TESTSSL_RUNS times (default 1), each under timeout 900; with
#   BENCH_TESTSSL_FULL=1 also testssl.sh's default run (everything it checks).
# A tool that cannot be installed, is missing or fails is reported ("sslyze not
# available: REASON"), never fatal; BENCH_NO_SSLYZE=1 and BENCH_NO_TESTSSL=1
# leave one out. Exit 1 when an mxcheck run fails (exit above 2, no usable JSON,
# "incomplete": true) or its connections exceed the budget formula (accepted
# (version, suite) pairs + accepted groups + 2 x versions + 10); the wall-time
# and --protocols targets are reported, PASS or FAIL, without failing the bench.
# The whole bench stops starting tools at BENCH_TOTAL_BUDGET seconds (default
# 1080) and bounds every tool by what is left. The scans talk only to
# 127.0.0.1; pip talks to PyPI when the virtualenv must be made.
set -euo pipefail

usage() {
    echo "usage: $0 MXCHECK   (env: BENCH_RUNS=30 BENCH_BLOCK=10 BENCH_BUDGET=200 BENCH_NO_HYPERFINE=1 BENCH_PAIRS=100" >&2
    echo "       BENCH_CIPHER_RUNS=5 BENCH_SSLYZE_RUNS=1 BENCH_SSLYZE_VERSION=6.3.1 BENCH_VENV=.build/bench-venv" >&2
    echo "       BENCH_TESTSSL_RUNS=1 BENCH_TESTSSL_ARGS='-p -E -P -f -S' BENCH_TESTSSL_FULL=1" >&2
    echo "       BENCH_NO_SSLYZE=1 BENCH_NO_TESTSSL=1 BENCH_TOTAL_BUDGET=1080)" >&2
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
cipher_runs=${BENCH_CIPHER_RUNS:-5}
sslyze_runs=${BENCH_SSLYZE_RUNS:-1}
testssl_runs=${BENCH_TESTSSL_RUNS:-1}
total_budget=${BENCH_TOTAL_BUDGET:-1080}
for var in runs block budget cipher_runs sslyze_runs testssl_runs total_budget; do
    [[ ${!var} =~ ^[1-9][0-9]{0,5}$ ]] || die "BENCH_${var^^} must be a positive integer, not '${!var}'"
done
sslyze_version=${BENCH_SSLYZE_VERSION:-6.3.1}
[[ $sslyze_version =~ ^[0-9]+(\.[0-9]+)*$ ]] || die "BENCH_SSLYZE_VERSION must be a version like 6.3.1, not '$sslyze_version'"

for tool in openssl timeout python3 realpath; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lab_sh=$lab_dir/lab.sh
[[ -f $lab_sh ]] || die "$lab_sh not found"
helper=$lab_dir/bench_ciphers.py
[[ -f $helper ]] || die "$helper not found"
repo_root=$(cd "$lab_dir/../.." && pwd)

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

# A binary just written (make release) is cached as it was written, and then starts with about 20 fewer page
# faults (2 to 3 % less time and CPU) than the same file once read back from disk, as an installed mxcheck is after
# a reboot and as openssl and its libraries are here. So mxcheck's cached pages are written out and dropped first,
# and every run below reads it as a deployed binary does.
python3 - "$mxcheck" <<'EOF' || die "cannot drop $mxcheck from the page cache"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.fdatasync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.close(fd)
EOF

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

# --- paired resource figures (issue 13) --------------------------------------------
# The same two commands, A B A B after a warm-up, with wall, CPU, peak RSS and page faults of each
# (bench_pairs.py reads the child's rusage, then perf stat when installed); then start-up alone.
pairs=${BENCH_PAIRS:-100}
[[ $pairs =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_PAIRS must be a positive integer, not '$pairs'"
pairs_helper=$lab_dir/bench_pairs.py
to_json() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }
python3 "$pairs_helper" "basic check, mxcheck smtp (A) vs openssl s_client (B)" "$pairs" 3 \
    "mxcheck smtp" "$(to_json "${mx_cmd[@]:2}")" "openssl s_client -starttls" "$(to_json "${sc_cmd[@]:2}")" ||
    die "the paired runs failed"
echo "goals (issue 13): wall ratio <= 1.3 (1.0 in time), CPU ratio <= 1.5, mxcheck's peak RSS <= 16 MB"
python3 "$pairs_helper" "start-up, mxcheck --version (A) vs openssl version (B)" "$pairs" 3 \
    "mxcheck --version" "$(to_json "$mxcheck" --version)" "openssl version" "$(to_json openssl version)" ||
    die "the paired --version runs failed"
echo "mxcheck binary: $(($(stat -c %s "$mxcheck") / 1048576)) MB"

# === second section: --ciphers next to sslyze and testssl.sh (issue 3) ===========

c2=$out/ciphers
mkdir -p "$c2"

# remaining CAP: prints CAP, or the seconds left of BENCH_TOTAL_BUDGET when fewer.
remaining() {
    local left=$((total_budget - SECONDS))
    if ((left < $1)); then echo "$left"; else echo "$1"; fi
}

# measure OUTPUT ERRORS CMD...: runs CMD between two settled reads of the
# Postfix log; sets rc, elapsed_us and server_count (connections it opened).
measure() {
    local stdout=$1 stderr=$2 c0 d0 c1 d1 t0=0 t1=0
    shift 2
    read -r c0 d0 <<<"$(settled_counts 0)"
    ((c0 == d0)) || die "the Postfix log does not settle before counting ($c0 connects, $d0 disconnects)"
    rc=0
    stamp t0
    "$@" </dev/null >"$stdout" 2>"$stderr" || rc=$?
    stamp t1
    elapsed_us=$((t1 - t0))
    read -r c1 d1 <<<"$(settled_counts $((c0 + 1)))"
    ((c1 == d1)) || log "warning: $((c1 - d1)) connection(s) logged no disconnect yet"
    server_count=$((c1 - c0))
}

# mx_series ciphers|protocols: BENCH_CIPHER_RUNS runs of mxcheck with that
# option, one line "MICROSECONDS SERVER_CONNECTIONS JSON_FILE" each in
# $c2/mxc.runs or $c2/mxp.runs. A failed run fails the bench.
mx_series() {
    local kind=$1 i t file why
    local runs_file=$c2/mx${kind:0:1}.runs
    : >"$runs_file"
    for ((i = 1; i <= cipher_runs; i++)); do
        t=$(remaining 60)
        ((t >= 5)) || die "BENCH_TOTAL_BUDGET (${total_budget} s) spent before mxcheck --$kind run $i"
        local cmd=(timeout "$t" "$mxcheck" smtp --json "--$kind" --ca-file "$root_ca" --servername "$name" "$address:$port")
        file=$c2/mx-$kind-$i.json
        measure "$file" "$c2/mx-$kind-$i.err" "${cmd[@]}"
        # Exit 2 (CRITICAL) is expected: Postfix's defaults accept anonymous suites.
        if ((rc > 2)) || ! why=$(python3 "$helper" check-mx "$file" "$kind"); then
            log "mxcheck --$kind run $i of $cipher_runs failed (exit $rc): ${cmd[*]}"
            [[ -n ${why:-} ]] && log "$why"
            head -c 2000 "$file" >&2 || true
            head -c 2000 "$c2/mx-$kind-$i.err" >&2 || true
            die "mxcheck smtp --$kind failed"
        fi
        echo "$elapsed_us $server_count $file" >>"$runs_file"
    done
}

log "timing mxcheck smtp --ciphers and --protocols, $cipher_runs runs each"
mx_series ciphers
mx_series protocols

# --- sslyze, from PyPI into a virtualenv under the build directory ----------------

venv=${BENCH_VENV:-$repo_root/.build/bench-venv}

# setup_sslyze: makes (or reuses) the virtualenv with sslyze $sslyze_version;
# prints the reason and returns 1 when it cannot.
setup_sslyze() {
    local t
    if [[ -x $venv/bin/sslyze ]] && "$venv/bin/python" -c \
        'import importlib.metadata as m, sys; sys.exit(m.version("sslyze") != sys.argv[1])' \
        "$sslyze_version" 2>/dev/null; then
        return 0
    fi
    if [[ -e $venv ]]; then
        if [[ ! -f $venv/pyvenv.cfg ]]; then
            echo "$venv exists and is not a virtualenv"
            return 1
        fi
        rm -rf -- "$venv"
    fi
    command -v python3 >/dev/null || { echo "python3 not found"; return 1; }
    mkdir -p -- "$(dirname -- "$venv")"
    log "installing sslyze $sslyze_version from PyPI into $venv"
    if ! timeout 120 python3 -m venv "$venv" >"$c2/venv.log" 2>&1; then
        echo "python3 -m venv $venv failed: $(tail -n 1 "$c2/venv.log")"
        return 1
    fi
    t=$(remaining 400)
    if ((t < 60)); then
        echo "BENCH_TOTAL_BUDGET (${total_budget} s) spent before pip could run"
        return 1
    fi
    if ! timeout "$t" "$venv/bin/python" -m pip install --disable-pip-version-check -q \
        "sslyze==$sslyze_version" >"$c2/pip.log" 2>&1; then
        echo "pip install sslyze==$sslyze_version failed: $({ grep -m 1 -E 'ERROR|error' "$c2/pip.log" ||
            tail -n 1 "$c2/pip.log"; } | sed 's/ (from versions:.*//' | cut -c 1-300)"
        return 1
    fi
    if ! "$venv/bin/sslyze" --help >/dev/null 2>&1; then
        echo "sslyze $sslyze_version installed but does not start ($venv/bin/sslyze --help)"
        return 1
    fi
}

# run_sslyze: BENCH_SSLYZE_RUNS runs into $c2/sslyze.runs, or the reason in
# $c2/sslyze.skip.
run_sslyze() {
    local i t file why
    : >"$c2/sslyze.runs"
    for ((i = 1; i <= sslyze_runs; i++)); do
        t=$(remaining 600)
        if ((t < 60)); then
            echo "BENCH_TOTAL_BUDGET (${total_budget} s) nearly spent before sslyze run $i" >"$c2/sslyze.skip"
            return
        fi
        file=$c2/sslyze-$i.json
        # No scan command named: sslyze runs every default one (and checks
        # Mozilla's "intermediate" configuration, exit 1 when not compliant).
        local cmd=(timeout "$t" "$venv/bin/sslyze" --starttls smtp --sni "$name"
            --certinfo_ca_file "$root_ca" --json_out "$file" "$address:$port")
        log "running sslyze, run $i of $sslyze_runs (at most $t s)"
        measure "$c2/sslyze-$i.out" "$c2/sslyze-$i.err" "${cmd[@]}"
        if ((rc == 124 || rc == 137)); then
            why="timed out after $t s"
        elif ((rc > 1)); then
            why="exit $rc: $(tail -n 1 "$c2/sslyze-$i.err")"
        elif ! why=$(python3 "$helper" check-sslyze "$file"); then
            :
        else
            echo "$elapsed_us $server_count $file" >>"$c2/sslyze.runs"
            continue
        fi
        echo "sslyze run $i failed: $why" >"$c2/sslyze.skip"
        log "sslyze failed: ${cmd[*]}"
        tail -n 20 "$c2/sslyze-$i.out" "$c2/sslyze-$i.err" >&2 || true
        return
    done
}

if [[ -n ${BENCH_NO_SSLYZE:-} ]]; then
    echo "left out (BENCH_NO_SSLYZE)" >"$c2/sslyze.skip"
elif reason=$(setup_sslyze); then
    "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("sslyze"))' >"$c2/sslyze.version" 2>/dev/null || true
    echo "all default scan commands" >"$c2/sslyze.args"
    run_sslyze
else
    echo "${reason:-the virtualenv could not be made}" >"$c2/sslyze.skip"
    log "sslyze not available: $(cat "$c2/sslyze.skip")"
fi

# --- testssl.sh (Debian's package names it testssl) ----------------------------

# run_testssl KEY RUNS ciphers|any ARGS...: testssl.sh with ARGS, RUNS times,
# into $c2/KEY.runs, or the reason in $c2/KEY.skip; with `ciphers`, a run
# must list accepted suites (testssl.sh's default run lists none of its own).
run_testssl() {
    local key=$1 n=$2 need=$3 i t file why
    shift 3
    : >"$c2/$key.runs"
    for ((i = 1; i <= n; i++)); do
        t=$(remaining 900)
        if ((t < 120)); then
            echo "BENCH_TOTAL_BUDGET (${total_budget} s) nearly spent before run $i" >"$c2/$key.skip"
            return
        fi
        file=$c2/$key-$i.json
        # --nodns none: no DNS lookup at all; no --phone-out: no CRL or OCSP fetch.
        local cmd=(timeout "$t" "$testssl_bin" --starttls smtp "$@" --nodns none --add-ca "$root_ca"
            --warnings batch --quiet --color 0 --jsonfile "$file" "$address:$port")
        log "running testssl.sh ${*:-(default run)}, run $i of $n (at most $t s)"
        measure "$c2/$key-$i.out" "$c2/$key-$i.err" "${cmd[@]}"
        # testssl.sh exits with the sum of its checks' return values: only a
        # timeout or a missing JSON is a failure.
        if ((rc == 124 || rc == 137)); then
            why="timed out after $t s"
        elif ! why=$(python3 "$helper" check-testssl "$file" "$need"); then
            why="exit $rc: $why"
        else
            echo "$elapsed_us $server_count $file" >>"$c2/$key.runs"
            continue
        fi
        echo "run $i failed: $why" >"$c2/$key.skip"
        log "testssl.sh failed: ${cmd[*]}"
        tail -n 20 "$c2/$key-$i.out" "$c2/$key-$i.err" >&2 || true
        return
    done
}

testssl_bin=$(command -v testssl.sh || command -v testssl || true)
testssl_default_args="-p -E -P -f -S"
# BENCH_TESTSSL_ARGS set but empty: testssl.sh's default run.
read -ra testssl_args <<<"${BENCH_TESTSSL_ARGS-$testssl_default_args}"
if [[ -n ${BENCH_NO_TESTSSL:-} ]]; then
    echo "left out (BENCH_NO_TESTSSL)" >"$c2/testssl.skip"
elif [[ -z $testssl_bin ]]; then
    echo "neither testssl.sh nor testssl found (Debian package testssl.sh)" >"$c2/testssl.skip"
    log "testssl.sh not available: $(cat "$c2/testssl.skip")"
else
    testssl_version=$("$testssl_bin" --version 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' |
        grep -m 1 -oE 'testssl(\.sh)? +[0-9][0-9A-Za-z.+~-]*' | grep -oE '[0-9][0-9A-Za-z.+~-]*$' || true)
    echo "${testssl_version:-}" >"$c2/testssl.version"
    echo "${testssl_args[*]:-default run}" >"$c2/testssl.args"
    if [[ " ${testssl_args[*]} " =~ \ (-e|-E|--each-cipher|--cipher-per-proto)\  ]]; then
        need=ciphers
    else
        need=any
    fi
    run_testssl testssl "$testssl_runs" "$need" "${testssl_args[@]}"
    if [[ -n ${BENCH_TESTSSL_FULL:-} ]]; then
        cp "$c2/testssl.version" "$c2/testssl-full.version"
        echo "default run" >"$c2/testssl-full.args"
        run_testssl testssl-full 1 any
    fi
fi

# --- report ------------------------------------------------------------------------

python3 "$helper" report "$c2" "$address:$port" "$json_conns_count_run" "$server_conns_mx"
