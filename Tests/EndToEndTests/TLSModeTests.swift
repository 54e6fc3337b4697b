import Foundation
import XCTest

/// The wrong `--tls` mode says so: STARTTLS against the lab's implicit-TLS Postfix (silent until a ClientHello),
/// implicit TLS against a plaintext Postfix (it greets `220 `).
final class TLSModeTests: EndToEndTestCase {
    func testStartTLSAgainstAnImplicitTLSPortSuggestsImplicit() throws {
        let target = try lab.case("implicit_tls")
        let timeout = 1.5
        let result = mxcheck(["smtp", "--json", "--tls", "starttls", "--no-injection-test", "--timeout", String(timeout), target.target])
        XCTAssertEqual(result.status, 2)
        let json = try object(result)
        let message = finding("smtp.timeout", in: json)?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("waiting for the greeting"), message)
        XCTAssertTrue(message.contains("the server sent nothing; a server silent on port \(target.port) may expect implicit TLS: try --tls implicit"), message)
        // Servers may greet slowly on purpose: the wait is still the whole --timeout.
        XCTAssertGreaterThanOrEqual(result.seconds, timeout - 0.1)
        XCTAssertLessThan(result.seconds, timeout + 3 + Self.sanitizerSlack)
        // The text output carries the same hint.
        let text = mxcheck(["smtp", "--tls", "starttls", "--no-injection-test", "--timeout", String(timeout), target.target])
        XCTAssertTrue(text.stdout.contains("try --tls implicit"), text.stdout)
    }

    func testAGreetingThatComesSlowlyGetsNoHint() throws {
        // A server that sent part of a greeting is no silent implicit-TLS port (oddsmtp's drip mode sends bytes slowly).
        let drip = try lab.case("drip")
        let result = mxcheck(["smtp", "--json", "--no-injection-test", "--timeout", "1", drip.target])
        let json = try object(result)
        let message = finding("smtp.timeout", in: json)?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("waiting for the greeting"), "\(findingIDs(json)) \(message)")
        XCTAssertFalse(message.contains("implicit TLS"), message)
    }

    func testImplicitTLSAgainstAPlaintextServerFailsAtOnce() throws {
        let target = try lab.case("valid")
        let timeout = 8.0
        let result = mxcheck(["smtp", "--json", "--tls", "implicit", "--timeout", String(timeout), target.target])
        XCTAssertEqual(result.status, 2)
        let json = try object(result)
        XCTAssertEqual(findingIDs(json), ["starttls.failed"])
        let message = finding("starttls.failed", in: json)?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("the server speaks plaintext SMTP on this port (it sent '220 mx.lab.example ESMTP Postfix'"), message)
        XCTAssertTrue(message.hasSuffix("use --tls starttls"), message)
        XCTAssertLessThan(result.seconds, 2 + Self.sanitizerSlack, "a named failure at once, not a handshake timeout")
    }

    func testImplicitTLSStillWorksWhereItIsSpoken() throws {
        let (status, json) = try check("implicit_tls")
        XCTAssertEqual(status, 0, "\(findingIDs(json))")
        XCTAssertEqual(field(json, "tls.version") as? String, "TLSv1.3")
    }
}
