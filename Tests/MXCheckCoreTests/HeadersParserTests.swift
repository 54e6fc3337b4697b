import Foundation
import XCTest

@testable import MXCheckCore

/// The header block reader, the Received parser, dates, TLS names and the terminal escaping, piece by piece.
final class HeadersParserTests: XCTestCase {
    private func block(_ text: String, endOfInput: Bool = true) -> HeaderBlock {
        HeaderBlock(parsing: Array(text.utf8), endOfInput: endOfInput)
    }

    private func hop(_ value: String) -> ReceivedHop {
        ReceivedHop(index: 0, value: Array(value.utf8))
    }

    // MARK: header block

    func testCRLFAndLFFoldingAndTheEmptyLine() {
        let parsed = block("Subject: a\r\n b\r\nReceived: from x\n\tby y with SMTP; Tue, 1 Dec 2026 00:00:00 +0000\r\n\r\nReceived: body\n")
        XCTAssertEqual(parsed.fields.map(\.name), ["Subject", "Received"])
        XCTAssertEqual(String(decoding: parsed.fields[0].value, as: UTF8.self), " a b")
        XCTAssertEqual(String(decoding: parsed.fields[1].value, as: UTF8.self), " from x\tby y with SMTP; Tue, 1 Dec 2026 00:00:00 +0000")
        XCTAssertFalse(parsed.truncated)
    }

    func testAnMboxFromLineIsSkippedOnlyFirst() {
        let parsed = block("From a@example.org Tue Dec  1 00:00:00 2026\nReceived: from x by y with SMTP; Tue, 1 Dec 2026 00:00:00 +0000\nFrom a b\n")
        XCTAssertEqual(parsed.fields.map(\.name), ["Received"])
        XCTAssertEqual(parsed.skippedLines, 1, "a second 'From ' line is no field")
    }

    func testTheFieldCapCutsWithANote() {
        let text = (0..<1_005).map { "X-N: \($0)\n" }.joined()
        let parsed = block(text)
        XCTAssertEqual(parsed.fields.count, HeaderBlock.maximumFields)
        XCTAssertTrue(parsed.truncated)
        XCTAssertFalse(block((0..<1_000).map { "X-N: \($0)\n" }.joined()).truncated)
    }

    func testTheByteCapDropsTheFieldItCuts() {
        let long = "Received: from a by b with SMTP; Tue, 1 Dec 2026 00:00:00 +0000\nX-Long: " + String(repeating: "z", count: HeaderBlock.maximumBytes) + "\n"
        let parsed = block(long)
        XCTAssertTrue(parsed.truncated)
        XCTAssertEqual(parsed.fields.map(\.name), ["Received"])
        // A reader that stopped at the cap says so with endOfInput false.
        XCTAssertTrue(block("Received: from a by b with SMTP", endOfInput: false).truncated)
        XCTAssertFalse(block("Received: from a by b with SMTP", endOfInput: true).truncated)
    }

    func testTheReaderStopsAtTheEndOfTheHeaderBlock() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-reader-\(UUID().uuidString).eml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let message = Array("Received: from a by b with SMTP; Tue, 1 Dec 2026 00:00:00 +0000\n\n".utf8) + [UInt8](repeating: 0x42, count: 5_000_000)
        FileManager.default.createFile(atPath: path, contents: Data(message))
        let descriptor = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        defer { close(descriptor) }
        let parsed = try HeaderBlockReader.read(fileDescriptor: descriptor, shownAs: path)
        XCTAssertEqual(parsed.fields.count, 1)
        // One chunk read, not the 5 MB body.
        XCTAssertLessThanOrEqual(lseek(descriptor, 0, SEEK_CUR), off_t(HeaderBlockReader.chunkSize))
    }

    func testUnreadableInputIsATypedError() {
        XCTAssertThrowsError(try HeaderBlockReader.read(path: "/nonexistent/message.eml")) { error in
            guard case HeaderInputError.cannotOpen(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/nonexistent/message.eml")
        }
        XCTAssertThrowsError(try HeaderBlockReader.read(path: "/")) { error in
            guard case HeaderInputError.cannotRead = error else { return XCTFail("\(error)") }
        }
    }

    // MARK: Received fields

    func testHundredThousandNestedParenthesesAreCountedNotRecursed() {
        let deep = hop("from a " + String(repeating: "(", count: 100_000) + String(repeating: ")", count: 100_000) + " by b with ESMTP; Tue, 1 Dec 2026 00:00:00 +0000")
        XCTAssertEqual(deep.from, "a")
        XCTAssertEqual(deep.by, "b")
        XCTAssertEqual(deep.encrypted, false)
        let open = hop("from a " + String(repeating: "(", count: 100_000) + " by b with SMTP")
        XCTAssertEqual(open.from, "a")
        XCTAssertNil(open.by, "an unclosed comment runs to the end")
    }

    func testQuotedPairsAndLiteralsKeepTheirSpecials() {
        let parsed = hop(#"from a.example (\) by x; [192.0.2.1]) by "b;(" with ESMTP id <i;d> ; Tue, 1 Dec 2026 00:00:00 +0000"#)
        XCTAssertEqual(parsed.from, "a.example")
        XCTAssertEqual(parsed.by, #""b;(""#)
        XCTAssertEqual(parsed.id, "<i;d>")
        XCTAssertEqual(parsed.fromHost.addresses, ["192.0.2.1"])
        XCTAssertNotNil(parsed.date)
    }

    func testVerdicts() {
        XCTAssertEqual(hop("from a (a [192.0.2.1]) by b with ESMTPSA; Tue, 1 Dec 2026 00:00:00 +0000").encrypted, true)
        XCTAssertEqual(hop("from a (a [192.0.2.1]) by b with LMTPS; Tue, 1 Dec 2026 00:00:00 +0000").encrypted, true)
        XCTAssertEqual(hop("from a (a [192.0.2.1]) by b with ESMTPA; Tue, 1 Dec 2026 00:00:00 +0000").encrypted, false)
        XCTAssertNil(hop("from a (a [192.0.2.1]) by b with HTTP; Tue, 1 Dec 2026 00:00:00 +0000").encrypted)
        XCTAssertNil(hop("from a (a [192.0.2.1]) by b with HTTPREST; Tue, 1 Dec 2026 00:00:00 +0000").encrypted)
        XCTAssertNil(hop("from a (a [192.0.2.1]) by b; Tue, 1 Dec 2026 00:00:00 +0000").encrypted)
        // Private networks are not exempt.
        XCTAssertTrue(hop("from a (a [10.0.0.1]) by b with ESMTP; Tue, 1 Dec 2026 00:00:00 +0000").isPlaintextBetweenHosts)
        // Loopback, localhost and the same address on both sides are a host talking to itself.
        XCTAssertFalse(hop("from a (localhost [::1]) by b with ESMTP; Tue, 1 Dec 2026 00:00:00 +0000").isPlaintextBetweenHosts)
        XCTAssertFalse(hop("from localhost by b with LMTP; Tue, 1 Dec 2026 00:00:00 +0000").isPlaintextBetweenHosts)
        XCTAssertFalse(hop("from a ([192.0.2.5]) by b ([192.0.2.5]) with SMTP; Tue, 1 Dec 2026 00:00:00 +0000").isPlaintextBetweenHosts)
        XCTAssertFalse(hop("from mx.example.net by MX.example.net. with LMTP id 1; Tue, 1 Dec 2026 00:00:00 +0000").isPlaintextBetweenHosts)
        XCTAssertFalse(hop("from a (unix socket) by b with ESMTP; Tue, 1 Dec 2026 00:00:00 +0000").isPlaintextBetweenHosts)
        // TLS details count even under "with ESMTP".
        XCTAssertEqual(hop("from a (a [192.0.2.1]) by b with ESMTP (TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; Tue, 1 Dec 2026 00:00:00 +0000").tls,
                       HopTLS(version: .tls12, cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", bits: nil))
    }

    func testFindingsPerHop() {
        let trace = HeaderTrace(block("""
            Received: from a (a [192.0.2.1]) by b with ESMTP; Tue, 1 Dec 2026 00:00:02 +0000
            Received: from c (c [192.0.2.3]) (using SSLv3 with cipher RC4-SHA (128/128 bits)) by a with ESMTPS; Tue, 1 Dec 2026 00:00:01 +0000
            Received: ???

            """))
        XCTAssertEqual(trace.findings.map(\.id), [.headersPlaintextHop, .headersLegacyTLSHop, .headersUnparsedHop])
        XCTAssertEqual(trace.hops[1].tls, HopTLS(version: .sslv3, cipher: "TLS_RSA_WITH_RC4_128_SHA", bits: 128))
        XCTAssertEqual(trace.status, .warning)
        XCTAssertEqual(HeaderTrace(block("Subject: x\n")).findings.map(\.id), [.headersNoReceived])
        XCTAssertEqual(HeaderTrace(block("Subject: x\n")).status, .unknown)
        let json = trace.json.serialized()
        XCTAssertTrue(json.hasPrefix(#"{"findings":["#), json)
        XCTAssertTrue(json.contains(#""schemaVersion":2"#), json)
        XCTAssertTrue(json.contains(#""tls":{"bits":128,"cipher":"TLS_RSA_WITH_RC4_128_SHA","version":"SSLv3"}"#), json)
    }

    // MARK: dates

    func testDates() {
        func date(_ text: String) -> String? {
            MailDate.parse(text.split(separator: " ").map(String.init)).map { JSONDates.format($0.date) }
        }
        XCTAssertEqual(date("Tue,  1 Dec 2026 21:00:00 +0100"), "2026-12-01T20:00:00Z")
        XCTAssertEqual(date("1 Dec 2026 21:00:00 -0000"), "2026-12-01T21:00:00Z")
        XCTAssertEqual(date("Tue,1 Dec 2026 21:00 EST"), "2026-12-02T02:00:00Z")
        XCTAssertEqual(date("Sun, 29 Feb 2032 23:59:59 PDT"), "2032-03-01T06:59:59Z")
        XCTAssertEqual(date("1 Jan 99 00:00:00 GMT"), "1999-01-01T00:00:00Z")
        XCTAssertNil(date("31 Feb 2026 00:00:00 +0000"))
        XCTAssertNil(date("Tue, 1 Dec 2026 25:00:00 +0000"))
        XCTAssertNil(date("Tue, 1 Dec 2026 21:00:00"))
        XCTAssertNil(date("yesterday"))
    }

    // MARK: TLS names

    func testTLSNamesOfEveryLibraryMapToIANA() {
        XCTAssertEqual(CipherSuite.named(libraryName: "ECDHE-RSA-AES256-GCM-SHA384")?.name, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        XCTAssertEqual(CipherSuite.named(libraryName: "ECDHE_RSA_AES_128_CBC_SHA1")?.name, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")
        XCTAssertEqual(CipherSuite.named(libraryName: "RSA_ARCFOUR_128_SHA1")?.name, "TLS_RSA_WITH_RC4_128_SHA")
        XCTAssertEqual(CipherSuite.named(libraryName: "ECDHE_ECDSA_CHACHA20_POLY1305")?.name, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")
        XCTAssertEqual(CipherSuite.named(libraryName: "AEAD-CHACHA20-POLY1305-SHA256")?.name, "TLS_CHACHA20_POLY1305_SHA256")
        XCTAssertNil(CipherSuite.named(libraryName: "key-exchange"))
        XCTAssertEqual(HopTLS.version("TLS1_2"), .tls12)
        XCTAssertEqual(HopTLS.version("TLSv1"), .tls10)
        XCTAssertEqual(HopTLS.version("tls1.3"), .tls13)
        XCTAssertEqual(HopTLS.version("SSLv3"), .sslv3)
        XCTAssertNil(HopTLS.version("TLSv1/SSLv3"))
        XCTAssertNil(HopTLS.version("TLSv2"))
        // An unknown suite after "cipher" is kept as written.
        XCTAssertEqual(HopTLS.read(comments: ["version=TLS1_2 cipher=TLS_FUTURE_SUITE"], tlsClause: nil),
                       HopTLS(version: .tls12, cipher: "TLS_FUTURE_SUITE", bits: nil))
        XCTAssertNil(HopTLS.read(comments: ["Postfix", "Exim 4.96", "envelope-from <a@b>"], tlsClause: nil))
    }

    // MARK: terminal

    func testTerminalEscaping() {
        XCTAssertEqual(HeaderText.escapedForTerminal("a\u{1B}[2Jb\tc\u{7F}\u{85}\u{202E}\u{2066}é"), "a\\x1b[2Jb\tc\\x7f\\u0085\\u202e\\u2066é")
        XCTAssertEqual(HeaderText.escapedForTerminal(bytes: [0x61, 0xFF, 0xC3, 0xA9, 0xE2, 0x80, 0x0A]), "a\\xffé\\xe2\\x80\\x0a")
        XCTAssertEqual(HeaderText.decoded([0xED, 0xA0, 0x80]), "\\xed\\xa0\\x80", "a UTF-16 surrogate is not UTF-8")
        XCTAssertEqual(HeaderText.decoded([0xF0, 0x9F, 0x98, 0x80]), "😀")
    }
}
