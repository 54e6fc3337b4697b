import XCTest
@testable import MXCheckCore

final class TargetTests: XCTestCase {
    func testForms() throws {
        XCTAssertEqual(try Target.parse("mx.example.com"), Target(host: .name("mx.example.com"), port: 25))
        XCTAssertEqual(try Target.parse("MX.Example.com.:587"), Target(host: .name("mx.example.com."), port: 587))
        XCTAssertEqual(try Target.parse("192.0.2.1"), Target(host: .ipv4("192.0.2.1"), port: 25))
        XCTAssertEqual(try Target.parse("192.0.2.1:465"), Target(host: .ipv4("192.0.2.1"), port: 465))
        XCTAssertEqual(try Target.parse("[2001:DB8::1]:25"), Target(host: .ipv6("2001:db8::1"), port: 25))
        XCTAssertEqual(try Target.parse("[::1]"), Target(host: .ipv6("::1"), port: 25))
        XCTAssertEqual(try Target.parse("2001:db8::1"), Target(host: .ipv6("2001:db8::1"), port: 25))
        XCTAssertEqual(try Target.parse("mail", defaultPort: 2525), Target(host: .name("mail"), port: 2525))
    }

    func testHostTextDropsTrailingDotAndBrackets() throws {
        XCTAssertEqual(try Target.parse("mx.example.com.").hostText, "mx.example.com")
        XCTAssertEqual(try Target.parse("[::1]:25").description, "[::1]:25")
        XCTAssertTrue(try Target.parse("[::1]:25").isIPLiteral)
        XCTAssertFalse(try Target.parse("localhost").isIPLiteral)
    }

    func testRejects() {
        let bad: [(String, TargetError)] = [
            ("", .empty),
            ("mx.example.com:0", .invalidPort("0")),
            ("mx.example.com:65536", .invalidPort("65536")),
            ("mx.example.com:smtp", .invalidPort("smtp")),
            ("mx.example.com:", .invalidPort("")),
            ("[2001:db8::1", .unbalancedBracket("[2001:db8::1")),
            ("[2001:db8::1]x", .unbalancedBracket("[2001:db8::1]x")),
            ("[mx.example.com]:25", .invalidHost("mx.example.com")),
            ("2001:db8::zz", .invalidHost("2001:db8::zz")),
            ("bad_host!", .invalidHost("bad_host!")),
            ("-mx.example.com", .invalidHost("-mx.example.com")),
            ("a..b", .invalidHost("a..b")),
            ("999.1.1.1", .invalidHost("999.1.1.1")),
            (String(repeating: "a", count: 64) + ".com", .invalidHost(String(repeating: "a", count: 64) + ".com")),
        ]
        for (text, expected) in bad {
            XCTAssertThrowsError(try Target.parse(text), text) { error in
                XCTAssertEqual(error as? TargetError, expected, text)
            }
        }
    }

    func testTLSModeFollowsPort() {
        XCTAssertEqual(TLSMode.auto.resolved(forPort: 465), .implicit)
        XCTAssertEqual(TLSMode.auto.resolved(forPort: 25), .starttls)
        XCTAssertEqual(TLSMode.auto.resolved(forPort: 587), .starttls)
        XCTAssertEqual(TLSMode.starttls.resolved(forPort: 465), .starttls)
    }

    func testEndpointsCarrySNIAndIdentity() throws {
        let named = Endpoint.endpoints(for: try Target.parse("mx.example.com."), addresses: ["192.0.2.1", "2001:db8::1"], tls: .auto, servername: nil)
        XCTAssertEqual(named.map(\.address), ["192.0.2.1", "2001:db8::1"])
        XCTAssertEqual(named[0].serverName, "mx.example.com")
        XCTAssertEqual(named[0].referenceIdentity, "mx.example.com")
        let literal = Endpoint.endpoints(for: try Target.parse("192.0.2.1:465"), addresses: ["192.0.2.1"], tls: .auto, servername: nil)
        XCTAssertNil(literal[0].serverName, "no SNI for an IP literal")
        XCTAssertEqual(literal[0].referenceIdentity, "192.0.2.1")
        XCTAssertEqual(literal[0].tls, .implicit)
        let overridden = Endpoint.endpoints(for: try Target.parse("192.0.2.1"), addresses: ["192.0.2.1"], tls: .auto, servername: "MX.Example.com.")
        XCTAssertEqual(overridden[0].serverName, "mx.example.com")
        XCTAssertEqual(overridden[0].referenceIdentity, "mx.example.com")
    }

    func testIPLiteralsResolveToThemselvesAndFilter() throws {
        XCTAssertEqual(try SystemResolver.addresses(of: Target.parse("192.0.2.1"), family: .any, timeout: 1), ["192.0.2.1"])
        XCTAssertThrowsError(try SystemResolver.addresses(of: Target.parse("192.0.2.1"), family: .ipv6Only, timeout: 1))
    }
}
