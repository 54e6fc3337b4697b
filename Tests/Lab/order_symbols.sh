#!/usr/bin/env bash
# order_symbols.sh MXCHECK OUTPUT: writes the symbol ordering file that `make release` gives the linker (issue 13):
# every function of MXCHECK that a basic check of the lab's Postfix `valid` case runs (JSON and text output),
# and `--version`, one mangled name a line, in the order callgrind lists them. The linker puts these functions
# next to each other at the start of .text, so a check touches about 3 MB fewer pages of the binary (the
# kernel maps 64 KB around every page fault). Names missing from a later build are skipped by the linker, so
# a stale file only costs pages, never behaviour. Regenerate with `make order-file` after large changes.
#
# Starts its own lab (lab.sh) in a temporary directory and always stops it; talks only to 127.0.0.1.
# Needs valgrind (BENCH_PACKAGES). Every run is bounded by timeout.
set -euo pipefail

die() {
    echo "order_symbols.sh: FAILED: $*" >&2
    exit 1
}

[[ $# -eq 2 && -n $1 && -n $2 ]] || { echo "usage: $0 MXCHECK OUTPUT" >&2; exit 2; }
mxcheck=$(realpath -- "$1") || die "mxcheck binary not found: $1"
output=$2
command -v valgrind >/dev/null || die "valgrind is not installed (make bench-deps)"
lab_sh=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/mxcheck-order.XXXXXX") || die "mktemp -d failed"
chmod 0755 "$work"
lab_started=0
cleanup() {
    local rc=$?
    if ((lab_started)); then timeout 60 bash "$lab_sh" stop "$work/lab" >/dev/null 2>&1 || true; fi
    [[ $work == */mxcheck-order.* ]] && rm -rf -- "$work"
    exit "$rc"
}
trap cleanup EXIT

lab_started=1
timeout 180 bash "$lab_sh" start "$work/lab" >"$work/lab.out" 2>"$work/lab.err" || {
    tail -n 20 "$work/lab.err" >&2
    die "the lab could not start"
}
mapfile -t facts < <(python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
valid = doc["cases"]["valid"]
print("%s:%d" % (valid["address"], valid["port"])); print(doc["rootCA"]); print(doc["name"])' "$work/lab/cases.json")
((${#facts[@]} == 3)) || die "cannot read the valid case from $work/lab/cases.json"

# valgrind cannot read the DWARF of this toolchain's release binaries; the symbol table is all it needs.
binary=$work/mxcheck
objcopy --strip-debug "$mxcheck" "$binary"
check=(--ca-file "${facts[1]}" --servername "${facts[2]}" "${facts[0]}")
run() {
    local i=$1
    shift
    local rc=0
    timeout 300 valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.$i" \
        "$binary" "$@" >"$work/run.$i.out" 2>"$work/run.$i.err" || rc=$?
    ((rc == 0)) || { tail -n 20 "$work/run.$i.err" >&2; die "mxcheck $* exited $rc under valgrind"; }
}
run 0 smtp --json "${check[@]}"
run 1 smtp "${check[@]}"
run 2 --version

python3 - "$binary" "$output" "$work"/callgrind.* <<'EOF'
import re, sys
binary, output, profiles = sys.argv[1], sys.argv[2], sys.argv[3:]
names, seen = [], set()
for profile in profiles:
    objects, functions = {}, {}
    def named(table, text):
        # callgrind names a file or function once, "(id) name", then by "(id)" alone.
        m = re.match(r"\((\d+)\)(?: (.*))?$", text)
        if not m:
            return text
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
        return table.get(m.group(1))
    current = called = None
    for line in open(profile, errors="replace"):
        line = line.rstrip("\n")
        key, _, value = line.partition("=")
        if key == "ob":
            current = named(objects, value)
        elif key == "cob":
            called = named(objects, value)
        elif key in ("fn", "cfn"):
            name = named(functions, value)
            # callgrind marks recursion levels with a quote and a number.
            name = re.sub(r"'\d+$", "", name) if name else name
            owner = called if key == "cfn" and called else current
            called = None
            if owner == binary and name and not name.startswith("0x") and name not in seen:
                seen.add(name)
                names.append(name)
if len(names) < 100:
    sys.exit("order_symbols.sh: FAILED: only %d functions found" % len(names))
with open(output, "w") as f:
    f.write("".join(n + "\n" for n in names))
print("order_symbols.sh: %d functions in %s" % (len(names), output), file=sys.stderr)
EOF
