import Foundation
import XCTest

@testable import MXCheckCore

/// One message per MTA family (Fixtures/headers/*.eml, written in each MTA's own trace format), read as
/// `mxcheck headers` reads it.
final class HeadersFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/headers")

    private func trace(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> HeaderTrace {
        let path = Self.fixtures.appendingPathComponent(name).path
        return HeaderTrace(try HeaderBlockReader.read(path: path))
    }

    private func ids(_ trace: HeaderTrace) -> [String] {
        trace.findings.map(\.id.rawValue)
    }

    private func tls(_ hop: ReceivedHop) -> [String?] {
        [hop.tls?.version?.rawValue, hop.tls?.cipher, hop.tls?.bits.map(String.init)]
    }

    func testPostfix() throws {
        let trace = try trace("postfix.eml")
        XCTAssertEqual(trace.hops.count, 5, "the Received field in the body is not a hop")
        let hops = trace.hops
        XCTAssertEqual(hops[0].from, "mx.example.net")
        XCTAssertEqual(hops[0].encrypted, false)
        XCTAssertTrue(hops[0].isLocal, "amavis-style re-injection over loopback")
        XCTAssertEqual(hops[1].from, "mail.example.org")
        XCTAssertEqual(hops[1].by, "mx.example.net")
        XCTAssertEqual(hops[1].with, "ESMTPS")
        XCTAssertEqual(hops[1].id, "4VzQ1q6bKXz9sSH")
        XCTAssertEqual(hops[1].for, "<bob@example.net>")
        XCTAssertEqual(hops[1].date.map(JSONDates.format), "2026-12-01T19:15:02Z")
        XCTAssertEqual(tls(hops[1]), ["TLSv1.3", "TLS_AES_256_GCM_SHA384", "256"])
        XCTAssertEqual(hops[1].fromHost.addresses, ["192.0.2.10"])
        // Postfix before 3.x wrote "with ESMTP" even over TLS: the details decide.
        XCTAssertEqual(hops[2].with, "ESMTP")
        XCTAssertEqual(hops[2].encrypted, true)
        XCTAssertEqual(tls(hops[2]), ["TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "256"])
        XCTAssertEqual(hops[2].fromHost.addresses, ["2001:db8::25"])
        XCTAssertEqual(tls(hops[3]), ["TLSv1.0", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "256"])
        XCTAssertNil(hops[4].from)
        XCTAssertEqual(hops[4].id, "0F1E2D3C4B")
        XCTAssertEqual(ids(trace), ["headers.legacy_tls_hop"])
        XCTAssertEqual(trace.status, .warning)
    }

    func testExim() throws {
        let hops = try trace("exim.eml").hops
        XCTAssertEqual(hops.count, 6)
        XCTAssertEqual(hops[0].with, "esmtps")
        XCTAssertEqual(tls(hops[0]), ["TLSv1.3", "TLS_AES_256_GCM_SHA384", nil])
        XCTAssertEqual(hops[0].for, "bob@example.net")
        XCTAssertEqual(hops[0].id, "1wXyZa-000ABC-1D")
        XCTAssertEqual(hops[0].fromHost.addresses, ["192.0.2.30"])
        // GnuTLS's suite name in the older (TLS1.2:NAME:bits) comment.
        XCTAssertEqual(tls(hops[1]), ["TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "256"])
        XCTAssertEqual(hops[1].date.map(JSONDates.format), "2026-12-01T20:15:01Z")
        // Exim with GnuTLS names a TLS 1.2 suite for a TLS 1.3 session: the AEAD fixes the real one.
        XCTAssertEqual(tls(hops[2]), ["TLSv1.3", "TLS_AES_128_GCM_SHA256", nil])
        XCTAssertEqual(hops[2].from, "[192.0.2.31]")
        XCTAssertEqual(tls(hops[3]), ["TLSv1.3", "TLS_AES_256_GCM_SHA384", "256"])
        XCTAssertEqual(hops[4].encrypted, false)
        XCTAssertTrue(hops[4].isPlaintextBetweenHosts)
        XCTAssertEqual(hops[5].with, "local")
        XCTAssertNil(hops[5].encrypted)
        XCTAssertEqual(try trace("exim.eml").findings.map(\.id), [.headersPlaintextHop])
    }

    func testSendmail() throws {
        let trace = try trace("sendmail.eml")
        let hops = trace.hops
        XCTAssertEqual(tls(hops[0]), ["TLSv1.3", "TLS_AES_256_GCM_SHA384", "256"])
        XCTAssertEqual(hops[0].id, "5B1KF2Ab012345")
        // TLSv1/SSLv3 is the cipher's class (SSL_CIPHER_get_version of OpenSSL 1.0), not the protocol.
        XCTAssertEqual(tls(hops[1]), [nil, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "256"])
        XCTAssertEqual(hops[1].encrypted, true)
        XCTAssertFalse(trace.findings.contains { $0.id == .headersLegacyTLSHop && $0.message.hasPrefix("hop 1:") })
        XCTAssertEqual(tls(hops[2]), ["TLSv1.0", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "256"])
        XCTAssertEqual(hops[2].date.map(JSONDates.format), "2026-12-01T20:15:00Z")
        XCTAssertEqual(hops[3].encrypted, false)
        XCTAssertNil(hops[4].from, "(from alice@localhost) is a comment: a local submission")
        XCTAssertEqual(hops[4].by, "nocrypt.example.org")
        XCTAssertEqual(ids(trace), ["headers.legacy_tls_hop", "headers.plaintext_hop"])
    }

    func testMicrosoft() throws {
        let trace = try trace("microsoft.eml")
        let hops = trace.hops
        XCTAssertEqual(hops[0].with, "HTTPS")
        XCTAssertEqual(hops[0].date.map(JSONDates.format), "2026-12-01T20:15:03Z", "a date folded across lines")
        XCTAssertEqual(hops[1].with, "Microsoft SMTP Server")
        XCTAssertEqual(hops[1].via, "Frontend Transport")
        XCTAssertEqual(hops[1].id, "15.20.8207.21")
        XCTAssertEqual(tls(hops[1]), ["TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", nil])
        XCTAssertEqual(hops[2].encrypted, true, "(TLS) alone")
        XCTAssertNil(hops[2].tls)
        // Older Exchange appends the curve to the suite's name.
        XCTAssertEqual(tls(hops[3]), ["TLSv1.0", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", nil])
        // Without version= or (TLS), Exchange did not use TLS.
        XCTAssertEqual(hops[4].encrypted, false)
        XCTAssertEqual(hops[5].with, "mapi")
        XCTAssertNil(hops[5].encrypted)
        XCTAssertEqual(hops[5].byHost.addresses, ["fe80::39f4:7b05:b1d3:5272"])
        XCTAssertEqual(ids(trace), ["headers.legacy_tls_hop", "headers.plaintext_hop"])
    }

    func testGoogle() throws {
        let trace = try trace("google.eml")
        let hops = trace.hops
        XCTAssertNil(hops[0].from)
        XCTAssertEqual(hops[0].with, "SMTP")
        XCTAssertFalse(hops[0].isPlaintextBetweenHosts, "no sending host: Gmail's internal hand-over")
        XCTAssertEqual(tls(hops[1]), ["TLSv1.3", "TLS_AES_256_GCM_SHA384", "256"])
        XCTAssertEqual(hops[1].fromHost.names.first, "mail.example.org")
        XCTAssertEqual(hops[1].date.map(JSONDates.format), "2026-12-01T20:15:03Z")
        XCTAssertEqual(hops[2].encrypted, true, "SMTPS and (Google Transport Security)")
        XCTAssertEqual(tls(hops[3]), ["TLSv1.3", "TLS_AES_128_GCM_SHA256", "128"])
        XCTAssertEqual(ids(trace), [])
    }

    func testOpenSMTPD() throws {
        let hops = try trace("opensmtpd.eml").hops
        XCTAssertEqual(tls(hops[0]), ["TLSv1.3", "TLS_AES_256_GCM_SHA384", "256"])
        XCTAssertEqual(hops[0].id, "96f08978")
        XCTAssertEqual(tls(hops[1]), ["TLSv1.2", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "256"])
        // LibreSSL's TLS 1.3 name.
        XCTAssertEqual(tls(hops[2]), ["TLSv1.3", "TLS_AES_256_GCM_SHA384", "256"])
        XCTAssertTrue(hops[3].fromHost.localChannel, "[local]: a local submission")
        XCTAssertTrue(hops[3].isLocal)
    }

    func testQmail() throws {
        let trace = try trace("qmail.eml")
        let hops = trace.hops
        XCTAssertFalse(hops[0].unparsed, "qmail's (qmail N invoked from network) is a known comment-only form")
        XCTAssertEqual(hops[1].with, "SMTP")
        XCTAssertEqual(hops[1].encrypted, true)
        // A TLS 1.2-only suite fixes the version though qmail does not write it.
        XCTAssertEqual(tls(hops[1]), ["TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", nil])
        XCTAssertEqual(hops[1].fromHost.addresses, ["192.0.2.70"])
        XCTAssertEqual(hops[1].date.map(JSONDates.format), "2026-12-01T20:15:03Z")
        XCTAssertEqual(hops[2].encrypted, false)
        XCTAssertTrue(hops[2].isPlaintextBetweenHosts)
        XCTAssertEqual(tls(hops[4]), [nil, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", nil])
        XCTAssertTrue(hops[4].isLocal)
        XCTAssertEqual(ids(trace), ["headers.plaintext_hop"])
    }

    func testCourier() throws {
        let trace = try trace("courier.eml")
        let hops = trace.hops
        // The class TLSv1/SSLv3 with a TLS 1.2-only suite: TLS 1.2.
        XCTAssertEqual(tls(hops[0]), ["TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "256"])
        XCTAssertEqual(hops[0].id, "00000000005A1C77.000000005E75464C.00004771", "Courier writes its id after the date")
        XCTAssertEqual(hops[0].date.map(JSONDates.format), "2026-12-01T20:15:02Z")
        XCTAssertEqual(hops[0].fromHost.addresses, ["::ffff:192.0.2.80"])
        XCTAssertEqual(tls(hops[1]), [nil, "TLS_RSA_WITH_AES_256_CBC_SHA", "256"])
        XCTAssertEqual(hops[1].with, "ESMTPSA")
        XCTAssertEqual(hops[2].encrypted, false)
        XCTAssertEqual(ids(trace), ["headers.plaintext_hop"])
    }

    func testOddForms() throws {
        let block = try HeaderBlockReader.read(path: Self.fixtures.appendingPathComponent("odd.eml").path)
        XCTAssertEqual(block.skippedLines, 1, "'not a header line'")
        let bad = try XCTUnwrap(block.fields(named: "X-Bad").first)
        XCTAssertEqual(HeaderText.decoded(bad.value), " café \\xff\\xfe\u{1B}[31m")
        let trace = HeaderTrace(block)
        let hops = trace.hops
        XCTAssertEqual(hops.count, 6, "names match case-insensitively, 'Received :' too; the body's field is not a hop")
        // Folded inside a comment and between "with" and its keyword.
        XCTAssertEqual(hops[0].with, "ESMTPS")
        XCTAssertEqual(hops[0].fromHost.addresses, ["192.0.2.90"])
        // Nested comments with a quoted pair, and a ";" inside a comment's <path>.
        XCTAssertEqual(hops[1].by, "a.example.org")
        XCTAssertEqual(hops[1].id, "Q2")
        XCTAssertEqual(hops[1].for, "<x@example.net>")
        XCTAssertEqual(hops[1].date.map(JSONDates.format), "2026-12-01T20:15:03Z")
        XCTAssertTrue(hops[2].unparsed)
        // Clauses in an unusual order.
        XCTAssertEqual(hops[3].by, "d.example.org")
        XCTAssertEqual(hops[3].id, "Q3")
        XCTAssertEqual(hops[3].with, "LMTP")
        XCTAssertNil(hops[4].date, "'not a date'")
        XCTAssertTrue(hops[4].isLocal, "the same host on both sides")
        XCTAssertEqual(hops[5].encrypted, true, "UTF8SMTPS")
        XCTAssertEqual(hops[5].date.map(JSONDates.format), "2026-12-01T20:15:00Z", "two-digit year, no seconds, GMT")
        XCTAssertEqual(ids(trace), ["headers.plaintext_hop", "headers.unparsed_hop"])
    }
}
