import XCTest
@testable import MXCheckCore

final class NameMatcherTests: XCTestCase {
    func testExactAndCaseInsensitive() {
        XCTAssertTrue(NameMatcher.dnsName("MX.example.COM", matches: "mx.example.com"))
        XCTAssertTrue(NameMatcher.dnsName("mx.example.com.", matches: "mx.example.com"))
        XCTAssertFalse(NameMatcher.dnsName("mx.example.com", matches: "mx2.example.com"))
    }

    func testWildcardCoversExactlyOneLeftMostLabel() {
        XCTAssertTrue(NameMatcher.dnsName("*.example.com", matches: "mx.example.com"))
        XCTAssertFalse(NameMatcher.dnsName("*.example.com", matches: "a.mx.example.com"))
        XCTAssertFalse(NameMatcher.dnsName("*.example.com", matches: "example.com"))
        XCTAssertFalse(NameMatcher.dnsName("*.com", matches: "example.com"))
        XCTAssertFalse(NameMatcher.dnsName("mx.*.com", matches: "mx.example.com"))
        XCTAssertFalse(NameMatcher.dnsName("m*.example.com", matches: "mx.example.com"))
        XCTAssertFalse(NameMatcher.dnsName("*", matches: "localhost"))
    }

    func testSANsWinOverCN() {
        XCTAssertEqual(NameMatcher.match(reference: "mx.example.com", dnsNames: ["other.example.com"], ipAddresses: [], commonName: "mx.example.com"), .none)
        XCTAssertEqual(NameMatcher.match(reference: "mx.example.com", dnsNames: [], ipAddresses: [], commonName: "mx.example.com"), .commonNameOnly("mx.example.com"))
        XCTAssertEqual(NameMatcher.match(reference: "mx.example.com", dnsNames: ["*.example.com"], ipAddresses: [], commonName: nil), .subjectAltName("*.example.com"))
    }

    func testIPAddressesMatchOnlyIPSANs() {
        XCTAssertEqual(NameMatcher.match(reference: "::1", dnsNames: [], ipAddresses: ["0:0:0:0:0:0:0:1"], commonName: nil), .subjectAltName("0:0:0:0:0:0:0:1"))
        XCTAssertEqual(NameMatcher.match(reference: "127.0.0.1", dnsNames: ["127.0.0.1"], ipAddresses: [], commonName: nil), .none)
        XCTAssertEqual(NameMatcher.match(reference: "127.0.0.1", dnsNames: [], ipAddresses: [], commonName: "127.0.0.1"), .commonNameOnly("127.0.0.1"))
    }
}
