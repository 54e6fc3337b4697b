/// The transport policies' verdicts on one endpoint (DANE for its host, MTA-STS and TLS-RPT for its domain),
/// attached to the endpoint before the rules run. `PolicyRules.findings` turns them, with the check's own
/// findings, into the report's.
public struct EndpointPolicy: Sendable {
    /// The DANE evaluation; nil when DANE was not evaluated.
    public var dane: DANEEvaluation?
    /// Findings of a policy that could not be evaluated (`dane.resolver_unusable`).
    public var findings: [Finding]
    /// The domain's MTA-STS and TLS-RPT evaluation (`--mx`); nil when not evaluated.
    public var mail: MailDomainPolicy?

    public init(dane: DANEEvaluation? = nil, findings: [Finding] = [], mail: MailDomainPolicy? = nil) {
        self.dane = dane
        self.findings = findings
        self.mail = mail
    }

    /// An MTA-STS policy in `enforce` mode: the PKIX findings stay as the check found them (and critical).
    public var mtaSTSEnforced: Bool { mail?.mtaSts.enforces ?? false }

    /// The MX host publishes secure TLSA records (then a missing TLS-RPT record is a warning).
    public var daneDeployed: Bool {
        guard let dane, dane.dnssec == .secure else { return false }
        return dane.recordsTotal > 0
    }

    /// `mx.dnssec`: the DNSSEC state of the MX RRset, known once DANE was evaluated.
    public var mxDNSSEC: DNSSECState? { dane?.policy.mxDNSSEC }
}

/// How the policies change an endpoint's findings (the contract's "How policy changes the certificate verdicts").
public enum PolicyRules {
    /// The check's findings with the policies applied: PKIX findings DANE makes irrelevant turned into info,
    /// STARTTLS failures under secure TLSA records marked as DANE senders see them, PKIX findings kept critical
    /// under an enforced MTA-STS policy, then the policies' own findings. `mxHost`: the endpoint's MX host.
    public static func findings(_ checkFindings: [Finding], policy: EndpointPolicy?, mxHost: String? = nil) -> [Finding] {
        guard let policy else { return checkFindings }
        var findings = DANERules.certificateFindings(checkFindings, dane: policy.dane, mtaSTSEnforced: policy.mtaSTSEnforced)
        if let mail = policy.mail { findings = MTASTSRules.certificateFindings(findings, mtaSts: mail.mtaSts) }
        if let dane = policy.dane {
            findings = DANERules.unverifiedFindings(findings, dane: dane)
            findings += DANERules.findings(for: dane)
        }
        if let mail = policy.mail { findings += MTASTSRules.findings(for: mail, mxHost: mxHost, daneDeployed: policy.daneDeployed) }
        return findings + policy.findings
    }
}
