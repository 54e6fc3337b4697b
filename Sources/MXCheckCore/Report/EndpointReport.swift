import FoundationEssentials
import Glibc

/// One deduction from the score of 100, with the finding it comes from.
public struct Deduction: Sendable, Equatable {
    public var id: FindingID
    public var severity: Severity
    public var points: Int
}

/// The score rubric (docs/scoring.md): start at 100, take off each finding id's deduction once
/// (the largest, if it appears at several severities), never below 0.
public enum Scoring {
    public static func deductions(for findings: [Finding]) -> [Deduction] {
        var best: [FindingID: Deduction] = [:]
        var order: [FindingID] = []
        for finding in findings {
            let points = FindingCatalogue.entry(for: finding.id).deduction[finding.severity] ?? 0
            guard points > 0 else { continue }
            if let existing = best[finding.id] {
                if points > existing.points { best[finding.id] = Deduction(id: finding.id, severity: finding.severity, points: points) }
            } else {
                best[finding.id] = Deduction(id: finding.id, severity: finding.severity, points: points)
                order.append(finding.id)
            }
        }
        return order.compactMap { best[$0] }
    }

    public static func score(for findings: [Finding]) -> Int {
        max(0, 100 - deductions(for: findings).reduce(0) { $0 + $1.points })
    }

    /// No score for a check that could not be made: nil when the status is unknown.
    public static func score(for findings: [Finding], status: Status) -> Int? {
        status == .unknown ? nil : score(for: findings)
    }
}

/// The verdict on one endpoint: what was seen, what it means, and the score.
public struct EndpointReport: Sendable {
    public var observation: Observation
    public var findings: [Finding]
    public var status: Status
    /// Nil when the status is unknown: the check could not be made.
    public var score: Int?
    public var deductions: [Deduction]
    /// When the check was made: the clock the rules judged by.
    public var now: Date
    /// The target as given (the domain with `--mx`).
    public var input: String
    /// The domain and MX host in `--mx` mode; its findings are part of `findings`.
    public var origin: DomainOrigin?
    /// The transport policies' verdicts (DANE); nil when none was evaluated. Their findings are part of `findings`.
    public var policy: EndpointPolicy?
    /// The port role the rules judged accepted suites by.
    public var role: AssumedRole
    /// The domain's MTA-STS and TLS-RPT evaluation in `--mx` mode; nil when not evaluated.
    public var mailPolicy: MailDomainPolicy? { policy?.mail }

    public init(observation: Observation, settings: RuleSettings, origin: DomainOrigin? = nil, input: String? = nil, policy: EndpointPolicy? = nil) {
        self.observation = observation
        self.origin = origin
        self.policy = policy
        self.input = input ?? origin?.domain ?? observation.endpoint.host
        let findings = (origin?.findings ?? []) + PolicyRules.findings(Rules.findings(for: observation, settings: settings), policy: policy, mxHost: origin?.mx.host)
        self.findings = findings.sorted { $0.severity > $1.severity }
        status = Status(worstOf: findings)
        deductions = Scoring.deductions(for: findings)
        score = Scoring.score(for: findings, status: status)
        now = settings.now
        role = settings.assumedRole(for: observation.endpoint)
    }

    public var hostnameMatch: Bool? {
        guard observation.chain.first != nil else { return nil }
        return !findings.contains { $0.id == .certHostnameMismatch }
    }
}
