/// The transport policies' verdicts on one endpoint (DANE now; MTA-STS beside it), attached to the endpoint
/// before the rules run. `PolicyRules.findings` turns them, with the check's own findings, into the report's.
public struct EndpointPolicy: Sendable {
    /// The DANE evaluation; nil when DANE was not evaluated.
    public var dane: DANEEvaluation?
    /// Findings of a policy that could not be evaluated (`dane.resolver_unusable`).
    public var findings: [Finding]
    /// An MTA-STS policy in `enforce` mode covers this endpoint: the PKIX findings stay as the check found them.
    public var mtaSTSEnforced: Bool

    public init(dane: DANEEvaluation? = nil, findings: [Finding] = [], mtaSTSEnforced: Bool = false) {
        self.dane = dane
        self.findings = findings
        self.mtaSTSEnforced = mtaSTSEnforced
    }

    /// `mx.dnssec`: the DNSSEC state of the MX RRset, known once DANE was evaluated.
    public var mxDNSSEC: DNSSECState? { dane?.policy.mxDNSSEC }
}

/// How the policies change an endpoint's findings (the contract's "How policy changes the certificate verdicts").
public enum PolicyRules {
    /// The check's findings with the policies applied: PKIX findings DANE makes irrelevant turned into info,
    /// STARTTLS failures under secure TLSA records marked as DANE senders see them, then the policies' own findings.
    public static func findings(_ checkFindings: [Finding], policy: EndpointPolicy?) -> [Finding] {
        guard let policy else { return checkFindings }
        var findings = DANERules.certificateFindings(checkFindings, dane: policy.dane, mtaSTSEnforced: policy.mtaSTSEnforced)
        if let dane = policy.dane {
            findings = DANERules.unverifiedFindings(findings, dane: dane)
            findings += DANERules.findings(for: dane)
        }
        return findings + policy.findings
    }
}
