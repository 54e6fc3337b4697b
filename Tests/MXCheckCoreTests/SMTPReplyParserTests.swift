import XCTest
@testable import MXCheckCore

final class SMTPReplyParserTests: XCTestCase {
    private func parseAll(_ text: String) throws -> [SMTPReply] {
        try parseAll(Array(text.utf8))
    }

    private func parseAll(_ bytes: [UInt8]) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        var start = 0
        var replies: [SMTPReply] = []
        while let reply = try parser.parse(bytes, start: &start) {
            replies.append(reply)
        }
        return replies
    }

    func testSingleLine() throws {
        XCTAssertEqual(try parseAll("220 mx.example.com ESMTP\r\n"), [SMTPReply(code: 220, lines: ["mx.example.com ESMTP"])])
    }

    func testMultiLineGreetingAndEHLO() throws {
        let replies = try parseAll("220-mx.example.com\r\n220-second\r\n220 ready\r\n250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
        XCTAssertEqual(replies.count, 2)
        XCTAssertEqual(replies[0], SMTPReply(code: 220, lines: ["mx.example.com", "second", "ready"]))
        XCTAssertEqual(replies[1].lines, ["mx", "PIPELINING", "STARTTLS"])
    }

    func testBareLFAndBareCode() throws {
        let replies = try parseAll("220-a\n220 b\n250\n")
        XCTAssertEqual(replies, [SMTPReply(code: 220, lines: ["a", "b"]), SMTPReply(code: 250, lines: [""])])
    }

    func testIncompleteReplyNeedsMoreBytes() throws {
        var parser = SMTPReplyParser()
        var buffer = Array("220-first line\r\n220 par".utf8)
        var start = 0
        XCTAssertNil(try parser.parse(buffer, start: &start))
        buffer += Array("tial\r\n".utf8)
        XCTAssertEqual(try parser.parse(buffer, start: &start), SMTPReply(code: 220, lines: ["first line", "partial"]))
        XCTAssertEqual(start, buffer.count)
    }

    func testStopsAfterFinalLineLeavingTheRest() throws {
        var parser = SMTPReplyParser()
        let buffer = Array("220 go ahead\r\n\u{16}\u{03}\u{01}".utf8)
        var start = 0
        XCTAssertEqual(try parser.parse(buffer, start: &start)?.code, 220)
        XCTAssertEqual(buffer.count - start, 3, "bytes after the reply stay unconsumed")
    }

    func testOversizedLineIsAnError() {
        let long = "220 " + String(repeating: "x", count: SMTPReplyParser.maxLineLength + 10)
        XCTAssertThrowsError(try parseAll(long)) { error in
            XCTAssertEqual(error as? SMTPProtocolError, .lineTooLong(limit: SMTPReplyParser.maxLineLength))
        }
        XCTAssertThrowsError(try parseAll(long + "\r\n"))
    }

    func testOversizedReplyIsAnError() {
        var text = ""
        for index in 0..<10_000 { text += "250-X-FILLER-\(index)\r\n" }
        text += "250 STARTTLS\r\n"
        XCTAssertThrowsError(try parseAll(text)) { error in
            XCTAssertEqual(error as? SMTPProtocolError, .replyTooLong(limit: SMTPReplyParser.maxReplyLength))
        }
    }

    func testGarbageIsRejectedEarly() {
        XCTAssertThrowsError(try parseAll("HTTP/1.1 400 Bad Request\r\n"))
        XCTAssertThrowsError(try parseAll("22O odd\r\n"))
        XCTAssertThrowsError(try parseAll("2200 x\r\n"))
        XCTAssertThrowsError(try parseAll("\u{16}\u{03}\u{03}"), "a partial line that cannot be a reply fails without waiting")
        XCTAssertThrowsError(try parseAll("999 code out of range\r\n"))
        XCTAssertThrowsError(try parseAll([0xFF, 0xFE, 0x0D, 0x0A]))
    }

    func testMixedCodesInOneReply() {
        XCTAssertThrowsError(try parseAll("220-mx\r\n250 mx\r\n")) { error in
            XCTAssertEqual(error as? SMTPProtocolError, .inconsistentCodes(first: 220, later: 250))
        }
    }

    func testCapabilitiesAreCaseInsensitive() {
        let reply = SMTPReply(code: 250, lines: ["mx.example.com", "pipelining", "starttls", "SIZE 1000"])
        let capabilities = Capabilities(ehloReply: reply)
        XCTAssertTrue(capabilities.contains("STARTTLS"))
        XCTAssertTrue(capabilities.contains("size"))
        XCTAssertFalse(capabilities.contains("AUTH"))
        XCTAssertFalse(Capabilities(ehloReply: SMTPReply(code: 250, lines: ["starttls.example.com"])).contains("STARTTLS"),
                       "the first line is the server's name, not a capability")
    }
}
