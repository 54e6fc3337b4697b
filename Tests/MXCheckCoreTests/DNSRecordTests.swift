import XCTest
@testable import MXCheckCore

/// DNSWire-format helpers for the DNS tests.
enum DNSWire {
    static func name(_ text: String) -> [UInt8] {
        guard text != "." else { return [0] }
        var bytes: [UInt8] = []
        for label in text.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes += Array(label.utf8)
        }
        return bytes + [0]
    }

    static func mx(_ preference: UInt16, _ exchange: String) -> [UInt8] {
        [UInt8(preference >> 8), UInt8(preference & 0xFF)] + name(exchange)
    }
}

final class DNSRecordTests: XCTestCase {
    func testAddresses() throws {
        XCTAssertEqual(try DNSRecordData.parse(.a, rdata: [192, 0, 2, 1]), .a("192.0.2.1"))
        let v6: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1]
        XCTAssertEqual(try DNSRecordData.parse(.aaaa, rdata: v6), .aaaa("2001:db8::1"))
    }

    func testAddressOfTheWrongLengthIsAnError() {
        for length in [0, 3, 5, 16] {
            XCTAssertThrowsError(try DNSRecordData.parse(.a, rdata: Array(repeating: 1, count: length))) {
                XCTAssertEqual($0 as? DNSRecordError, .badLength(type: .a, length: length))
            }
        }
        for length in [0, 4, 15, 17] {
            XCTAssertThrowsError(try DNSRecordData.parse(.aaaa, rdata: Array(repeating: 1, count: length))) {
                XCTAssertEqual($0 as? DNSRecordError, .badLength(type: .aaaa, length: length))
            }
        }
    }

    func testMXUncompressed() throws {
        XCTAssertEqual(try DNSRecordData.parse(.mx, rdata: DNSWire.mx(10, "mx1.example.com")), .mx(MXRecord(preference: 10, exchange: "mx1.example.com")))
        XCTAssertEqual(try DNSRecordData.parse(.mx, rdata: DNSWire.mx(65535, "MX.Example.COM")), .mx(MXRecord(preference: 65535, exchange: "MX.Example.COM")))
    }

    func testNullMX() throws {
        let record = try DNSRecordData.parse(.mx, rdata: [0, 0, 0])
        XCTAssertEqual(record, .mx(MXRecord(preference: 0, exchange: ".")))
        if case .mx(let mx) = record { XCTAssertTrue(mx.isNull) }
    }

    func testMXCompressedAgainstTheMessage() throws {
        // A message with "example.com" at offset 12; the rdata says "mx" + pointer to 12.
        let message = Array(repeating: UInt8(0), count: 12) + DNSWire.name("example.com")
        let rdata: [UInt8] = [0, 5, 2, UInt8(ascii: "m"), UInt8(ascii: "x"), 0xC0, 12]
        XCTAssertEqual(try DNSRecordData.parse(.mx, rdata: rdata, message: message), .mx(MXRecord(preference: 5, exchange: "mx.example.com")))
        XCTAssertThrowsError(try DNSRecordData.parse(.mx, rdata: rdata, message: nil)) {
            XCTAssertEqual($0 as? DNSRecordError, .compressionWithoutMessage)
        }
    }

    func testPointerChainsMustGoBackwards() throws {
        // offset 12: "com"; offset 17: "example" + pointer to 12; the rdata points at 17.
        var message = Array(repeating: UInt8(0), count: 12) + DNSWire.name("com")
        message += [7] + Array("example".utf8) + [0xC0, 12]
        XCTAssertEqual(try DNSName.parse([0xC0, 17], at: 0, message: message).name, "example.com.")
        // A pointer to itself, and two pointers to each other: loops, refused.
        let selfLoop = Array(repeating: UInt8(0), count: 12) + [0xC0, 12]
        XCTAssertThrowsError(try DNSName.parse([0xC0, 12], at: 0, message: selfLoop))
        let pair = Array(repeating: UInt8(0), count: 12) + [0xC0, 14, 0xC0, 12]
        XCTAssertThrowsError(try DNSName.parse([0xC0, 12], at: 0, message: pair))
        // Past the end of the message.
        XCTAssertThrowsError(try DNSName.parse([0xC0, 200], at: 0, message: selfLoop)) {
            XCTAssertEqual($0 as? DNSRecordError, .badPointer(200))
        }
    }

    func testMalformedMXIsAnError() {
        let cases: [([UInt8], DNSRecordError)] = [
            ([], .badLength(type: .mx, length: 0)),
            ([0, 10], .badLength(type: .mx, length: 2)),
            ([0, 10, 3, UInt8(ascii: "m"), UInt8(ascii: "x")], .truncatedName),
            ([0, 10, 2, UInt8(ascii: "m"), UInt8(ascii: "x")], .truncatedName),
            ([0, 10, 0x41, 0], .badLabelType(0x41)),
            ([0, 10, 0x80, 0], .badLabelType(0x80)),
            ([0, 10, 0xC0], .truncatedName),
            (DNSWire.mx(10, "mx.example") + [1, 2], .trailingBytes(type: .mx, count: 2)),
        ]
        for (rdata, expected) in cases {
            XCTAssertThrowsError(try DNSRecordData.parse(.mx, rdata: rdata), "\(rdata)") {
                XCTAssertEqual($0 as? DNSRecordError, expected, "\(rdata)")
            }
        }
    }

    func testNameLongerThan255BytesIsAnError() {
        let long = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")
        XCTAssertThrowsError(try DNSRecordData.parse(.mx, rdata: DNSWire.mx(1, long))) {
            XCTAssertEqual($0 as? DNSRecordError, .nameTooLong)
        }
        let fits = Array(repeating: String(repeating: "a", count: 63), count: 3).joined(separator: ".") + "." + String(repeating: "b", count: 61)
        XCTAssertNoThrow(try DNSRecordData.parse(.mx, rdata: DNSWire.mx(1, fits)))
    }

    func testOddBytesInLabelsAreEscaped() throws {
        let rdata: [UInt8] = [0, 1, 4, UInt8(ascii: "a"), UInt8(ascii: "."), 0x00, 0xFF, 0]
        XCTAssertEqual(try DNSRecordData.parse(.mx, rdata: rdata), .mx(MXRecord(preference: 1, exchange: "a\\.\\000\\255")))
    }

    func testGarbageNeverCrashes() {
        // A fixed-seed generator, so a failure repeats.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        var parsed = 0
        for round in 0..<20_000 {
            let rdata = (0..<Int(next() % 40)).map { _ in next() }
            let message = (0..<Int(next() % 64)).map { _ in next() }
            for type in DNSRecordType.allCases {
                if (try? DNSRecordData.parse(type, rdata: rdata, message: round.isMultiple(of: 2) ? message : nil)) != nil { parsed += 1 }
            }
        }
        XCTAssertGreaterThan(parsed, 0, "some random rdata is valid (4-byte A records at least)")
    }

    func testAnswerHelpers() throws {
        let question = DNSQuestion("mx.example.com", .a)
        let alias = DNSAnswer(question: question, rcode: .noError, rdata: [[192, 0, 2, 7]], canonicalName: "real.example.net.")
        XCTAssertTrue(alias.followedCNAME)
        XCTAssertEqual(alias.cnameTarget, "real.example.net")
        XCTAssertEqual(try alias.addresses(), ["192.0.2.7"])
        let same = DNSAnswer(question: question, rcode: .noError, rdata: [[192, 0, 2, 7]], canonicalName: "MX.Example.Com.")
        XCTAssertFalse(same.followedCNAME, "case and the trailing dot do not make a CNAME")
        XCTAssertNil(same.cnameTarget)
        XCTAssertTrue(DNSAnswer(question: question, rcode: .noError).isNoData)
        XCTAssertFalse(DNSAnswer(question: question, rcode: .nxDomain).isNoData)
        let broken = DNSAnswer(question: question, rcode: .noError, rdata: [[1, 2, 3]])
        XCTAssertThrowsError(try broken.addresses())
    }

    func testResponseCodes() {
        XCTAssertEqual(DNSResponseCode(0), .noError)
        XCTAssertEqual(DNSResponseCode(2), .serverFailure)
        XCTAssertEqual(DNSResponseCode(3), .nxDomain)
        XCTAssertEqual(DNSResponseCode(5), .refused)
        XCTAssertEqual(DNSResponseCode(9).description, "RCODE9")
    }

    func testResolverAddresses() throws {
        XCTAssertEqual(try DNSServerAddress.parse("192.0.2.53").unboundForm, "192.0.2.53@53")
        XCTAssertEqual(try DNSServerAddress.parse("127.0.0.1:5353").unboundForm, "127.0.0.1@5353")
        XCTAssertEqual(try DNSServerAddress.parse("127.0.0.1@5353").unboundForm, "127.0.0.1@5353")
        XCTAssertEqual(try DNSServerAddress.parse("2001:DB8::53").unboundForm, "2001:db8::53@53")
        XCTAssertEqual(try DNSServerAddress.parse("[::1]:5353").unboundForm, "::1@5353")
        XCTAssertEqual(try DNSServerAddress.parse("[::1]"), DNSServerAddress(address: "::1", port: 53))
        XCTAssertEqual(try DNSServerAddress.parse("[::1]:5353").description, "[::1]:5353")
        for bad in ["", "resolver.example", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:dns", "[::1", "[::1]5353", "300.0.0.1"] {
            XCTAssertThrowsError(try DNSServerAddress.parse(bad), bad) {
                guard case .configuration(let reason) = $0 as? DNSError else { return XCTFail("\(bad): \($0)") }
                XCTAssertTrue(reason.contains("IP[:port]"), reason)
            }
        }
    }

    func testResolverConfigurationErrorsAreTyped() {
        XCTAssertThrowsError(try DNSResolver(DNSResolver.Configuration(servers: .forwarders([])))) {
            XCTAssertEqual($0 as? DNSError, .configuration("no DNS server given"))
        }
        XCTAssertThrowsError(try DNSResolver(DNSResolver.Configuration(servers: .resolvConf(path: "/nonexistent/resolv.conf")))) {
            guard case .configuration(let reason) = $0 as? DNSError else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("/nonexistent/resolv.conf"), reason)
        }
        XCTAssertThrowsError(try DNSResolver(DNSResolver.Configuration(servers: .forwarders([DNSServerAddress(address: "127.0.0.1")]), trustAnchorFile: "/nonexistent/root.key")))
    }
}
