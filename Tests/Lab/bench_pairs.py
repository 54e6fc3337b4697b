#!/usr/bin/env python3
"""bench_pairs.py TITLE PAIRS WARMUP LABEL_A CMD_A LABEL_B CMD_B: runs two commands paired (A B A B ...,
the order swapped every pair) after WARMUP runs of each, and prints the medians of wall time, CPU time
(user+sys), peak RSS and page faults of each, and the ratios A / B (issue 13).

CMD_A and CMD_B are JSON arrays of arguments. Each run goes through GNU time (/usr/bin/time), whose
small process forks the command: its peak RSS and minor page faults are the command's own (a child
forked from Python would report Python's RSS, which exec carries over). Wall time is taken here around
the whole run (GNU time's start included, the same for both), CPU (user+sys) from wait4's rusage (GNU
time's own share included, well under a millisecond). When `perf` is installed and allowed, a second set
of PAIRS pairs runs each command under `perf stat -e task-clock,page-faults`, which counts the command
alone, and its medians are printed too. Every run has a 20 s bound; a run that fails (exit status not
0) fails the bench (exit 1).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time


def run_rusage(cmd):
    """(wall ms, CPU ms, peak RSS MB, minor faults) of one run through GNU time; exits on failure."""
    report = os.pipe()
    start = time.monotonic()
    with open(os.devnull, "rb") as stdin, open(os.devnull, "wb") as sink:
        child = subprocess.Popen(["/usr/bin/time", "-q", "-f", "%M %R", "-o", "/dev/fd/%d" % report[1]] + cmd,
                                 stdin=stdin, stdout=sink, stderr=sink, pass_fds=(report[1],))
        deadline = start + 20
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                os.wait4(child.pid, 0)
                sys.exit("bench_pairs.py: FAILED: %s ran over 20 s" % cmd[0])
            time.sleep(0.0005)
    wall = (time.monotonic() - start) * 1000
    os.close(report[1])
    with os.fdopen(report[0]) as source:
        figures = source.read().split()
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or len(figures) != 2:
        sys.exit("bench_pairs.py: FAILED: exit %d from %s" % (code, " ".join(cmd)))
    return wall, (usage.ru_utime + usage.ru_stime) * 1000, int(figures[0]) / 1024, int(figures[1])


def run_perf(cmd):
    """(task-clock ms, page faults) of one run under perf stat, or None when perf gave no figures."""
    result = subprocess.run(
        ["perf", "stat", "-x,", "-e", "task-clock,page-faults", "--"] + cmd,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=20)
    if result.returncode != 0:
        sys.exit("bench_pairs.py: FAILED: exit %d from perf stat %s" % (result.returncode, " ".join(cmd)))
    clock = faults = None
    for line in result.stderr.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[0].replace(".", "", 1).isdigit():
            if fields[2] == "task-clock":
                clock = float(fields[0])
            elif fields[2] == "page-faults":
                faults = int(fields[0])
    return None if clock is None or faults is None else (clock, faults)


def paired(pairs, commands, measure):
    results = {label: [] for label, _ in commands}
    for index in range(pairs):
        order = commands if index % 2 == 0 else commands[::-1]
        for label, cmd in order:
            results[label].append(measure(cmd))
    return results


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    title, pairs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    commands = [(sys.argv[4], json.loads(sys.argv[5])), (sys.argv[6], json.loads(sys.argv[7]))]
    for _ in range(warmup):
        for _, cmd in commands:
            run_rusage(cmd)
    results = paired(pairs, commands, run_rusage)
    median = statistics.median
    print("%s: %d pairs (A B, B A, ...) after %d warm-up run(s) each; medians" % (title, pairs, warmup))
    print("%-34s %9s %9s %9s %8s" % ("", "wall ms", "CPU ms", "RSS MB", "faults"))
    rows = {}
    for label, _ in commands:
        runs = results[label]
        rows[label] = [median([run[i] for run in runs]) for i in range(4)]
        print("%-34s %9.1f %9.1f %9.1f %8d" % (label, *rows[label][:3], rows[label][3]))
    (a, _), (b, _) = commands
    print("%-34s %9.2f %9.2f %9.2f %8.2f" % ("ratio", *(rows[a][i] / rows[b][i] for i in range(4))))

    if shutil.which("perf") and run_perf(["true"]) is not None:
        counted = paired(pairs, commands, run_perf)
        print("%-34s %9s %9s" % ("perf stat", "task ms", "faults"))
        for label, _ in commands:
            runs = counted[label]
            print("%-34s %9.1f %9d" % (label, median(r[0] for r in runs), median(r[1] for r in runs)))
    else:
        print("perf stat: not available (perf missing or not allowed)")


if __name__ == "__main__":
    main()
