import XCTest
@testable import MXCheckCore

/// The run engine's facts about targets it could not check → findings, from facts alone.
final class RunRulesTests: XCTestCase {
    private func judged(_ fact: UncheckedTargetFact) -> Finding { RunRules.finding(for: fact) }

    func testInvalidInputSaysWhatTheTextIsNot() {
        let host = judged(.invalidInput(text: "a b", domainMode: false, reason: "a space"))
        XCTAssertEqual([host.id.rawValue, host.severity.rawValue, host.message], ["input.invalid", "unknown", "'a b' is not a target: a space"])
        XCTAssertEqual(judged(.invalidInput(text: "1.2.3.4", domainMode: true, reason: "an IP address, not a domain")).message,
                       "'1.2.3.4' is not a domain name: an IP address, not a domain")
    }

    func testUnresolvedHostsCarryTheResolversWords() {
        let error = ResolutionError.noAddressInFamily(host: "192.0.2.1")
        let finding = judged(.hostUnresolved(error))
        XCTAssertEqual(finding.id, .dnsHostUnresolved)
        XCTAssertEqual(finding.severity, .unknown)
        XCTAssertEqual(finding.message, "'192.0.2.1' has no address in the requested family (-4/-6)")
        XCTAssertEqual(judged(.noAddress(text: "example.com")).message, "'example.com' gave no address to check")
        XCTAssertEqual(judged(.noAddress(text: "example.com")).id, .dnsHostUnresolved)
    }

    func testAFailedDomainResolutionIsAServfail() {
        let question = DNSQuestion("example.com", .mx)
        let finding = judged(.domainResolutionFailed(domain: "example.com", error: .timeout(question)))
        XCTAssertEqual(finding.id, .dnsServfail)
        XCTAssertEqual(finding.message, "resolving example.com: \(DNSError.timeout(question))")
    }

    func testTheDeadlineNamesItsSeconds() {
        XCTAssertEqual(judged(.deadlinePassed(seconds: 30)).message, "the run's --deadline of 30 s passed before this target was done")
        XCTAssertEqual(judged(.deadlinePassed(seconds: 0.5)).message, "the run's --deadline of 0.5 s passed before this target was done")
        XCTAssertEqual(judged(.deadlinePassed(seconds: nil)).message, "the run's --deadline of ? passed before this target was done")
        XCTAssertEqual(judged(.deadlinePassed(seconds: 30)).id, .runDeadline)
    }
}
