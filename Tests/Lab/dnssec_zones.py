#!/usr/bin/env python3
"""dnssec_zones.py: the zones, TLSA records and case table of the DNSSEC lab (Tests/Lab/dnssec.sh).

    dnssec_zones.py plan PKI_DIR ZONE_DIR SMTP_PORT   writes the unsigned zone files and listeners.txt
    dnssec_zones.py tamper SIGNED_ZONE       spoils the RRSIGs the tampered cases name, in place
    dnssec_zones.py json PKI_DIR STATE ...   writes the lab's description (dnssec.json) on stdout

Every TLSA record is computed from the certificates and keys in PKI_DIR (DER files written by
dnssec.sh), so the records match what the lab's SMTP servers send. The case table below is the
one place a case is defined: its zone data, its server's address and chain, and what mxcheck
should say about it.
"""
import base64
import hashlib
import json
import os
import sys

ADDRESS_PREFIX = "127.0.3."
TTL = 300
# The MX host names of every case are under these names; the lab's leaf certificates name them.
DANE = "dane.example"
INSECURE = "insecure.example"
EXPIRED = "expired.example"
# The TLSA RRset of the "many-records" case: one good record among this many.
MANY_RECORDS = 40


def record(usage, selector, mtype, source):
    return (usage, selector, mtype, source)


# Each case: domain (the --mx target), its MX host, the zone the host lives in, the chain its
# server sends (None: no server of its own, the MX host is another case's), the TLSA records at
# _25._tcp.<tlsa owner> (and _PORT._tcp.<tlsa owner> for the lab's SMTP port, so that `--port PORT` finds
# them too), and what a DANE check should find. `tlsaOwner` defaults to the MX host.
def cases():
    good = "good"
    table = []

    def case(key, what, status, findings, tlsa=(), chain="good-full", zone=DANE, mx=None, domain=None,
             mx_dnssec="secure", dane_dnssec="secure", depth=None, **extra):
        label = key.replace("_", "-")
        entry = {
            "key": key,
            "what": what,
            "domain": domain or "%s.%s" % (label, zone),
            "mx": mx or "mx-%s.%s" % (label, zone),
            "zone": zone,
            "chain": chain,
            "tlsa": list(tlsa),
            "expect": {"status": status, "mxDnssec": mx_dnssec, "daneDnssec": dane_dnssec,
                       "matchedDepth": depth, "findings": findings},
        }
        entry.update(extra)
        table.append(entry)

    case("ee_spki_sha256", "DANE-EE 3 1 1 of the leaf's key, the only record", "valid",
         ["dane.no_rollover"], [record(3, 1, 1, good)], depth=0)
    case("ee_cert_sha256", "DANE-EE 3 0 1 of the whole leaf certificate", "valid",
         ["dane.no_rollover"], [record(3, 0, 1, good)], depth=0)
    case("ee_spki_sha512", "DANE-EE 3 1 2 (SHA-512) of the leaf's key", "valid",
         ["dane.no_rollover"], [record(3, 1, 2, good)], depth=0)
    case("ee_cert_sha512", "DANE-EE 3 0 2 (SHA-512) of the whole leaf certificate", "valid",
         ["dane.no_rollover"], [record(3, 0, 2, good)], depth=0)
    case("ee_selfsigned", "DANE-EE 3 1 1 of a self-signed leaf, sent alone: names and dates are ignored",
         "valid", ["dane.no_rollover"], [record(3, 1, 1, "selfsigned")], chain="selfsigned", depth=0)
    case("ee_expired", "DANE-EE 3 1 1 of a leaf that expired 30 days ago: dates are ignored", "valid",
         ["dane.no_rollover"], [record(3, 1, 1, "expired")], chain="expired-full", depth=0)
    case("ee_stale", "DANE-EE 3 1 1 of a key the server no longer uses", "mismatch",
         ["dane.mismatch"], [record(3, 1, 1, "stale")])
    case("ta_sent", "DANE-TA 2 1 1 of the intermediate, which the server sends", "valid",
         [], [record(2, 1, 1, "intermediate")], depth=1)
    case("ta_not_sent", "DANE-TA 2 1 1 of the intermediate, but the server sends only its leaf", "mismatch",
         ["dane.mismatch"], [record(2, 1, 1, "intermediate")], chain="good-leaf")
    case("ta_full_not_sent", "DANE-TA 2 0 0: the whole intermediate in DNS stands in for the one not sent",
         "valid", [], [record(2, 0, 0, "intermediate")], chain="good-leaf", depth=None)
    case("ta_name", "DANE-TA 2 1 1 of the intermediate; the leaf names only other.example", "mismatch",
         ["dane.mismatch"], [record(2, 1, 1, "intermediate")], chain="othername-full")
    case("ta_domain_name", "DANE-TA 2 1 1; the leaf names only the domain, a reference identity as the MX RRset is secure",
         "valid", [], [record(2, 1, 1, "intermediate")], chain="domainonly-full", depth=1)
    case("pkix_only", "only PKIX-TA(0) and PKIX-EE(1) records, which SMTP does not use", "unusable",
         ["dane.unusable"], [record(0, 0, 1, "root"), record(1, 1, 1, good)])
    case("unknown_params", "usage 4, selector 2, matching type 3: none is known", "unusable",
         ["dane.unusable"], [record(4, 1, 1, good), record(3, 2, 1, good), record(3, 1, 3, good)])
    case("bad_length", "3 1 1 with a 31-byte digest and 3 1 2 with a 63-byte one", "unusable",
         ["dane.unusable"], [record(3, 1, 1, "short:31"), record(3, 1, 2, "short:63")])
    case("stale_digest", "a good 3 1 1 beside a stale 3 1 2: digest agility uses only the SHA-512 record",
         "mismatch", ["dane.mismatch"], [record(3, 1, 1, good), record(3, 1, 2, "stale")])
    case("rollover", "3 1 1 of the current key and 3 1 1 of the next one", "valid",
         [], [record(3, 1, 1, good), record(3, 1, 1, "next")], depth=0)
    case("stale_record", "a good 3 1 1 beside a 2 1 1 that matches nothing in the chain", "valid",
         ["dane.stale_record"], [record(3, 1, 1, good), record(2, 1, 1, "stale")], depth=0)
    case("many_records", "%d records, one good 3 1 1 among 3 1 1 digests of nothing" % MANY_RECORDS, "valid",
         [], [record(3, 1, 1, good)] + [record(3, 1, 1, "junk:%d" % i) for i in range(MANY_RECORDS - 1)],
         depth=0)
    case("tampered", "the TLSA RRset's signature is spoiled: bogus", "error",
         ["dane.dnssec_bogus"], [record(3, 1, 1, good)], dane_dnssec="bogus", tamper=["TLSA"])
    case("tampered_address", "the MX host's A RRset's signature is spoiled: bogus addresses", "error",
         ["dane.dnssec_bogus"], [record(3, 1, 1, good)], dane_dnssec="bogus", tamper=["A"])
    case("expired_sigs", "every signature of expired.example expired months ago: bogus", "error",
         ["dane.dnssec_bogus"], [record(3, 1, 1, good)], zone=EXPIRED, domain=EXPIRED,
         mx="mx." + EXPIRED, mx_dnssec="bogus", dane_dnssec="bogus")
    case("bogus_mx", "the MX RRset is bogus (expired signatures); its host is a good, secure one", "error",
         ["dane.dnssec_bogus"], chain=None, zone=EXPIRED, domain="bogus-mx." + EXPIRED,
         mx="mx-ee-spki-sha256." + DANE, mx_dnssec="bogus", dane_dnssec="bogus")
    case("insecure", "insecure.example is delegated without DS: nothing is signed", "not_applicable",
         ["dane.not_signed"], [record(3, 1, 1, good)], zone=INSECURE, domain=INSECURE,
         mx="mx." + INSECURE, mx_dnssec="insecure", dane_dnssec="insecure")
    case("insecure_mx", "an insecure MX RRset naming a secure host with a good 3 1 1: TLSA is still used",
         "valid", ["dane.no_rollover"], chain=None, zone=INSECURE, domain="insecure-mx." + INSECURE,
         mx="mx-ee-spki-sha256." + DANE, mx_dnssec="insecure", depth=0)
    case("insecure_mx_ta_domain", "insecure MX RRset, DANE-TA, the leaf names only the domain: not a reference identity then",
         "mismatch", ["dane.mismatch"], [record(2, 1, 1, "intermediate")], chain="domainonly-insecure-full",
         domain="ta-domain-name." + INSECURE, mx="mx-insecure-mx-ta-domain." + DANE,
         mx_dnssec="insecure")
    case("servfail", "_tcp of the MX host is delegated to a name server under .invalid: the TLSA lookup SERVFAILs",
         "error", ["dane.lookup_failed"], dane_dnssec=None, lame="_tcp")
    case("no_tlsa", "a signed host without TLSA records", "absent", ["dane.absent"])
    case("two_mx", "MX 10 has a good 3 1 1 (mx-ee-spki-sha256), MX 20 has no TLSA (mx-no-tlsa)", "per_mx",
         [], chain=None, mx="mx-ee-spki-sha256." + DANE,
         perMX={"mx-ee-spki-sha256." + DANE: "valid", "mx-no-tlsa." + DANE: "absent"},
         extraMX=[(20, "mx-no-tlsa." + DANE)])
    case("cname", "the MX host is a CNAME; the TLSA records are at the expanded name", "valid",
         ["dane.no_rollover"], [record(3, 1, 1, good)], depth=0, cname="mx-cname-target." + DANE,
         tlsaOwner="mx-cname-target." + DANE)
    case("cname_original", "the MX host is a CNAME; the TLSA records are only at the original name", "valid",
         ["dane.no_rollover"], [record(3, 1, 1, good)], depth=0, cname="mx-cname-original-target." + DANE)
    return table


def load(pki, name, selector):
    suffix = ".der" if selector == 0 else ".spki.der"
    with open(os.path.join(pki, name + suffix), "rb") as f:
        return f.read()


def tlsa_data(pki, usage, selector, mtype, source):
    """The association data as hex, from the named certificate or key; 'short:N' and 'junk:N' make bad data."""
    if source.startswith("short:"):
        return hashlib.sha512(b"short").digest()[: int(source[6:])].hex()
    if source.startswith("junk:"):
        return hashlib.sha256(b"junk" + source.encode()).hexdigest()
    if selector not in (0, 1):
        # An unknown selector: data the size of a SHA-256 digest of the key.
        data = load(pki, source, 1)
    else:
        data = load(pki, source, selector)
    if mtype == 0:
        return data.hex()
    if mtype == 1:
        return hashlib.sha256(data).hexdigest()
    if mtype == 2:
        return hashlib.sha512(data).hexdigest()
    return hashlib.sha256(data).hexdigest()


def relative(name, origin):
    assert name.endswith("." + origin), (name, origin)
    return name[: -len(origin) - 1]


def plan(pki, zone_dir, smtp_port):
    table = cases()
    zones = {DANE: [], INSECURE: [], EXPIRED: []}
    listeners = []
    address_of = {}
    n = 0
    for entry in table:
        zone = zones[entry["zone"]]
        origin = entry["zone"]
        # The domain's MX RRset lives in the domain's zone.
        domain_zone = next(z for z in (DANE, INSECURE, EXPIRED) if entry["domain"] == z or entry["domain"].endswith("." + z))
        owner = "@" if entry["domain"] == domain_zone else relative(entry["domain"], domain_zone)
        zones[domain_zone].append("%-40s MX      10 %s." % (owner, entry["mx"]))
        for preference, host in entry.get("extraMX", []):
            zones[domain_zone].append("%-40s MX      %d %s." % (owner, preference, host))
        if entry["chain"] is None:
            entry["address"] = address_of.get(entry["mx"])
            continue
        n += 1
        address = ADDRESS_PREFIX + str(n)
        entry["address"] = address
        address_of[entry["mx"]] = address
        listeners.append("%s %s %s" % (entry["key"], address, entry["chain"]))
        host = relative(entry["mx"], origin)
        target = entry.get("cname")
        if target:
            zone.append("%-40s CNAME   %s." % (host, target))
            zone.append("%-40s A       %s" % (relative(target, origin), address))
        else:
            zone.append("%-40s A       %s" % (host, address))
        tlsa_owner = entry.get("tlsaOwner", entry["mx"])
        entry["tlsaName"] = "_25._tcp." + tlsa_owner
        entry["tlsaOwners"] = ["_%d._tcp.%s" % (port, tlsa_owner) for port in sorted({25, smtp_port})]
        if entry.get("lame"):
            # The delegation of _tcp.<host> to a name server that cannot be found.
            zone.append("%-40s NS      ns.lame.invalid." % ("_tcp." + host))
        rdatas = []
        for usage, selector, mtype, source in entry["tlsa"]:
            data = tlsa_data(pki, usage, selector, mtype, source)
            rdatas.append("%d %d %d %s" % (usage, selector, mtype, data))
            for port in sorted({25, smtp_port}):
                owner = "_%d._tcp.%s" % (port, relative(tlsa_owner, origin))
                zone.append("%-40s TLSA    %d %d %d %s" % (owner, usage, selector, mtype, data))
        entry["tlsaRecords"] = rdatas
    # Cases whose MX host is another case's: the same TLSA name and records.
    by_mx = {e["mx"]: e for e in table if e["chain"] is not None}
    for entry in table:
        if entry["chain"] is None:
            owner = by_mx[entry["mx"]]
            entry["address"] = owner["address"]
            entry["tlsaName"] = owner["tlsaName"]
            entry["tlsaRecords"] = owner["tlsaRecords"]
    for origin, lines in zones.items():
        with open(os.path.join(zone_dir, origin + ".zone"), "w") as f:
            f.write("; The mxcheck DNSSEC lab: generated by Tests/Lab/dnssec_zones.py.\n")
            f.write("$ORIGIN %s.\n$TTL %d\n" % (origin, TTL))
            f.write("@ SOA ns.example. hostmaster.example. 1 3600 600 86400 %d\n" % TTL)
            f.write("@ NS ns.example.\n")
            f.write("\n".join(lines) + "\n")
    # The parent: delegations to the three children (dnssec.sh appends the DS of the signed ones).
    with open(os.path.join(zone_dir, "example.zone"), "w") as f:
        f.write("; The mxcheck DNSSEC lab's trust anchor zone: generated by Tests/Lab/dnssec_zones.py.\n")
        f.write("$ORIGIN example.\n$TTL %d\n" % TTL)
        f.write("@ SOA ns.example. hostmaster.example. 1 3600 600 86400 %d\n" % TTL)
        f.write("@ NS ns.example.\nns A 127.0.0.1\n")
        for child in (DANE, INSECURE, EXPIRED):
            f.write("%s NS ns.example.\n" % relative(child, "example"))
    with open(os.path.join(zone_dir, "listeners.txt"), "w") as f:
        f.write("\n".join(listeners) + "\n")
    with open(os.path.join(zone_dir, "cases.plan.json"), "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)


def tamper(signed_zone, plan_file):
    """Flips one byte of the signature of each RRset a case says to spoil; the zone stays well-formed."""
    with open(plan_file) as f:
        table = json.load(f)
    targets = set()
    for entry in table:
        for rtype in entry.get("tamper", []):
            for owner in entry["tlsaOwners"] if rtype == "TLSA" else [entry["mx"]]:
                targets.add((owner + ".", rtype))
    with open(signed_zone) as f:
        lines = f.read().split("\n")
    spoiled = set()
    for i, line in enumerate(lines):
        fields = line.split()
        if len(fields) >= 13 and fields[3] == "RRSIG" and (fields[0].lower(), fields[4]) in targets:
            signature = bytearray(base64.b64decode("".join(fields[12:])))
            signature[len(signature) // 2] ^= 0x01
            fields[12:] = [base64.b64encode(bytes(signature)).decode()]
            lines[i] = "\t".join(fields)
            spoiled.add((fields[0].lower(), fields[4]))
    missing = targets - spoiled
    if missing:
        sys.exit("dnssec_zones.py: no RRSIG found to spoil for %s" % sorted(missing))
    with open(signed_zone, "w") as f:
        f.write("\n".join(lines))


def describe(plan_file, state, resolver_port, authoritative_port, stripped_port, smtp_port, smtp_server, anchor,
             setup_seconds):
    with open(plan_file) as f:
        table = json.load(f)
    out = {}
    for entry in table:
        mx = [{"host": entry["mx"], "preference": 10}]
        mx += [{"host": host, "preference": preference} for preference, host in entry.get("extraMX", [])]
        item = {
            "what": entry["what"],
            "domain": entry["domain"],
            "mx": mx,
            "address": entry["address"],
            "chain": entry["chain"],
            "tlsaName": entry["tlsaName"],
            "tlsaRecords": entry["tlsaRecords"],
            "expect": entry["expect"],
        }
        if entry.get("cname"):
            item["cname"] = entry["cname"]
        if entry.get("perMX"):
            item["expect"]["perMX"] = entry["perMX"]
        out[entry["key"]] = item
    doc = {
        "stateDir": state,
        "resolver": "127.0.0.1@%d" % resolver_port,
        "resolverPort": resolver_port,
        "authoritative": "127.0.0.1@%d" % authoritative_port,
        "stripped": "127.0.0.1@%d" % stripped_port,
        "trustAnchor": anchor,
        "rootCA": os.path.join(state, "pki", "root.pem"),
        "smtpPort": smtp_port,
        "smtpServer": smtp_server,
        "setupSeconds": setup_seconds,
        "cases": out,
    }
    json.dump(doc, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def main(argv):
    if len(argv) == 5 and argv[1] == "plan":
        plan(argv[2], argv[3], int(argv[4]))
    elif len(argv) == 4 and argv[1] == "tamper":
        tamper(argv[2], argv[3])
    elif len(argv) == 11 and argv[1] == "json":
        describe(argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6]), int(argv[7]), argv[8] or None, argv[9],
                 float(argv[10]))
    else:
        sys.exit("usage: dnssec_zones.py plan PKI_DIR ZONE_DIR SMTP_PORT | tamper SIGNED_ZONE PLAN | json PLAN STATE ...")


if __name__ == "__main__":
    main(sys.argv)
