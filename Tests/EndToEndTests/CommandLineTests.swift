import Foundation
import XCTest

/// The command line as a user meets it: help, errors, text output, transcript, exit codes.
final class CommandLineTests: EndToEndTestCase {
    func testHelpAndVersion() {
        let help = mxcheck(["help", "smtp"])
        XCTAssertEqual(help.status, 0)
        for option in ["--servername", "--ehlo", "--ca-file", "--warn-days", "--crit-days", "--timeout", "--json", "--no-color", "--tls"] {
            XCTAssertTrue(help.stdout.contains(option), option)
        }
        let version = mxcheck(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertFalse(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    func testUsageErrorsExitUnknownWithoutAStackTrace() {
        for arguments in [["smtp"], ["smtp", "--timeout", "0", "x.example"], ["smtp", "--tls", "sometimes", "x.example"], ["smtp", "-4", "-6", "x.example"], ["smtp", "bad host!"], ["smtp", "[::1"], ["smtp", "mx.example.com:99999"], ["frobnicate"]] {
            let result = mxcheck(arguments)
            XCTAssertEqual(result.status, 3, arguments.joined(separator: " "))
            XCTAssertTrue(result.stdout.isEmpty, arguments.joined(separator: " "))
            XCTAssertFalse(result.stderr.isEmpty, arguments.joined(separator: " "))
            XCTAssertFalse(result.stderr.contains("Fatal error"), arguments.joined(separator: " "))
        }
    }

    func testUnresolvableHostIsUnknown() {
        let result = mxcheck(["smtp", "--timeout", "10", "no-such-host.invalid"])
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("no-such-host.invalid"))
    }

    func testUnreadableCAFileIsAUsageError() {
        let result = mxcheck(["smtp", "--ca-file", "/nonexistent/ca.pem", "127.0.0.1:25"])
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("/nonexistent/ca.pem"))
    }

    func testTextOutputReadsWellAndHasNoColourOffATerminal() throws {
        let target = try lab.case("expiring_warn")
        let result = mxcheck(["smtp", "--ca-file", lab.rootCA, target.target])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("WARNING"))
        XCTAssertTrue(result.stdout.contains("cert.expiring"))
        XCTAssertTrue(result.stdout.contains("fix: "))
        XCTAssertTrue(result.stdout.contains("100 -10 cert.expiring = 90"), result.stdout)
        XCTAssertFalse(result.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
    }

    func testColourOnATerminalUnlessNoColor() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("script(1) from util-linux is needed for a pseudo-terminal") }
        let target = try lab.case("valid")
        let command = "\(Self.binary) smtp --ca-file \(lab.rootCA) \(target.target)"
        let coloured = Command.run(["/usr/bin/script", "-qec", command, "/dev/null"], environment: plainEnvironment(["TERM": "xterm"]))
        XCTAssertTrue(coloured.stdout.contains("\u{1B}["), "colour on a terminal")
        let noColor = Command.run(["/usr/bin/script", "-qec", command, "/dev/null"], environment: plainEnvironment(["TERM": "xterm", "NO_COLOR": "1"]))
        XCTAssertFalse(noColor.stdout.contains("\u{1B}["), "NO_COLOR honoured")
        let flag = Command.run(["/usr/bin/script", "-qec", command + " --no-color", "/dev/null"], environment: plainEnvironment(["TERM": "xterm"]))
        XCTAssertFalse(flag.stdout.contains("\u{1B}["), "--no-color honoured")
        XCTAssertTrue(flag.stdout.contains("OK"))
    }

    func testVerboseTranscriptOnStderr() throws {
        let target = try lab.case("valid")
        let result = mxcheck(["smtp", "-v", "--json", "--ehlo", "client.lab.example", "--ca-file", lab.rootCA, target.target])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("S: 220 "))
        XCTAssertTrue(result.stderr.contains("C: EHLO client.lab.example"))
        XCTAssertTrue(result.stderr.contains("C: STARTTLS"))
        XCTAssertTrue(result.stderr.contains("C: QUIT"))
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, "the transcript stays off stdout")
    }

    func testSeveralTargetsExitWithTheWorstStatus() throws {
        let ok = try lab.case("valid").target
        let warn = try lab.case("expiring_warn").target
        let unknown = try lab.case("greet_421").target
        let critical = try lab.case("no_starttls").target
        let warnAndUnknown = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, ok, warn, unknown])
        XCTAssertEqual(warnAndUnknown.status, 3)
        XCTAssertEqual(warnAndUnknown.stdout.split(separator: "\n").count, 3, "one JSON line per endpoint")
        let all = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, ok, warn, unknown, critical])
        XCTAssertEqual(all.status, 2, "CRITICAL outranks UNKNOWN")
    }

    func testHostNameResolvesEveryAddress() throws {
        // localhost resolves to 127.0.0.1 and ::1; the lab's ipv6 case listens on ::1 only.
        let target = try lab.case("ipv6")
        let both = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, "--timeout", "5", "localhost:\(target.port)"])
        let lines = both.stdout.split(separator: "\n")
        let addresses = lines.compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]).flatMap { field($0, "target.address") as? String }
        }
        guard addresses.count >= 1 else { return XCTFail("no result: \(both.stdout) \(both.stderr)") }
        XCTAssertTrue(addresses.contains("::1"), "\(addresses)")
        let onlySix = mxcheck(["smtp", "--json", "-6", "--ca-file", lab.rootCA, "--servername", lab.serverName, "localhost:\(target.port)"])
        XCTAssertEqual(onlySix.status, 0, onlySix.stdout + onlySix.stderr)
        XCTAssertEqual(onlySix.stdout.split(separator: "\n").count, 1)
    }

    func testNeverSendsMailTransactionCommands() throws {
        // Run a few checks against the scripted servers, then read what they received.
        for name in ["no_starttls", "ehlo_rejected", "greet_554", "starttls_ok", "plaintext_after_220"] {
            _ = try check(name)
        }
        let forbidden = ["MAIL", "RCPT", "DATA", "VRFY", "EXPN"]
        let sent = lab.oddServerCommands().filter { !$0.1.hasPrefix("!") }
        XCTAssertFalse(sent.isEmpty, "the scripted servers logged the dialogs")
        for (mode, line) in sent {
            let verb = line.split(separator: " ").first.map { $0.uppercased() } ?? ""
            XCTAssertFalse(forbidden.contains(verb), "\(mode) received '\(line)'")
        }
    }
}
