import XCTest
@testable import MXCheckCore

/// The answer parser: well-formed flights, HelloRetryRequest, alerts, SSLv2, and truncated, oversized and
/// garbage input, which must give a typed error, never a crash or a wait for bytes that cannot come.
final class ProbeServerHelloTests: XCTestCase {
    private func parse(_ bytes: [UInt8], keyExchange: Bool = true, atEnd: Bool = true) throws -> ServerAnswerParser.Progress {
        try ServerAnswerParser.parse(bytes, keyExchange: keyExchange, atEnd: atEnd)
    }

    private func hello(_ bytes: [UInt8], keyExchange: Bool = true) throws -> ServerHello {
        guard case .complete(.hello(let hello)) = try parse(bytes, keyExchange: keyExchange, atEnd: false) else {
            XCTFail("no ServerHello")
            throw ServerAnswerError.malformed("test")
        }
        return hello
    }

    func testTLS12ServerHelloWithECDHEKeyExchange() throws {
        let flight = ServerBytes.tls12Flight(version: 0x0303, suite: 0xC02F, keyExchange: ServerBytes.ecdheKeyExchange(curve: 0x001D))
        let parsed = try hello(flight)
        XCTAssertEqual(parsed.version, .tls12)
        XCTAssertEqual(parsed.cipherSuite, 0xC02F)
        XCTAssertFalse(parsed.isHelloRetryRequest)
        XCTAssertEqual(parsed.keyExchange, .namedCurve(0x001D))
        // Without asking for the key exchange, the ServerHello alone will do.
        let alone = ServerBytes.record(22, ServerBytes.handshake(2, ServerBytes.serverHelloBody(version: 0x0303, suite: 0xC02F)))
        XCTAssertEqual(try hello(alone, keyExchange: false).cipherSuite, 0xC02F)
        XCTAssertEqual(try parse(alone, keyExchange: true, atEnd: false), .needMore, "an ECDHE suite: the key exchange is still to come")
    }

    func testDHEPrimeSize() throws {
        for bits in [512, 1024, 1023, 2048, 4096] {
            let flight = ServerBytes.tls12Flight(version: 0x0303, suite: 0x009E, keyExchange: ServerBytes.dheKeyExchange(bits: bits))
            XCTAssertEqual(try hello(flight).keyExchange, .finiteField(primeBits: bits, group: .customFiniteField(bits: bits)))
        }
        // TLS_DHE_PSK: the identity hint comes first (RFC 4279 §3).
        let psk = [0, 3, 0x61, 0x62, 0x63] + ServerBytes.dheKeyExchange(bits: 1536)
        XCTAssertEqual(try hello(ServerBytes.tls12Flight(version: 0x0303, suite: 0x00AA, keyExchange: psk)).keyExchange, .finiteField(primeBits: 1536, group: .customFiniteField(bits: 1536)))
    }

    func testCertificateLargerThanOneRecordStillReachesTheKeyExchange() throws {
        let flight = ServerBytes.tls12Flight(version: 0x0303, suite: 0xC030, keyExchange: ServerBytes.ecdheKeyExchange(curve: 0x0018), certificateSize: 40_000)
        XCTAssertEqual(try hello(flight).keyExchange, .namedCurve(0x0018))
    }

    func testRSAKeyExchangeEndsAtServerHelloDone() throws {
        let flight = ServerBytes.tls12Flight(version: 0x0301, suite: 0x002F, keyExchange: nil)
        let parsed = try hello(flight)
        XCTAssertEqual(parsed.version, .tls10)
        XCTAssertNil(parsed.keyExchange)
    }

    func testTLS13ServerHelloAndHelloRetryRequest() throws {
        let serverHello = try hello(ServerBytes.tls13Hello(suite: 0x1302, group: 0x001D, retry: false))
        XCTAssertEqual(serverHello.version, .tls13, "from supported_versions, not legacy_version")
        XCTAssertEqual(serverHello.legacyVersion, 0x0303)
        XCTAssertFalse(serverHello.isHelloRetryRequest)
        XCTAssertEqual(serverHello.keyShareGroup, 0x001D)
        let retry = try hello(ServerBytes.tls13Hello(suite: 0x1301, group: 0x0018, retry: true))
        XCTAssertTrue(retry.isHelloRetryRequest, "the special random (RFC 8446 §4.1.3)")
        XCTAssertEqual(retry.keyShareGroup, 0x0018, "selected_group")
        XCTAssertEqual(retry.cipherSuite, 0x1301)
        XCTAssertEqual(ServerHello.helloRetryRequestRandom.count, 32)
        XCTAssertEqual(Array(ServerHello.helloRetryRequestRandom.prefix(4)), [0xCF, 0x21, 0xAD, 0x74])
    }

    func testAlerts() throws {
        XCTAssertEqual(try parse(ServerBytes.alert(40)), .complete(.alert(TLSAlert(level: 2, code: 40))))
        guard case .complete(.alert(let alert)) = try parse(ServerBytes.alert(70)) else { return XCTFail("no alert") }
        XCTAssertEqual(alert.name, "protocol_version")
        XCTAssertEqual(alert.description, "fatal protocol_version")
        // An alert after the ServerHello still means the suite was chosen.
        let flight = ServerBytes.record(22, ServerBytes.handshake(2, ServerBytes.serverHelloBody(version: 0x0303, suite: 0x009E))) + ServerBytes.alert(80)
        XCTAssertEqual(try hello(flight).cipherSuite, 0x009E)
    }

    /// GnuTLS refuses an SSLv3 or TLS 1.0 hello with a protocol_version alert in a record marked 0xFEFD (DTLS 1.2).
    func testAnAlertIsAnAlertWhateverItsRecordVersion() throws {
        for version: UInt16 in [0xFEFD, 0xFEFF, 0x0000, 0x0200, 0x0300, 0x0301, 0x7F1C] {
            XCTAssertEqual(
                try parse(ServerBytes.alert(70, version: version)), .complete(.alert(TLSAlert(level: 2, code: 70))),
                "record version 0x\(String(version, radix: 16))")
        }
        XCTAssertEqual(try parse(Array(ServerBytes.alert(70, version: 0xFEFD).prefix(6)), atEnd: false), .needMore, "half an alert")
        XCTAssertThrowsError(try parse(ServerBytes.record(21, [2], version: 0xFEFD)), "a one-byte alert")
        // Only alerts: a handshake record that claims DTLS is still no TLS answer.
        let dtlsHello = ServerBytes.record(22, ServerBytes.handshake(2, ServerBytes.serverHelloBody(version: 0x0303, suite: 0x009E)), version: 0xFEFD)
        XCTAssertThrowsError(try parse(dtlsHello))
    }

    /// The RFC 7919 primes (from the openssl CLI) are named; a prime one bit off is a group of its own, `dh<bits>`.
    func testRFC7919PrimesAreNamed() throws {
        for name in ["ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"] {
            let prime = try FFDHEPrimes.prime(name)
            let group = try XCTUnwrap(NamedGroup.named(name))
            let flight = ServerBytes.tls12Flight(version: 0x0303, suite: 0x009E, keyExchange: ServerBytes.dheKeyExchange(prime: prime), certificateSize: 300)
            XCTAssertEqual(try hello(flight).keyExchange, .finiteField(primeBits: prime.count * 8, group: .named(group)), name)
            XCTAssertEqual(KeyExchangeGroup(finiteFieldPrime: [0, 0] + prime), .named(group), "leading zero bytes do not count")
            var other = prime
            other[other.count / 2] ^= 0x10
            XCTAssertEqual(KeyExchangeGroup(finiteFieldPrime: other), .customFiniteField(bits: prime.count * 8))
            XCTAssertEqual(KeyExchangeGroup(finiteFieldPrime: other).name, "dh\(prime.count * 8)")
        }
    }

    /// A HelloRetryRequest names a post-quantum hybrid by its codepoint alone: no key share was needed to learn it.
    func testHelloRetryRequestNamesAPostQuantumHybrid() throws {
        for (code, name) in [(UInt16(0x11EC), "X25519MLKEM768"), (0x11EB, "SecP256r1MLKEM768"), (0x11ED, "SecP384r1MLKEM1024")] {
            let retry = try hello(ServerBytes.tls13Hello(suite: 0x1301, group: code, retry: true))
            XCTAssertTrue(retry.isHelloRetryRequest)
            XCTAssertEqual(retry.version, .tls13)
            XCTAssertEqual(retry.keyShareGroup.flatMap(NamedGroup.code)?.name, name)
        }
    }

    func testSSLv2Answers() throws {
        let bytes = ServerBytes.sslv2ServerHello(kinds: [0x010080, 0x0700C0])
        guard case .complete(.sslv2Hello(let serverHello)) = try parse(bytes) else { return XCTFail("no SERVER-HELLO") }
        XCTAssertEqual(serverHello.cipherKinds, [0x010080, 0x0700C0])
        XCTAssertEqual(serverHello.version, 2)
        XCTAssertEqual(try parse([0x80, 3, 0, 0, 1]), .complete(.sslv2Error(1)))
        XCTAssertThrowsError(try parse([0x80, 3, 9, 0, 1])) { XCTAssertEqual($0 as? ServerAnswerError, .malformed("SSLv2 message type 9")) }
    }

    func testEveryTruncationWaitsOrFailsNeverCrashes() throws {
        let flights = [
            ServerBytes.tls12Flight(version: 0x0303, suite: 0x009E, keyExchange: ServerBytes.dheKeyExchange(bits: 2048), certificateSize: 300),
            ServerBytes.tls13Hello(suite: 0x1301, group: 0x001D, retry: true),
            ServerBytes.sslv2ServerHello(kinds: [0x010080]),
            ServerBytes.alert(40),
        ]
        for flight in flights {
            for cut in 0..<flight.count {
                let prefix = Array(flight.prefix(cut))
                // More may come: never an answer invented from a fragment of a record...
                let open = try parse(prefix, atEnd: false)
                if case .complete(.hello(let partial)) = open { XCTAssertNotNil(partial.version) }
                // ...and at the end of the stream: an answer only if a whole ServerHello arrived, else .truncated.
                do {
                    _ = try parse(prefix, atEnd: true)
                } catch let error as ServerAnswerError {
                    guard case .truncated = error else { return XCTFail("cut at \(cut): \(error)") }
                }
            }
        }
    }

    func testGarbageIsNotTLS() {
        XCTAssertThrowsError(try parse(Array("421 4.7.0 Too many connections\r\n".utf8))) { error in
            guard case .notTLS(let text) = error as? ServerAnswerError else { return XCTFail("\(error)") }
            XCTAssertTrue(text.hasPrefix("421 4.7.0"))
        }
        XCTAssertThrowsError(try parse([0x16, 0x03, 0x03, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 10))) {
            XCTAssertEqual($0 as? ServerAnswerError, .malformed("record of 65535 bytes"))
        }
        XCTAssertThrowsError(try parse(ServerBytes.record(22, ServerBytes.handshake(11, [0, 0, 0]))), "a Certificate before the ServerHello")
        XCTAssertThrowsError(try parse(ServerBytes.record(22, ServerBytes.handshake(2, [3, 3, 1]))), "a ServerHello too short for its fields")
        XCTAssertThrowsError(try parse(ServerBytes.record(23, [1, 2, 3])), "application data first")
        XCTAssertThrowsError(try parse(ServerBytes.record(21, [2])), "a one-byte alert")
        XCTAssertThrowsError(try parse(ServerBytes.record(22, ServerBytes.handshake(2, ServerBytes.serverHelloBody(version: 0x0303, suite: 0x1301, sessionID: [UInt8](repeating: 0, count: 33))))))
    }

    func testOversizedWithoutAnAnswer() throws {
        // A Certificate message that claims 60 000 bytes and a stream that keeps sending records of it.
        let header = ServerBytes.record(22, ServerBytes.handshake(2, ServerBytes.serverHelloBody(version: 0x0303, suite: 0x009E)))
        var bytes = header + ServerBytes.record(22, [11, 0x00, 0xEA, 0x60] + [UInt8](repeating: 0, count: 16_000))
        while bytes.count < ServerAnswerParser.maximumBytes { bytes += ServerBytes.record(22, [UInt8](repeating: 0, count: 16_000)) }
        // The ServerHello arrived; what the cap cuts off is only the key exchange.
        guard case .complete(.hello(let capped)) = try? parse(bytes, atEnd: false) else { return XCTFail("no ServerHello at the cap") }
        XCTAssertEqual(capped.cipherSuite, 0x009E)
        XCTAssertNil(capped.keyExchange)
        // Nothing but empty handshake fragments: no answer in 64 KB is an error, not an endless read.
        var junk: [UInt8] = ServerBytes.record(22, [2, 0, 0xFF, 0xFF])
        while junk.count + 16_005 < ServerAnswerParser.maximumBytes { junk += ServerBytes.record(22, [UInt8](repeating: 0, count: 16_000)) }
        junk += ServerBytes.record(22, [UInt8](repeating: 0, count: ServerAnswerParser.maximumBytes - junk.count - 5))
        XCTAssertEqual(junk.count, ServerAnswerParser.maximumBytes)
        XCTAssertThrowsError(try parse(junk, atEnd: false)) { error in
            guard case .oversized = error as? ServerAnswerError else { return XCTFail("\(error)") }
        }
    }

    func testRandomBytesNeverCrash() {
        var generator = ProbeSeededGenerator(seed: 0x5EED)
        var answers = 0
        for round in 0..<20_000 {
            let count = Int.random(in: 0...300, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Half the rounds look like TLS at first glance, to get past the first check.
            if round % 2 == 0, bytes.count > 5 { bytes[0] = [21, 22, 20, 0x80][round % 4]; bytes[1] = 3 }
            if (try? ServerAnswerParser.parse(bytes, keyExchange: round % 3 == 0, atEnd: round % 5 == 0)) != nil { answers += 1 }
        }
        XCTAssertGreaterThan(answers, 0)
    }

    /// The read loop: answers split in any way, silence, and a close mid-record.
    func testReadLoop() {
        let flight = ServerBytes.tls12Flight(version: 0x0303, suite: 0xC02F, keyExchange: ServerBytes.ecdheKeyExchange(curve: 0x0017))
        for piece in [1, 7, 500, 100_000] {
            var offset = 0
            let reply = SMTPProbeTransport.readAnswer(keyExchange: true) { maximum in
                let end = min(flight.count, offset + min(piece, maximum))
                defer { offset = end }
                return Array(flight[offset..<end])
            }
            guard case .answer(.hello(let hello)) = reply else { return XCTFail("\(piece): \(reply)") }
            XCTAssertEqual(hello.keyExchange, .namedCurve(0x0017))
        }
        XCTAssertEqual(SMTPProbeTransport.readAnswer(keyExchange: true) { _ throws(ConnectionError) in [] }, .closed)
        XCTAssertEqual(SMTPProbeTransport.readAnswer(keyExchange: true) { _ throws(ConnectionError) in throw .timedOut }, .timedOut)
        XCTAssertEqual(SMTPProbeTransport.readAnswer(keyExchange: true) { _ throws(ConnectionError) in throw .closedByPeer }, .closed)
        var sent = false
        let cut = SMTPProbeTransport.readAnswer(keyExchange: true) { _ in
            defer { sent = true }
            return sent ? [] : Array(flight.prefix(20))
        }
        XCTAssertEqual(cut, .unreadable(.truncated(20)))
        // A server that sends its ServerHello and then stalls: the ServerHello is the answer.
        var turns = 0
        let stalled = SMTPProbeTransport.readAnswer(keyExchange: true) { _ throws(ConnectionError) in
            turns += 1
            if turns == 1 { return ServerBytes.record(22, ServerBytes.handshake(2, ServerBytes.serverHelloBody(version: 0x0303, suite: 0xC02F))) }
            throw .timedOut
        }
        guard case .answer(.hello(let stalledHello)) = stalled else { return XCTFail("\(stalled)") }
        XCTAssertNil(stalledHello.keyExchange)
    }
}

/// A small deterministic generator (SplitMix64) so the fuzz rounds are the same on every run.
struct ProbeSeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
