#!/usr/bin/env python3
"""gen_cipher_table.py: writes mxcheck's cipher-suite and named-group tables as Swift data.

Usage:
    python3 Tests/Lab/tools/gen_cipher_table.py [--data DIR] [--out DIR] [--check]

Reads DIR/cipher-mapping.txt and DIR/curves-mapping.txt (default: ../shared/data
beside the repository) and writes Sources/MXCheckCore/Probe/CipherSuiteTable.swift
and NamedGroupTable.swift. --check writes nothing and exits 1 when the files on
disk differ from what would be generated (for CI).

The text files are reference facts (IANA registry plus SSLv2, with OpenSSL's
names); this script only normalises their vocabulary. How strong a suite is,
is decided in Swift (CipherSuite.strength), not here.
"""

import argparse
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# Kx column of cipher-mapping.txt -> CipherSuite.KeyExchange case. "ECDH"/"DH"
# without a slash are the ephemeral kinds; "DH/RSA" etc. are static keys in a certificate.
KEY_EXCHANGE = {
    "any": "any",
    "ECDH": "ecdhe",
    "DH": "dhe",
    "RSA": "rsa",
    "DH/RSA": "dh",
    "DH/DSS": "dh",
    "ECDH/RSA": "ecdh",
    "ECDH/ECDSA": "ecdh",
    "PSK": "psk",
    "RSAPSK": "rsaPSK",
    "DHEPSK": "dhePSK",
    "ECDHEPSK": "ecdhePSK",
    "SRP": "srp",
    "KRB5": "krb5",
    "GOST": "gost",
    "CECPQ1": "cecpq1",
    "None": "none",
}

AUTHENTICATION = {
    "any": "any",
    "RSA": "rsa",
    "DSS": "dss",
    "ECDSA": "ecdsa",
    "None": "anonymous",
    "PSK": "psk",
    "SRP": "srp",
    "KRB5": "krb5",
    "GOST94": "gost94",
    "GOST01": "gost01",
}

VERSIONS = {
    "SSLv2": "sslv2",
    "SSLv3": "sslv3",
    "TLSv1": "tls10",
    "TLSv1.2": "tls12",
    "TLSv1.3": "tls13",
}

# TLS Supported Groups the reference file predates (IANA registry): the ML-KEM groups of
# draft-ietf-tls-mlkem and the hybrids of draft-ietf-tls-ecdhe-mlkem (RFC 10024).
EXTRA_GROUPS = [
    (0x0200, "MLKEM512"),
    (0x0201, "MLKEM768"),
    (0x0202, "MLKEM1024"),
    (0x11EB, "SecP256r1MLKEM768"),
    (0x11EC, "X25519MLKEM768"),
    (0x11ED, "SecP384r1MLKEM1024"),
]

LINE = re.compile(
    r"^\s*(?P<id>0x[0-9A-Fa-f]{2}(?:,0x[0-9A-Fa-f]{2}){1,2})\s+-\s+(?P<openssl>\S+)\s+(?P<iana>\S+)\s+"
    r"(?P<version>\S+)\s+Kx=(?P<kx>\S+)\s+Au=(?P<au>\S+)\s+Enc=(?P<enc>\S+)\s+Mac=(?P<mac>\S+)\s*(?P<export>export)?\s*$"
)


def fail(message):
    sys.exit("gen_cipher_table.py: " + message)


def swift_string(value):
    if value is None:
        return "nil"
    if not re.fullmatch(r"[A-Za-z0-9_.+/()-]+", value):
        fail("unexpected characters in %r" % value)
    return '"%s"' % value


def parse_suites(path):
    suites = []
    with open(path, encoding="ascii") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            m = LINE.match(line)
            if not m:
                fail("%s:%d: cannot read %r" % (path, number, line.rstrip()))
            parts = [int(p, 16) for p in m["id"].split(",")]
            code = 0
            for p in parts:
                code = code << 8 | p
            kx_text = m["kx"]
            bits_in_kx = re.fullmatch(r"(RSA|DH)\((\d+)\)", kx_text)
            if bits_in_kx:  # export kinds: RSA(512), DH(1024)
                kx = "rsa" if bits_in_kx[1] == "RSA" else "dhe"
            elif kx_text in KEY_EXCHANGE:
                kx = KEY_EXCHANGE[kx_text]
            else:
                fail("%s:%d: unknown key exchange %s" % (path, number, kx_text))
            au_text = m["au"]
            if au_text in ("DH", "ECDH"):  # static (EC)DH: the certificate's signer authenticates
                au = {"RSA": "rsa", "DSS": "dss", "ECDSA": "ecdsa"}[kx_text.split("/")[1]]
            elif au_text in AUTHENTICATION:
                au = AUTHENTICATION[au_text]
            else:
                fail("%s:%d: unknown authentication %s" % (path, number, au_text))
            enc = re.fullmatch(r"([A-Za-z0-9]+)(?:\((\d+)\))?", m["enc"])
            if not enc:
                fail("%s:%d: unknown encryption %s" % (path, number, m["enc"]))
            cipher, bits = enc[1], int(enc[2] or 0)
            if cipher == "None":
                cipher, bits = "NULL", 0
            mac = m["mac"]
            if mac == "Null":
                mac = "NULL"
            version = m["version"]
            if version not in VERSIONS:
                fail("%s:%d: unknown version %s" % (path, number, version))
            suites.append({
                "code": code,
                "sslv2": len(parts) == 3,
                "iana": None if m["iana"] == "-" else m["iana"],
                "openssl": None if m["openssl"] == "-" else m["openssl"],
                "version": VERSIONS[version],
                "kx": kx,
                "au": au,
                "cipher": cipher,
                "bits": bits,
                "mac": mac,
                "export": m["export"] is not None,
            })
    keys = [(s["code"], s["sslv2"]) for s in suites]
    if len(set(keys)) != len(keys):
        fail("duplicate suite ids in %s" % path)
    return suites


def parse_groups(path):
    groups = []
    with open(path, encoding="ascii") as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 4 or fields[1] != "-":
                fail("%s:%d: cannot read %r" % (path, number, line.rstrip()))
            hi, lo = (int(p, 16) for p in fields[0].split(","))
            code = hi << 8 | lo
            if code == 0:  # 0x0000 is no group (the file's TPM_ECC_NONE placeholder)
                continue
            groups.append({"code": code, "name": fields[3]})
    known = {g["code"] for g in groups}
    for code, name in EXTRA_GROUPS:
        if code not in known:
            groups.append({"code": code, "name": name})
    groups.sort(key=lambda g: g["code"])
    names = [g["name"] for g in groups]
    if len(set(names)) != len(names) or len({g["code"] for g in groups}) != len(groups):
        fail("duplicate group in %s or EXTRA_GROUPS" % path)
    return groups


def hex_code(suite):
    width = 6 if suite["sslv2"] else 4
    return "0x%0*X" % (width, suite["code"])


def render_suites(suites, source):
    out = [
        "// Generated by Tests/Lab/tools/gen_cipher_table.py from %s; edit that script, not this file." % source,
        "// swift-format-ignore-file",
        "",
        "extension CipherSuite {",
        "    /// Every suite of the IANA TLS Cipher Suites registry and of SSLv2, as the reference file lists them.",
        "    /// Fields: code, SSLv2 format, IANA name, OpenSSL name, earliest version, key exchange,",
        "    /// authentication, cipher, key bits, MAC, export grade.",
        "    public static let all: [CipherSuite] = [",
    ]
    for s in suites:
        out.append(
            "        CipherSuite(%s, %s, %s, %s, .%s, .%s, .%s, %s, %d, %s, %s),"
            % (
                hex_code(s), "true" if s["sslv2"] else "false", swift_string(s["iana"]), swift_string(s["openssl"]),
                s["version"], s["kx"], s["au"], swift_string(s["cipher"]), s["bits"], swift_string(s["mac"]),
                "true" if s["export"] else "false",
            )
        )
    out += ["    ]", "}", ""]
    return "\n".join(out)


def render_groups(groups, source):
    out = [
        "// Generated by Tests/Lab/tools/gen_cipher_table.py from %s; edit that script, not this file." % source,
        "// swift-format-ignore-file",
        "",
        "extension NamedGroup {",
        "    /// Every TLS named group (supported_groups codepoint) of the reference file and the generator's",
        "    /// EXTRA_GROUPS, by IANA name, in code order.",
        "    public static let all: [NamedGroup] = [",
    ]
    for g in groups:
        out.append("        NamedGroup(0x%04X, %s)," % (g["code"], swift_string(g["name"])))
    out += ["    ]", "}", ""]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(REPO), "shared", "data"))
    parser.add_argument("--out", default=os.path.join(REPO, "Sources", "MXCheckCore", "Probe"))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    suites = parse_suites(os.path.join(args.data, "cipher-mapping.txt"))
    groups = parse_groups(os.path.join(args.data, "curves-mapping.txt"))
    files = {
        "CipherSuiteTable.swift": render_suites(suites, "cipher-mapping.txt"),
        "NamedGroupTable.swift": render_groups(groups, "curves-mapping.txt and EXTRA_GROUPS"),
    }
    stale = []
    for name, text in files.items():
        path = os.path.join(args.out, name)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        sys.exit("out of date: " + ", ".join(stale))
    if not args.check:
        print("wrote %d suites, %d groups to %s" % (len(suites), len(groups), args.out))


if __name__ == "__main__":
    main()
