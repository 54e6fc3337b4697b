import XCTest
@testable import MXCheckCore

/// ClientHello bytes, field by field, against RFC 5246 §7.4.1.2, RFC 8446 §4.1.2 and §4.2, RFC 6101 §5.6.1.2
/// and the SSLv2 CLIENT-HELLO layout.
final class ProbeClientHelloTests: XCTestCase {
    let random = (0..<32).map { UInt8($0) }

    private func suites(_ names: String...) -> [CipherSuite] { names.compactMap { CipherSuite.named($0) } }

    func testTLS12Hello() throws {
        let offered = suites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_RC4_128_SHA", "TLS_DH_anon_WITH_AES_128_CBC_SHA")
        let groups = [NamedGroup.code(0x001D), NamedGroup.code(0x0017)].compactMap { $0 }
        let hello = ClientHello(version: .tls12, suites: offered, serverName: "mx.example.com", groups: groups, random: random)
        let bytes = hello.bytes()
        let parsed = try ParsedClientHello(bytes)
        XCTAssertEqual(parsed.recordType, 22, "handshake record")
        XCTAssertEqual(parsed.recordVersion, 0x0301, "record version 0x0301 for compatibility")
        XCTAssertEqual(parsed.handshakeType, 1, "client_hello")
        XCTAssertEqual(parsed.clientVersion, 0x0303)
        XCTAssertEqual(parsed.random, random)
        XCTAssertEqual(parsed.sessionID, [])
        XCTAssertEqual(parsed.suites, [0xC02F, 0x0005, 0x0034], "exactly the suites given, no SCSV")
        XCTAssertEqual(parsed.compression, [0])
        XCTAssertEqual(parsed.extensionTypes, [0, 10, 11, 13])
        XCTAssertEqual(parsed.serverName, "mx.example.com")
        // server_name: list length, host_name(0), name length (RFC 6066 §3).
        XCTAssertEqual(Array(parsed.ext(0)?.prefix(5) ?? []), [0, 17, 0, 0, 14])
        XCTAssertEqual(parsed.ext(10), [0, 4, 0, 0x1D, 0, 0x17])
        XCTAssertEqual(parsed.ext(11), [3, 0, 1, 2])
        XCTAssertEqual(parsed.signatureAlgorithms, ClientHello.allSignatureAlgorithms)
        XCTAssertTrue(parsed.signatureAlgorithms.contains(0x0401) && parsed.signatureAlgorithms.contains(0x0201))
        XCTAssertNil(parsed.ext(43), "no supported_versions below TLS 1.3")
        XCTAssertNil(parsed.ext(51))
        // Offsets straight from the layout: 5-byte record header, 4-byte handshake header, version at 9.
        XCTAssertEqual(Array(bytes[0..<3]), [22, 3, 1])
        XCTAssertEqual(Int(bytes[3]) << 8 | Int(bytes[4]), bytes.count - 5)
        XCTAssertEqual(Array(bytes[9..<11]), [3, 3])
        XCTAssertEqual(Array(bytes[11..<43]), random)
    }

    func testTLS10And11HellosHaveNoSignatureAlgorithms() throws {
        for (version, wire) in [(ProtocolVersion.tls10, UInt16(0x0301)), (.tls11, 0x0302)] {
            let hello = ClientHello(version: version, suites: suites("TLS_RSA_WITH_AES_128_CBC_SHA"), groups: NamedGroup.all, random: random)
            let parsed = try ParsedClientHello(hello.bytes())
            XCTAssertEqual(parsed.clientVersion, wire)
            XCTAssertEqual(parsed.recordVersion, 0x0301)
            XCTAssertEqual(parsed.extensionTypes.filter { $0 != 21 }, [10, 11], "no SNI without a name, no signature_algorithms before 1.2")
            XCTAssertEqual(parsed.groups.count, NamedGroup.all.count)
        }
    }

    func testSSLv3HelloHasNoExtensions() throws {
        let hello = ClientHello(version: .sslv3, suites: suites("TLS_RSA_WITH_RC4_128_MD5", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"), serverName: "mx.example.com", random: random)
        let bytes = hello.bytes()
        let parsed = try ParsedClientHello(bytes)
        XCTAssertEqual(parsed.recordVersion, 0x0300)
        XCTAssertEqual(parsed.clientVersion, 0x0300)
        XCTAssertEqual(parsed.suites, [0x0004, 0x000A])
        XCTAssertNil(parsed.extensions, "RFC 6101 hellos end after compression_methods")
        XCTAssertEqual(bytes.count, 5 + 4 + 2 + 32 + 1 + 2 + 4 + 2)
    }

    func testTLS13Hello() throws {
        let share = ClientHello.KeyShare(group: NamedGroup.x25519, publicKey: [UInt8](repeating: 0x11, count: 32))
        let session = [UInt8](repeating: 0x22, count: 32)
        let hello = ClientHello(
            version: .tls13, suites: CipherSuite.candidates(for: .tls13), serverName: "mx.example.com",
            groups: NamedGroup.offerOrder(for: .tls13), keyShares: [share], random: random, sessionID: session)
        let parsed = try ParsedClientHello(hello.bytes())
        XCTAssertEqual(parsed.recordVersion, 0x0301)
        XCTAssertEqual(parsed.clientVersion, 0x0303, "legacy_version stays TLS 1.2 (RFC 8446 §4.1.2)")
        XCTAssertEqual(parsed.sessionID, session)
        XCTAssertEqual(Set(parsed.suites), [0x1301, 0x1302, 0x1303, 0x1304, 0x1305])
        XCTAssertEqual(parsed.ext(43), [2, 3, 4], "supported_versions: TLS 1.3 only")
        XCTAssertEqual(parsed.supportedVersions, [0x0304])
        XCTAssertEqual(parsed.ext(45), [1, 1], "psk_key_exchange_modes: psk_dhe_ke")
        XCTAssertEqual(parsed.keyShares.count, 1)
        XCTAssertEqual(parsed.keyShares.first?.group, 0x001D)
        XCTAssertEqual(parsed.keyShares.first?.key, [UInt8](repeating: 0x11, count: 32))
        XCTAssertEqual(parsed.ext(51).map { Int($0[0]) << 8 | Int($0[1]) }, 36, "client_shares length")
        XCTAssertEqual(parsed.groups.first, 0x001D)
        XCTAssertFalse(parsed.signatureAlgorithms.isEmpty, "TLS 1.3 servers require signature_algorithms")
        for required: UInt16 in [0, 10, 13, 43, 45, 51] {
            XCTAssertNotNil(parsed.ext(required), "extension \(required)")
        }
    }

    /// The TLS 1.3 group hellos offer the hybrids in supported_groups; with an empty key_share the server must
    /// name its group in a HelloRetryRequest, so no ML-KEM key is ever built.
    func testTLS13GroupHelloOffersThePostQuantumHybrids() throws {
        let hello = ClientHello(version: .tls13, suites: CipherSuite.candidates(for: .tls13), groups: NamedGroup.offerOrder(for: .tls13), keyShares: [], random: random)
        let parsed = try ParsedClientHello(hello.bytes())
        XCTAssertTrue(parsed.groups.contains(0x11EC), "X25519MLKEM768")
        XCTAssertTrue(parsed.groups.contains(0x11EB), "SecP256r1MLKEM768")
        XCTAssertEqual(parsed.groups.count, Set(parsed.groups).count)
        XCTAssertEqual(parsed.ext(51), [0, 0])
        let legacy = try ParsedClientHello(ClientHello(version: .tls12, suites: suites("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"), groups: NamedGroup.offerOrder(for: .tls12), random: random).bytes())
        XCTAssertFalse(legacy.groups.contains { $0 >= 0x0200 }, "no post-quantum group below TLS 1.3")
        XCTAssertTrue(legacy.groups.contains(0x0100), "ffdhe2048 offered for DHE (RFC 7919)")
    }

    /// A 1216-byte X25519MLKEM768 share and a 1249-byte SecP256r1MLKEM768 share keep their lengths in the bytes.
    func testPostQuantumKeySharesSerialize() throws {
        let x25519 = try XCTUnwrap(NamedGroup.named("X25519MLKEM768"))
        let p256 = try XCTUnwrap(NamedGroup.named("SecP256r1MLKEM768"))
        let shares = [
            ClientHello.KeyShare(group: x25519, publicKey: [UInt8](repeating: 0x31, count: try XCTUnwrap(x25519.keyShareLength))),
            ClientHello.KeyShare(group: p256, publicKey: [0x04] + [UInt8](repeating: 0x32, count: try XCTUnwrap(p256.keyShareLength) - 1)),
        ]
        let hello = ClientHello(version: .tls13, suites: CipherSuite.candidates(for: .tls13), groups: [x25519, p256], keyShares: shares, random: random)
        let parsed = try ParsedClientHello(hello.bytes())
        XCTAssertEqual(parsed.keyShares.map(\.group), [0x11EC, 0x11EB])
        XCTAssertEqual(parsed.keyShares.map(\.key.count), [1216, 1249])
        XCTAssertEqual(parsed.keyShares.last?.key.first, 0x04, "SecP256r1MLKEM768: the uncompressed P-256 point comes first")
        XCTAssertEqual(parsed.ext(51).map { Int($0[0]) << 8 | Int($0[1]) }, (4 + 1216) + (4 + 1249))
    }

    func testEmptyKeyShareIsAnEmptyList() throws {
        let hello = ClientHello(version: .tls13, suites: CipherSuite.candidates(for: .tls13), groups: NamedGroup.all, keyShares: [], random: random)
        let parsed = try ParsedClientHello(hello.bytes())
        XCTAssertEqual(parsed.ext(51), [0, 0])
    }

    func testSSLv2ClientHello() {
        let kinds = CipherSuite.candidates(for: .sslv2)
        let bytes = ClientHello(version: .sslv2, suites: kinds + suites("TLS_RSA_WITH_AES_128_CBC_SHA"), random: random).bytes()
        let length = Int(bytes[0] & 0x7F) << 8 | Int(bytes[1])
        XCTAssertEqual(bytes[0] & 0x80, 0x80, "two-byte record header")
        XCTAssertEqual(length, bytes.count - 2)
        XCTAssertEqual(bytes[2], 1, "MSG-CLIENT-HELLO")
        XCTAssertEqual(Array(bytes[3..<5]), [0, 2], "CLIENT-VERSION 2")
        XCTAssertEqual(Int(bytes[5]) << 8 | Int(bytes[6]), kinds.count * 3, "CIPHER-SPECS-LENGTH: SSLv2 kinds only")
        XCTAssertEqual(Array(bytes[7..<9]), [0, 0], "no SESSION-ID")
        XCTAssertEqual(Array(bytes[9..<11]), [0, 16], "CHALLENGE-LENGTH")
        XCTAssertEqual(Array(bytes[11..<14]), [UInt8(kinds[0].code >> 16), UInt8((kinds[0].code >> 8) & 0xFF), UInt8(kinds[0].code & 0xFF)])
        XCTAssertEqual(Array(bytes.suffix(16)), Array(random.prefix(16)))
        XCTAssertEqual(bytes.count, 2 + 9 + kinds.count * 3 + 16)
    }

    func testHellosOf256To511BytesArePadded() throws {
        for count in 1...140 {
            let offered = Array(CipherSuite.candidates(for: .tls12).prefix(count))
            let bytes = ClientHello(version: .tls12, suites: offered, serverName: "mx.example.com", groups: NamedGroup.offerOrder(for: .tls12), random: random).bytes()
            let handshakeLength = bytes.count - 5
            XCTAssertFalse((256...511).contains(handshakeLength), "\(count) suites: \(handshakeLength) bytes")
            let parsed = try ParsedClientHello(bytes)
            XCTAssertEqual(parsed.suites.count, count)
            if let padding = parsed.ext(21) { XCTAssertTrue(padding.allSatisfy { $0 == 0 }) }
        }
    }

    func testServerNameOnlyForDNSNames() throws {
        for (name, sent) in [("mx.example.com.", "mx.example.com"), ("192.0.2.1", nil), ("2001:db8::1", nil), ("", nil), ("bad name", nil)] as [(String, String?)] {
            let parsed = try ParsedClientHello(ClientHello(version: .tls12, suites: suites("TLS_RSA_WITH_AES_128_CBC_SHA"), serverName: name, random: random).bytes())
            XCTAssertEqual(parsed.serverName, sent, name)
        }
    }

    func testLargeHelloStaysConsistent() throws {
        let offered = Array(CipherSuite.candidates(for: .tls12).prefix(128))
        let bytes = ClientHello(version: .tls12, suites: offered, serverName: "mx.example.com", groups: NamedGroup.all, random: random).bytes()
        let parsed = try ParsedClientHello(bytes)
        XCTAssertEqual(parsed.suites, offered.map { UInt16(truncatingIfNeeded: $0.code) })
        XCTAssertLessThan(bytes.count, 16_384 + 5)
    }
}
