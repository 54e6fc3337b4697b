import Foundation
import XCTest

@testable import MXCheckCore

/// Each mtasts.*/tlsrpt.* rule from facts alone, and the fetch paths that need no TLS server.
final class MTASTSRulesTests: XCTestCase {
    let record = MTASTSRecord(text: "v=STSv1; id=20260101", id: "20260101")
    let rpt = TLSRPTEvaluation(domain: "example.com", record: .found(TLSRPTRecord(text: "v=TLSRPTv1; rua=mailto:t@example.com", rua: ["mailto:t@example.com"])))

    private func evaluation(_ body: String, contentType: String? = "text/plain") -> MTASTSEvaluation {
        let media = contentType.map { String($0.split(separator: ";")[0]).lowercased() }
        let fetch = PolicyFetch(url: PolicyFetcher.url(of: "example.com"), httpStatus: 200, contentType: contentType, mediaType: media, body: Array(body.utf8))
        return MTASTSEvaluation(domain: "example.com", record: .found(record), fetch: fetch, policy: MTASTSPolicy.parse(Array(body.utf8)))
    }

    private func ids(_ sts: MTASTSEvaluation, mx: String? = "mx1.example.com", tlsRpt: TLSRPTEvaluation? = nil) -> [String] {
        MTASTSRules.findings(for: MailDomainPolicy(mtaSts: sts, tlsRpt: tlsRpt ?? rpt), mxHost: mx).map(\.id.rawValue)
    }

    private func finding(_ sts: MTASTSEvaluation, _ id: FindingID, mx: String = "mx1.example.com") -> Finding? {
        MTASTSRules.findings(for: MailDomainPolicy(mtaSts: sts, tlsRpt: rpt), mxHost: mx).first { $0.id == id }
    }

    let enforce = "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 604800\n"

    func testEnforceCoveringTheMXGivesNoFinding() {
        let sts = evaluation(enforce)
        XCTAssertEqual(sts.status, .enforce)
        XCTAssertEqual(sts.mxMatch(host: "mx1.example.com"), true)
        XCTAssertEqual(ids(sts), [])
    }

    func testUncoveredMXIsCriticalUnderEnforceAndNamesTheLineToAdd() throws {
        let sts = evaluation(enforce)
        let found = try XCTUnwrap(finding(sts, .mtastsMXNotCovered, mx: "a.b.example.net"))
        XCTAssertEqual(found.severity, .critical)
        XCTAssertTrue(found.fix.contains("'mx: a.b.example.net'"), found.fix)
        XCTAssertTrue(found.message.contains("will not deliver"))
        let testing = evaluation(enforce.replacingOccurrences(of: "enforce", with: "testing"))
        XCTAssertEqual(finding(testing, .mtastsMXNotCovered, mx: "mx9.example.com")?.severity, .warning)
        XCTAssertEqual(ids(testing), ["mtasts.testing"])
    }

    func testModeNoneAndShortMaxAge() {
        XCTAssertEqual(ids(evaluation("version: STSv1\nmode: none\nmax_age: 86400\n")), ["mtasts.mode_none"])
        XCTAssertEqual(evaluation("version: STSv1\nmode: none\nmax_age: 86400\n").mxMatch(host: "mx1.example.com"), nil)
        XCTAssertEqual(ids(evaluation(enforce.replacingOccurrences(of: "604800", with: "3600"))), ["mtasts.max_age_short"])
    }

    func testInvalidPolicyNamesTheMissingLine() throws {
        let sts = evaluation("version: STSv1\nmode: enforce\nmax_age: 604800\n")
        XCTAssertEqual(sts.status, .invalid)
        let found = try XCTUnwrap(finding(sts, .mtastsPolicyInvalid))
        XCTAssertTrue(found.fix.contains("'mx: mx1.example.com'"), found.fix)
        XCTAssertEqual(ids(evaluation(enforce.replacingOccurrences(of: "604800", with: "99999999"))), ["mtasts.policy_invalid"])
    }

    func testContentTypeIsCriticalOnlyUnderEnforce() {
        XCTAssertEqual(finding(evaluation(enforce, contentType: "text/html"), .mtastsContentType)?.severity, .critical)
        let testing = enforce.replacingOccurrences(of: "enforce", with: "testing")
        XCTAssertEqual(finding(evaluation(testing, contentType: "text/html"), .mtastsContentType)?.severity, .warning)
        XCTAssertNil(finding(evaluation(enforce, contentType: "text/plain; charset=utf-8"), .mtastsContentType))
        XCTAssertNotNil(finding(evaluation(enforce, contentType: nil), .mtastsContentType))
    }

    func testRecordStates() {
        XCTAssertEqual(ids(MTASTSEvaluation(domain: "example.com", record: .absent)), ["mtasts.absent"])
        XCTAssertEqual(MTASTSEvaluation(domain: "example.com", record: .absent).status, .absent)
        let several = MTASTSEvaluation(domain: "example.com", record: .invalid(.several(2), text: "v=STSv1; id=a"))
        XCTAssertEqual(several.status, .invalid)
        XCTAssertEqual(ids(several), ["mtasts.record_invalid"])
        let failed = MTASTSEvaluation(domain: "example.com", record: .lookupFailed("SERVFAIL"))
        XCTAssertEqual(failed.status, .error)
        XCTAssertEqual(MTASTSRules.findings(for: MailDomainPolicy(mtaSts: failed, tlsRpt: rpt), mxHost: nil).map(\.severity), [.unknown])
    }

    func testFetchFailuresSayWhatSendersSee() throws {
        func failed(_ error: PolicyFetchError, certificate: PolicyHostCertificate? = nil) -> MTASTSEvaluation {
            MTASTSEvaluation(domain: "example.com", record: .found(record), fetch: PolicyFetch(url: PolicyFetcher.url(of: "example.com"), error: error))
        }
        let redirect = failed(.status(301, location: "https://www.example.com/"))
        XCTAssertEqual(redirect.status, .error)
        let found = try XCTUnwrap(finding(redirect, .mtastsPolicyFetchFailed))
        XCTAssertTrue(found.message.contains("https://www.example.com/"), found.message)
        XCTAssertTrue(found.fix.contains("never follow"), found.fix)
        XCTAssertEqual(ids(failed(.http(.bodyTooLarge(limit: 65536)))), ["mtasts.policy_fetch_failed"])
        let cert = try XCTUnwrap(finding(failed(.certificate("no subjectAltName matches")), .mtastsPolicyCertInvalid))
        XCTAssertTrue(cert.fix.contains("DNS:mta-sts.example.com"), cert.fix)
    }

    func testTLSRPTRules() {
        let absent = TLSRPTEvaluation(domain: "example.com", record: .absent)
        let withSTS = MTASTSRules.findings(for: MailDomainPolicy(mtaSts: evaluation(enforce), tlsRpt: absent), mxHost: "mx1.example.com")
        XCTAssertEqual(withSTS.map(\.id), [.tlsrptAbsent])
        XCTAssertEqual(withSTS.first?.severity, .warning)
        XCTAssertTrue(withSTS.first?.fix.contains("_smtp._tls.example.com. IN TXT \"v=TLSRPTv1; rua=mailto:") == true)
        let bare = MTASTSRules.findings(for: MailDomainPolicy(mtaSts: MTASTSEvaluation(domain: "example.com", record: .absent), tlsRpt: absent), mxHost: nil)
        XCTAssertEqual(bare.first { $0.id == .tlsrptAbsent }?.severity, .info)
        let dane = MTASTSRules.findings(for: MailDomainPolicy(mtaSts: MTASTSEvaluation(domain: "example.com", record: .absent), tlsRpt: absent), mxHost: nil, daneDeployed: true)
        XCTAssertEqual(dane.first { $0.id == .tlsrptAbsent }?.severity, .warning)
        let invalid = TLSRPTEvaluation(domain: "example.com", record: .invalid(.malformed("no 'rua' field"), text: "v=TLSRPTv1"))
        XCTAssertEqual(invalid.status, .invalid)
        XCTAssertEqual(ids(evaluation(enforce), tlsRpt: invalid), ["tlsrpt.invalid"])
        XCTAssertEqual(ids(evaluation(enforce), tlsRpt: TLSRPTEvaluation(domain: "example.com", record: .lookupFailed("timeout"))), ["tlsrpt.lookup_failed"])
    }

    func testEnforceKeepsCertificateFindingsCritical() {
        let cnOnly = Finding(.certCNOnly, message: "the name matched only the CN")
        let expiring = Finding(.certExpiring, severity: .warning, message: "expires in 10 days")
        let kept = MTASTSRules.certificateFindings([cnOnly, expiring], mtaSts: evaluation(enforce))
        XCTAssertEqual(kept.map(\.severity), [.critical, .warning])
        XCTAssertTrue(kept[0].message.contains("MTA-STS senders will not deliver"))
        let testing = evaluation(enforce.replacingOccurrences(of: "enforce", with: "testing"))
        XCTAssertEqual(MTASTSRules.certificateFindings([cnOnly], mtaSts: testing), [cnOnly])
    }

    func testEveryIDIsInTheCatalogueAndTheDocs() throws {
        let docs = try String(contentsOfFile: #filePath.replacingOccurrences(of: "Tests/MXCheckCoreTests/MTASTSRulesTests.swift", with: "docs/findings.md"), encoding: .utf8)
        for id in FindingID.allCases where id.rawValue.hasPrefix("mtasts.") || id.rawValue.hasPrefix("tlsrpt.") {
            XCTAssertTrue(docs.contains("| `\(id.rawValue)` |"), id.rawValue)
        }
    }

    // MARK: The per-domain step and the fetch, without a TLS server

    func testDomainStepAsksBothTXTRecordsInOneBatchAndFetchesOnlyWithARecord() throws {
        let sts = DNSQuestion("_mta-sts.example.com", .txt)
        let rptQuestion = DNSQuestion("_smtp._tls.example.com", .txt)
        let lookup = ScriptedLookup([
            sts: .success(DNSAnswer(question: sts, rcode: .noError, rdata: [txtRData("v=STSv1; id=1")])),
            rptQuestion: .success(DNSAnswer(question: rptQuestion, rcode: .noError, rdata: [txtRData("v=TLSRPTv1; rua=mailto:a@example.com")])),
        ])
        let fetcher = PolicyFetcher(trustStore: try TrustStore.withoutSystemAnchors(), context: try TLSClientContext())
        let result = MailDomainPolicyLookup(fetcher: fetcher).evaluate(domain: "Example.COM.", lookup: lookup, deadline: Deadline(secondsFromNow: 5))
        XCTAssertEqual(result.tlsRpt.status, .valid)
        XCTAssertEqual(result.mtaSts.record.record?.id, "1")
        // mta-sts.example.com has no address in the table: NXDOMAIN.
        XCTAssertEqual(result.mtaSts.fetch?.error, .noAddress("NXDOMAIN"))
        XCTAssertEqual(result.mtaSts.status, .error)
        XCTAssertEqual(lookup.questions.prefix(2), [sts, rptQuestion])
        XCTAssertEqual(lookup.questions.count, 4)

        let empty = ScriptedLookup([:])
        let none = MailDomainPolicyLookup(fetcher: fetcher).evaluate(domain: "example.com", lookup: empty, deadline: Deadline(secondsFromNow: 5))
        XCTAssertEqual(none.mtaSts.status, .absent)
        XCTAssertNil(none.mtaSts.fetch)
        XCTAssertEqual(empty.questions.count, 2, "no fetch without a record")
    }

    func testFetchFromASilentServerEndsAtTheDeadline() throws {
        // A listener that accepts (the kernel's backlog) and never speaks.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        XCTAssertEqual(listen(fd, 4), 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)
        let fetcher = PolicyFetcher(trustStore: try TrustStore.withoutSystemAnchors(), context: try TLSClientContext(), port: port)
        let started = Date()
        let result = fetcher.fetch(host: "mta-sts.example.com", addresses: ["127.0.0.1"], deadline: Deadline(secondsFromNow: 0.5))
        XCTAssertEqual(result.error, .timedOut)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        // Nothing listening any more on a closed port: a connection error, named.
        close(fd)
        let refused = fetcher.fetch(host: "mta-sts.example.com", addresses: ["127.0.0.1"], deadline: Deadline(secondsFromNow: 2))
        guard case .connect = refused.error else { return XCTFail("\(String(describing: refused.error))") }
    }
}
