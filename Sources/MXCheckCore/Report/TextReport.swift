import FoundationEssentials
import Glibc

/// Plain-text rendering for a person at a terminal; colour only when asked for.
public struct TextReport: Sendable {
    public var colour: Bool
    /// `--long`: every endpoint in full, never the table.
    public var long: Bool

    public init(colour: Bool, long: Bool = false) {
        self.colour = colour
        self.long = long
    }

    /// Several objects: the table, then the full block of each that is not OK (or every block with `--long`).
    public func overview(_ objects: [ReportObject]) -> String {
        guard !long, objects.count > 1 else { return objects.map(render).joined(separator: "\n\n") }
        let details = objects.filter(Self.needsDetail).map(render)
        return ([table(objects)] + details).joined(separator: "\n\n")
    }

    /// Every string from the network or a file goes through here before it is written (TerminalText).
    func safe(_ text: String) -> String { TerminalText.escaped(text) }

    func paint(_ text: String, _ code: String) -> String {
        colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    func label(_ status: Status) -> String {
        switch status {
        case .ok: return paint("OK", "1;32")
        case .warning: return paint("WARNING", "1;33")
        case .critical: return paint("CRITICAL", "1;31")
        case .unknown: return paint("UNKNOWN", "1;35")
        }
    }

    private func label(_ severity: Severity) -> String {
        paint(severity.rawValue.uppercased().padded(toWidth: 8), colour(of: severity))
    }

    /// The one colour of each severity, wherever the text marks one.
    func colour(of severity: Severity) -> String {
        switch severity {
        case .info: return "36"
        case .warning: return "33"
        case .critical: return "31"
        case .unknown: return "35"
        }
    }

    /// A target's objects: in `--mx` mode the domain's block (a header with its MX hosts in order, then each
    /// object), else each object's block.
    public func render(_ result: TargetResult) -> String {
        guard let domain = result.domain else { return result.objects.map(render).joined(separator: "\n\n") }
        if result.objects.count == 1, case .unchecked(let only) = result.objects[0], only.mx == nil {
            return render(only)
        }
        var hosts: [String] = []
        for object in result.objects {
            let mx: MXHost?
            switch object {
            case .endpoint(let report): mx = report.origin?.mx
            case .unchecked(let report): mx = report.mx
            }
            guard let mx else { continue }
            let entry = "\(mx.preference) \(safe(mx.host))"
            if !hosts.contains(entry) { hosts.append(entry) }
        }
        let header = "\(paint(safe(domain), "1;4"))  \(label(result.status))  MX \(hosts.joined(separator: ", "))"
        return header + (policyLine(result).map { "\n" + $0 } ?? "") + "\n" + overview(result.objects)
    }

    public func render(_ object: ReportObject) -> String {
        switch object {
        case .endpoint(let report): return render(report)
        case .unchecked(let report): return render(report)
        }
    }

    private func scoreText(_ score: Int?) -> String { score.map { "score \($0)/100" } ?? "score -" }

    /// An object without a check: a domain or MX host with nothing to connect to, an unresolved or invalid
    /// target, a target the deadline overtook.
    public func render(_ report: UncheckedReport) -> String {
        let name: String
        if let target = report.target {
            let port = target.address.map { IPAddressText.isIPv6($0) ? "[\($0)]:\(target.port)" : "\($0):\(target.port)" } ?? "port \(target.port)"
            name = "\(report.mx.map { "MX \($0.preference) " } ?? "")\(safe(target.host)) \(port)"
        } else {
            name = safe(report.domain ?? report.input)
        }
        let what = report.target == nil && report.domain != nil ? "  no endpoint" : "  \(scoreText(report.score))"
        var lines = ["\(paint(name, report.domain != nil && report.target == nil ? "1;4" : "1"))  \(label(report.status))\(what)"]
        for finding in report.findings {
            lines.append("    \(label(finding.severity)) \(finding.id.rawValue): \(safe(finding.message))")
            lines.append("             fix: \(safe(finding.fix))")
        }
        return lines.joined(separator: "\n")
    }

    /// Protocols on one line, then each version's suites one a line, weak ones marked, then the groups.
    func probeLines(_ probe: ProbeResult, role: PortRole, negotiated: NegotiatedTLS?) -> [String] {
        func pad(_ key: String) -> String { "  " + key.padded(toWidth: 9) }
        var lines: [String] = []
        let versions = ProtocolVersion.allCases.map { version -> String in
            switch probe.accepts(version) {
            case true?:
                switch Rules.protocolFinding(for: version) {
                case .tlsObsoleteProtocol?: return "\(version.rawValue) " + paint("yes (obsolete)", colour(of: .critical))
                case .tlsLegacyProtocol?: return "\(version.rawValue) " + paint("yes (legacy)", colour(of: .warning))
                default: return "\(version.rawValue) yes"
                }
            case false?: return "\(version.rawValue) no"
            case nil: return "\(version.rawValue) ?"
            }
        }
        lines.append(pad("versions") + versions.joined(separator: ", "))
        var first = true
        for version in ProtocolVersion.allCases.reversed() {
            guard let list = probe.ciphers[version.rawValue], !list.suites.isEmpty else { continue }
            let order = list.serverOrder == true ? "server's order" : (list.serverOrder == false ? "client's order" : "order unknown")
            lines.append(pad(first ? "ciphers" : "") + "\(version.rawValue), \(order), \(list.suites.count) suite\(list.suites.count == 1 ? "" : "s")")
            first = false
            let width = list.suites.map(\.count).max() ?? 0
            for name in list.suites.map(safe) {
                var line = pad("") + "  " + name
                if let suite = CipherSuite.named(name), let verdict = ProbeRules.verdict(for: suite, role: role, negotiated: name == negotiated?.cipher) {
                    line = pad("") + "  " + name.padded(toWidth: width) + "  "
                        + paint("\(ProbeRules.suiteLabel(verdict.severity)): \(suite.reason(for: verdict.weakness))", colour(of: verdict.severity))
                }
                lines.append(line)
            }
        }
        if !probe.groups.isEmpty {
            lines.append(pad("groups") + safe(probe.groups.joined(separator: ", ")))
        }
        if probe.incomplete {
            let why = probe.incompleteReasons.isEmpty ? "" : ": " + safe(probe.incompleteReasons.joined(separator: "; "))
            lines.append(pad("probes") + paint("incomplete", "35") + why)
        }
        return lines
    }

    public func render(_ report: EndpointReport) -> String {
        let observation = report.observation
        let endpoint = observation.endpoint
        let where_ = IPAddressText.isIPv6(endpoint.address) ? "[\(endpoint.address)]:\(endpoint.port)" : "\(endpoint.address):\(endpoint.port)"
        let name = endpoint.host == endpoint.address ? where_ : "\(safe(endpoint.host)) \(where_)"
        var lines: [String] = []
        lines.append("\(paint(name, "1")) (\(endpoint.tls.rawValue))  \(label(report.status))  \(scoreText(report.score))")
        func row(_ key: String, _ value: String) {
            lines.append("  " + key.padded(toWidth: 9) + value)
        }
        if let banner = observation.banner { row("banner", safe(banner)) }
        if let offered = observation.starttlsOffered, endpoint.tls == .starttls {
            var text = offered ? "offered" : "not offered"
            switch observation.injection {
            case .clean: text += "; command injection (CVE-2011-0411): not vulnerable"
            case .vulnerable: text += "; command injection (CVE-2011-0411): " + paint("VULNERABLE", "31")
            case .inconclusive(let reason): if offered { text += "; command injection test inconclusive (\(safe(reason)))" }
            case nil: break
            }
            row("starttls", text)
        }
        if let tls = observation.tls {
            var text = "\(tls.version.rawValue)  \(safe(tls.cipher))"
            if let group = tls.group {
                let finiteField = Rules.isFiniteFieldDH(group: group, cipher: tls.cipher)
                text += "  \(safe(group.name))" + (finiteField ? tls.keyExchangeBits.map { " (\($0) bits)" } ?? "" : "")
            }
            row("tls", text)
        }
        for (key, value) in policyRows(report) { row(key, value) }
        if let probe = observation.probe {
            lines += probeLines(probe, role: report.role.role, negotiated: observation.tls)
        }
        if let leaf = observation.chain.first {
            row("cert", leaf.subject.isEmpty ? "(empty subject)" : safe(leaf.subject))
            row("", "issuer \(safe(leaf.issuer))")
            if !leaf.names.isEmpty {
                let shown = leaf.names.prefix(6).map(safe).joined(separator: ", ") + (leaf.names.count > 6 ? ", +\(leaf.names.count - 6) more" : "")
                row("", "names \(shown)")
            }
            let days = Rules.daysRemaining(leaf, now: report.now)
            row("", "valid \(JSONDates.format(leaf.notBefore).prefix(10)) to \(JSONDates.format(leaf.notAfter).prefix(10)) (\(days < 0 ? "expired" : Rules.days(days) + " left"))")
            row("", "\(safe(leaf.keyType.name)) \(leaf.keyBits) bits, \(safe(leaf.signatureAlgorithm)), chain of \(observation.chain.count) sent")
            let trust = observation.verification?.trusted == true ? paint("trusted", "32") : paint("not trusted", "31")
            let reference = safe(endpoint.referenceIdentity)
            let match = report.hostnameMatch == true ? "name \(reference) matches" : paint("name \(reference) does not match", "31")
            row("", "\(trust), \(match)")
        }
        if let dane = report.policy?.daneText { row("dane", safe(dane)) }
        if report.findings.isEmpty {
            row("findings", "none")
        } else {
            lines.append("  findings")
            for finding in report.findings {
                lines.append("    \(label(finding.severity)) \(finding.id.rawValue): \(safe(finding.message))")
                lines.append("             fix: \(safe(finding.fix))")
            }
        }
        if !report.deductions.isEmpty {
            let parts = report.deductions.map { "-\($0.points) \($0.id.rawValue)" }.joined(separator: " ")
            row("score", "100 \(parts) = \(report.score.map(String.init) ?? "-")")
        }
        let connections = observation.totalConnections
        row("took", "\(Int(observation.durationMilliseconds.rounded())) ms, \(connections) connection\(connections == 1 ? "" : "s")")
        return lines.joined(separator: "\n")
    }
}
