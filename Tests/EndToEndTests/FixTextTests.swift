import Foundation
import XCTest

/// The fix texts of the protocol and cipher findings, proven: each is read from mxcheck's own JSON output,
/// the setting it names is applied exactly to a real server, and the finding is gone. Postfix: the lab's
/// `fix_weak` service (TLS 1.0/1.1, NULL, anonymous and static-RSA suites, a 1024-bit DH group) shows the
/// findings; its twin `fix_applied` gets each fix. Exim: Debian's GnuTLS build (Tests/Lab/exim.sh).
final class FixTextTests: EndToEndTestCase {
    // MARK: reading fix texts

    /// "Postfix: ...; Exim with GnuTLS (Debian, Ubuntu): ...; Exim with OpenSSL: ..." → label → text.
    static func parts(_ fix: String) -> [String: String] {
        guard let regex = try? NSRegularExpression(pattern: "(?:^|; |: )(Postfix|Exim[^:;]*): ") else { return [:] }
        let text = fix as NSString
        let matches = regex.matches(in: fix, range: NSRange(location: 0, length: text.length))
        var parts: [String: String] = [:]
        for (index, match) in matches.enumerated() {
            let start = match.range.location + match.range.length
            let end = index + 1 < matches.count ? matches[index + 1].range.location : text.length
            parts[text.substring(with: match.range(at: 1))] = text.substring(with: NSRange(location: start, length: end - start))
        }
        return parts
    }

    /// "name = value and name = value (remark)" → [(name, value)], values as written.
    static func settings(_ part: String) -> [(name: String, value: String)] {
        guard let regex = try? NSRegularExpression(pattern: "([a-z][a-z0-9_]*) = (.+?)(?= and [a-z][a-z0-9_]* = | \\(|$)") else { return [] }
        let text = part as NSString
        return regex.matches(in: part, range: NSRange(location: 0, length: text.length)).map {
            (text.substring(with: $0.range(at: 1)), text.substring(with: $0.range(at: 2)))
        }
    }

    private func fix(_ id: String, in json: [String: Any], file: StaticString = #filePath, line: UInt = #line) -> String {
        guard let text = finding(id, in: json)?["fix"] as? String else {
            XCTFail("no \(id) in \(findingIDs(json))", file: file, line: line)
            return ""
        }
        return text
    }

    func testFixTextsParse() {
        let sample = "Postfix: a_b = >=TLSv1.2 and c_d = x, y (remark); Exim with GnuTLS (Debian, Ubuntu): e = N:-V; Exim with OpenSSL: f = +a +b"
        let parts = Self.parts(sample)
        XCTAssertEqual(Set(parts.keys), ["Postfix", "Exim with GnuTLS (Debian, Ubuntu)", "Exim with OpenSSL"])
        XCTAssertEqual(Self.settings(parts["Postfix"] ?? "").map { "\($0.name)=\($0.value)" }, ["a_b=>=TLSv1.2", "c_d=x, y"])
        XCTAssertEqual(Self.settings(parts["Exim with OpenSSL"] ?? "").map { "\($0.name)=\($0.value)" }, ["f=+a +b"])
    }

    /// Every fix text of the catalogue (docs/findings.md, kept equal to the code by CertificateTests).
    static func allFixTexts() -> [String: String] {
        let docs = (try? String(contentsOfFile: "\(Lab.packageRoot)/docs/findings.md", encoding: .utf8)) ?? ""
        var fixes: [String: String] = [:]
        for row in docs.components(separatedBy: "\n") where row.hasPrefix("| `") {
            let cells = row.components(separatedBy: " | ")
            guard cells.count >= 5, let id = cells[0].split(separator: "`").first(where: { $0.contains(".") }), let last = cells.last else { continue }
            fixes[String(id)] = String(last.dropLast(2))
        }
        return fixes
    }

    /// The parameter names a part of a fix text mentions (lower case words joined by underscores).
    static func names(in part: String) -> Set<String> {
        guard let regex = try? NSRegularExpression(pattern: "\\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\\b") else { return [] }
        let text = part as NSString
        return Set(regex.matches(in: part, range: NSRange(location: 0, length: text.length)).map { text.substring(with: $0.range) })
    }

    func testEverySettingAFixNamesIsKnownToTheServer() throws {
        var postfix: Set<String> = []
        var exim: Set<String> = []
        for (_, fix) in Self.allFixTexts() {
            for (label, part) in Self.parts(fix) {
                if label == "Postfix" { postfix.formUnion(Self.names(in: part)) }
                // The OpenSSL build's options are shown refused by the GnuTLS build in testEximRefusesTheOpenSSLForms.
                else if label.hasPrefix("Exim"), !label.contains("with OpenSSL") { exim.formUnion(Self.names(in: part)) }
            }
        }
        XCTAssertTrue(postfix.isSuperset(of: ["smtpd_tls_protocols", "smtpd_tls_exclude_ciphers", "smtpd_tls_dh1024_param_file", "smtpd_tls_chain_files"]), "\(postfix)")
        XCTAssertTrue(exim.isSuperset(of: ["tls_require_ciphers", "tls_dhparam", "tls_certificate", "tls_advertise_hosts"]), "\(exim)")
        for name in postfix.sorted() {
            let known = Command.run(["/usr/sbin/postconf", "-d", name], timeout: 10)
            XCTAssertTrue(known.status == 0 && !known.stderr.contains("unknown parameter") && known.stdout.hasPrefix("\(name) ="), "Postfix does not know \(name): \(known.stderr)")
        }
        guard try startExim(Self.eximWeak).target != nil else { return XCTFail("exim.sh start failed") }
        for name in exim.sorted() {
            let known = Command.run(["/bin/bash", "\(Lab.packageRoot)/Tests/Lab/exim.sh", "exim", lab.stateDirectory, "-bP", name], timeout: 10)
            XCTAssertTrue(known.status == 0 && known.stdout.hasPrefix("\(name) ="), "Debian's Exim does not know \(name): \(known.stdout) \(known.stderr)")
        }
        let unknown = Command.run(["/bin/bash", "\(Lab.packageRoot)/Tests/Lab/exim.sh", "exim", lab.stateDirectory, "-bP", "no_such_option"], timeout: 10)
        XCTAssertNotEqual(unknown.status, 0, "the check can tell an option Exim lacks")
    }

    // MARK: Postfix

    private var masterCF: String { "\(lab.stateDirectory)/postfix/master.cf" }

    /// Rewrites the fix_applied service's block: the lab's own -o lines, then `-o { name = value }` for each
    /// setting (Postfix ≥ 3.0 syntax, so a value keeps its spaces and commas), and reloads Postfix.
    private func applyToPostfix(_ settings: [(name: String, value: String)], file: StaticString = #filePath, line: UInt = #line) throws {
        let port = try lab.case("fix_applied").port
        let text = try String(contentsOfFile: masterCF, encoding: .utf8)
        var out: [String] = []
        var inBlock = false
        for row in text.components(separatedBy: "\n") {
            if row.hasPrefix("127.0.0.1:\(port) inet") {
                inBlock = true
            } else if inBlock && !row.hasPrefix(" ") {
                out += settings.map { "  -o { \($0.name) = \($0.value) }" }
                inBlock = false
            }
            if inBlock && row.hasPrefix("  -o { ") { continue }
            out.append(row)
        }
        if inBlock { out += settings.map { "  -o { \($0.name) = \($0.value) }" } }
        try out.joined(separator: "\n").write(toFile: masterCF, atomically: true, encoding: .utf8)
        let reload = Command.run(["/usr/sbin/postfix", "-c", "\(lab.stateDirectory)/postfix", "reload"], timeout: 30)
        XCTAssertEqual(reload.status, 0, "postfix reload: \(reload.stderr)", file: file, line: line)
    }

    /// After a reload, idle smtpd processes of the old configuration leave one by one: ask again, a bounded
    /// number of times, until the service answers with the new one.
    private func checkUntil(_ caseName: String, _ extra: [String], _ done: ([String: Any]) -> Bool) throws -> [String: Any] {
        var json: [String: Any] = [:]
        for _ in 0..<20 {
            json = try check(caseName, extra).1
            if done(json) { break }
            usleep(300_000)
        }
        return json
    }

    override func tearDownWithError() throws {
        if name.contains("Postfix"), lab != nil { try applyToPostfix([]) }
        try super.tearDownWithError()
    }

    func testPostfixProtocolFixEndsLegacyProtocols() throws {
        let (_, weak) = try check("fix_weak", ["--protocols"])
        let text = fix("tls.legacy_protocol", in: weak)
        let settings = Self.settings(Self.parts(text)["Postfix"] ?? "")
        XCTAssertEqual(settings.map(\.name), ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols"], text)
        try applyToPostfix(settings)
        let fixed = try checkUntil("fix_applied", ["--protocols"]) { !self.findingIDs($0).contains("tls.legacy_protocol") }
        XCTAssertFalse(findingIDs(fixed).contains("tls.legacy_protocol"), "\(settings) applied: \(findingIDs(fixed))")
        XCTAssertEqual(fixed["protocols"] as? [String: Bool], ["SSLv2": false, "SSLv3": false, "TLSv1.0": false, "TLSv1.1": false, "TLSv1.2": true, "TLSv1.3": true])

        // The form for Postfix before 3.6 works too (3.6+ still reads it).
        guard let range = text.range(of: #"\(before Postfix 3\.6: ([^)]*)\)"#, options: .regularExpression) else {
            return XCTFail("no pre-3.6 form in \(text)")
        }
        let old = String(text[range].dropFirst("(before Postfix 3.6: ".count).dropLast())
        try applyToPostfix(settings.map { ($0.name, old) })
        let fixedOld = try checkUntil("fix_applied", ["--protocols"]) { ($0["protocols"] as? [String: Bool])?["TLSv1.1"] == false }
        XCTAssertEqual(fixedOld["protocols"] as? [String: Bool], ["SSLv2": false, "SSLv3": false, "TLSv1.0": false, "TLSv1.1": false, "TLSv1.2": true, "TLSv1.3": true], "\(old)")
    }

    func testPostfixObsoleteProtocolFixIsAccepted() throws {
        // No server here offers SSLv3 (OpenSSL 3 has none), so the fix comes from the catalogue the docs print,
        // and what it must do is leave SSLv2/SSLv3 (and TLS 1.0/1.1) refused with TLS working.
        let text = FindingCatalogueText.fix(of: "tls.obsolete_protocol")
        let settings = Self.settings(Self.parts(text)["Postfix"] ?? "")
        XCTAssertEqual(settings.map(\.name), ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols"], text)
        try applyToPostfix(settings)
        let fixed = try checkUntil("fix_applied", ["--protocols"]) { ($0["protocols"] as? [String: Bool])?["TLSv1.0"] == false }
        XCTAssertEqual(fixed["protocols"] as? [String: Bool], ["SSLv2": false, "SSLv3": false, "TLSv1.0": false, "TLSv1.1": false, "TLSv1.2": true, "TLSv1.3": true])
        XCTAssertFalse(findingIDs(fixed).contains("tls.obsolete_protocol"))
    }

    func testPostfixCipherFixEndsWeakCiphers() throws {
        let (_, weak) = try check("fix_weak", ["--ciphers"])
        let severities = ((weak["findings"] as? [[String: Any]]) ?? []).filter { $0["id"] as? String == "tls.weak_cipher" }.compactMap { $0["severity"] as? String }
        XCTAssertEqual(severities, ["warning", "info"], "NULL suites warn on a relay, anonymous ones inform")
        let text = fix("tls.weak_cipher", in: weak)
        let settings = Self.settings(Self.parts(text)["Postfix"] ?? "")
        XCTAssertEqual(settings.map(\.name), ["smtpd_tls_exclude_ciphers"], text)
        try applyToPostfix(settings)
        let fixed = try checkUntil("fix_applied", ["--ciphers"]) { !self.findingIDs($0).contains("tls.weak_cipher") }
        XCTAssertFalse(findingIDs(fixed).contains("tls.weak_cipher"), "\(settings) applied: \(fixed["findings"] ?? [])")
        XCTAssertEqual(field(fixed, "smtp.starttlsOffered") as? Bool, true)
        XCTAssertNotNil(fixed["tls"] as? [String: Any], "TLS still works")
        // As a submission port too: nothing left to judge.
        let submission = try check("fix_applied", ["--ciphers", "--role", "submission"]).1
        XCTAssertFalse(findingIDs(submission).contains("tls.weak_cipher"), "\(submission["findings"] ?? [])")
    }

    func testPostfixDHFixEndsTheWeakGroup() throws {
        let (_, weak) = try check("fix_weak", ["--ciphers"])
        let text = fix("tls.weak_dh", in: weak)
        let part = Self.parts(text)["Postfix"] ?? ""
        let settings = Self.settings(part)
        XCTAssertEqual(settings.map(\.name), ["smtpd_tls_dh1024_param_file"], text)
        // The command the fix names, run as written but writing into the lab.
        guard let commandRange = part.range(of: #"openssl genpkey [^,)]*"#, options: .regularExpression), let path = settings.first?.value else {
            return XCTFail("no openssl command in \(part)")
        }
        let labPath = "\(lab.stateDirectory)/fix-dh2048.pem"
        let command = part[commandRange].replacingOccurrences(of: path, with: labPath).split(separator: " ").map(String.init)
        let made = Command.run(["/usr/bin/env"] + command, timeout: 60)
        XCTAssertEqual(made.status, 0, "\(command): \(made.stderr)")
        try applyToPostfix([(settings[0].name, labPath)])
        let fixed = try checkUntil("fix_applied", ["--ciphers"]) { !self.findingIDs($0).contains("tls.weak_dh") }
        XCTAssertFalse(findingIDs(fixed).contains("tls.weak_dh"), "\(labPath) applied: \(fixed["findings"] ?? [])")
        XCTAssertTrue(findingIDs(weak).contains("tls.weak_dh"), "the unfixed twin still has it")
    }

    // MARK: Exim (Debian's GnuTLS build)

    /// The Exim daemon of this test run: started by the first test that needs it, stopped at bundle end.
    private static let eximLock = NSLock()
    nonisolated(unsafe) private static var eximStarted = false
    /// A stock Debian Exim plus 3DES: TLS 1.0/1.1 (GnuTLS's NORMAL), 3DES and static-RSA suites.
    static let eximWeak = ["tls_require_ciphers = NORMAL:+3DES-CBC"]

    /// (Re)starts the lab's Exim with these main-section lines; returns its target, or the failed run.
    private func startExim(_ options: [String]) throws -> (target: String?, run: CommandResult) {
        let state = lab.stateDirectory
        Self.eximLock.withLock {
            if !Self.eximStarted {
                Self.eximStarted = true
                BundleTeardown.register {
                    _ = Command.run(["/bin/bash", "\(Lab.packageRoot)/Tests/Lab/exim.sh", "stop", state], timeout: 30)
                }
            }
        }
        let run = Command.run(["/bin/bash", "\(Lab.packageRoot)/Tests/Lab/exim.sh", "start", state] + options, timeout: 180)
        guard run.status == 0 else { return (nil, run) }
        let data = FileManager.default.contents(atPath: "\(state)/exim.json") ?? Data()
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any], let port = json["port"] as? Int else {
            XCTFail("exim.sh wrote no exim.json: \(run.stderr)")
            return (nil, run)
        }
        XCTAssertEqual(json["tlsLibrary"] as? String, "GnuTLS", "Debian's exim4-daemon-light is the GnuTLS build")
        return ("127.0.0.1:\(port)", run)
    }

    private func checkExim(_ target: String, _ extra: [String]) throws -> [String: Any] {
        let result = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, "--timeout", "10", "--no-injection-test"] + extra + [target], timeout: 120)
        return try object(result)
    }

    private func eximFix(_ id: String, _ extra: [String]) throws -> (weak: [String: Any], settings: [(name: String, value: String)]) {
        let started = try startExim(Self.eximWeak)
        guard let target = started.target else {
            XCTFail("exim.sh start failed: \(started.run.stderr)")
            return ([:], [])
        }
        let weak = try checkExim(target, extra)
        let text = fix(id, in: weak)
        return (weak, Self.settings(Self.parts(text)["Exim with GnuTLS (Debian, Ubuntu)"] ?? ""))
    }

    func testEximProtocolFixEndsLegacyProtocols() throws {
        let (weak, settings) = try eximFix("tls.legacy_protocol", ["--protocols"])
        XCTAssertEqual((weak["protocols"] as? [String: Bool])?["TLSv1.0"], true)
        XCTAssertEqual(settings.map(\.name), ["tls_require_ciphers"])
        let fixed = try startExim(settings.map { "\($0.name) = \($0.value)" })
        guard let target = fixed.target else { return XCTFail("Exim refused the GnuTLS form \(settings): \(fixed.run.stderr)") }
        let json = try checkExim(target, ["--protocols"])
        XCTAssertFalse(findingIDs(json).contains("tls.legacy_protocol"), "\(findingIDs(json))")
        XCTAssertEqual(json["protocols"] as? [String: Bool], ["SSLv2": false, "SSLv3": false, "TLSv1.0": false, "TLSv1.1": false, "TLSv1.2": true, "TLSv1.3": true])
    }

    func testEximCipherFixEndsWeakCiphers() throws {
        let (weak, settings) = try eximFix("tls.weak_cipher", ["--ciphers"])
        let weakFindings = ((weak["findings"] as? [[String: Any]]) ?? []).filter { $0["id"] as? String == "tls.weak_cipher" }
        XCTAssertEqual(weakFindings.compactMap { $0["severity"] as? String }, ["warning", "info"], "3DES warns on a relay, static RSA informs")
        XCTAssertEqual(settings.map(\.name), ["tls_require_ciphers"])
        let fixed = try startExim(settings.map { "\($0.name) = \($0.value)" })
        guard let target = fixed.target else { return XCTFail("Exim refused the GnuTLS form \(settings): \(fixed.run.stderr)") }
        let json = try checkExim(target, ["--ciphers", "--role", "submission"])
        XCTAssertFalse(findingIDs(json).contains("tls.weak_cipher"), "\(json["findings"] ?? [])")
        XCTAssertNotNil(json["tls"] as? [String: Any], "TLS still works")
    }

    func testEximDHFixIsAccepted() throws {
        // GnuTLS 3.6+ negotiates RFC 7919 groups by itself, so no weak DH group can be shown here; the fix
        // must still be a setting Exim takes: with it STARTTLS works, with a name Exim lacks it answers 454.
        let text = FindingCatalogueText.fix(of: "tls.weak_dh")
        let settings = Self.settings(Self.parts(text)["Exim (GnuTLS or OpenSSL)"] ?? "")
        XCTAssertEqual(settings.map(\.name), ["tls_dhparam"], text)
        let fixed = try startExim(settings.map { "\($0.name) = \($0.value)" })
        guard let target = fixed.target else { return XCTFail("Exim refused \(settings): \(fixed.run.stderr)") }
        let json = try checkExim(target, [])
        XCTAssertNotNil(json["tls"] as? [String: Any], "\(findingIDs(json))")
        XCTAssertFalse(findingIDs(json).contains("starttls.rejected"))
        let wrong = try startExim(["tls_dhparam = ffdhe2047"])
        guard let wrongTarget = wrong.target else { return XCTFail("exim.sh start: \(wrong.run.stderr)") }
        XCTAssertTrue(findingIDs(try checkExim(wrongTarget, [])).contains("starttls.rejected"), "the check can tell a setting Exim refuses")
    }

    func testEximRefusesTheOpenSSLForms() throws {
        // Why the forms are labelled: the OpenSSL ones stop Debian's Exim from starting at all.
        for id in ["tls.legacy_protocol", "tls.weak_cipher"] {
            let text = FindingCatalogueText.fix(of: id)
            let settings = Self.settings(Self.parts(text)["Exim with OpenSSL"] ?? "")
            XCTAssertEqual(settings.count, 1, text)
            let refused = try startExim(settings.map { "\($0.name) = \($0.value)" })
            XCTAssertNil(refused.target, "Debian's GnuTLS Exim started with \(settings)")
            XCTAssertTrue(refused.run.stderr.contains("GnuTLS") || refused.run.stderr.contains("gnutls_priority_init"), refused.run.stderr)
            // They are valid for OpenSSL: the cipher string is one OpenSSL reads.
            if let cipherString = settings.first(where: { $0.name == "tls_require_ciphers" })?.value {
                let parsed = Command.run(["/usr/bin/openssl", "ciphers", cipherString], timeout: 10)
                XCTAssertEqual(parsed.status, 0, "openssl ciphers \(cipherString): \(parsed.stderr)")
            }
        }
    }
}

/// A finding's fix text as the catalogue (docs/findings.md, kept equal to the code by CertificateTests) prints it.
enum FindingCatalogueText {
    static func fix(of id: String) -> String {
        let docs = (try? String(contentsOfFile: "\(Lab.packageRoot)/docs/findings.md", encoding: .utf8)) ?? ""
        guard let row = docs.components(separatedBy: "\n").first(where: { $0.hasPrefix("| `\(id)` |") }),
              let last = row.components(separatedBy: " | ").last
        else { return "" }
        return String(last.dropLast(2))
    }
}
