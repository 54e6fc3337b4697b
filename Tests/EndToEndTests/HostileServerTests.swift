import Foundation
import XCTest

/// Broken, slow and hostile servers: every outcome named, every endpoint bounded in time and memory.
final class HostileServerTests: EndToEndTestCase {
    func testSixteenMegabyteGreetingLineIsAProtocolErrorInLittleMemory() throws {
        let target = try lab.case("greeting_16mb")
        let (result, peak) = mxcheckMeasuringMemory(["smtp", "--json", "--timeout", "10", target.target])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stdout.contains("\"smtp.protocol_error\""), result.stdout)
        XCTAssertTrue(result.stdout.contains("reply line longer than"), result.stdout)
        print("peak RSS under the 16 MB greeting line: \(peak) KB")
        if Self.sanitizer.isEmpty {
            XCTAssertLessThan(peak, 64 * 1024, "nothing like 16 MB is buffered: \(result.stderr)")
        }
    }

    func testOneByteEveryHalfSecondCannotStretchTheCheck() throws {
        let target = try lab.case("drip")
        let result = mxcheck(["smtp", "--json", "--timeout", "3", target.target], timeout: 30)
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stdout.contains("\"smtp.timeout\""), result.stdout)
        XCTAssertLessThan(result.seconds, 4.0 + Self.sanitizerSlack)
    }

    func testConnectionClosedInTheMiddleOfTheHandshake() throws {
        let (status, json) = try check("tls_close_midhandshake")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["starttls.failed"])
    }

    func testRateLimitAfterTwoConnectionsIsReportedAsSuch() throws {
        // The scripted server greets its third and later connections with 421; however many checks ran
        // before, a 421 must come out as smtp.rate_limited (UNKNOWN), never as a TLS verdict.
        let target = try lab.case("rate_limit_after_2")
        var sawRateLimit = false
        for _ in 0..<3 {
            let result = mxcheck(["smtp", "--json", "--no-injection-test", "--timeout", "5", target.target])
            if result.status == 3 {
                XCTAssertTrue(result.stdout.contains("\"smtp.rate_limited\""), result.stdout)
                sawRateLimit = true
            } else {
                XCTAssertFalse(result.stdout.contains("starttls."), result.stdout)
            }
        }
        XCTAssertTrue(sawRateLimit)
    }

    /// Every lab server, however it misbehaves, is done with within --timeout + 1 s; and, read from the
    /// servers' own logs afterwards, no client ever sent MAIL, RCPT, DATA, VRFY or EXPN to any of them.
    func testEveryEndpointEndsWithinTheTimeoutPlusOneSecondAndNeverSeesAMailCommand() throws {
        let timeout = 3.0
        var worst = (name: "", overrun: -Double.infinity)
        let modes = lab.cases.keys.sorted()
        XCTAssertGreaterThan(modes.count, 40)
        for name in modes {
            let target = try lab.case(name)
            var arguments = ["smtp", "--json", "--timeout", String(timeout)]
            if target.tls == "implicit" { arguments += ["--tls", "implicit"] }
            let result = mxcheck(arguments + [target.target], timeout: 30)
            XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, "\(name): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("crashed"), "\(name): \(result.stderr)")
            let overrun = result.seconds - timeout
            if overrun > worst.overrun { worst = (name, overrun) }
            XCTAssertLessThanOrEqual(result.seconds, timeout + 1 + Self.sanitizerSlack, "\(name) took \(result.seconds) s")
        }
        print("worst overrun of --timeout \(timeout) s: \(String(format: "%+.3f", worst.overrun)) s (\(worst.name))")

        let forbidden: Set<String> = ["MAIL", "RCPT", "DATA", "VRFY", "EXPN", "BDAT"]
        let postfix = lab.postfixCommands()
        let odd = lab.oddServerCommands().filter { !$0.1.hasPrefix("!") }.map(\.1)
        XCTAssertTrue(postfix.contains { $0.uppercased().hasPrefix("EHLO") }, "Postfix logged the dialogs (debug_peer_list); \(lab.postfixLogSummary())")
        XCTAssertTrue(postfix.contains("QUIT"), "the QUIT inside TLS of the checks and the injection probe")
        XCTAssertFalse(odd.isEmpty)
        for line in postfix + odd {
            let verb = line.split(separator: " ").first.map { $0.uppercased() } ?? ""
            XCTAssertFalse(forbidden.contains(verb), "a server received '\(line)'")
        }
        print("commands seen by the lab's servers: \(postfix.count) (Postfix), \(odd.count) (scripted); none of \(forbidden.sorted())")
    }
}
