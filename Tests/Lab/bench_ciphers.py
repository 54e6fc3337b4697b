#!/usr/bin/env python3
"""Helper of bench.sh's second section: `mxcheck smtp --ciphers` against sslyze
and testssl.sh on the lab's Postfix `valid` case (Postfix's default TLS settings).

  bench_ciphers.py check-mx FILE ciphers|protocols   the run's JSON is usable
  bench_ciphers.py check-sslyze FILE                 sslyze's --json_out is usable
  bench_ciphers.py check-testssl FILE ciphers|any    testssl.sh's --jsonfile is usable
                                                     (ciphers: it lists accepted suites)
  bench_ciphers.py report DIR TARGET BASIC_JSON BASIC_SERVER

A check prints the reason on stdout and exits 1 when the output is unusable.
`report` reads what bench.sh left in DIR (see there), prints the table, the
budget checks and the comparison of accepted suites, protocols and groups, and
exits 1 only when mxcheck's own figures are unusable or its connections exceed
the budget formula (accepted (version, suite) pairs + accepted groups + twice
the number of versions + 10). Standard library only.
"""

import json
import os
import re
import statistics
import sys

VERSIONS = ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]

SSLYZE_COMMANDS = {
    "ssl_2_0_cipher_suites": "SSLv2",
    "ssl_3_0_cipher_suites": "SSLv3",
    "tls_1_0_cipher_suites": "TLSv1.0",
    "tls_1_1_cipher_suites": "TLSv1.1",
    "tls_1_2_cipher_suites": "TLSv1.2",
    "tls_1_3_cipher_suites": "TLSv1.3",
}

# testssl.sh ids: cipher-tls1_2_xc030 (per protocol, -E), SSLv3/TLS1_2 (-p).
TESTSSL_CIPHER_PROTOCOLS = {
    "ssl2": "SSLv2",
    "ssl3": "SSLv3",
    "tls1": "TLSv1.0",
    "tls1_1": "TLSv1.1",
    "tls1_2": "TLSv1.2",
    "tls1_3": "TLSv1.3",
}
TESTSSL_PROTOCOLS = {
    "SSLv2": "SSLv2",
    "SSLv3": "SSLv3",
    "TLS1": "TLSv1.0",
    "TLS1_1": "TLSv1.1",
    "TLS1_2": "TLSv1.2",
    "TLS1_3": "TLSv1.3",
}

# Group names as each tool spells them, mapped to mxcheck's (IANA, lower case).
GROUP_ALIASES = {"prime256v1": "secp256r1", "secp192r1": "secp192r1", "prime192v1": "secp192r1"}


def fail(message):
    print(message)
    sys.exit(1)


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail("cannot read %s: %s" % (path, e))


def group_name(name):
    n = name.strip().lower()
    return GROUP_ALIASES.get(n, n)


# --- mxcheck ---------------------------------------------------------------------


def mx_doc(path):
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    if len(lines) != 1:
        raise ValueError("expected one JSON line, found %d" % len(lines))
    return json.loads(lines[0])


def mx_facts(doc):
    """connections, {version: [suites]}, [groups], protocols."""
    ciphers = doc.get("ciphers") or {}
    suites = {v: list((ciphers.get(v) or {}).get("suites") or []) for v in ciphers}
    return doc["connections"], suites, list(doc.get("groups") or []), doc.get("protocols") or {}


def check_mx(path, mode):
    try:
        doc = mx_doc(path)
    except (OSError, ValueError) as e:
        fail("mxcheck printed no usable JSON (%s)" % e)
    if not isinstance(doc.get("connections"), int):
        fail("mxcheck's JSON has no connections figure")
    if doc.get("incomplete"):
        fail("mxcheck marked its result incomplete (\"incomplete\": true)")
    protocols = doc.get("protocols")
    if not isinstance(protocols, dict) or not any(protocols.values()):
        fail("mxcheck's JSON has no protocols, or no accepted protocol")
    if mode == "ciphers":
        ciphers = doc.get("ciphers")
        if not isinstance(ciphers, dict) or not any((c or {}).get("suites") for c in ciphers.values()):
            fail("mxcheck's JSON has no ciphers, or no accepted suite")
        if not isinstance(doc.get("groups"), list):
            fail("mxcheck's JSON has no groups")


# --- sslyze ----------------------------------------------------------------------


def sslyze_result(doc):
    results = doc.get("server_scan_results") or []
    if len(results) != 1:
        raise ValueError("expected one server scan result, found %d" % len(results))
    return results[0]


def check_sslyze(path):
    doc = load_json(path)
    try:
        server = sslyze_result(doc)
    except ValueError as e:
        fail(str(e))
    if server.get("connectivity_status") != "COMPLETED":
        fail("sslyze could not connect: %s" % (server.get("connectivity_error_trace") or server.get("connectivity_status")))
    if server.get("scan_status") != "COMPLETED":
        fail("sslyze's scan status is %s" % server.get("scan_status"))
    scans = server.get("scan_result") or {}
    broken = [k for k in SSLYZE_COMMANDS if (scans.get(k) or {}).get("status") != "COMPLETED"]
    if broken:
        fail("sslyze's cipher-suite scans did not complete: %s" % ", ".join(broken))


def sslyze_facts(doc):
    """({version: [suites]}, [groups] or None, {version: bool}, [commands that ran], [errors],
    {version: {suites offered, accepted or rejected}})."""
    scans = sslyze_result(doc).get("scan_result") or {}
    suites, protocols, offered = {}, {}, {}
    for command, version in SSLYZE_COMMANDS.items():
        result = (scans.get(command) or {}).get("result") or {}
        accepted = [a["cipher_suite"]["name"] for a in result.get("accepted_cipher_suites") or []]
        rejected = [a["cipher_suite"]["name"] for a in result.get("rejected_cipher_suites") or []]
        protocols[version] = bool(result.get("is_tls_version_supported"))
        offered[version] = set(accepted) | set(rejected)
        if accepted:
            suites[version] = accepted
    groups = None
    curves = (scans.get("elliptic_curves") or {}).get("result")
    if curves:
        groups = [c["name"] for c in curves.get("supported_curves") or []]
    ran = sorted(k for k, v in scans.items() if (v or {}).get("status") == "COMPLETED")
    errors = sorted("%s (%s)" % (k, v.get("status")) for k, v in scans.items()
                    if (v or {}).get("status") not in ("COMPLETED", "NOT_SCHEDULED"))
    return suites, groups, protocols, ran, errors, offered


# --- testssl.sh ----------------------------------------------------------------------


def check_testssl(path, mode):
    doc = load_json(path)
    if not isinstance(doc, list):
        fail("testssl.sh's JSON is not a list of findings")
    fatal = "; ".join(x.get("finding", "") for x in doc if x.get("severity") == "FATAL")[:500]
    if not any(x.get("id") == "scanTime" for x in doc):
        fail("testssl.sh did not finish its scan (no scanTime)%s" % (": " + fatal if fatal else ""))
    if mode == "ciphers" and not any(re.match(r"^cipher-[a-z0-9_]+_x[0-9a-f]+$", x.get("id", "")) for x in doc):
        fail("testssl.sh listed no accepted cipher suite%s" % (": " + fatal if fatal else ""))


def testssl_facts(doc):
    """({version: [suites]}, [groups] or None, {version: bool} or {})."""
    suites, protocols, groups = {}, {}, None
    for x in doc:
        ident, finding = x.get("id", ""), x.get("finding", "")
        m = re.match(r"^cipher-([a-z0-9_]+)_x([0-9a-f]+)$", ident)
        if m and m.group(1) in TESTSSL_CIPHER_PROTOCOLS:
            fields = finding.split()
            if fields:
                suites.setdefault(TESTSSL_CIPHER_PROTOCOLS[m.group(1)], []).append(fields[-1])
        elif ident in TESTSSL_PROTOCOLS:
            protocols[TESTSSL_PROTOCOLS[ident]] = finding.startswith("offered")
        elif ident in ("PFS_ECDHE_curves", "FS_ECDHE_curves"):
            groups = finding.split()
    return suites, groups, protocols


# --- report ------------------------------------------------------------------------------


def read_runs(path):
    """[(microseconds, server connections, output file)] from a .runs file, or []."""
    runs = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) == 3:
                    runs.append((int(fields[0]), int(fields[1]), fields[2]))
    return runs


def read_text(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def figures(values):
    """'115' or '115/116' (distinct values, sorted)."""
    return "/".join(str(v) for v in sorted(set(values)))


def pairs(suites):
    return {(v, s) for v, names in suites.items() for s in names}


def compare_suites(label, mine, theirs, out, offered=None):
    """Prints per-version differences of accepted suites; returns True when equal.
    offered: {version: suites the other tool offered}, to tell a suite it never
    tried from one the server refused it."""
    a, b = pairs(mine), pairs(theirs)
    if a == b:
        out.append("  mxcheck and %s: the same %d accepted (version, suite) pairs" % (label, len(a)))
        return True
    out.append("  WARNING: mxcheck (%d pairs) and %s (%d pairs) disagree:" % (len(a), label, len(b)))
    for version in VERSIONS + sorted((set(mine) | set(theirs)) - set(VERSIONS)):
        only_mx = sorted(s for v, s in a - b if v == version)
        only_them = sorted(s for v, s in b - a if v == version)
        if only_mx and offered is not None:
            never = [x for x in only_mx if x not in offered.get(version, set())]
            refused = [x for x in only_mx if x in offered.get(version, set())]
            if never:
                out.append("    %s: only mxcheck found %s (%s never offered them)" % (version, ", ".join(never), label))
            if refused:
                out.append("    %s: only mxcheck found %s (%s offered them and saw them refused)" % (
                    version, ", ".join(refused), label))
        elif only_mx:
            out.append("    %s: only mxcheck found %s" % (version, ", ".join(only_mx)))
        if only_them:
            out.append("    %s: only %s found %s" % (version, label, ", ".join(only_them)))
    return False


def compare_sets(what, label, mine, theirs, out):
    if theirs is None:
        return
    a, b = set(mine), set(theirs)
    if a == b:
        out.append("  mxcheck and %s: the same %s (%s)" % (label, what, ", ".join(sorted(a)) or "none"))
    else:
        out.append("  WARNING: %s differ: only mxcheck %s; only %s %s" % (
            what, ", ".join(sorted(a - b)) or "-", label, ", ".join(sorted(b - a)) or "-"))


def ratio(a, b):
    return "%.3f" % (a / b) if b else "n/a"


def report(out_dir, target, basic_json, basic_server):
    basic_json, basic_server = int(basic_json), int(basic_server)
    lines, failed = [], False
    mxc = read_runs(os.path.join(out_dir, "mxc.runs"))
    mxp = read_runs(os.path.join(out_dir, "mxp.runs"))
    if not mxc or not mxp:
        fail("bench.sh: FAILED: no mxcheck --ciphers or --protocols runs recorded")

    docs = [mx_doc(f) for _, _, f in mxc]
    facts = [mx_facts(d) for d in docs]
    json_conns = [f[0] for f in facts]
    server_conns = [r[1] for r in mxc]
    conns_worst = max(json_conns + server_conns)
    suites, groups, protocols = facts[-1][1], facts[-1][2], facts[-1][3]
    for _, s, g, p in facts[:-1]:
        if pairs(s) != pairs(suites) or set(g) != set(groups) or p != protocols:
            lines.append("WARNING: mxcheck's accepted suites, groups or protocols differ between runs")
            break
    n_pairs = len(pairs(suites))
    n_versions = len(protocols) or len(VERSIONS)
    formula = n_pairs + len(groups) + 2 * n_versions + 10
    mx_median = statistics.median(r[0] for r in mxc) / 1e6

    pdocs = [mx_doc(f) for _, _, f in mxp]
    p_json = [d["connections"] for d in pdocs]
    p_server = [r[1] for r in mxp]
    p_median = statistics.median(r[0] for r in mxp) / 1e6
    p_beyond = max(p_json + p_server) - basic_json

    rows = []  # (label, runs, median s, server connections, JSON connections)
    rows.append(("mxcheck smtp --ciphers", len(mxc), mx_median, figures(server_conns), figures(json_conns)))
    rows.append(("mxcheck smtp --protocols", len(mxp), p_median, figures(p_server), figures(p_json)))
    rows.append(("mxcheck smtp (basic check)", "-", None, str(basic_server), str(basic_json)))

    others = {}  # key -> (label, median s, worst server connections, facts or None)
    notes = []
    for key, name in (("sslyze", "sslyze"), ("testssl", "testssl.sh"), ("testssl-full", "testssl.sh")):
        skip = read_text(os.path.join(out_dir, key + ".skip"))
        runs = read_runs(os.path.join(out_dir, key + ".runs"))
        version = read_text(os.path.join(out_dir, key + ".version"))
        args = read_text(os.path.join(out_dir, key + ".args"))
        label = "%s %s" % (name, version) if version else name
        if args:
            label += " (%s)" % args
        if skip:
            notes.append("%s not available: %s" % (name if key != "testssl-full" else "testssl.sh default run", skip))
            continue
        if not runs:
            continue
        median = statistics.median(r[0] for r in runs) / 1e6
        worst = max(r[1] for r in runs)
        rows.append((label, len(runs), median, figures([r[1] for r in runs]), "-"))
        doc = load_json(runs[-1][2])
        others[key] = (name, median, worst, sslyze_facts(doc) if key == "sslyze" else testssl_facts(doc))

    print()
    print("mxcheck bench: --ciphers against the lab's Postfix with its default TLS settings (%s)" % target)
    width = max(28, max(len(r[0]) for r in rows))
    print("%-*s %5s %10s   %-24s %s" % (width, "tool", "runs", "median s", "connections (server log)", "JSON"))
    for label, runs, median, server, js in rows:
        print("%-*s %5s %10s   %-24s %s" % (width, label, runs, "-" if median is None else "%.3f" % median, server, js))

    for key in ("sslyze", "testssl", "testssl-full"):
        if key in others:
            name, median, worst, _ = others[key]
            what = name if key != "testssl-full" else "testssl.sh default run"
            print("ratio mxcheck --ciphers / %s: connections %s (%d / %d), wall time %s (%.3f s / %.3f s)" % (
                what, ratio(conns_worst, worst), conns_worst, worst, ratio(mx_median, median), mx_median, median))
    for note in notes:
        print(note)

    ok = conns_worst <= formula
    failed |= not ok
    print("budget: connections %d <= %d accepted (version, suite) pairs + %d groups + 2 x %d versions + 10 = %d: %s" % (
        conns_worst, n_pairs, len(groups), n_versions, formula, "PASS" if ok else "FAIL"))
    if "sslyze" in others:
        half = others["sslyze"][1] / 2
        print("budget: wall time %.3f s <= half of sslyze's %.3f s (%.3f s): %s" % (
            mx_median, others["sslyze"][1], half, "PASS" if mx_median <= half else "FAIL"))
    else:
        print("budget: wall time vs half of sslyze's: not checked (sslyze did not run)")
    print("budget: --protocols opens %d connection(s) beyond the basic check's %d (at most 7): %s" % (
        p_beyond, basic_json, "PASS" if p_beyond <= 7 else "FAIL"))
    if len(set(json_conns + server_conns)) != 1:
        print("WARNING: mxcheck's JSON connections (%s) and the server log (%s) disagree" % (
            figures(json_conns), figures(server_conns)))
    if len(set(p_json + p_server)) != 1:
        print("WARNING: mxcheck --protocols: JSON connections (%s) and the server log (%s) disagree" % (
            figures(p_json), figures(p_server)))

    print("accepted by mxcheck: %s; groups %s" % (
        ", ".join("%s %d" % (v, len(suites[v])) for v in VERSIONS if suites.get(v)) or "nothing",
        ", ".join(groups) or "none"))
    if "sslyze" in others:
        s_suites, s_groups, s_protocols, ran, errors, s_offered = others["sslyze"][3]
        print("sslyze ran: %s" % ", ".join(ran))
        if errors:
            print("WARNING: sslyze scan commands that did not complete: %s" % ", ".join(errors))
        compare_suites("sslyze", suites, s_suites, lines, s_offered)
        compare_sets("protocols", "sslyze", [v for v, on in protocols.items() if on],
                     [v for v, on in s_protocols.items() if on], lines)
        compare_sets("groups (sslyze: elliptic curves only)", "sslyze",
                     [g for g in map(group_name, groups) if not g.startswith("ffdhe")],
                     None if s_groups is None else [group_name(g) for g in s_groups], lines)
    for key in ("testssl", "testssl-full"):
        if key in others:
            t_suites, t_groups, t_protocols = others[key][3]
            label = "testssl.sh" if key == "testssl" else "testssl.sh default run"
            if t_suites:
                compare_suites(label, suites, t_suites, lines)
            else:
                lines.append("  %s listed no suites per protocol (no -e/-E): not compared" % label)
            if t_protocols:
                compare_sets("protocols", label, [v for v, on in protocols.items() if on],
                             [v for v, on in t_protocols.items() if on], lines)
            compare_sets("groups (testssl.sh: ECDHE curves only)", label,
                         [g for g in map(group_name, groups) if not g.startswith("ffdhe")],
                         None if t_groups is None else [group_name(g) for g in t_groups], lines)
    if lines:
        print("comparison of what the tools found accepted:")
        for line in lines:
            print(line)
    if failed:
        print("bench.sh: FAILED: mxcheck --ciphers opened %d connections, more than the budget of %d" % (conns_worst, formula),
              file=sys.stderr)
    return 1 if failed else 0


def main(argv):
    if len(argv) == 3 and argv[0] == "check-mx" and argv[2] in ("ciphers", "protocols"):
        check_mx(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "check-sslyze":
        check_sslyze(argv[1])
    elif len(argv) == 3 and argv[0] == "check-testssl" and argv[2] in ("ciphers", "any"):
        check_testssl(argv[1], argv[2])
    elif len(argv) == 5 and argv[0] == "report":
        return report(*argv[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
