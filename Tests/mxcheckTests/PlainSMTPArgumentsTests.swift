import ArgumentParser
import XCTest
@testable import mxcheck

/// The parser-free reading of plain `smtp` command lines must give the very options the parser gives, and
/// leave every other command line to the parser.
final class PlainSMTPArgumentsTests: XCTestCase {

    /// SMTPCommand's options and SMTPOptions' properties are the same names: an option the run cannot read, or a
    /// property no option sets, fails here.
    func testEveryOptionHasItsProperty() {
        let wrapped = Mirror(reflecting: SMTPCommand()).children.compactMap { $0.label.map { String($0.drop { $0 == "_" }) } }
        let plain = Mirror(reflecting: SMTPOptions()).children.compactMap(\.label)
        XCTAssertEqual(wrapped, plain)
        // Each option reaches its property: the parser's defaults are SMTPOptions' defaults.
        XCTAssertEqual(try parsed(["smtp", "h"]).options, { var options = SMTPOptions(); options.targets = ["h"]; return options }())
    }

    private func parsed(_ arguments: [String]) throws -> SMTPCommand {
        let command = try MXCheck.parseAsRoot(arguments)
        return try XCTUnwrap(command as? SMTPCommand, "\(arguments)")
    }

    func testPlainCommandLinesGiveWhatTheParserGives() throws {
        let lines: [[String]] = [
            ["smtp", "mx.example.com"],
            ["smtp", "--json", "--ca-file", "/tmp/root.pem", "--servername", "mx.lab.example", "127.0.0.1:2525"],
            ["smtp", "a.example", "--port", "587", "b.example", "--tls=starttls", "-v"],
            ["smtp", "--mx", "example.com", "--resolver", "127.0.0.1:53", "--no-dane", "--role", "relay"],
            ["smtp", "--mx", "--no-mta-sts", "example.com", "example.net"],
            ["smtp", "-4", "--timeout", "2.5", "--warn-days=30", "--crit-days", "3", "--format", "nagios", "h"],
            ["smtp", "-6", "--concurrency", "4", "--per-host", "1", "--delay", "100", "--deadline", "60", "h"],
            ["smtp", "--input", "list.txt", "--output", "out.jsonl", "--json", "--resume", "out.jsonl", "--shard", "1/4"],
            ["smtp", "--protocols", "--ciphers", "--no-injection-test", "--long", "--no-color", "--verbose", "h"],
            ["smtp", "--dane", "--ehlo", "client.example", "--format=prometheus", "[2001:db8::1]:25"],
            ["smtp", "--tls", "implicit", "--role=submission", "--port=465", "smtp", "h2"],
        ]
        for line in lines {
            let plain = try XCTUnwrap(PlainSMTPArguments.options(line), "read without the parser: \(line)")
            XCTAssertEqual(plain, try parsed(line).options, "\(line)")
        }
    }

    func testOtherCommandLinesGoToTheParser() {
        let lines: [[String]] = [
            [], ["--help"], ["--version"], ["smtp"], ["smtp", "--help"], ["smtp", "-h"], ["smtp", "help"],
            ["help", "smtp"], ["headers", "x.eml"], ["smtp", "--", "h"], ["smtp", "-v4", "h"],
            ["smtp", "--generate-completion-script", "bash"], ["smtp", "--json", "--json", "h"],
            ["smtp", "-v", "--verbose", "h"], ["smtp", "--port", "25", "--port", "26", "h"],
            ["smtp", "--port", "x", "h"], ["smtp", "--port", "0", "h"], ["smtp", "--port"], ["smtp", "h", "--port="],
            ["smtp", "--warn-days", "-1", "h"], ["smtp", "--tls", "ssl", "h"], ["smtp", "--json=true", "h"],
            ["smtp", "--no-such-option", "h"], ["smtp", "-4", "-6", "h"], ["smtp", "--crit-days", "20", "h"],
            ["smtp", "--resume", "earlier.jsonl", "h"], ["smtp", "--ehlo", "a b", "h"],
        ]
        for line in lines {
            XCTAssertNil(PlainSMTPArguments.options(line), "\(line)")
        }
    }
}
