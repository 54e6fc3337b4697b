/// The text lines of MTA-STS, TLS-RPT and REQUIRETLS (TextReport).
extension TextReport {
    /// `policy   MTA-STS enforce (id 20260101, max_age 7 d), TLS-RPT mailto:tls@example.com`: the domain's
    /// block starts with it; nil when the domain's policy was not evaluated.
    public func policyLine(_ result: TargetResult) -> String? {
        let policy = result.objects.lazy.compactMap { object -> MailDomainPolicy? in
            if case .endpoint(let report) = object { return report.mailPolicy }
            return nil
        }.first
        guard let policy else { return nil }
        return "  " + "policy".padded(toWidth: 9) + safe(Self.policySummary(policy))
    }

    static func policySummary(_ policy: MailDomainPolicy) -> String {
        let sts = policy.mtaSts
        var text = "MTA-STS "
        switch sts.status {
        case .enforce, .testing, .none:
            let parsed = sts.parsedPolicy
            text += sts.status.rawValue + " (id \(sts.record.record?.id ?? "?"), max_age \(parsed.map { ageText($0.maxAge) } ?? "?"))"
        case .absent: text += "none published"
        case .invalid: text += "invalid"
        case .error: text += "error" + (sts.fetch?.error.map { ": \($0)" } ?? "")
        }
        switch policy.tlsRpt.record {
        case .found(let record): text += ", TLS-RPT " + record.rua.prefix(3).joined(separator: ", ")
        case .absent: text += ", no TLS-RPT"
        case .invalid: text += ", TLS-RPT invalid"
        case .lookupFailed: text += ", TLS-RPT lookup failed"
        }
        return text
    }

    static func ageText(_ seconds: Int) -> String {
        if seconds >= 86_400 && seconds % 86_400 == 0 { return "\(seconds / 86_400) d" }
        if seconds >= 3_600 && seconds % 3_600 == 0 { return "\(seconds / 3_600) h" }
        return "\(seconds) s"
    }

    /// An endpoint's rows: whether its MX host is covered by the policy, and REQUIRETLS.
    func policyRows(_ report: EndpointReport) -> [(String, String)] {
        var rows: [(String, String)] = []
        if let policy = report.mailPolicy, let host = report.origin?.mx.host, let match = policy.mtaSts.mxMatch(host: host) {
            let mode = policy.mtaSts.status.rawValue
            rows.append(("mta-sts", match ? "MX \(safe(host)) covered by the \(mode) policy"
                                          : paint("MX \(safe(host)) not covered by the \(mode) policy", policy.mtaSts.enforces ? "31" : "33")))
        }
        let observation = report.observation
        let before = Capabilities(lines: observation.ehloCapabilities).contains("REQUIRETLS")
        switch observation.requireTLS {
        case true?: rows.append(("", "REQUIRETLS advertised inside TLS"))
        case false?: rows.append(("", before ? "REQUIRETLS advertised before TLS only, which does not count (RFC 8689)" : "REQUIRETLS not advertised"))
        case nil: if before { rows.append(("", "REQUIRETLS advertised before TLS only, which does not count (no EHLO inside TLS)")) }
        }
        return rows
    }
}
