import Foundation
import MXCheckCore
import XCTest

/// DNSSEC states as mxcheck's own validator (libunbound with the lab's trust anchor) finds them, through the
/// DNSSEC lab's iterating unbound.
final class DNSSECTests: XCTestCase {
    var lab: DNSSECLab!
    var resolver: DNSResolver!

    override func setUpWithError() throws {
        try super.setUpWithError()
        lab = try DNSSECLab.shared()
        resolver = try validating(through: lab.resolver)
    }

    override func tearDown() {
        // XCTest keeps every test case object to the end: free each libunbound context (and its thread) now.
        resolver = nil
        super.tearDown()
    }

    private func validating(through server: String, anchor: String? = nil) throws -> DNSResolver {
        try DNSResolver(DNSResolver.Configuration(servers: .forwarders([try DNSServerAddress.parse(server)]), trustAnchorFile: anchor ?? lab.trustAnchor))
    }

    private func ask(_ name: String, _ type: DNSRecordType, using lookup: DNSResolver? = nil) -> Result<DNSAnswer, DNSError> {
        (lookup ?? resolver).answer(to: DNSQuestion(name, type), deadline: Deadline(secondsFromNow: 10))
    }

    private func answer(_ name: String, _ type: DNSRecordType, file: StaticString = #filePath, line: UInt = #line) throws -> DNSAnswer {
        switch ask(name, type) {
        case .success(let answer): return answer
        case .failure(let error):
            XCTFail("\(type) \(name): \(error)", file: file, line: line)
            throw error
        }
    }

    func testSignedAnswersAreSecure() throws {
        let mx = try answer("ee-spki-sha256.dane.example", .mx)
        XCTAssertEqual(mx.dnssec, .secure)
        XCTAssertEqual(try mx.mxRecords().map(\.exchange), ["mx-ee-spki-sha256.dane.example"])
        let address = try answer("mx-ee-spki-sha256.dane.example", .a)
        XCTAssertEqual(address.dnssec, .secure)
        XCTAssertEqual(try address.addresses(), [try lab.case("ee_spki_sha256").address!])
        let tlsa = try answer("_25._tcp.mx-ee-spki-sha256.dane.example", .tlsa)
        XCTAssertEqual(tlsa.dnssec, .secure)
        XCTAssertEqual(tlsa.rdata.count, 1)
    }

    func testSecureDenialIsSecure() throws {
        let none = try answer("_25._tcp.mx-no-tlsa.dane.example", .tlsa)
        XCTAssertEqual(none.rcode, .nxDomain)
        XCTAssertEqual(none.dnssec, .secure, "NSEC proves the name does not exist")
        let noData = try answer("mx-no-tlsa.dane.example", .aaaa)
        XCTAssertTrue(noData.isNoData)
        XCTAssertEqual(noData.dnssec, .secure, "NSEC proves there is no AAAA")
    }

    func testDelegationWithoutDSIsInsecure() throws {
        let mx = try answer("insecure.example", .mx)
        XCTAssertEqual(mx.rcode, .noError)
        XCTAssertEqual(mx.rdata.count, 1)
        XCTAssertEqual(mx.dnssec, .insecure)
        XCTAssertEqual(try answer("mx.insecure.example", .a).dnssec, .insecure)
    }

    func testTamperedSignatureIsBogus() throws {
        let tlsa = try answer("_25._tcp.mx-tampered.dane.example", .tlsa)
        XCTAssertTrue(tlsa.bogus)
        XCTAssertEqual(tlsa.dnssec, .bogus)
        XCTAssertNotNil(tlsa.whyBogus)
        // The rest of the zone is still secure: only the spoiled RRset fails.
        XCTAssertEqual(try answer("mx-tampered.dane.example", .a).dnssec, .secure)
        let address = try answer("mx-tampered-address.dane.example", .a)
        XCTAssertEqual(address.dnssec, .bogus)
        // libunbound hands the data over all the same: what lets mxcheck still check a bogus domain's endpoints.
        XCTAssertEqual(address.rdata.count, 1, "rcode \(address.rcode)")
    }

    func testExpiredSignaturesAreBogus() throws {
        for (name, type) in [("expired.example", DNSRecordType.mx), ("mx.expired.example", .a), ("_25._tcp.mx.expired.example", .tlsa)] {
            let found = try answer(name, type)
            XCTAssertEqual(found.dnssec, .bogus, "\(type) \(name): \(found.whyBogus ?? "no reason")")
        }
    }

    func testServfailHasNoDNSSECState() throws {
        let tlsa = try answer("_25._tcp.mx-servfail.dane.example", .tlsa)
        XCTAssertEqual(tlsa.rcode, .serverFailure)
        XCTAssertFalse(tlsa.bogus)
        XCTAssertNil(tlsa.dnssec)
        XCTAssertEqual(try answer("mx-servfail.dane.example", .a).dnssec, .secure, "the host itself is signed")
    }

    func testEveryCaseHasTheStatesTheLabDescribes() throws {
        for (key, entry) in lab.cases.sorted(by: { $0.key < $1.key }) {
            let mx = ask(entry.domain, .mx)
            XCTAssertEqual(mx.dnssec?.rawValue, entry.expect.mxDnssec, "\(key): MX \(entry.domain)")
        }
    }

    func testWithoutTrustAnchorNothingIsSecure() throws {
        let plain = try DNSResolver(.commandLine(resolver: lab.resolver))
        XCTAssertEqual(ask("ee-spki-sha256.dane.example", .mx, using: plain).dnssec, .insecure)
        XCTAssertEqual(ask("_25._tcp.mx-tampered.dane.example", .tlsa, using: plain).dnssec, .insecure, "not validated, so not bogus")
        XCTAssertEqual(plain.dnssecSupport(deadline: Deadline(secondsFromNow: 5)), .unusable(reason: "no DNSSEC trust anchor is configured"))
    }

    func testResolverCarryingDNSSECIsUsable() {
        XCTAssertEqual(resolver.dnssecSupport(deadline: Deadline(secondsFromNow: 10)), .usable(anchors: ["example."]))
    }

    func testResolverStrippingSignaturesIsUnusable() throws {
        let stripping = try validating(through: lab.stripped)
        let support = stripping.dnssecSupport(deadline: Deadline(secondsFromNow: 10))
        guard case .unusable(let reason) = support else { return XCTFail("\(support)") }
        XCTAssertTrue(reason.contains("DNSKEY RRset of the trust anchor example."), reason)
        // What the check spares the user: through such a resolver every signed answer is bogus.
        XCTAssertEqual(ask("ee-spki-sha256.dane.example", .mx, using: stripping).dnssec, .bogus)
    }

    func testTrustAnchorTheResolverCannotReachIsUnusable() throws {
        // The root's anchor: the lab's unbound knows no root zone, so the root DNSKEY gets no answer.
        let rootKey = "/usr/share/dns/root.key"
        try XCTSkipUnless(FileManager.default.isReadableFile(atPath: rootKey), "dns-root-data is not installed")
        let support = try validating(through: lab.resolver, anchor: rootKey).dnssecSupport(deadline: Deadline(secondsFromNow: 10))
        guard case .unusable(let reason) = support else { return XCTFail("\(support)") }
        XCTAssertTrue(reason.contains("DNSKEY ."), reason)
    }

    func testTrustAnchorOwnersAreReadFromTheFile() throws {
        XCTAssertEqual(try TrustAnchorFile.owners(ofFile: lab.trustAnchor), ["example."])
        let text = """
            ; comment
            .\t172800\tIN\tDNSKEY\t257 3 8 AwEAAa...
            Example.   IN DS 1 13 2 ABCD ; trailing comment
            \tIN DS 2 13 2 ABCD
            $ORIGIN other.
            """
        XCTAssertEqual(TrustAnchorFile.owners(inText: text), [".", "example."])
        XCTAssertThrowsError(try TrustAnchorFile.owners(ofFile: "/nonexistent/anchor.ds"))
    }

    func testTrustAnchorOptionIsCheckedUpFront() throws {
        let configuration = try DNSResolver.Configuration.commandLine(resolver: lab.resolver, trustAnchor: lab.trustAnchor)
        XCTAssertEqual(configuration.trustAnchorFile, lab.trustAnchor)
        XCTAssertThrowsError(try DNSResolver.Configuration.commandLine(resolver: lab.resolver, trustAnchor: "/nonexistent/anchor.ds"))
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-empty-anchor-\(getpid())").path
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data("; nothing here\n".utf8)))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        XCTAssertThrowsError(try DNSResolver.Configuration.commandLine(resolver: lab.resolver, trustAnchor: empty)) { error in
            XCTAssertTrue("\(error)".contains("no DS or DNSKEY record"), "\(error)")
        }
        let byDefault = try DNSResolver.Configuration.commandLine(resolver: lab.resolver, trustAnchor: nil)
        let rootKeyInstalled = FileManager.default.isReadableFile(atPath: DNSResolver.Configuration.defaultTrustAnchorFile)
        XCTAssertEqual(byDefault.trustAnchorFile, rootKeyInstalled ? DNSResolver.Configuration.defaultTrustAnchorFile : nil)
    }
}
