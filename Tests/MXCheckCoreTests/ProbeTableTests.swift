import Foundation
import XCTest
@testable import MXCheckCore

/// The cipher-suite and named-group tables: complete, unique, consistent with OpenSSL, judged as the issue says.
final class ProbeTableTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The reference data lives beside the repository (../shared/data), not in it.
    static let referenceDirectory = repository.deletingLastPathComponent().appendingPathComponent("shared/data")

    func testCountsMatchTheReferenceFile() {
        XCTAssertEqual(CipherSuite.all.count, 370)
        XCTAssertEqual(CipherSuite.all.filter(\.isSSLv2).count, 13)
        XCTAssertEqual(CipherSuite.all.filter { $0.minimumVersion == .tls13 }.count, 5)
        XCTAssertEqual(NamedGroup.all.count, 46 + 6, "every codepoint of curves-mapping.txt but 0x0000, and the generator's 6 EXTRA_GROUPS")
    }

    func testEveryLineOfTheReferenceFileIsInTheTable() throws {
        let path = Self.referenceDirectory.appendingPathComponent("cipher-mapping.txt").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw XCTSkip("no reference file at \(path)") }
        var lines = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 9 else { continue }
            lines += 1
            let bytes = fields[0].split(separator: ",").compactMap { UInt32($0.dropFirst(2), radix: 16) }
            let code = bytes.reduce(UInt32(0)) { $0 << 8 | $1 }
            let suite = CipherSuite.all.first { $0.code == code && $0.isSSLv2 == (bytes.count == 3) }
            XCTAssertNotNil(suite, String(line))
            XCTAssertEqual(suite?.opensslName ?? "-", String(fields[2]))
            XCTAssertEqual(suite?.ianaName ?? "-", String(fields[3]))
        }
        XCTAssertEqual(lines, CipherSuite.all.count)
    }

    func testGeneratedFilesAreUpToDate() throws {
        let script = Self.repository.appendingPathComponent("Tests/Lab/tools/gen_cipher_table.py").path
        guard FileManager.default.fileExists(atPath: Self.referenceDirectory.appendingPathComponent("cipher-mapping.txt").path) else {
            throw XCTSkip("no reference data beside the repository")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--check", "--data", Self.referenceDirectory.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "re-run Tests/Lab/tools/gen_cipher_table.py: \(message)")
    }

    func testIdsAreUniqueAndNamesAlmostSo() {
        var codes = Set<String>()
        for suite in CipherSuite.all {
            XCTAssertTrue(codes.insert(suite.hexCode + (suite.isSSLv2 ? "/2" : "")).inserted, "duplicate \(suite)")
            XCTAssertLessThanOrEqual(suite.code, suite.isSSLv2 ? 0xFF_FFFF : 0xFFFF)
        }
        let names = Dictionary(grouping: CipherSuite.all, by: \.name).filter { $0.value.count > 1 }.keys.sorted()
        // Netscape's two private FIPS codes each; nothing else shares a name.
        XCTAssertEqual(names, ["SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA", "SSL_RSA_FIPS_WITH_DES_CBC_SHA"])
        XCTAssertEqual(Set(NamedGroup.all.map(\.code)).count, NamedGroup.all.count)
        XCTAssertEqual(Set(NamedGroup.all.map(\.name)).count, NamedGroup.all.count)
    }

    /// The scan a single question takes finds what the dictionaries find, for every name of the table.
    func testScanAgreesWithTheLookupTables() {
        for suite in CipherSuite.all {
            for name in [suite.name] + (suite.opensslName.map { [$0] } ?? []) {
                XCTAssertEqual(CipherSuite.scanned(name)?.code, CipherSuite.named(name)?.code, name)
                XCTAssertEqual(CipherSuite.scanned(name)?.name, CipherSuite.named(name)?.name, name)
            }
        }
        XCTAssertNil(CipherSuite.scanned("NO-SUCH-SUITE"))
    }

    func testLookups() {
        XCTAssertEqual(CipherSuite.tls(code: 0xC02F)?.name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        XCTAssertEqual(CipherSuite.tls(code: 0xC02F)?.opensslName, "ECDHE-RSA-AES128-GCM-SHA256")
        XCTAssertEqual(CipherSuite.named("ECDHE-RSA-AES128-GCM-SHA256")?.code, 0xC02F)
        XCTAssertEqual(CipherSuite.named("TLS_AES_128_GCM_SHA256")?.code, 0x1301)
        XCTAssertEqual(CipherSuite.sslv2(code: 0x010080)?.name, "SSL_CK_RC4_128_WITH_MD5")
        XCTAssertEqual(CipherSuite.tls(code: 0x0000)?.name, "TLS_NULL_WITH_NULL_NULL", "not SSLv2's NULL-MD5 0x000000")
        XCTAssertNil(CipherSuite.tls(code: 0x5600), "no SCSV in the table")
        XCTAssertNil(CipherSuite.tls(code: 0x00FF))
        XCTAssertEqual(NamedGroup.code(0x001D)?.name, "x25519")
        XCTAssertEqual(NamedGroup.code(0x0017)?.name, "secp256r1")
        XCTAssertEqual(NamedGroup.code(0x0100)?.name, "ffdhe2048")
        XCTAssertEqual(CipherSuite.tls(code: 0x0016)?.hexCode, "0x0016")
        XCTAssertEqual(CipherSuite.sslv2(code: 0x0700C0)?.hexCode, "0x0700C0")
    }

    /// The hybrids of draft-ietf-tls-ecdhe-mlkem come from the generator's EXTRA_GROUPS, TLS 1.3 only.
    func testPostQuantumGroups() throws {
        let x25519 = try XCTUnwrap(NamedGroup.code(0x11EC))
        let p256 = try XCTUnwrap(NamedGroup.code(0x11EB))
        XCTAssertEqual(x25519.name, "X25519MLKEM768")
        XCTAssertEqual(p256.name, "SecP256r1MLKEM768")
        XCTAssertEqual(NamedGroup.code(0x11ED)?.name, "SecP384r1MLKEM1024")
        XCTAssertEqual(NamedGroup.code(0x0201)?.name, "MLKEM768")
        // ML-KEM-768 encapsulation key (1184) + x25519 (32); P-256 point (65) + encapsulation key.
        XCTAssertEqual(x25519.keyShareLength, 1216)
        XCTAssertEqual(p256.keyShareLength, 1249)
        XCTAssertTrue(x25519.isPostQuantum && p256.isPostQuantum)
        XCTAssertFalse(x25519.isFiniteField || x25519.isClassicECDHE)
        XCTAssertTrue(NamedGroup.offerOrder(for: .tls13).contains(x25519))
        XCTAssertTrue(NamedGroup.offerOrder(for: .tls13).contains(p256))
        for version in [ProtocolVersion.tls10, .tls11, .tls12] {
            XCTAssertFalse(NamedGroup.offerOrder(for: version).contains { $0.isPostQuantum }, version.rawValue)
        }
    }

    /// The generated table is what the generator writes from the reference data (no hand edits).
    func testGeneratedTablesAreCurrent() throws {
        let root = Self.repository
        let data = Self.referenceDirectory
        guard FileManager.default.fileExists(atPath: data.appendingPathComponent("curves-mapping.txt").path) else {
            throw XCTSkip("no reference data at \(data.path)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("Tests/Lab/tools/gen_cipher_table.py").path, "--data", data.path, "--check"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw XCTSkip("no python3") }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, message)
    }

    /// One spelling: OpenSSL's names for groups map to the IANA entries; the report's names read back.
    func testOpenSSLGroupNamesMapToIANANames() {
        let cases = [
            "x25519": "x25519", "X25519": "x25519", "X448": "x448", "prime256v1": "secp256r1", "secp256r1": "secp256r1",
            "P-384": "secp384r1", "secp521r1": "secp521r1", "brainpoolP256r1": "brainpoolP256r1", "ffdhe2048": "ffdhe2048",
            "X25519MLKEM768": "X25519MLKEM768", "x25519mlkem768": "X25519MLKEM768", "SecP256r1MLKEM768": "SecP256r1MLKEM768",
            "prime192v1": "secp192r1", "P-256": "secp256r1", "p-224": "secp224r1", "P-521": "secp521r1", "SM2": "curveSM2",
        ]
        for (openSSL, iana) in cases {
            XCTAssertEqual(KeyExchangeGroup(openSSLName: openSSL).name, iana, openSSL)
        }
        XCTAssertEqual(KeyExchangeGroup(openSSLName: "GOST2012-256-A"), .unlisted("GOST2012-256-A"))
        for group in NamedGroup.all {
            XCTAssertEqual(KeyExchangeGroup(name: group.name), .named(group))
        }
        XCTAssertEqual(KeyExchangeGroup(name: "dh1024"), .customFiniteField(bits: 1024))
        XCTAssertNil(KeyExchangeGroup(name: "X25519"), "the report's spelling is the IANA one")
        XCTAssertNil(KeyExchangeGroup(name: "DH"))
        XCTAssertTrue(Rules.isFiniteFieldDH(group: .customFiniteField(bits: 1024), cipher: "TLS_DH_anon_WITH_AES_128_CBC_SHA"))
        XCTAssertTrue(Rules.isFiniteFieldDH(group: KeyExchangeGroup(openSSLName: "ffdhe3072"), cipher: "TLS_AES_128_GCM_SHA256"))
        XCTAssertFalse(Rules.isFiniteFieldDH(group: KeyExchangeGroup(openSSLName: "x25519"), cipher: "TLS_AES_128_GCM_SHA256"))
        XCTAssertFalse(Rules.isFiniteFieldDH(group: KeyExchangeGroup(openSSLName: "X25519MLKEM768"), cipher: "TLS_AES_128_GCM_SHA256"))
    }

    /// Every suite the local OpenSSL knows is in the table under the same code, with OpenSSL's name.
    func testEveryOpenSSLSuiteHasItsOpenSSLName() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        do { try process.run() } catch { throw XCTSkip("no openssl command") }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var checked = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, fields[0].hasPrefix("0x") else { continue }
            let bytes = fields[0].split(separator: ",").compactMap { UInt16($0.dropFirst(2), radix: 16) }
            guard bytes.count == 2 else { continue }
            let suite = CipherSuite.tls(code: bytes[0] << 8 | bytes[1])
            XCTAssertEqual(suite?.opensslName, String(fields[2]), String(line))
            checked += 1
        }
        XCTAssertGreaterThan(checked, 100)
    }

    func testVersions() {
        XCTAssertEqual(CipherSuite.named("TLS_AES_256_GCM_SHA384")?.versions, [.tls13])
        XCTAssertEqual(CipherSuite.named("TLS_RSA_WITH_AES_128_CBC_SHA")?.versions, [.sslv3, .tls10, .tls11, .tls12])
        XCTAssertEqual(CipherSuite.named("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")?.versions, [.tls12])
        XCTAssertEqual(CipherSuite.named("TLS_PSK_WITH_AES_256_CBC_SHA384")?.versions, [.tls10, .tls11, .tls12])
        XCTAssertEqual(CipherSuite.sslv2(code: 0x0700C0)?.versions, [.sslv2])
        XCTAssertEqual(CipherSuite.candidates(for: .sslv2).count, 13)
        XCTAssertEqual(CipherSuite.candidates(for: .sslv3).count, 141)
        XCTAssertEqual(CipherSuite.candidates(for: .tls10).count, 179)
        XCTAssertEqual(CipherSuite.candidates(for: .tls11).count, 179)
        XCTAssertEqual(CipherSuite.candidates(for: .tls12).count, 352)
        XCTAssertEqual(CipherSuite.candidates(for: .tls13).count, 5)
        for version in ProtocolVersion.allCases {
            XCTAssertTrue(CipherSuite.candidates(for: version).allSatisfy { $0.versions.contains(version) })
        }
    }

    /// The first hello of 128 holds every suite common servers enable, so a server's order among them shows.
    func testCommonSuitesFitInTheFirstHello() {
        for version in [ProtocolVersion.sslv3, .tls10, .tls12] {
            let common = CipherSuite.candidates(for: version).filter { $0.offerTier == 0 }
            XCTAssertLessThanOrEqual(common.count, 128, version.rawValue)
            XCTAssertEqual(Array(CipherSuite.candidates(for: version).prefix(common.count)), common)
        }
        let first = Set(CipherSuite.candidates(for: .tls12).prefix(128).map(\.name))
        for name in ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                     "TLS_DH_anon_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_RC4_128_MD5",
                     "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "TLS_RSA_WITH_NULL_SHA256"] {
            XCTAssertTrue(first.contains(name), name)
        }
    }

    func testStrengthClasses() {
        func strength(_ name: String) -> CipherSuite.Strength? { CipherSuite.named(name)?.strength }
        XCTAssertEqual(strength("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), .strong)
        XCTAssertEqual(strength("TLS_AES_128_CCM_8_SHA256"), .strong)
        XCTAssertEqual(strength("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"), .strong)
        XCTAssertEqual(strength("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"), .acceptable)
        XCTAssertEqual(strength("TLS_RSA_WITH_AES_128_GCM_SHA256"), .weak, "no forward secrecy")
        XCTAssertEqual(strength("TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"), .weak, "static ECDH")
        XCTAssertEqual(strength("TLS_DH_RSA_WITH_AES_128_CBC_SHA"), .weak, "static DH")
        XCTAssertEqual(strength("TLS_PSK_WITH_AES_128_CBC_SHA"), .weak)
        XCTAssertEqual(strength("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"), .weak, "3DES even with forward secrecy")
        XCTAssertEqual(strength("TLS_RSA_WITH_3DES_EDE_CBC_SHA"), .weak)
        XCTAssertEqual(strength("TLS_ECDHE_RSA_WITH_RC4_128_SHA"), .insecure)
        XCTAssertEqual(strength("TLS_RSA_WITH_DES_CBC_SHA"), .insecure)
        XCTAssertEqual(strength("TLS_RSA_EXPORT_WITH_RC4_40_MD5"), .insecure)
        XCTAssertEqual(strength("TLS_RSA_WITH_NULL_SHA256"), .insecure)
        XCTAssertEqual(strength("TLS_NULL_WITH_NULL_NULL"), .insecure)
        XCTAssertEqual(strength("TLS_DH_anon_WITH_AES_256_GCM_SHA384"), .insecure)
        XCTAssertEqual(strength("TLS_ECDH_anon_WITH_AES_128_CBC_SHA"), .insecure)
        XCTAssertEqual(CipherSuite.named("TLS_ECDHE_RSA_WITH_RC4_128_SHA")?.findingSeverity, .critical)
        XCTAssertEqual(CipherSuite.named("TLS_RSA_WITH_3DES_EDE_CBC_SHA")?.findingSeverity, .warning)
        XCTAssertNil(CipherSuite.named("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")?.findingSeverity)
        // Whole families, straight from the facts.
        for suite in CipherSuite.all {
            if suite.isExport || suite.cipher == "NULL" || suite.isAnonymous || suite.cipher.hasPrefix("RC4") || suite.cipher == "DES" {
                XCTAssertEqual(suite.strength, .insecure, "\(suite)")
            } else if suite.cipher == "3DES" || !suite.isForwardSecret {
                XCTAssertLessThanOrEqual(suite.strength, .weak, "\(suite)")
            }
            if suite.minimumVersion == .tls13 { XCTAssertEqual(suite.strength, .strong, "\(suite)") }
            if suite.isSSLv2 { XCTAssertLessThanOrEqual(suite.strength, .weak, "\(suite)") }
        }
    }
}
