/// Probe results → findings. Pure.
public enum ProbeRules {
    /// `role`: how accepted-but-weak suites are judged (`PortRole`; by default as port 25's, a relay);
    /// `negotiated`: what mxcheck's own client settled on, whose suite is judged as negotiated (never more
    /// leniently than as accepted).
    public static func findings(
        for result: ProbeResult, role: AssumedRole = AssumedRole(explicit: nil, port: 25, domainMode: false), negotiated: NegotiatedTLS? = nil
    ) -> [Finding] {
        var findings: [Finding] = []
        let accepted = ProtocolVersion.allCases.filter { result.accepts($0) == true }
        let obsolete = accepted.filter { Rules.protocolFinding(for: $0) == .tlsObsoleteProtocol }
        if !obsolete.isEmpty {
            findings.append(Finding(.tlsObsoleteProtocol, message: "\(list(obsolete.map(\.rawValue))) accepted"))
        }
        let legacy = accepted.filter { Rules.protocolFinding(for: $0) == .tlsLegacyProtocol }
        if !legacy.isEmpty {
            findings.append(Finding(.tlsLegacyProtocol, message: "\(list(legacy.map(\.rawValue))) accepted"))
        }
        findings += cipherFindings(result, role: role, negotiated: negotiated)
        if let bits = result.dhBits, bits < RuleThresholds.minimumDHBits {
            let suite = result.dhSuite.map { " (\($0))" } ?? ""
            findings.append(Finding(.tlsWeakDH, message: "DHE key exchange with a \(bits)-bit group\(suite)"))
        }
        if result.rateLimited {
            findings.append(Finding(.smtpRateLimited, message: "the server kept refusing probe connections (421 or a closed greeting); the protocol and cipher results are incomplete"))
        }
        return findings
    }

    /// One finding per severity, naming each weak suite once with its reason and the versions that accept it,
    /// and saying which role the accepted suites were judged by.
    static func cipherFindings(_ result: ProbeResult, role: AssumedRole, negotiated: NegotiatedTLS?) -> [Finding] {
        var pairs: [(version: ProtocolVersion, name: String)] = []
        for version in ProtocolVersion.allCases {
            for name in result.ciphers[version.rawValue]?.suites ?? [] { pairs.append((version, name)) }
        }
        // The negotiated suite counts even if the enumeration missed it (a probe cut short).
        if let negotiated, !result.ciphers.isEmpty, !pairs.contains(where: { $0 == (negotiated.version, negotiated.cipher) }) {
            pairs.append((negotiated.version, negotiated.cipher))
        }
        struct Entry {
            var name: String
            var reason: String
            var versions: [ProtocolVersion]
            var negotiated: Bool
        }
        var bySeverity: [Severity: [Entry]] = [:]
        for (version, name) in pairs {
            guard let suite = CipherSuite.named(name) else { continue }
            let isNegotiated = name == negotiated?.cipher
            guard let verdict = verdict(for: suite, role: role.role, negotiated: isNegotiated) else { continue }
            if let index = bySeverity[verdict.severity]?.firstIndex(where: { $0.name == name }) {
                bySeverity[verdict.severity]?[index].versions.append(version)
            } else {
                bySeverity[verdict.severity, default: []].append(
                    Entry(name: name, reason: suite.reason(for: verdict.weakness), versions: [version], negotiated: isNegotiated))
            }
        }
        var findings: [Finding] = []
        for severity in [Severity.critical, .warning, .info] {
            guard let entries = bySeverity[severity], !entries.isEmpty else { continue }
            let kind = suiteLabel(severity)
            let items = entries.map { "\($0.name) (\($0.reason); \($0.versions.map(\.rawValue).joined(separator: ", "))\($0.negotiated ? "; negotiated" : ""))" }
            let count = entries.count == 1 ? "1 \(kind) suite" : "\(entries.count) \(kind) suites"
            findings.append(Finding(.tlsWeakCipher, severity: severity, message: "\(count) accepted: \(items.joined(separator: ", ")); \(role.reason)"))
        }
        return findings
    }

    /// How a suite the probe found is judged on a port of this role: as accepted there, and, when mxcheck's own
    /// client negotiated it, never more leniently than as negotiated. Nil: the suite has no weakness.
    /// The findings and the text output's per-suite labels both judge by this.
    public static func verdict(for suite: CipherSuite, role: PortRole, negotiated: Bool) -> (severity: Severity, weakness: CipherSuite.Weakness)? {
        let accepted = suite.judged(.accepted(role))
        guard negotiated, let asNegotiated = suite.judged(.negotiated), asNegotiated.severity > (accepted?.severity ?? .info) else {
            return accepted
        }
        return asNegotiated
    }

    /// The word for a weak suite judged at this severity, in messages and text output alike.
    public static func suiteLabel(_ severity: Severity) -> String {
        severity == .critical ? "insecure" : "weak"
    }

    static func list(_ names: [String]) -> String {
        names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + (names.last ?? "")
    }
}
