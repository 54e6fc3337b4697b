import Foundation
import MXCheckCore
import XCTest

/// Certificates for the DANE matching tests, made once per test run with the openssl CLI in a temporary
/// directory (EC P-256: milliseconds per key). Each certificate NAME has NAME.pem; `der(NAME)` reads it.
final class DANETestPKI: @unchecked Sendable {
    let directory: String

    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: Result<DANETestPKI, Error>?

    struct PKIError: Error, CustomStringConvertible {
        var description: String
    }

    static func shared() throws -> DANETestPKI {
        try lock.withLock {
            if let made { return try made.get() }
            let result = Result { try DANETestPKI() }
            made = result
            return try result.get()
        }
    }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-dane-pki-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = "\(directory)/make.sh"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, directory]
        // Files, not pipes: nothing can fill up and block.
        let log = "\(directory)/make.log"
        guard FileManager.default.createFile(atPath: log, contents: nil) else { throw PKIError(description: "cannot create \(log)") }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        guard process.terminationStatus == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw PKIError(description: "making the DANE test PKI failed (exit \(process.terminationStatus)): \(text)")
        }
    }

    /// The DER of certificate NAME.
    func der(_ name: String) throws -> [UInt8] {
        let path = "\(directory)/\(name).der"
        guard let data = FileManager.default.contents(atPath: path) else { throw PKIError(description: "no \(path)") }
        return Array(data)
    }

    /// The DER SubjectPublicKeyInfo of key or certificate NAME.
    func spki(_ name: String) throws -> [UInt8] {
        let path = "\(directory)/\(name).spki.der"
        guard let data = FileManager.default.contents(atPath: path) else { throw PKIError(description: "no \(path)") }
        return Array(data)
    }

    /// The hex digest (sha256 or sha512) of NAME's certificate (selector 0) or key (selector 1), by the openssl CLI.
    func digest(_ name: String, selector: UInt8, algorithm: String) throws -> [UInt8] {
        let path = "\(directory)/\(name).\(selector == 0 ? "der" : "spki.der").\(algorithm)"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let bytes = HexText.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw PKIError(description: "no digest \(path)")
        }
        return bytes
    }

    func pem(_ name: String) -> String { "\(directory)/\(name).pem" }

    /// Certificates in the order a server sends them.
    func chain(_ names: String...) throws -> [[UInt8]] {
        try names.map { try der($0) }
    }

    /// The script: a root, an intermediate, leaves of it for each case, an intermediate that expired with a leaf,
    /// a self-signed leaf, and two keys that sign nothing (the next key, a stale one).
    private static let script = #"""
        set -euo pipefail
        out=$1
        cd "$out"
        stamp() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
        cat >ca.cnf <<'EOF'
        [ ca ]
        default_ca = test_ca
        [ test_ca ]
        dir = $ENV::CA_DIR
        database = $dir/index.txt
        new_certs_dir = $dir
        rand_serial = yes
        unique_subject = no
        default_md = sha256
        policy = any
        copy_extensions = none
        preserve = yes
        [ any ]
        commonName = supplied
        organizationName = optional
        [ ext_ca ]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid:always
        [ ext_leaf ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid:always
        subjectAltName = $ENV::SAN
        [ ext_leaf_nosan ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        [ req ]
        distinguished_name = dn
        prompt = no
        [ dn ]
        CN = placeholder
        EOF
        export CA_DIR=$out SAN=DNS:placeholder.example
        names="root intermediate oldca leaf expired selfsigned othername domainonly cnonly partialwild wildcard oldcaleaf notyet next stale"
        for n in $names; do openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $n.key 2>/dev/null & done
        wait
        now=$(stamp "now - 1 day"); year=$(stamp "now + 365 days")
        sign() { # NAME ISSUER|self EXT CN START END [SAN]
            local d=ca-$1; mkdir -p $d; : >$d/index.txt
            SAN=${7:-DNS:placeholder.example}
            openssl req -new -config ca.cnf -key $1.key -subj "/O=DANE Test/CN=$4" -out $1.csr 2>/dev/null
            if [[ $2 == self ]]; then
                CA_DIR=$d SAN=$SAN openssl ca -batch -notext -config ca.cnf -selfsign -keyfile $1.key -in $1.csr \
                    -extensions $3 -startdate $5 -enddate $6 -out $1.pem 2>$d/log
            else
                CA_DIR=$d SAN=$SAN openssl ca -batch -notext -config ca.cnf -cert $2.pem -keyfile $2.key -in $1.csr \
                    -extensions $3 -startdate $5 -enddate $6 -out $1.pem 2>$d/log
            fi
        }
        sign root self ext_ca "DANE Test Root" $now $(stamp "now + 3650 days")
        sign intermediate root ext_ca "DANE Test Intermediate" $now $(stamp "now + 3650 days")
        sign oldca root ext_ca "DANE Test Expired Intermediate" $(stamp "now - 400 days") $(stamp "now - 10 days")
        sign leaf intermediate ext_leaf mx.example.com $now $year "DNS:mx.example.com,DNS:mx2.example.com"
        sign expired intermediate ext_leaf mx.example.com $(stamp "now - 400 days") $(stamp "now - 30 days") "DNS:mx.example.com"
        sign notyet intermediate ext_leaf mx.example.com $(stamp "now + 30 days") $(stamp "now + 400 days") "DNS:mx.example.com"
        sign selfsigned self ext_leaf mx.example.com $now $year "DNS:mx.example.com"
        sign othername intermediate ext_leaf other.example $now $year "DNS:other.example"
        sign domainonly intermediate ext_leaf example.com $now $year "DNS:example.com"
        sign cnonly intermediate ext_leaf_nosan mx.example.com $now $year
        sign partialwild intermediate ext_leaf "mx*.example.com" $now $year "DNS:mx*.example.com"
        sign wildcard intermediate ext_leaf "*.example.com" $now $year "DNS:*.example.com"
        sign oldcaleaf oldca ext_leaf mx.example.com $(stamp "now - 300 days") $year "DNS:mx.example.com"
        for n in root intermediate oldca leaf expired notyet selfsigned othername domainonly cnonly partialwild wildcard oldcaleaf; do
            openssl x509 -in $n.pem -outform DER -out $n.der
        done
        for n in $names; do openssl pkey -in $n.key -pubout -outform DER -out $n.spki.der; done
        # Digests by the openssl CLI, independent of the code under test: NAME.{der,spki.der}.{sha256,sha512} in hex.
        for f in *.der; do
            for md in sha256 sha512; do openssl dgst -$md -r $f | cut -d' ' -f1 >$f.$md; done
        done
        """#
}
