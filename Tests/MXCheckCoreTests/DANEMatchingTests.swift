import Foundation
import XCTest

@testable import MXCheckCore

/// TLSA matching with the RFC 7672/7671 rules, on certificates made by the openssl CLI for the test.
final class DANEMatchingTests: XCTestCase {
    var pki: DANETestPKI!
    let now = Date()

    override func setUpWithError() throws {
        try super.setUpWithError()
        pki = try DANETestPKI.shared()
    }

    // MARK: helpers

    /// A record of certificate (or key) NAME, its digest computed by the openssl CLI, not the code under test.
    private func record(_ usage: UInt8, _ selector: UInt8, _ type: UInt8, _ name: String) throws -> TLSARecord {
        let data: [UInt8]
        switch type {
        case 1: data = try pki.digest(name, selector: selector, algorithm: "sha256")
        case 2: data = try pki.digest(name, selector: selector, algorithm: "sha512")
        default: data = selector == 0 ? try pki.der(name) : try pki.spki(name)
        }
        return TLSARecord(usage: usage, selector: selector, matchingType: type, data: data)
    }

    private func policy(_ records: [TLSARecord], host: String = "mx.example.com", names: [String]? = nil) -> DANEPolicy {
        DANEPolicy(host: host, port: 25, mxDNSSEC: .secure, addressDNSSEC: .secure, tlsaDNSSEC: .secure,
                   outcome: .records(TLSARecordSet(records: records)), referenceIdentities: names)
    }

    private func evaluate(_ records: [TLSARecord], chain: [String]?, names: [String]? = nil) throws -> DANEEvaluation {
        DANEEvaluation(policy: policy(records, names: names), chainDER: try chain.map { try $0.map { try pki.der($0) } }, at: now)
    }

    private func ids(_ evaluation: DANEEvaluation) -> [String] {
        DANERules.findings(for: evaluation).map(\.id.rawValue)
    }

    // MARK: DANE-EE

    func testDANEEEMatchesTheLeafByKeyOrCertificateWithEitherDigest() throws {
        for (selector, type) in [(UInt8(1), UInt8(1)), (0, 1), (1, 2), (0, 2), (1, 0), (0, 0)] {
            let evaluation = try evaluate([try record(3, selector, type, "leaf")], chain: ["leaf", "intermediate"])
            XCTAssertEqual(evaluation.status, .valid, "3 \(selector) \(type): \(evaluation.reason)")
            XCTAssertEqual(evaluation.matchedDepth, 0)
            XCTAssertEqual(evaluation.matchedRecord, 0)
            XCTAssertEqual(evaluation.records.map(\.matched), [true])
            XCTAssertEqual(evaluation.records.map(\.used), [true])
            XCTAssertEqual(evaluation.name, "_25._tcp.mx.example.com")
            XCTAssertEqual(evaluation.dnssec, .secure)
            XCTAssertEqual(ids(evaluation), ["dane.no_rollover"], "a single key and no DANE-TA record")
        }
    }

    func testDANEEEIgnoresNamesAndDates() throws {
        for leaf in ["selfsigned", "expired", "notyet", "othername"] {
            let evaluation = try evaluate([try record(3, 1, 1, leaf)], chain: [leaf])
            XCTAssertEqual(evaluation.status, .valid, "\(leaf): \(evaluation.reason)")
            XCTAssertEqual(evaluation.matchedDepth, 0)
        }
    }

    func testStaleDANEEERecordIsAMismatchWithTheRecordsToPublish() throws {
        let evaluation = try evaluate([try record(3, 1, 1, "stale")], chain: ["leaf", "intermediate"])
        XCTAssertEqual(evaluation.status, .mismatch)
        XCTAssertNil(evaluation.matchedDepth)
        XCTAssertEqual(evaluation.records.map(\.matched), [false])
        XCTAssertTrue(evaluation.reason.contains("no TLSA record of _25._tcp.mx.example.com matches"), evaluation.reason)
        let leafKey = HexText.encode(try pki.digest("leaf", selector: 1, algorithm: "sha256"))
        let issuerKey = HexText.encode(try pki.digest("intermediate", selector: 1, algorithm: "sha256"))
        XCTAssertEqual(evaluation.suggestedRecords, [
            "_25._tcp.mx.example.com. IN TLSA 3 1 1 \(leafKey)", "_25._tcp.mx.example.com. IN TLSA 2 1 1 \(issuerKey)",
        ])
        let findings = DANERules.findings(for: evaluation)
        XCTAssertEqual(findings.map(\.id), [.daneMismatch])
        XCTAssertEqual(findings.first?.severity, .critical)
        XCTAssertTrue(findings.first?.fix.contains("3 1 1 \(leafKey)") ?? false, findings.first?.fix ?? "")
        // The suggestion is honest: published, it matches.
        let fixed = try evaluate([try XCTUnwrap(TLSARecord(presentation: "3 1 1 \(leafKey)"))], chain: ["leaf", "intermediate"])
        XCTAssertEqual(fixed.status, .valid)
        let fixedTA = try evaluate([try XCTUnwrap(TLSARecord(presentation: "2 1 1 \(issuerKey)"))], chain: ["leaf", "intermediate"])
        XCTAssertEqual(fixedTA.status, .valid)
    }

    func testDANEEERecordDoesNotMatchAnIssuer() throws {
        let evaluation = try evaluate([try record(3, 1, 1, "intermediate")], chain: ["leaf", "intermediate"])
        XCTAssertEqual(evaluation.status, .mismatch, "DANE-EE is about the leaf only")
    }

    // MARK: DANE-TA

    func testDANETAMatchesTheIssuerTheServerSends() throws {
        for (selector, type) in [(UInt8(1), UInt8(1)), (0, 1), (1, 2), (0, 0)] {
            let evaluation = try evaluate([try record(2, selector, type, "intermediate")], chain: ["leaf", "intermediate"])
            XCTAssertEqual(evaluation.status, .valid, "2 \(selector) \(type): \(evaluation.reason)")
            XCTAssertEqual(evaluation.matchedDepth, 1)
            XCTAssertEqual(evaluation.records.map(\.matched), [true])
            XCTAssertEqual(ids(evaluation), [], "a DANE-TA record survives a key change of the leaf")
        }
        let root = try evaluate([try record(2, 1, 1, "root")], chain: ["leaf", "intermediate", "root"])
        XCTAssertEqual(root.status, .valid, root.reason)
        XCTAssertEqual(root.matchedDepth, 2)
    }

    func testDANETAIssuerNotSentIsAMismatch() throws {
        let evaluation = try evaluate([try record(2, 1, 1, "intermediate")], chain: ["leaf"])
        XCTAssertEqual(evaluation.status, .mismatch)
        XCTAssertTrue(evaluation.reason.contains("sent only its leaf"), evaluation.reason)
        XCTAssertEqual(evaluation.suggestedRecords.count, 1, "no issuer was sent to suggest a 2 1 1 of")
    }

    func testFullDANETACertificateStandsInForTheOneNotSent() throws {
        let evaluation = try evaluate([try record(2, 0, 0, "intermediate")], chain: ["leaf"])
        XCTAssertEqual(evaluation.status, .valid, evaluation.reason)
        XCTAssertNil(evaluation.matchedDepth, "the matched certificate came from DNS")
        XCTAssertEqual(evaluation.matchedRecord, 0)
        XCTAssertEqual(evaluation.records.map(\.matched), [true])
        XCTAssertTrue(evaluation.reason.contains("did not send"), evaluation.reason)
        // A full 2 1 0 public key may do the same: the leaf is signed by that key.
        let key = try evaluate([try record(2, 1, 0, "intermediate")], chain: ["leaf"])
        XCTAssertEqual(key.status, .valid, key.reason)
        XCTAssertNil(key.matchedDepth)
        XCTAssertEqual(key.records.map(\.matched), [true])
        XCTAssertTrue(key.reason.contains("public key published in DNS"), key.reason)
        // A digest of a key not sent cannot stand in: there is nothing to compute it from.
        XCTAssertEqual(try evaluate([try record(2, 1, 1, "intermediate")], chain: ["leaf"]).status, .mismatch)
    }

    func testDANETAChecksTheNames() throws {
        let wrong = try evaluate([try record(2, 1, 1, "intermediate")], chain: ["othername", "intermediate"])
        XCTAssertEqual(wrong.status, .mismatch)
        XCTAssertTrue(wrong.reason.contains("not valid for mx.example.com"), wrong.reason)
        XCTAssertEqual(wrong.records.map(\.matched), [true], "the record matches; the name check fails")
        XCTAssertEqual(ids(wrong), ["dane.mismatch"])
        // The domain is a reference identity when the MX RRset is secure (the caller adds it).
        let domain = try evaluate([try record(2, 1, 1, "intermediate")], chain: ["domainonly", "intermediate"], names: ["mx.example.com", "example.com"])
        XCTAssertEqual(domain.status, .valid, domain.reason)
        let hostOnly = try evaluate([try record(2, 1, 1, "intermediate")], chain: ["domainonly", "intermediate"], names: ["mx.example.com"])
        XCTAssertEqual(hostOnly.status, .mismatch)
        // Any SAN may match: mx2.example.com is the leaf's second name.
        let second = try evaluate([try record(2, 1, 1, "intermediate")], chain: ["leaf", "intermediate"], names: ["mx2.example.com"])
        XCTAssertEqual(second.status, .valid, second.reason)
    }

    func testDANETANameRules() throws {
        let ta = [try record(2, 1, 1, "intermediate")]
        // The CN counts only when there is no DNS-ID.
        XCTAssertEqual(try evaluate(ta, chain: ["cnonly", "intermediate"]).status, .valid)
        // A wildcard only as the whole left-most label, one label deep.
        XCTAssertEqual(try evaluate(ta, chain: ["wildcard", "intermediate"]).status, .valid)
        XCTAssertEqual(try evaluate(ta, chain: ["wildcard", "intermediate"], names: ["a.mx.example.com"]).status, .mismatch)
        XCTAssertEqual(try evaluate(ta, chain: ["partialwild", "intermediate"]).status, .mismatch, "mx*.example.com is no wildcard")
    }

    func testDANETAChecksTheDates() throws {
        let expiredLeaf = try evaluate([try record(2, 1, 1, "intermediate")], chain: ["expired", "intermediate"])
        XCTAssertEqual(expiredLeaf.status, .mismatch)
        XCTAssertTrue(expiredLeaf.reason.contains("expired"), expiredLeaf.reason)
        // An expired intermediate between the trust anchor and the leaf fails the chain...
        let expiredIssuer = try evaluate([try record(2, 1, 1, "root")], chain: ["oldcaleaf", "oldca", "root"])
        XCTAssertEqual(expiredIssuer.status, .mismatch)
        XCTAssertTrue(expiredIssuer.reason.contains("certificate 1"), expiredIssuer.reason)
        // ...but the certificate a DANE-TA record names is a trust anchor, whose own dates OpenSSL (and so Postfix) do not check.
        XCTAssertEqual(try evaluate([try record(2, 1, 1, "oldca")], chain: ["oldcaleaf", "oldca"]).status, .valid)
        // The same chain is fine for DANE-EE, which ignores dates.
        XCTAssertEqual(try evaluate([try record(3, 1, 1, "oldcaleaf")], chain: ["oldcaleaf", "oldca"]).status, .valid)
    }

    // MARK: usability

    func testOnlyPKIXUsagesAreUnusable() throws {
        let evaluation = try evaluate([try record(0, 0, 1, "root"), try record(1, 1, 1, "leaf")], chain: ["leaf", "intermediate", "root"])
        XCTAssertEqual(evaluation.status, .unusable)
        XCTAssertEqual(evaluation.records.map(\.usable), [false, false])
        XCTAssertEqual(evaluation.records.map(\.usability), [.pkixUsage(0), .pkixUsage(1)])
        XCTAssertEqual(ids(evaluation), ["dane.unusable"])
        XCTAssertEqual(DANERules.findings(for: evaluation).first?.severity, .warning)
    }

    func testUnknownParametersAndBadDataAreUnusable() throws {
        let good = try record(3, 1, 1, "leaf")
        let records = [
            TLSARecord(usage: 4, selector: 1, matchingType: 1, data: good.data),
            TLSARecord(usage: 3, selector: 2, matchingType: 1, data: good.data),
            TLSARecord(usage: 3, selector: 1, matchingType: 3, data: good.data),
            TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(good.data.prefix(31))),
            TLSARecord(usage: 3, selector: 1, matchingType: 2, data: good.data),
            TLSARecord(usage: 2, selector: 0, matchingType: 0, data: [0x30, 0x03, 0x02, 0x01, 0x00]),
            TLSARecord(usage: 3, selector: 1, matchingType: 0, data: []),
        ]
        let evaluation = try evaluate(records, chain: ["leaf"])
        XCTAssertEqual(evaluation.status, .unusable)
        XCTAssertEqual(evaluation.records.map(\.usability), [
            .unknownUsage(4), .unknownSelector(2), .unknownMatchingType(3), .badDigestLength(expected: 32, actual: 31),
            .badDigestLength(expected: 64, actual: 32), .badFullData("the data is not a DER certificate"), .badFullData("no data"),
        ])
        XCTAssertTrue(evaluation.reason.contains("none usable"), evaluation.reason)
    }

    func testMalformedRdataIsNamedNotFatal() {
        let set = TLSARecordSet(rdata: [[3, 1], [], [3, 1, 1]])
        XCTAssertEqual(set.entries.map(\.usability), [.malformed(length: 2), .malformed(length: 0), .badDigestLength(expected: 32, actual: 0)])
        XCTAssertNil(set.entries[0].record)
        let evaluation = DANEEvaluation(policy: DANEPolicy(host: "mx.example.com", port: 25, mxDNSSEC: .secure, addressDNSSEC: .secure, tlsaDNSSEC: .secure, outcome: .records(set)), chainDER: nil, at: now)
        XCTAssertEqual(evaluation.status, .unusable)
        XCTAssertNil(evaluation.records[0].record)
    }

    func testUnusableRecordBesideAUsableOneIsIgnored() throws {
        let evaluation = try evaluate([try record(1, 1, 1, "stale"), try record(3, 1, 1, "leaf")], chain: ["leaf"])
        XCTAssertEqual(evaluation.status, .valid)
        XCTAssertEqual(evaluation.records.map(\.used), [false, true])
        XCTAssertEqual(ids(evaluation), ["dane.no_rollover"])
    }

    // MARK: digest agility, stale records, rollover

    func testDigestAgilityUsesOnlyTheStrongestDigest() throws {
        let evaluation = try evaluate([try record(3, 1, 1, "leaf"), try record(3, 1, 2, "stale")], chain: ["leaf", "intermediate"])
        XCTAssertEqual(evaluation.status, .mismatch, "agile senders use only the SHA-512 record")
        XCTAssertEqual(evaluation.records.map(\.used), [false, true])
        XCTAssertEqual(evaluation.records.map(\.matched), [true, false])
        XCTAssertTrue(evaluation.reason.contains("digest agility"), evaluation.reason)
        // Full data is always used; agility is per usage and selector.
        let mixed = try evaluate([try record(3, 1, 0, "stale"), try record(3, 0, 1, "leaf"), try record(3, 1, 1, "stale"), try record(3, 1, 2, "stale")], chain: ["leaf"])
        XCTAssertEqual(mixed.records.map(\.used), [true, true, false, true])
        XCTAssertEqual(mixed.status, .valid)
    }

    func testGoodSHA512BesideStaleSHA256IsValidWithAStaleRecord() throws {
        let evaluation = try evaluate([try record(3, 1, 1, "stale"), try record(3, 1, 2, "leaf")], chain: ["leaf", "intermediate"])
        XCTAssertEqual(evaluation.status, .valid)
        XCTAssertEqual(evaluation.staleCombinations, [TLSACombination(usage: 3, selector: 1, matchingType: 1)])
        XCTAssertEqual(ids(evaluation), ["dane.stale_record"], "the stale 3 1 1 is another key: no no_rollover")
        XCTAssertEqual(DANERules.findings(for: evaluation).first?.severity, .warning)
    }

    func testStaleDANETABesideAGoodDANEEE() throws {
        let evaluation = try evaluate([try record(3, 1, 1, "leaf"), try record(2, 1, 1, "stale")], chain: ["leaf", "intermediate"])
        XCTAssertEqual(evaluation.status, .valid)
        XCTAssertEqual(evaluation.matchedDepth, 0)
        XCTAssertEqual(evaluation.staleCombinations, [TLSACombination(usage: 2, selector: 1, matchingType: 1)])
        XCTAssertEqual(ids(evaluation), ["dane.stale_record"])
    }

    func testRolloverPairIsNeitherStaleNorLackingRollover() throws {
        let evaluation = try evaluate([try record(3, 1, 1, "leaf"), try record(3, 1, 1, "next")], chain: ["leaf", "intermediate"])
        XCTAssertEqual(evaluation.status, .valid)
        XCTAssertEqual(evaluation.records.map(\.matched), [true, false])
        XCTAssertEqual(evaluation.staleCombinations, [], "a second record of a matching combination is a pre-published key")
        XCTAssertFalse(evaluation.noRollover)
        XCTAssertEqual(ids(evaluation), [])
    }

    func testSameKeyUnderTwoDigestsIsStillOneKey() throws {
        let evaluation = try evaluate([try record(3, 1, 1, "leaf"), try record(3, 0, 2, "leaf")], chain: ["leaf"])
        XCTAssertEqual(evaluation.status, .valid)
        XCTAssertTrue(evaluation.noRollover)
    }

    // MARK: RRset size, missing handshake, DNS outcomes

    func testHugeRRsetIsCappedAndSaid() throws {
        // Digests of nothing: 32 bytes each, distinct.
        let junk = (0..<499).map { TLSARecord(usage: 3, selector: 1, matchingType: 1, data: [UInt8($0 & 0xFF), UInt8($0 >> 8)] + Array(repeating: 0xA5, count: 30)) }
        let first = try evaluate([try record(3, 1, 1, "leaf")] + junk, chain: ["leaf"])
        XCTAssertEqual(first.status, .valid)
        XCTAssertEqual(first.recordsTotal, 500)
        XCTAssertEqual(first.records.count, TLSARecordSet.defaultLimit)
        XCTAssertEqual(first.recordsIgnored, 400)
        let late = try evaluate(junk + [try record(3, 1, 1, "leaf")], chain: ["leaf"])
        XCTAssertEqual(late.status, .mismatch, "the good record is past the limit")
        let message = DANERules.findings(for: late).first?.message ?? ""
        XCTAssertTrue(message.contains("only the first 100 of 500 TLSA records"), message)
    }

    func testNoHandshakeIsUnverified() throws {
        let evaluation = try evaluate([try record(3, 1, 1, "leaf")], chain: nil)
        XCTAssertEqual(evaluation.status, .unverified)
        XCTAssertEqual(evaluation.records.map(\.used), [true])
        XCTAssertEqual(ids(evaluation), [])
        XCTAssertEqual(try evaluate([try record(3, 1, 1, "leaf")], chain: []).status, .unverified)
    }

    func testDNSOutcomes() throws {
        let chain = try pki.chain("leaf", "intermediate")
        func outcome(_ outcome: DANEPolicy.Outcome, address: DNSSECState? = .secure, tlsa: DNSSECState? = .secure) -> DANEEvaluation {
            DANEEvaluation(policy: DANEPolicy(host: "mx.example.com", port: 25, mxDNSSEC: .secure, addressDNSSEC: address, tlsaDNSSEC: tlsa, outcome: outcome), chainDER: chain, at: now)
        }
        let absent = outcome(.absent)
        XCTAssertEqual(absent.status, .absent)
        XCTAssertEqual(absent.dnssec, .secure)
        XCTAssertEqual(ids(absent), ["dane.absent"])
        XCTAssertTrue(DANERules.findings(for: absent)[0].fix.contains("_25._tcp.mx.example.com. IN TLSA 3 1 1 "))
        let unsigned = outcome(.notApplicable(reason: "the addresses of mx.example.com are not signed"), address: .insecure, tlsa: nil)
        XCTAssertEqual(unsigned.status, .notApplicable)
        XCTAssertEqual(unsigned.dnssec, .insecure)
        XCTAssertEqual(ids(unsigned), ["dane.not_signed"])
        let bogus = outcome(.bogus(reason: "TLSA _25._tcp.mx.example.com does not validate"), tlsa: .bogus)
        XCTAssertEqual(bogus.status, .error)
        XCTAssertEqual(bogus.dnssec, .bogus)
        XCTAssertEqual(ids(bogus), ["dane.dnssec_bogus"])
        XCTAssertEqual(DANERules.findings(for: bogus)[0].severity, .critical)
        let failed = outcome(.lookupFailed(reason: "SERVFAIL for TLSA _25._tcp.mx.example.com"), tlsa: nil)
        XCTAssertEqual(failed.status, .error)
        XCTAssertNil(failed.dnssec)
        XCTAssertEqual(ids(failed), ["dane.lookup_failed"])
        XCTAssertEqual(DANERules.resolverUnusable(reason: "x").severity, .unknown)
    }

    // MARK: how DANE changes the certificate verdicts

    func testValidDANEEETurnsPKIXFindingsIntoInfo() throws {
        let pkix = [
            Finding(.certSelfSigned, message: "self-signed"), Finding(.certExpired, message: "expired"),
            Finding(.certHostnameMismatch, message: "name"), Finding(.certWeakKey, message: "weak"),
        ]
        let ee = try evaluate([try record(3, 1, 1, "selfsigned")], chain: ["selfsigned"])
        let adjusted = DANERules.certificateFindings(pkix, dane: ee, mtaSTSEnforced: false)
        XCTAssertEqual(adjusted.map(\.severity), [.info, .info, .info, .critical], "a weak key stays a weak key")
        XCTAssertTrue(adjusted[0].message.contains("DANE-EE authenticates the server"), adjusted[0].message)
        XCTAssertEqual(DANERules.certificateFindings(pkix, dane: ee, mtaSTSEnforced: true).map(\.severity), pkix.map(\.severity))
        let ta = try evaluate([try record(2, 1, 1, "intermediate")], chain: ["leaf", "intermediate"])
        XCTAssertEqual(DANERules.certificateFindings(pkix, dane: ta, mtaSTSEnforced: false).map(\.severity), [.info, .critical, .info, .critical], "DANE-TA checks dates")
        let mismatch = try evaluate([try record(3, 1, 1, "stale")], chain: ["selfsigned"])
        XCTAssertEqual(DANERules.certificateFindings(pkix, dane: mismatch, mtaSTSEnforced: false).map(\.severity), pkix.map(\.severity))
    }

    /// PolicyRules with both policies: an enforced MTA-STS policy keeps the PKIX findings critical beside a valid
    /// DANE-EE match (and says MTA-STS senders will not deliver); a policy in testing mode leaves DANE's info.
    func testEnforcedMTASTSKeepsPKIXFindingsCriticalBesideValidDANE() throws {
        let pkix = [Finding(.certSelfSigned, message: "self-signed")]
        let ee = try evaluate([try record(3, 1, 1, "selfsigned")], chain: ["selfsigned"])
        func mail(_ mode: String) -> MailDomainPolicy {
            let body = Array("version: STSv1\nmode: \(mode)\nmx: mx.example.com\nmax_age: 604800\n".utf8)
            let fetch = PolicyFetch(url: PolicyFetcher.url(of: "example.com"), httpStatus: 200, contentType: "text/plain", mediaType: "text/plain", body: body)
            let sts = MTASTSEvaluation(domain: "example.com", record: .found(MTASTSRecord(text: "v=STSv1; id=1", id: "1")), fetch: fetch, policy: MTASTSPolicy.parse(body))
            let rpt = TLSRPTEvaluation(domain: "example.com", record: .found(TLSRPTRecord(text: "v=TLSRPTv1; rua=mailto:t@example.com", rua: ["mailto:t@example.com"])))
            return MailDomainPolicy(mtaSts: sts, tlsRpt: rpt)
        }
        func selfSigned(_ policy: EndpointPolicy) -> Finding? {
            PolicyRules.findings(pkix, policy: policy, mxHost: "mx.example.com").first { $0.id == .certSelfSigned }
        }
        let enforced = try XCTUnwrap(selfSigned(EndpointPolicy(dane: ee, mail: mail("enforce"))))
        XCTAssertEqual(enforced.severity, .critical)
        XCTAssertTrue(enforced.message.contains("MTA-STS senders will not deliver"), enforced.message)
        XCTAssertEqual(selfSigned(EndpointPolicy(dane: ee, mail: mail("testing")))?.severity, .info)
        XCTAssertEqual(selfSigned(EndpointPolicy(dane: ee))?.severity, .info)
        XCTAssertTrue(EndpointPolicy(dane: ee).daneDeployed)
    }

    // MARK: records as text

    func testPresentationFormRoundTrips() throws {
        let text = "3 1 1 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
        let parsed = try XCTUnwrap(TLSARecord(presentation: text))
        XCTAssertEqual(parsed.description, text.lowercased())
        XCTAssertEqual(TLSARecord.parse(parsed.wire), parsed)
        XCTAssertEqual(TLSARecord(presentation: "2 0 1 ab cd")?.data, [0xAB, 0xCD])
        XCTAssertNil(TLSARecord(presentation: "3 1 1 abc"))
        XCTAssertNil(TLSARecord(presentation: "3 1 1 zz"))
        XCTAssertNil(TLSARecord(presentation: "256 1 1 ab"))
        XCTAssertNil(TLSARecord(presentation: "3 1"))
    }
}

extension DANEMatchingTests {
    func testJSONObjectHasTheContractsFields() throws {
        let evaluation = try evaluate([try record(3, 1, 1, "leaf"), try record(1, 1, 1, "leaf")], chain: ["leaf", "intermediate"])
        let json = evaluation.jsonObject().serialized()
        let hex = HexText.encode(try pki.digest("leaf", selector: 1, algorithm: "sha256"))
        XCTAssertEqual(json, #"{"dnssec":"secure","matchedDepth":0,"name":"_25._tcp.mx.example.com","records":[{"data":"\#(hex)","matched":true,"matchingType":1,"selector":1,"usable":true,"usage":3,"used":true},{"data":"\#(hex)","matched":false,"matchingType":1,"selector":1,"usable":false,"usage":1,"used":false}],"recordsTotal":2,"status":"valid"}"#)
        let capped = DANEEvaluation(policy: policy(Array(repeating: try record(3, 1, 1, "stale"), count: 30)), chainDER: try pki.chain("leaf"), at: now)
        guard case .object(let members) = capped.jsonObject(), case .array(let shown) = members["records"] else { return XCTFail() }
        XCTAssertEqual(shown.count, DANEEvaluation.jsonRecordLimit)
        XCTAssertEqual(members["recordsTotal"], .int(30))
        XCTAssertEqual(members["matchedDepth"], .null)
        let failed = DANEEvaluation(policy: DANEPolicy(host: "mx.example.com", port: 25, mxDNSSEC: .secure, addressDNSSEC: .secure, tlsaDNSSEC: nil, outcome: .lookupFailed(reason: "SERVFAIL")), chainDER: nil, at: now)
        XCTAssertEqual(failed.jsonObject().serialized(), #"{"dnssec":null,"matchedDepth":null,"name":"_25._tcp.mx.example.com","records":[],"recordsTotal":0,"status":"error"}"#)
    }
}
