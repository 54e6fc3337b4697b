import Foundation
import XCTest

@testable import MXCheckCore

/// TXT records as character-strings of at most 255 bytes.
func txtRData(_ strings: String...) -> [UInt8] {
    strings.flatMap { string -> [UInt8] in
        let bytes = Array(string.utf8)
        return [UInt8(bytes.count)] + bytes
    }
}

final class MTASTSParserTests: XCTestCase {
    // MARK: TXT records (RFC 8461 §3.1, RFC 8460 §3)

    func testRecordStringsAreJoinedWithoutSpaces() throws {
        let record = try MTASTSRecord.parse(rdata: [txtRData("v=STSv1; id=2026", "0101")]).get()
        XCTAssertEqual(record.id, "20260101")
        XCTAssertEqual(record.text, "v=STSv1; id=20260101")
    }

    func testRecordsWithoutTheVersionTagAreIgnoredBeforeCounting() throws {
        let rdata = [txtRData("google-site-verification=abc"), txtRData("v=STSv1; id=abc123"), txtRData("v=STSv10; id=x")]
        XCTAssertEqual(try MTASTSRecord.parse(rdata: rdata).get().id, "abc123")
        XCTAssertEqual(MTASTSRecord.parse(rdata: [txtRData("v=spf1 -all")]), .failure(.absent))
        XCTAssertEqual(MTASTSRecord.parse(rdata: []), .failure(.absent))
    }

    func testTwoSTSRecordsAreInvalid() {
        XCTAssertEqual(MTASTSRecord.parse(rdata: [txtRData("v=STSv1; id=a"), txtRData("v=STSv1; id=b")]), .failure(.several(2)))
    }

    func testBadIDsAreNamed() {
        for bad in ["v=STSv1; id=", "v=STSv1; id=2026-01-01", "v=STSv1; id=" + String(repeating: "a", count: 33), "v=STSv1;"] {
            guard case .failure(.malformed(let reason)) = MTASTSRecord.parse(text: bad) else { return XCTFail(bad) }
            XCTAssertTrue(reason.contains("id"), reason)
        }
        XCTAssertEqual(try MTASTSRecord.parse(text: "v=STSv1;id=" + String(repeating: "Z", count: 32) + "; ext=1").get().id.count, 32)
    }

    func testVersionMustBeFirstAndUnknownFieldsAreIgnored() {
        XCTAssertEqual(try MTASTSRecord.parse(text: "v=STSv1 ; id=1 ; future=yes").get().id, "1")
        guard case .failure(.malformed) = MTASTSRecord.parse(text: "v=STSv1; id") else { return XCTFail("a field without =") }
    }

    func testMalformedCharacterStringsAreSkipped() {
        XCTAssertNil(TXTRecordText.joined([10, 0x41]))
        XCTAssertEqual(MTASTSRecord.parse(rdata: [[10, 0x76]]), .failure(.absent))
    }

    func testA64KiBRecordIsNamedNotRead() {
        var rdata: [UInt8] = []
        let first = "v=STSv1; id=" + String(repeating: "a", count: 200)
        rdata += txtRData(first)
        for _ in 0..<255 { rdata += txtRData(String(repeating: "b", count: 255)) }
        guard case .failure(.malformed(let reason)) = MTASTSRecord.parse(rdata: [rdata]) else { return XCTFail("a 64 KiB record is not accepted") }
        XCTAssertTrue(reason.contains("longer"), reason)
    }

    func testTLSRPTRecords() throws {
        let record = try TLSRPTRecord.parse(rdata: [txtRData("v=TLSRPTv1; rua=mailto:tls@example.com, https://r.example.net/tls")]).get()
        XCTAssertEqual(record.rua, ["mailto:tls@example.com", "https://r.example.net/tls"])
        guard case .failure(.malformed(let noRUA)) = TLSRPTRecord.parse(text: "v=TLSRPTv1;") else { return XCTFail("no rua") }
        XCTAssertTrue(noRUA.contains("rua"))
        guard case .failure(.malformed(let http)) = TLSRPTRecord.parse(text: "v=TLSRPTv1; rua=http://r.example.net/") else { return XCTFail("http:") }
        XCTAssertTrue(http.contains("http://r.example.net/"))
        XCTAssertEqual(TLSRPTRecord.parse(rdata: [txtRData("v=TLSRPTv1; rua=mailto:a@x"), txtRData("v=TLSRPTv1; rua=mailto:b@x")]), .failure(.several(2)))
        guard case .failure(.malformed) = TLSRPTRecord.parse(text: "rua=mailto:a@x; v=TLSRPTv1") else { return XCTFail("v= not first") }
    }

    // MARK: The policy (RFC 8461 §3.2)

    func testPolicyWithLFAndCRLFLines() throws {
        let policy = try MTASTSPolicy.parse(Array("version: STSv1\r\nmode: enforce\nmx: mx1.example.com\r\nmx: *.example.net\nmax_age: 604800\n".utf8)).get()
        XCTAssertEqual(policy, MTASTSPolicy(mode: .enforce, maxAge: 604800, mx: ["mx1.example.com", "*.example.net"]))
    }

    func testFirstOccurrenceWinsAndUnknownKeysAreIgnored() throws {
        let policy = try MTASTSPolicy.parse(Array("version: STSv1\nmode: testing\nmode: enforce\nmax_age: 90000\nmax_age: 1\nmx: a.example\nfoo: bar".utf8)).get()
        XCTAssertEqual(policy.mode, .testing)
        XCTAssertEqual(policy.maxAge, 90000)
    }

    func testPolicyDefectsAreNamed() {
        func parse(_ text: String) -> MTASTSPolicyError? {
            if case .failure(let error) = MTASTSPolicy.parse(Array(text.utf8)) { return error }
            return nil
        }
        XCTAssertEqual(parse("version: STSv1\nmode: enforce\nmax_age: 86400\n"), .noMX(mode: .enforce))
        XCTAssertNil(parse("version: STSv1\nmode: none\nmax_age: 86400\n"), "mx is optional in mode none")
        XCTAssertEqual(parse("version: STSv1\nmode: enforce\nmax_age: 31557601\nmx: a.example"), .badMaxAge("31557601"))
        XCTAssertEqual(parse("version: STSv1\nmode: enforce\nmax_age: -1\nmx: a.example"), .badMaxAge("-1"))
        XCTAssertEqual(parse("version: STSv2\nmode: enforce\nmax_age: 1\nmx: a.example"), .badVersion("STSv2"))
        XCTAssertEqual(parse("version: STSv1\nmode: strict\nmax_age: 1\nmx: a.example"), .badMode("strict"))
        XCTAssertEqual(parse("mode: enforce\nmax_age: 1\nmx: a.example"), .missing("version"))
        XCTAssertEqual(parse("version: STSv1\nthis line has no colon\n"), .lineWithoutColon(line: 2))
        XCTAssertEqual(parse("\u{01}\u{02}binary"), .notText(line: 1))
        XCTAssertEqual(parse("version: STSv1\nmode: enforce\nmax_age: 1\nmx: a..example"), .badMX("a..example"))
    }

    func testAHundredThousandMXLinesParseWithinBounds() throws {
        let body = "version: STSv1\nmode: enforce\nmax_age: 86400\n" + String(repeating: "mx: mx.example.com\n", count: 100_000)
        let policy = try MTASTSPolicy.parse(Array(body.utf8)).get()
        XCTAssertEqual(policy.mx.count, 100_000)
        XCTAssertTrue(policy.covers(mxHost: "MX.example.com."))
    }

    // MARK: MX patterns (RFC 8461 §4.1)

    func testWildcardIsExactlyOneLeftMostLabel() {
        XCTAssertTrue(MXPattern.matches(pattern: "*.example.com", host: "mail.example.com"))
        XCTAssertTrue(MXPattern.matches(pattern: "*.Example.COM.", host: "MAIL.example.com."))
        XCTAssertFalse(MXPattern.matches(pattern: "*.example.com", host: "example.com"))
        XCTAssertFalse(MXPattern.matches(pattern: "*.example.com", host: "a.b.example.com"))
        XCTAssertFalse(MXPattern.matches(pattern: "*.example.com", host: "mailexample.com"))
        XCTAssertFalse(MXPattern.matches(pattern: "mx*.example.com", host: "mx1.example.com"))
        XCTAssertTrue(MXPattern.matches(pattern: "mx1.example.com.", host: "MX1.EXAMPLE.COM"))
        XCTAssertFalse(MXPattern.matches(pattern: "*", host: "com"))
    }

    // MARK: HTTP responses

    private func parse(_ chunks: [String], close: Bool = true, limit: Int = HTTPResponseParser.maximumBodyBytes) -> HTTPResponseParser.Outcome {
        var parser = HTTPResponseParser(bodyLimit: limit)
        var outcome = HTTPResponseParser.Outcome.needMore
        for chunk in chunks { outcome = parser.feed(Array(chunk.utf8)); if outcome != .needMore { return outcome } }
        return close ? parser.feed([]) : outcome
    }

    private func body(_ outcome: HTTPResponseParser.Outcome) -> String? {
        guard case .complete(let response) = outcome else { return nil }
        return String(decoding: response.body, as: UTF8.self)
    }

    func testContentLengthBodyEndsWithoutTheClose() {
        let outcome = parse(["HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Len", "gth: 5\r\n\r\nhel", "lo trailing"], close: false)
        XCTAssertEqual(body(outcome), "hello")
        guard case .complete(let response) = outcome else { return XCTFail() }
        XCTAssertEqual(response.mediaType, "text/plain")
    }

    func testChunkedBodyInPieces() {
        let outcome = parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "lo\r\n6;ext=1\r\n world\r\n0\r\n\r\n"], close: false)
        XCTAssertEqual(body(outcome), "hello world")
    }

    func testCloseDelimitedBody() {
        XCTAssertEqual(body(parse(["HTTP/1.0 200 OK\nContent-Type: text/plain\n\nversion: STSv1\n"])), "version: STSv1\n")
    }

    func testRedirectIsCompleteAtTheHeadWithItsLocation() {
        guard case .complete(let response) = parse(["HTTP/1.1 301 Moved\r\nLocation: https://www.example.com/x\r\nContent-Length: 100000\r\n\r\n"], close: false) else {
            return XCTFail("a 301's head is enough")
        }
        XCTAssertEqual(response.status, 301)
        XCTAssertEqual(response.location, "https://www.example.com/x")
    }

    func testHeaderLineWithoutColonIsNamed() {
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nContent-Type text/plain\r\n\r\n"]), .failed(.headerLineWithoutColon("Content-Type text/plain")))
    }

    func testBodiesOverTheCapAreRefused() {
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n"], close: false), .failed(.bodyTooLarge(limit: 65536)))
        let big = String(repeating: "x", count: 70_000)
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\n\r\n", big], close: false), .failed(.bodyTooLarge(limit: 65536)))
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10001\r\n", "x"], close: false), .failed(.bodyTooLarge(limit: 65536)))
    }

    func testTruncatedAndMalformedResponses() {
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]), .failed(.truncated))
        XCTAssertEqual(parse([]), .failed(.truncated))
        XCTAssertEqual(parse(["SSH-2.0-OpenSSH\r\n\r\n"]), .failed(.badStatusLine("SSH-2.0-OpenSSH")))
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"]), .failed(.badContentLength("+5")))
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"]), .failed(.unsupportedTransferEncoding("gzip")))
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]), .failed(.badChunk))
        // A sign is no hex digit: "-5" once reached 5 bytes before the chunk's data (found by FuzzHTTPResponse).
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nlo\r\r\r\nA0\n"]), .failed(.badChunk))
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n"]), .failed(.badChunk))
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n"]), .failed(.obsoleteLineFolding))
        XCTAssertEqual(parse(["HTTP/1.1 200 OK\r\n" + String(repeating: "X: y\r\n", count: 4000)], close: false), .failed(.headersTooLong(limit: 16384)))
    }

    func testByteByByteFeedingGivesTheSameResponse() {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        XCTAssertEqual(body(parse(text.map { String($0) }, close: false)), "abc")
    }
}
