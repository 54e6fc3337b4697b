import Foundation
import XCTest
@testable import MXCheckCore

/// What a server says reaches a terminal escaped, and reaches JSON as valid JSON.
final class TerminalTextTests: XCTestCase {
    func testControlsAreEscaped() {
        XCTAssertEqual(TerminalText.escaped("220 \u{1B}]0;pwned\u{07} ESMTP"), "220 \\x1b]0;pwned\\x07 ESMTP")
        XCTAssertEqual(TerminalText.escaped("\u{1B}[2J"), "\\x1b[2J")
        XCTAssertEqual(TerminalText.escaped("a\rb\nc\u{00}d\u{7F}"), "a\\x0db\\x0ac\\x00d\\x7f")
        XCTAssertEqual(TerminalText.escaped("tab\tkept"), "tab\tkept")
        XCTAssertEqual(TerminalText.escaped("csi \u{9B}31m nel \u{85}"), "csi \\u009b31m nel \\u0085")
    }

    func testBidirectionalControlsAreEscaped() {
        XCTAssertEqual(TerminalText.escaped("mx.\u{202E}moc.elpmaxe"), "mx.\\u202emoc.elpmaxe")
        for value in [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C] as [UInt32] {
            let scalar = Unicode.Scalar(value)!
            XCTAssertEqual(TerminalText.escaped(String(scalar)), String(format: "\\u%04x", value), "U+\(String(value, radix: 16))")
        }
    }

    func testOrdinaryTextIsUntouched() {
        for text in ["", "220 mx.example.com ESMTP Postfix", "Grüße aus Köln", "日本語のメール", "emoji 📬", "back\\slash \\x1b as text"] {
            XCTAssertEqual(TerminalText.escaped(text), text)
        }
    }

    func testEscapingTwiceChangesNothing() {
        let once = TerminalText.escaped("\u{1B}[31m\u{202E}\u{FF}\u{85}")
        XCTAssertEqual(TerminalText.escaped(once), once)
    }

    func testInvalidUTF8StaysVisible() {
        XCTAssertEqual(TerminalText.decoded([0x61, 0xFF, 0xFE, 0x62]), "a\\xff\\xfeb")
        XCTAssertEqual(TerminalText.escaped(bytes: [0x1B, 0x5B, 0x32, 0x4A, 0xFF]), "\\x1b[2J\\xff")
        // Valid multi-byte sequences decode; overlong forms, surrogates and truncated sequences do not.
        XCTAssertEqual(TerminalText.decoded(Array("Köln €".utf8)), "Köln €")
        XCTAssertEqual(TerminalText.decoded([0xC0, 0xAF]), "\\xc0\\xaf", "overlong '/'")
        XCTAssertEqual(TerminalText.decoded([0xE0, 0x80, 0xAF]), "\\xe0\\x80\\xaf", "overlong three-byte form")
        XCTAssertEqual(TerminalText.decoded([0xED, 0xA0, 0x80]), "\\xed\\xa0\\x80", "UTF-16 surrogate")
        XCTAssertEqual(TerminalText.decoded([0xF4, 0x90, 0x80, 0x80]), "\\xf4\\x90\\x80\\x80", "above U+10FFFF")
        XCTAssertEqual(TerminalText.decoded([0xE2, 0x82]), "\\xe2\\x82", "cut short")
        XCTAssertEqual(TerminalText.decoded([0xF0, 0x9F, 0x93, 0xAC]), "📬")
        // Controls survive decoding as they are (escaping is the writer's business) and are escaped after.
        XCTAssertEqual(TerminalText.decoded([0x1B, 0x41]), "\u{1B}A")
        XCTAssertEqual(TerminalText.escaped(bytes: Array("\u{202E}".utf8)), "\\u202e")
    }

    func testReplyParserKeepsInvalidBytesVisible() throws {
        var parser = SMTPReplyParser()
        var start = 0
        let bytes: [UInt8] = Array("220-".utf8) + [0x1B] + Array("]0;pwned".utf8) + [0x07, 0xFF, 0xFE] + Array("\r\n220 ok\r\n".utf8)
        let reply = try XCTUnwrap(try parser.parse(bytes, start: &start))
        XCTAssertEqual(reply.lines, ["\u{1B}]0;pwned\u{07}\\xff\\xfe", "ok"])
        XCTAssertFalse(reply.lines[0].unicodeScalars.contains("\u{FFFD}"))
    }

    func testJSONStaysValidAndEscapesWhatATerminalWouldObey() throws {
        let hostile = "\u{1B}]0;pwned\u{07}\u{1B}[2J \u{202E}evil\u{2069} \u{85}\u{9B} \\xff tab\t"
        let line = JSONValue.object(["banner": .string(hostile)]).serialized()
        for scalar in line.unicodeScalars {
            XCTAssertFalse(TerminalText.needsEscape(scalar), "raw U+\(String(scalar.value, radix: 16)) in \(line)")
        }
        XCTAssertTrue(line.contains("\\u001b]0;pwned\\u0007"), line)
        XCTAssertTrue(line.contains("\\u202eevil\\u2069"), line)
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        XCTAssertEqual(parsed?["banner"], hostile, "JSON keeps the text exactly")
    }

    func testTextReportEscapesServerText() {
        var observation = Observation(endpoint: Endpoint(
            host: "mx\u{1B}[2J.example", address: "192.0.2.1", port: 25, tls: .starttls, serverName: "mx.example", referenceIdentity: "mx.example"))
        observation.banner = "220 \u{1B}]0;pwned\u{07} \u{202E}PTMSE"
        observation.failure = .ehloRejected(SMTPReply(code: 550, lines: ["no \u{1B}[2J\u{9B}"]))
        let report = EndpointReport(observation: observation, settings: RuleSettings(now: Date()))
        for colour in [false, true] {
            let text = TextReport(colour: colour).render(report)
            XCTAssertTrue(text.contains("220 \\x1b]0;pwned\\x07 \\u202ePTMSE"), text)
            XCTAssertTrue(text.contains("'550 no \\x1b[2J\\u009b'"), text)
            XCTAssertTrue(text.contains("mx\\x1b[2J.example"), text)
            XCTAssertFalse(text.contains("\u{07}") || text.contains("\u{202E}") || text.contains("\u{9B}"), text)
            // The only raw ESC left is mxcheck's own colour, and only when asked for.
            XCTAssertEqual(text.contains("\u{1B}"), colour)
            if colour { XCTAssertFalse(text.contains("\u{1B}]") || text.contains("\u{1B}[2J"), text) }
        }
    }
}
