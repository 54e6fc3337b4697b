#!/usr/bin/env bash
# bench_headers.sh MXCHECK: how fast `mxcheck headers` traces a message and how much memory a huge one costs.
#
#   1. a 100 KB message (30 Received fields of the common MTAs, then a body) and a 100 KB header block
#      (about 370 Received fields), each traced with hyperfine; `mxcheck --version` and `mxcheck headers`
#      on an empty file beside them are process start-up and argument parsing alone; the difference to
#      the latter is the trace itself. Target: under 5 ms a message.
#   2. peak resident memory (GNU time's %M) for a 50 MB message, from a file and from a pipe, and for a
#      50 MB file without a line break. Target: under 32 MB.
# Needs hyperfine and GNU time (make bench-deps). Prints the figures; exits non-zero only when a tool fails.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 MXCHECK" >&2; exit 2; }
mxcheck=$(realpath -- "$1")
[[ -x $mxcheck ]] || { echo "bench_headers.sh: $mxcheck is not executable" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "bench_headers.sh: hyperfine not found (make bench-deps)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench_headers.sh: GNU time not found (make bench-deps)" >&2; exit 1; }

work=$(mktemp -d /tmp/mxcheck-bench-headers.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'EOF'
import os, sys
work = sys.argv[1]
forms = [
    "from mail{n}.example.org (mail{n}.example.org [192.0.2.{m}])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n\t(No client certificate requested)\r\n\tby mx{n}.example.net (Postfix) with ESMTPS id 4VzQ1q6bK{n}\r\n\tfor <bob@example.net>; Tue,  1 Dec 2026 20:15:02 +0100 (CET)",
    "from gw{n}.example.org ([2001:db8::{n}]:25 helo=gw{n}.example.org)\r\n by mail{n}.example.org with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)\r\n (Exim 4.90_1) (envelope-from <alice@example.org>)\r\n id 1wXyZ9-0007rx-I{n}; Tue, 01 Dec 2026 15:15:01 -0500",
    "from old{n}.example.org (old{n}.example.org [198.51.100.{m}])\r\n\tby gw{n}.example.org (8.15.2/8.15.2) with ESMTPS id 5B1KF0Jm0{n}\r\n\t(version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NOT)\r\n\tfor <bob@example.net>; Tue, 1 Dec 2026 21:15:00 +0100 (CET)",
    "from EXCH{n}.corp.example.org (10.1.2.{m}) by EXCH0{n}.corp.example.org\r\n (10.1.3.{m}) with Microsoft SMTP Server (version=TLS1_2,\r\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.8207.21; Tue, 1 Dec\r\n 2026 21:15:01 +0100",
    "from relay{n}.example.org (relay{n}.example.org [192.0.2.{m}])\r\n\tby mx{n}.example.net (OpenSMTPD) with ESMTPS id 96f0{n} (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO);\r\n\tTue, 1 Dec 2026 21:15:02 +0100 (CET)",
]
def received(count):
    return "".join("Received: " + forms[i % len(forms)].format(n=i, m=i % 250 + 1) + "\r\n" for i in range(count))
head = received(30) + "From: alice@example.org\r\nTo: bob@example.net\r\nSubject: bench\r\nMessage-ID: <bench@example.org>\r\n\r\n"
body = ("All work and no play makes Jack a dull boy. " * 2 + "\r\n") * 20000
message = (head + body)[:100 * 1024]
with open(os.path.join(work, "message-100k.eml"), "w", newline="") as f:
    f.write(message)
block = ""
count = 0
while len(block) < 100 * 1024:
    count += 1
    block = received(count)
with open(os.path.join(work, "block-100k.eml"), "w", newline="") as f:
    f.write(block + "\r\n")
with open(os.path.join(work, "message-50m.eml"), "wb") as f:
    f.write(head.encode())
    chunk = b"x" * 1023 + b"\n"
    for _ in range(50 * 1024):
        f.write(chunk)
with open(os.path.join(work, "oneline-50m.bin"), "wb") as f:
    chunk = b"y" * (1024 * 1024)
    for _ in range(50):
        f.write(chunk)
print("inputs: message-100k.eml %d bytes (30 Received fields), block-100k.eml %d bytes (%d Received fields), 50 MB message, 50 MB line" % (len(message), len(block) + 2, count))
EOF

for file in message-100k.eml block-100k.eml; do
    "$mxcheck" headers "$work/$file" >/dev/null || [[ $? -le 3 ]]
done

echo "== trace time (hyperfine, 200 runs each; --version is process start-up, headers on an empty file adds argument parsing)"
: >"$work/empty.eml"
hyperfine -N -i --warmup 10 --runs 200 --export-json "$work/times.json" \
    "$mxcheck --version" \
    "$mxcheck headers $work/empty.eml" \
    "$mxcheck headers $work/message-100k.eml" \
    "$mxcheck headers --json $work/block-100k.eml" >/dev/null
python3 - "$work/times.json" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
# The baseline is `headers` on an empty file: start-up, argument parsing and output, no trace.
startup = results[1]
for result in results:
    name = result["command"].split("/")[-1] if "headers" in result["command"] else "--version"
    print("  %-32s wall: mean %6.2f ms, median %6.2f ms, max %6.2f ms; CPU (user+sys) mean %6.2f ms"
          % (name, result["mean"] * 1000, result["median"] * 1000, result["max"] * 1000, (result["user"] + result["system"]) * 1000))
for result in results[2:]:
    name = result["command"].split("/")[-1]
    print("  trace of %-23s wall (median) %5.2f ms, CPU %5.2f ms beyond headers on an empty file"
          % (name, (result["median"] - startup["median"]) * 1000,
             (result["user"] + result["system"] - startup["user"] - startup["system"]) * 1000))
EOF

echo "== peak memory (GNU time, max resident set size)"
measure() {
    local label=$1
    shift
    local kb
    /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1 || true
    kb=$(tail -1 "$work/rss")
    printf '  %-40s %6s KB (%s MB)\n' "$label" "$kb" "$((kb / 1024))"
}
measure "--version (start-up alone)" "$mxcheck" --version
measure "50 MB message from a file" "$mxcheck" headers "$work/message-50m.eml"
measure "50 MB line from a file" "$mxcheck" headers "$work/oneline-50m.bin"
/usr/bin/time -f %M -o "$work/rss" bash -c "cat '$work/message-50m.eml' | '$mxcheck' headers - >/dev/null 2>&1" || true
kb=$(tail -1 "$work/rss")
printf '  %-40s %6s KB (%s MB, bash and cat included)\n' "50 MB message from a pipe" "$kb" "$((kb / 1024))"
