import Foundation
import XCTest

/// A server whose banner, EHLO lines, replies and certificate carry terminal escape sequences, a bidi override
/// and bytes that are not UTF-8 (oddsmtp.py modes hostile_text, hostile_refusal): none of it reaches stdout or
/// stderr raw, the escaped form shows what was sent, and the JSON still parses and keeps the text.
final class HostileOutputTests: EndToEndTestCase {
    /// What must never appear raw. Output is read as UTF-8 with invalid bytes turned into U+FFFD, so a raw
    /// 0xff or 0xfe from the server would show up as U+FFFD here.
    private let raw: [(String, String)] = [("ESC", "\u{1B}"), ("BEL", "\u{07}"), ("U+202E", "\u{202E}"), ("CSI", "\u{9B}"), ("invalid UTF-8", "\u{FFFD}")]

    private func assertNothingRaw(_ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for (name, character) in raw {
            XCTAssertFalse(text.contains(character), "\(name) raw on \(what):\n\(text)", file: file, line: line)
        }
    }

    func testTextOutputShowsHostileTextEscaped() throws {
        let target = try lab.case("hostile_text")
        let result = mxcheck(["smtp", "--ca-file", lab.rootCA, "--timeout", "5", target.target])
        XCTAssertEqual(result.status, 2, result.stderr)
        assertNothingRaw(result.stdout, "stdout")
        assertNothingRaw(result.stderr, "stderr")
        XCTAssertTrue(result.stdout.contains(#"banner   220 mx.lab.example \x1b]0;pwned\x07\x1b[2J\u202e\xff\xfe"#), result.stdout)
        // The certificate's subject (OpenSSL escapes its controls, mxcheck the bidi override) and names.
        XCTAssertTrue(result.stdout.contains(#"CN=mx\u202e.lab.example"#), result.stdout)
        XCTAssertTrue(result.stdout.contains(#"x\x1b[2J.lab.example"#), result.stdout)
        XCTAssertTrue(result.stdout.contains(#"cert.self_signed: the certificate is self-signed (CN=mx\u202e.lab.example"#), result.stdout)
    }

    func testTranscriptOnStderrIsEscaped() throws {
        let target = try lab.case("hostile_text")
        let result = mxcheck(["smtp", "-v", "--ca-file", lab.rootCA, "--timeout", "5", target.target])
        assertNothingRaw(result.stdout, "stdout")
        assertNothingRaw(result.stderr, "stderr (-v)")
        for expected in [
            #"S: 220-mx.lab.example \x1b]0;pwned\x07\x1b[2J\u202e\xff\xfe"#,
            #"S: 250-X-\x1b]0;pwned\x07\u202e\xff"#,
            #"S: 220 2.0.0 Ready \x1b[2J"#,
            #"S: 221 2.0.0 Bye \x1b]0;pwned\x07"#,
        ] {
            XCTAssertTrue(result.stderr.contains(expected), "\(expected) in:\n\(result.stderr)")
        }
    }

    func testFindingMessagesQuotingTheServerAreEscaped() throws {
        let target = try lab.case("hostile_refusal")
        let result = mxcheck(["smtp", "-v", "--timeout", "5", target.target])
        XCTAssertEqual(result.status, 2)
        assertNothingRaw(result.stdout, "stdout")
        assertNothingRaw(result.stderr, "stderr (-v)")
        XCTAssertTrue(result.stdout.contains(#"smtp.ehlo_rejected: EHLO was refused: '550 5.7.1 go away \x1b]0;pwned\x07\x1b[2J\u202e\xff\xfe'"#), result.stdout)
    }

    func testJSONParsesAndKeepsTheText() throws {
        for caseName in ["hostile_text", "hostile_refusal"] {
            let target = try lab.case(caseName)
            let result = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, "--timeout", "5", target.target])
            assertNothingRaw(result.stdout, "JSON stdout")
            let json = try object(result)
            XCTAssertEqual(field(json, "smtp.banner") as? String, "220 mx.lab.example \u{1B}]0;pwned\u{07}\u{1B}[2J\u{202E}\\xff\\xfe",
                           "JSON carries the text itself; bytes that are not UTF-8 as \\xNN")
            if caseName == "hostile_text" {
                XCTAssertEqual(field(json, "smtp.ehloCapabilities") as? [String], ["PIPELINING", "X-\u{1B}]0;pwned\u{07}\u{202E}\\xff", "STARTTLS", "8BITMIME"])
                XCTAssertEqual(field(json, "certificate.names") as? [String], ["mx.lab.example", "x\u{1B}[2J.lab.example", "127.0.0.1"])
            } else {
                let message = finding("smtp.ehlo_rejected", in: json)?["message"] as? String ?? ""
                XCTAssertTrue(message.contains("go away \u{1B}]0;pwned"), message)
            }
        }
    }
}
