import Foundation
import XCTest

@testable import MXCheckCore

/// A scripted resolver: answers from a table, counts every question, optionally slow.
final class ScriptedLookup: DNSLookup, @unchecked Sendable {
    // `asked` is guarded by `lock`; the table is never changed after init.
    private let table: [DNSQuestion: Result<DNSAnswer, DNSError>]
    private let delay: Double
    private let lock = NSLock()
    private var asked: [DNSQuestion] = []

    init(_ table: [DNSQuestion: Result<DNSAnswer, DNSError>], delay: Double = 0) {
        self.table = table
        self.delay = delay
    }

    var questions: [DNSQuestion] { lock.withLock { asked } }

    func answers(to questions: [DNSQuestion], deadline: Deadline) -> [Result<DNSAnswer, DNSError>] {
        lock.withLock { asked += questions }
        if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
        return questions.map { question in
            if deadline.hasPassed { return .failure(.timeout(question)) }
            return table[DNSQuestion(DNSName.normalized(question.name), question.type)] ?? .success(DNSAnswer(question: question, rcode: .nxDomain, secure: true))
        }
    }
}

final class DANELookupTests: XCTestCase {
    let leafKeyDigest = [UInt8](repeating: 0x11, count: 32)

    private func answer(_ name: String, _ type: DNSRecordType, _ rdata: [[UInt8]] = [], rcode: DNSResponseCode = .noError,
                        secure: Bool = true, bogus: Bool = false, canonical: String? = nil) -> (DNSQuestion, Result<DNSAnswer, DNSError>) {
        let question = DNSQuestion(name, type)
        return (question, .success(DNSAnswer(question: question, rcode: rcode, rdata: rdata, canonicalName: canonical, secure: secure, bogus: bogus, whyBogus: bogus ? "signature expired" : nil)))
    }

    private func table(_ entries: (DNSQuestion, Result<DNSAnswer, DNSError>)...) -> [DNSQuestion: Result<DNSAnswer, DNSError>] {
        Dictionary(entries, uniquingKeysWith: { $1 })
    }

    private var tlsa: [UInt8] { [3, 1, 1] + leafKeyDigest }

    private func policy(_ lookup: ScriptedLookup, host: String = "mx.example.com", mx: DNSSECState? = .secure, domain: String? = "example.com") -> DANEPolicy {
        DANEPolicyLookup.policy(for: DANELookupRequest(host: host, port: 25, domain: domain, mxDNSSEC: mx), using: lookup, deadline: Deadline(secondsFromNow: 5))
    }

    func testSecureAddressesLeadToTheTLSARecords() {
        let lookup = ScriptedLookup(table(
            answer("mx.example.com", .a, [[192, 0, 2, 1]]), answer("mx.example.com", .aaaa),
            answer("_25._tcp.mx.example.com", .tlsa, [tlsa])))
        let result = policy(lookup)
        XCTAssertEqual(result.outcome, .records(TLSARecordSet(rdata: [tlsa])))
        XCTAssertEqual(result.tlsaName, "_25._tcp.mx.example.com")
        XCTAssertEqual(result.addressDNSSEC, .secure)
        XCTAssertEqual(result.tlsaDNSSEC, .secure)
        XCTAssertEqual(result.decisionDNSSEC, .secure)
        XCTAssertEqual(result.referenceIdentities, ["mx.example.com", "example.com"], "the domain counts: the MX RRset is secure")
        XCTAssertEqual(result.serverName, "mx.example.com")
        XCTAssertTrue(result.requiresAuthentication)
        // Addresses first, both families at once; then TLSA.
        XCTAssertEqual(lookup.questions, [DNSQuestion("mx.example.com", .a), DNSQuestion("mx.example.com", .aaaa), DNSQuestion("_25._tcp.mx.example.com", .tlsa)])
    }

    func testInsecureMXStillLooksUpTLSAButTheDomainIsNoReferenceIdentity() {
        let lookup = ScriptedLookup(table(answer("mx.example.net", .a, [[192, 0, 2, 1]]), answer("mx.example.net", .aaaa), answer("_25._tcp.mx.example.net", .tlsa, [tlsa])))
        let result = policy(lookup, host: "mx.example.net", mx: .insecure)
        XCTAssertEqual(result.outcome, .records(TLSARecordSet(rdata: [tlsa])))
        XCTAssertEqual(result.mxDNSSEC, .insecure)
        XCTAssertEqual(result.referenceIdentities, ["mx.example.net"])
    }

    func testInsecureAddressesMeanNoTLSAQuery() {
        let lookup = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]], secure: false), answer("mx.example.com", .aaaa, secure: false)))
        let result = policy(lookup)
        guard case .notApplicable = result.outcome else { return XCTFail("\(result.outcome)") }
        XCTAssertEqual(result.addressDNSSEC, .insecure)
        XCTAssertEqual(result.decisionDNSSEC, .insecure)
        XCTAssertFalse(lookup.questions.contains { $0.type == .tlsa }, "RFC 7672 §2.2.1: no TLSA query for an insecure host")
        XCTAssertEqual(DANEEvaluation(policy: result, chainDER: nil, at: Date()).status, .notApplicable)
    }

    func testOneUnsignedFamilyMakesTheHostInsecure() {
        let lookup = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]]), answer("mx.example.com", .aaaa, [Array(repeating: 1, count: 16)], secure: false)))
        XCTAssertEqual(policy(lookup).addressDNSSEC, .insecure)
    }

    func testSecureDenialIsAbsent() {
        let lookup = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]]), answer("mx.example.com", .aaaa),
                                          answer("_25._tcp.mx.example.com", .tlsa, rcode: .nxDomain)))
        let result = policy(lookup)
        XCTAssertEqual(result.outcome, .absent)
        XCTAssertEqual(result.decisionDNSSEC, .secure)
    }

    func testFailuresUnderASignedZoneAreErrors() {
        let servfail = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]]), answer("mx.example.com", .aaaa),
                                            answer("_25._tcp.mx.example.com", .tlsa, rcode: .serverFailure, secure: false)))
        guard case .lookupFailed(let reason) = policy(servfail).outcome else { return XCTFail() }
        XCTAssertTrue(reason.contains("SERVFAIL"), reason)
        XCTAssertNil(policy(servfail).decisionDNSSEC)
        let bogus = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]]), answer("mx.example.com", .aaaa),
                                         answer("_25._tcp.mx.example.com", .tlsa, [tlsa], secure: false, bogus: true)))
        let bogusPolicy = policy(bogus)
        guard case .bogus(let why) = bogusPolicy.outcome else { return XCTFail("\(bogusPolicy.outcome)") }
        XCTAssertTrue(why.contains("signature expired"), why)
        XCTAssertEqual(bogusPolicy.decisionDNSSEC, .bogus)
        let bogusAddress = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]], secure: false, bogus: true), answer("mx.example.com", .aaaa)))
        guard case .bogus = policy(bogusAddress).outcome else { return XCTFail() }
        XCTAssertFalse(bogusAddress.questions.contains { $0.type == .tlsa })
        let bogusMX = ScriptedLookup([:])
        guard case .bogus(let mxWhy) = DANEPolicyLookup.policy(for: DANELookupRequest(host: "mx.example.com", domain: "example.com", mxDNSSEC: .bogus, mxWhyBogus: "no signatures"), using: bogusMX, deadline: Deadline(secondsFromNow: 5)).outcome
        else { return XCTFail() }
        XCTAssertTrue(mxWhy.contains("MX RRset of example.com (no signatures)"), mxWhy)
        XCTAssertEqual(bogusMX.questions, [], "a bogus MX RRset ends the matter")
        let timeout = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]]), answer("mx.example.com", .aaaa),
                                           (DNSQuestion("_25._tcp.mx.example.com", .tlsa), .failure(.timeout(DNSQuestion("_25._tcp.mx.example.com", .tlsa))))))
        guard case .lookupFailed = policy(timeout).outcome else { return XCTFail() }
    }

    func testCNAMEdHostTriesTheExpandedNameThenTheOriginal() {
        let expandedFirst = ScriptedLookup(table(
            answer("mx.example.com", .a, [[192, 0, 2, 1]], canonical: "host.provider.example."), answer("mx.example.com", .aaaa, canonical: "host.provider.example."),
            answer("_25._tcp.host.provider.example", .tlsa, [tlsa]), answer("_25._tcp.mx.example.com", .tlsa, [[3, 1, 1] + Array(repeating: 0x22, count: 32)])))
        let result = policy(expandedFirst)
        XCTAssertEqual(result.tlsaBase, "host.provider.example")
        XCTAssertEqual(result.outcome, .records(TLSARecordSet(rdata: [tlsa])))
        XCTAssertEqual(result.serverName, "host.provider.example", "SNI is the TLSA base domain")
        XCTAssertEqual(result.referenceIdentities, ["host.provider.example", "mx.example.com", "example.com"])
        XCTAssertFalse(expandedFirst.questions.contains(DNSQuestion("_25._tcp.mx.example.com", .tlsa)))

        let original = ScriptedLookup(table(
            answer("mx.example.com", .a, [[192, 0, 2, 1]], canonical: "host.provider.example."), answer("mx.example.com", .aaaa, canonical: "host.provider.example."),
            answer("_25._tcp.host.provider.example", .tlsa, rcode: .nxDomain), answer("_25._tcp.mx.example.com", .tlsa, [tlsa])))
        let fallback = policy(original)
        XCTAssertEqual(fallback.tlsaBase, "mx.example.com")
        XCTAssertEqual(fallback.outcome, .records(TLSARecordSet(rdata: [tlsa])))
        XCTAssertEqual(original.questions.filter { $0.type == .tlsa }.map(\.name), ["_25._tcp.host.provider.example", "_25._tcp.mx.example.com"])

        let neither = ScriptedLookup(table(
            answer("mx.example.com", .a, [[192, 0, 2, 1]], canonical: "host.provider.example."), answer("mx.example.com", .aaaa, canonical: "host.provider.example.")))
        let none = policy(neither)
        XCTAssertEqual(none.outcome, .absent)
        XCTAssertEqual(none.tlsaName, "_25._tcp.host.provider.example")

        let insecureChain = ScriptedLookup(table(
            answer("mx.example.com", .a, [[192, 0, 2, 1]], secure: false, canonical: "host.provider.example."), answer("mx.example.com", .aaaa, secure: false, canonical: "host.provider.example.")))
        guard case .notApplicable = policy(insecureChain).outcome else { return XCTFail() }
        XCTAssertFalse(insecureChain.questions.contains { $0.type == .tlsa })
    }

    func testHostsAreLookedUpTogether() {
        let lookup = ScriptedLookup(table(
            answer("mx1.example.com", .a, [[192, 0, 2, 1]]), answer("mx1.example.com", .aaaa), answer("_25._tcp.mx1.example.com", .tlsa, [tlsa]),
            answer("mx2.example.com", .a, [[192, 0, 2, 2]]), answer("mx2.example.com", .aaaa)))
        let requests = ["mx1.example.com", "mx2.example.com"].map { DANELookupRequest(host: $0, domain: "example.com", mxDNSSEC: .secure) }
        let results = DANEPolicyLookup.policies(for: requests, using: lookup, deadline: Deadline(secondsFromNow: 5))
        XCTAssertEqual(results.map(\.host), ["mx1.example.com", "mx2.example.com"])
        XCTAssertEqual(results[0].outcome, .records(TLSARecordSet(rdata: [tlsa])))
        XCTAssertEqual(results[1].outcome, .absent)
        XCTAssertEqual(lookup.questions.map(\.type), [.a, .aaaa, .a, .aaaa, .tlsa, .tlsa], "one round of addresses, one of TLSA")
    }

    func testPortNamesTheTLSAOwner() {
        let lookup = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]]), answer("mx.example.com", .aaaa), answer("_587._tcp.mx.example.com", .tlsa, [tlsa])))
        let result = DANEPolicyLookup.policy(for: DANELookupRequest(host: "MX.Example.com.", port: 587), using: lookup, deadline: Deadline(secondsFromNow: 5))
        XCTAssertEqual(result.tlsaName, "_587._tcp.mx.example.com")
        XCTAssertEqual(result.referenceIdentities, ["mx.example.com"], "a host target: no domain")
        XCTAssertNil(result.mxDNSSEC)
    }

    // MARK: SharedDNSLookup

    func testSharedLookupAsksEachQuestionOnce() {
        let base = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]])))
        let shared = SharedDNSLookup(base)
        for spelling in ["mx.example.com", "MX.example.com.", "mx.example.com"] {
            let result = shared.answer(to: DNSQuestion(spelling, .a), deadline: Deadline(secondsFromNow: 5))
            XCTAssertEqual(try result.get().rdata, [[192, 0, 2, 1]])
            XCTAssertEqual(try result.get().question.name, spelling, "the caller's spelling is kept")
        }
        XCTAssertEqual(base.questions.count, 1)
        XCTAssertEqual(shared.questionsAsked, 1)
        // Duplicates in one batch are asked once too.
        _ = shared.answers(to: [DNSQuestion("b.example", .a), DNSQuestion("B.example", .a)], deadline: Deadline(secondsFromNow: 5))
        XCTAssertEqual(base.questions.count, 2)
    }

    func testSharedLookupWaitsForAQuestionInFlight() {
        let base = ScriptedLookup(table(answer("mx.example.com", .a, [[192, 0, 2, 1]])), delay: 0.3)
        let shared = SharedDNSLookup(base)
        let group = DispatchGroup()
        let results = LockedResults()
        for _ in 0..<8 {
            DispatchQueue.global().async(group: group) {
                results.append(shared.answer(to: DNSQuestion("mx.example.com", .a), deadline: Deadline(secondsFromNow: 5)))
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(base.questions.count, 1, "seven threads waited for the first one's answer")
        XCTAssertEqual(results.values.compactMap { try? $0.get().rdata }, Array(repeating: [[192, 0, 2, 1]], count: 8))
    }

    func testSharedLookupWaitIsBoundedByTheDeadline() {
        let base = ScriptedLookup(table(answer("slow.example", .a, [[192, 0, 2, 1]])), delay: 2)
        let shared = SharedDNSLookup(base)
        DispatchQueue.global().async { _ = shared.answer(to: DNSQuestion("slow.example", .a), deadline: Deadline(secondsFromNow: 5)) }
        usleep(100_000)
        let started = Date()
        let result = shared.answer(to: DNSQuestion("slow.example", .a), deadline: Deadline(secondsFromNow: 0.3))
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5)
        guard case .failure(.timeout) = result else { return XCTFail("\(result)") }
    }

    func testSharedLookupIsBoundedInMemory() {
        let base = ScriptedLookup([:])
        let shared = SharedDNSLookup(base, capacity: 50)
        for index in 0..<500 {
            _ = shared.answer(to: DNSQuestion("h\(index).example", .a), deadline: Deadline(secondsFromNow: 5))
        }
        XCTAssertLessThanOrEqual(shared.cachedCount, 50)
        // The newest are kept, the oldest asked again.
        _ = shared.answer(to: DNSQuestion("h499.example", .a), deadline: Deadline(secondsFromNow: 5))
        XCTAssertEqual(base.questions.count, 500)
        _ = shared.answer(to: DNSQuestion("h0.example", .a), deadline: Deadline(secondsFromNow: 5))
        XCTAssertEqual(base.questions.count, 501)
    }

    func testTimeoutsAreNotKept() {
        let question = DNSQuestion("silent.example", .a)
        let base = ScriptedLookup([question: .failure(.timeout(question))])
        let shared = SharedDNSLookup(base)
        _ = shared.answer(to: question, deadline: Deadline(secondsFromNow: 5))
        _ = shared.answer(to: question, deadline: Deadline(secondsFromNow: 5))
        XCTAssertEqual(base.questions.count, 2)
    }
}

/// Results gathered from several threads.
final class LockedResults: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var stored: [Result<DNSAnswer, DNSError>] = []

    func append(_ result: Result<DNSAnswer, DNSError>) { lock.withLock { stored.append(result) } }
    var values: [Result<DNSAnswer, DNSError>] { lock.withLock { stored } }
}
