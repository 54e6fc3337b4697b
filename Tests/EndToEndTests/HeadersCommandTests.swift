import Foundation
import XCTest

/// The delivering Postfix of Tests/Lab/mailflow.sh: started once for the test run, stopped when the bundle ends.
final class MailFlow: @unchecked Sendable {
    struct Service {
        var port: Int
        var name: String
    }

    let stateDirectory: String
    let mailDirectory: String
    let mx: Service
    let relay: Service
    let legacy: Service

    struct FlowError: Error, CustomStringConvertible {
        var description: String
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: Result<MailFlow, FlowError>?
    private static var script: String { "\(Lab.packageRoot)/Tests/Lab/mailflow.sh" }

    static func shared() throws -> MailFlow {
        try lock.withLock {
            if let started { return try started.get() }
            let result = Result { () throws(FlowError) -> MailFlow in try start() }
            started = result
            return try result.get()
        }
    }

    private static func start() throws(FlowError) -> MailFlow {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-mailflow-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        let run = Command.run(["/bin/bash", script, "start", directory], timeout: 60)
        guard run.status == 0 else {
            _ = Command.run(["/bin/bash", script, "stop", directory], timeout: 30)
            throw FlowError(description: "the mail-flow Postfix did not start (exit \(run.status)):\n\(run.stderr)\n\(run.stdout)")
        }
        guard let data = FileManager.default.contents(atPath: "\(directory)/mailflow.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let mail = json["mailDir"] as? String
        else { throw FlowError(description: "cannot read \(directory)/mailflow.json") }
        func service(_ key: String) throws(FlowError) -> Service {
            guard let entry = json[key] as? [String: Any], let port = entry["port"] as? Int, let name = entry["name"] as? String else {
                throw FlowError(description: "mailflow.json has no \(key) service")
            }
            return Service(port: port, name: name)
        }
        let flow = MailFlow(stateDirectory: directory, mailDirectory: mail, mx: try service("mx"), relay: try service("relay"), legacy: try service("legacy"))
        BundleTeardown.register { flow.stop() }
        return flow
    }

    private init(stateDirectory: String, mailDirectory: String, mx: Service, relay: Service, legacy: Service) {
        self.stateDirectory = stateDirectory
        self.mailDirectory = mailDirectory
        self.mx = mx
        self.relay = relay
        self.legacy = legacy
    }

    func stop() {
        _ = Command.run(["/bin/bash", Self.script, "stop", stateDirectory], timeout: 30)
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    /// What the sending client saw of its TLS session (empty strings for plaintext).
    struct Sent {
        var version: String
        var cipher: String
        var bits: Int
        var token: String
    }

    /// Sends one message with python3's smtplib: STARTTLS when `tls`, TLS 1.0/1.1 only when `legacy`, and
    /// XCLIENT ADDR=`clientAddress` (Postfix then writes the trace a client at that address would get).
    func send(port: Int, to mailbox: String, tls: Bool, legacy: Bool = false, clientAddress: String? = nil) throws -> Sent {
        let token = "mxcheck-\(UUID().uuidString)"
        let script = """
            import smtplib, ssl, sys, warnings
            warnings.simplefilter("ignore")
            port, rcpt, tls, legacy, xaddr, token = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1", sys.argv[5], sys.argv[6]
            s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.org", timeout=10)
            s.ehlo()
            version, cipher, bits = "", "", 0
            if tls:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                if legacy:
                    ctx.minimum_version = ssl.TLSVersion.TLSv1
                    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
                    ctx.set_ciphers("ALL:@SECLEVEL=0")
                s.starttls(context=ctx)
                s.ehlo()
                version = s.sock.version()
                cipher, _, bits = s.sock.cipher()
            if xaddr:
                code, reply = s.docmd("XCLIENT", "ADDR=%s NAME=client.example.org HELO=client.example.org" % xaddr)
                if code != 220:
                    sys.exit("XCLIENT: %d %r" % (code, reply))
                s.ehlo_resp = None
                s.esmtp_features = {}
                s.ehlo("client.example.org")
            body = "From: sender@example.org\\r\\nTo: %s\\r\\nSubject: %s\\r\\nMessage-ID: <%s@example.org>\\r\\n\\r\\nReceived: from body.example by quoted.example with SMTP; Tue, 1 Dec 2026 00:00:00 +0000\\r\\n" % (rcpt, token, token)
            s.sendmail("sender@example.org", [rcpt], body)
            s.quit()
            print("%s\\t%s\\t%d" % (version, cipher, bits))
            """
        let run = Command.run(["/usr/bin/env", "python3", "-c", script, String(port), "\(mailbox)@mailflow.example", tls ? "1" : "0",
                               legacy ? "1" : "0", clientAddress ?? "", token], timeout: 30)
        guard run.status == 0 else { throw FlowError(description: "sending failed (exit \(run.status)): \(run.stderr)") }
        let fields = run.stdout.trimmingCharacters(in: .newlines).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        return Sent(version: fields.first ?? "", cipher: fields.count > 1 ? fields[1] : "", bits: fields.count > 2 ? Int(fields[2]) ?? 0 : 0, token: token)
    }

    /// The delivered file that carries the token, waited for (bounded: 30 s, for a machine under load).
    func delivered(_ mailbox: String, token: String) throws -> String {
        let directory = "\(mailDirectory)/\(mailbox)/new"
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                let path = "\(directory)/\(name)"
                if Lab.text(of: path).contains(token) { return path }
            }
            usleep(100_000)
        }
        let log = Lab.text(of: "\(stateDirectory)/postfix/maillog").split(separator: "\n").suffix(8).joined(separator: "\n")
        throw FlowError(description: "no message with \(token) in \(directory) after 30 s; maillog ends:\n\(log)")
    }
}

/// `mxcheck headers` on messages a real Postfix delivered (STARTTLS, plaintext, TLS 1.1, two hops), and on bad input.
final class HeadersCommandTests: EndToEndTestCase {
    var flow: MailFlow!

    override func setUpWithError() throws {
        // Not the smtp lab: these tests need only the delivering Postfix (and none for the bad-input cases).
        flow = try MailFlow.shared()
    }

    private func headersJSON(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> (CommandResult, [String: Any]) {
        let result = mxcheck(["headers", "--json", path], timeout: 30)
        return (result, try object(result, file: file, line: line))
    }

    private func hops(_ object: [String: Any]) -> [[String: Any]] {
        object["hops"] as? [[String: Any]] ?? []
    }

    func testSTARTTLSDeliveryIsOneEncryptedHopWithPostfixsTLSDetails() throws {
        let sent = try flow.send(port: flow.mx.port, to: "tls", tls: true, clientAddress: "192.0.2.25")
        let path = try flow.delivered("tls", token: sent.token)
        let (result, object) = try headersJSON(path)
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertEqual(object["status"] as? String, "ok")
        XCTAssertEqual(findingIDs(object), [])
        // The Received field quoted in the body is not a hop.
        let list = hops(object)
        XCTAssertEqual(list.count, 1, result.stdout)
        let hop = try XCTUnwrap(list.first)
        XCTAssertEqual(hop["index"] as? Int, 0)
        XCTAssertEqual(hop["from"] as? String, "client.example.org")
        XCTAssertEqual(hop["by"] as? String, "mx.mailflow.example")
        XCTAssertEqual(hop["with"] as? String, "ESMTPS")
        XCTAssertEqual(hop["for"] as? String, "<tls@mailflow.example>")
        XCTAssertEqual(hop["encrypted"] as? Bool, true)
        XCTAssertEqual(field(hop, "tls.version") as? String, sent.version)
        // For TLS 1.3 OpenSSL's suite names are IANA's.
        XCTAssertEqual(field(hop, "tls.cipher") as? String, sent.cipher)
        XCTAssertEqual(field(hop, "tls.bits") as? Int, sent.bits)
        XCTAssertNotNil(hop["date"] as? String)
        XCTAssertTrue((hop["raw"] as? String)?.contains("192.0.2.25") == true)
        XCTAssertEqual(object["truncated"] as? Bool, false)
    }

    func testPlaintextDeliveryFromAnotherHostIsAPlaintextHop() throws {
        let sent = try flow.send(port: flow.mx.port, to: "plain", tls: false, clientAddress: "192.0.2.26")
        let path = try flow.delivered("plain", token: sent.token)
        let (result, object) = try headersJSON(path)
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertEqual(object["status"] as? String, "warning")
        XCTAssertEqual(findingIDs(object), ["headers.plaintext_hop"])
        let hop = try XCTUnwrap(hops(object).first)
        XCTAssertEqual(hop["with"] as? String, "ESMTP")
        XCTAssertEqual(hop["encrypted"] as? Bool, false)
        XCTAssertTrue(hop["tls"] is NSNull)
        let text = mxcheck(["headers", path])
        XCTAssertEqual(text.status, 1)
        XCTAssertTrue(text.stdout.contains("client.example.org [192.0.2.26] -> mx.mailflow.example  ESMTP  PLAINTEXT"), text.stdout)
        XCTAssertTrue(text.stdout.contains("headers.plaintext_hop"), text.stdout)
        XCTAssertTrue(text.stdout.contains("fix: "), text.stdout)
    }

    func testPlaintextOverLoopbackIsAHostTalkingToItself() throws {
        let sent = try flow.send(port: flow.mx.port, to: "loopback", tls: false)
        let path = try flow.delivered("loopback", token: sent.token)
        let (result, object) = try headersJSON(path)
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertEqual(findingIDs(object), [])
        XCTAssertEqual(hops(object).first?["encrypted"] as? Bool, false)
    }

    func testTLS11DeliveryIsALegacyTLSHop() throws {
        let sent = try flow.send(port: flow.legacy.port, to: "legacy", tls: true, legacy: true, clientAddress: "192.0.2.28")
        XCTAssertTrue(["TLSv1", "TLSv1.1"].contains(sent.version), sent.version)
        let path = try flow.delivered("legacy", token: sent.token)
        let (result, object) = try headersJSON(path)
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertEqual(findingIDs(object), ["headers.legacy_tls_hop"])
        let hop = try XCTUnwrap(hops(object).first)
        XCTAssertEqual(field(hop, "tls.version") as? String, sent.version == "TLSv1" ? "TLSv1.0" : sent.version)
        // Postfix writes OpenSSL's name; mxcheck reports IANA's.
        let cipher = try XCTUnwrap(field(hop, "tls.cipher") as? String)
        XCTAssertTrue(cipher.hasPrefix("TLS_") && cipher.contains("_WITH_"), cipher)
        XCTAssertNotEqual(cipher, sent.cipher)
    }

    func testTwoPostfixServicesInARowGiveTwoHopsOldestFirstInText() throws {
        let sent = try flow.send(port: flow.relay.port, to: "relay", tls: true, clientAddress: "192.0.2.27")
        let path = try flow.delivered("relay", token: sent.token)
        let (result, object) = try headersJSON(path)
        XCTAssertEqual(result.status, 0, result.stdout)
        let list = hops(object)
        XCTAssertEqual(list.count, 2, result.stdout)
        XCTAssertEqual(list.first?["from"] as? String, "relay.mailflow.example")
        XCTAssertEqual(list.first?["by"] as? String, "mx.mailflow.example")
        XCTAssertEqual(list.last?["from"] as? String, "client.example.org")
        XCTAssertEqual(list.last?["by"] as? String, "relay.mailflow.example")
        XCTAssertEqual(list.map { $0["encrypted"] as? Bool }, [true, true])
        // Postfix's own smtp client to its smtpd: both on this machine's OpenSSL 3, so TLS 1.3.
        XCTAssertEqual(field(list[0], "tls.version") as? String, "TLSv1.3")
        XCTAssertEqual(field(list[1], "tls.version") as? String, sent.version)
        let text = mxcheck(["headers", path])
        let lines = text.stdout.split(separator: "\n").map(String.init)
        let first = try XCTUnwrap(lines.firstIndex { $0.contains("-> relay.mailflow.example") }, text.stdout)
        let second = try XCTUnwrap(lines.firstIndex { $0.contains("relay.mailflow.example [127.0.0.1] -> mx.mailflow.example") }, text.stdout)
        XCTAssertLessThan(first, second, "delivery order: the client's hop first")
        XCTAssertTrue(lines[first].contains("\(sent.version) \(sent.cipher)"), lines[first])
    }

    func testStandardInputAndAnMboxEntryGiveTheSameHops() throws {
        let sent = try flow.send(port: flow.mx.port, to: "box1", tls: true, clientAddress: "192.0.2.29")
        let path = try flow.delivered("box1", token: sent.token)
        let message = Lab.text(of: path)
        let fromFile = try headersJSON(path).1
        let fromStdin = mxcheck(["headers", "--format", "json", "-"], stdin: "From sender@example.org Tue Dec  1 21:00:00 2026\n" + message)
        XCTAssertEqual(fromStdin.status, 0, fromStdin.stderr)
        let parsed = try object(fromStdin)
        XCTAssertEqual(hops(parsed).map { $0["raw"] as? String }, hops(fromFile).map { $0["raw"] as? String })
        XCTAssertEqual(hops(parsed).count, 1)
    }

    func testRealOutputMatchesTheHeadersSchema() throws {
        var lines: [String] = []
        for (port, box, tls, address) in [(flow.mx.port, "box2", true, "192.0.2.30"), (flow.mx.port, "box3", false, "192.0.2.31"), (flow.relay.port, "box4", true, "192.0.2.32")] {
            let sent = try flow.send(port: port, to: box, tls: tls, clientAddress: address)
            let result = mxcheck(["headers", "--json", try flow.delivered(box, token: sent.token)])
            lines.append(result.stdout.trimmingCharacters(in: .newlines))
        }
        // No Received field at all, and a cut header block: the other shapes of the object.
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        FileManager.default.createFile(atPath: "\(directory)/none.eml", contents: Data("Subject: none\n\nbody\n".utf8))
        FileManager.default.createFile(atPath: "\(directory)/long.eml", contents: Data(("Received: from a (a [192.0.2.1]) by b with (odd; Tue, 1 Dec 2026 00:00:00 +0000\n" + String(repeating: "X-Filler: \(String(repeating: "y", count: 200))\n", count: 6_000)).utf8))
        for name in ["none.eml", "long.eml"] {
            lines.append(mxcheck(["headers", "--json", "\(directory)/\(name)"]).stdout.trimmingCharacters(in: .newlines))
        }
        XCTAssertTrue(lines.last?.contains("\"truncated\":true") == true, lines.last ?? "")
        XCTAssertTrue(lines[3].contains("headers.no_received"), lines[3])
        let file = "\(directory)/out.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let validation = Command.run(["/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/validate_schema.py", "\(Lab.packageRoot)/docs/headers.schema.json", file], timeout: 60)
        XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
        XCTAssertTrue(validation.stdout.contains("5 objects valid"), validation.stdout)
        // The schema can fail: a real object with the hop's encrypted verdict as a string.
        let broken = lines[0].replacingOccurrences(of: "\"encrypted\":true", with: "\"encrypted\":\"yes\"")
        XCTAssertNotEqual(broken, lines[0])
        try (broken + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let rejected = Command.run(["/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/validate_schema.py", "\(Lab.packageRoot)/docs/headers.schema.json", file], timeout: 60)
        XCTAssertNotEqual(rejected.status, 0, rejected.stdout)
    }

    func testHeaderBytesCannotDriveTheTerminal() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var message = Data("Received: from evil\u{1B}[2J.example (evil.example [192.0.2.66]) by mx\u{202E}gro.example with ESMTP id A\u{07}; Tue, 1 Dec 2026 00:00:00 +0000\n".utf8)
        message.append(contentsOf: [0x58, 0x2D, 0x42, 0x61, 0x64, 0x3A, 0x20, 0xFF, 0xFE, 0x0A, 0x0A])
        let path = "\(directory)/evil.eml"
        FileManager.default.createFile(atPath: path, contents: message)
        let result = mxcheck(["headers", path])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertFalse(result.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E }, result.stdout)
        XCTAssertTrue(result.stdout.contains("evil\\x1b[2J.example"), result.stdout)
        XCTAssertTrue(result.stdout.contains("mx\\u202egro.example"), result.stdout)
        // JSON keeps the text (escaped the JSON way), so a script sees what the field said.
        let json = try object(mxcheck(["headers", "--json", path]))
        XCTAssertEqual(hops(json).first?["from"] as? String, "evil\u{1B}[2J.example")
    }

    func testAFileThatCannotBeReadIsUnknownWithOneLineOnStderr() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for path in ["\(directory)/missing.eml", directory] {
            let result = mxcheck(["headers", path])
            XCTAssertEqual(result.status, 3, path)
            XCTAssertEqual(result.stdout, "", path)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("mxcheck headers: cannot "), result.stderr)
            XCTAssertTrue(result.stderr.contains(path), result.stderr)
        }
    }

    func testNoReceivedFieldIsUnknown() throws {
        let result = mxcheck(["headers", "-"], stdin: "From: a@example.org\nSubject: draft\n\nReceived: from x by y with SMTP; Tue, 1 Dec 2026 00:00:00 +0000\n")
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stdout.contains("headers.no_received"), result.stdout)
    }

    // Memory is measured by Tests/Lab/bench_headers.sh: wait4's ru_maxrss of a posix_spawn child counts this test process.
    func testHostileInputIsAnsweredPromptly() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let headers = "Received: from a.example (a.example [192.0.2.1]) by b.example with ESMTP id 1; Tue, 1 Dec 2026 00:00:00 +0000\n\n"
        let body = Data(repeating: 0x41, count: 50 * 1_048_576)
        var big = Data(headers.utf8)
        big.append(body)
        FileManager.default.createFile(atPath: "\(directory)/big.eml", contents: big)
        FileManager.default.createFile(atPath: "\(directory)/oneline.bin", contents: body)
        FileManager.default.createFile(atPath: "\(directory)/nested.eml", contents: Data(("Received: from a " + String(repeating: "(", count: 100_000) + " by b with SMTP; Tue, 1 Dec 2026 00:00:00 +0000\n\n").utf8))
        FileManager.default.createFile(atPath: "\(directory)/field.eml", contents: Data(("Received: from a.example by b.example with ESMTP id " + String(repeating: "x ", count: 524_000) + "; Tue, 1 Dec 2026 00:00:00 +0000\n\n").utf8))
        var generator = SystemRandomNumberGenerator()
        FileManager.default.createFile(atPath: "\(directory)/garbage.bin", contents: Data((0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        let expected: [(String, Int32)] = [("big.eml", 1), ("oneline.bin", 3), ("nested.eml", 0), ("field.eml", 1), ("garbage.bin", 3)]
        for (name, status) in expected {
            let result = mxcheck(["headers", "--json", "\(directory)/\(name)"], timeout: 20)
            XCTAssertEqual(result.status, status, "\(name): \(result.stdout.prefix(300)) \(result.stderr)")
            XCTAssertNoThrow(try object(result), name)
        }
        let cut = try object(mxcheck(["headers", "--json", "\(directory)/oneline.bin"]))
        XCTAssertEqual(cut["truncated"] as? Bool, true)
    }

    func testHelpExplainsTheCommand() {
        let result = mxcheck(["headers", "--help"])
        XCTAssertEqual(result.status, 0)
        for text in ["FILE", "standard input", "oldest", "headers.plaintext_hop", "--json", "Exit codes"] {
            XCTAssertTrue(result.stdout.contains(text), "\(text) missing from:\n\(result.stdout)")
        }
    }

    private func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-headers-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
