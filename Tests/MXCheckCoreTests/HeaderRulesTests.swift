import XCTest
@testable import MXCheckCore

/// Received hops → headers.* findings, from the parsed hops alone (no header block, no trace).
final class HeaderRulesTests: XCTestCase {
    private func hop(_ index: Int, _ value: String) -> ReceivedHop { ReceivedHop(index: index, value: Array(value.utf8)) }

    func testNoHopIsOneUnknownFinding() {
        let findings = HeaderRules.findings(for: [])
        XCTAssertEqual(findings.map(\.id), [.headersNoReceived])
        XCTAssertEqual(findings.first?.severity, .unknown)
        XCTAssertEqual(findings.first?.message, "the header block holds no Received field, so the path of the message is unknown")
    }

    func testEachHopIsJudgedOnItsOwn() {
        let hops = [
            hop(0, "from a (a [192.0.2.1]) by b with ESMTP; Tue, 1 Dec 2026 00:00:02 +0000"),
            hop(1, "from c (c [192.0.2.3]) (using TLSv1 with cipher AES128-SHA (128/128 bits)) by a with ESMTPS; Tue, 1 Dec 2026 00:00:01 +0000"),
            hop(2, "???"),
            hop(3, "from d (d [192.0.2.4]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by c with ESMTPS; Tue, 1 Dec 2026 00:00:00 +0000"),
            hop(4, "from localhost by d with LMTP; Tue, 1 Dec 2026 00:00:00 +0000"),
        ]
        let findings = HeaderRules.findings(for: hops)
        XCTAssertEqual(findings.map(\.id), [.headersPlaintextHop, .headersLegacyTLSHop, .headersUnparsedHop], "TLS 1.3 and a local hop are fine")
        XCTAssertEqual(findings.map(\.severity), [.warning, .warning, .info])
        XCTAssertEqual(findings[0].message, "hop 0: a [192.0.2.1] -> b went without TLS (with ESMTP)")
        XCTAssertEqual(findings[1].message, "hop 1: c [192.0.2.3] -> a used TLSv1.0")
        XCTAssertTrue(findings[2].message.hasSuffix(": mxcheck could not read this Received field"), findings[2].message)
    }

    /// A hop's version gets the judgement mxcheck's own connection would: below TLS 1.2 is legacy.
    func testEveryVersionBelowTLS12IsALegacyHop() {
        for (version, legacy) in [("SSLv3", true), ("TLSv1", true), ("TLSv1.1", true), ("TLSv1.2", false), ("TLSv1.3", false)] {
            let received = hop(0, "from c (c [192.0.2.3]) (using \(version) with cipher AES128-SHA (128/128 bits)) by a with ESMTPS; Tue, 1 Dec 2026 00:00:01 +0000")
            XCTAssertNotNil(received.tls?.version, version)
            XCTAssertEqual(HeaderRules.findings(for: [received]).map(\.id), legacy ? [.headersLegacyTLSHop] : [], version)
        }
    }
}
