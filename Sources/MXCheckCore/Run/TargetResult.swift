import FoundationEssentials
import Glibc

/// Where an endpoint came from in `--mx` mode: the domain, its MX host, and the domain-level findings
/// that go on each of its endpoint objects.
public struct DomainOrigin: Sendable, Equatable {
    public var domain: String
    public var mx: MXHost
    public var findings: [Finding]

    public init(domain: String, mx: MXHost, findings: [Finding]) {
        self.domain = domain
        self.mx = mx
        self.findings = findings
    }
}

/// The target part of an object that answers without a check: what is known of where it would have
/// connected (no address when none was found; nothing at all for an input that cannot be parsed).
public struct TargetStub: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    public var tls: TLSMode
    public var address: String?

    public init(host: String, port: UInt16, tls: TLSMode, address: String? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
        self.address = address
    }
}

/// An object that answers a target, or part of one, without an SMTP check: a domain with no endpoint, an MX
/// host with no address, a host that does not resolve, an input that cannot be parsed, a target the run's
/// deadline overtook.
public struct UncheckedReport: Sendable {
    public var input: String
    public var checkedAt: Date
    public var domain: String?
    public var mx: MXHost?
    public var target: TargetStub?
    public var findings: [Finding]
    public var status: Status
    public var score: Int?

    public init(input: String, checkedAt: Date, domain: String? = nil, mx: MXHost? = nil, target: TargetStub? = nil, findings: [Finding]) {
        self.input = input
        self.checkedAt = checkedAt
        self.domain = domain
        self.mx = mx
        self.target = target
        self.findings = findings.sorted { $0.severity > $1.severity }
        status = Status(worstOf: findings)
        score = Scoring.score(for: findings, status: status)
    }
}

/// One JSON object of the output.
public enum ReportObject: Sendable {
    case endpoint(EndpointReport)
    case unchecked(UncheckedReport)

    public var status: Status {
        switch self {
        case .endpoint(let report): return report.status
        case .unchecked(let report): return report.status
        }
    }

    public var input: String {
        switch self {
        case .endpoint(let report): return report.input
        case .unchecked(let report): return report.input
        }
    }

    public var domain: String? {
        switch self {
        case .endpoint(let report): return report.origin?.domain
        case .unchecked(let report): return report.domain
        }
    }

    /// A check was made: an endpoint object.
    public var isEndpoint: Bool {
        if case .endpoint = self { return true }
        return false
    }
}

/// Everything that answers one input target, handed to the sink in one piece once its last endpoint is done.
public struct TargetResult: Sendable {
    public var input: String
    /// The domain in `--mx` mode.
    public var domain: String?
    /// In MX order (preference, then name), then address order; never empty.
    public var objects: [ReportObject]

    public var status: Status { objects.map(\.status).max() ?? .unknown }

    /// A target answered by one object without a check.
    static func unchecked(_ report: UncheckedReport) -> TargetResult {
        TargetResult(input: report.input, domain: report.domain, objects: [.unchecked(report)])
    }
}

/// How a run ended.
public enum RunEnd: Sendable, Equatable {
    /// Every target was answered.
    case completed
    /// `--deadline` passed: the rest was answered with `run.deadline`.
    case deadline
    /// Stopped on a signal: unfinished targets were not written.
    case interrupted(signal: Int32)
}

/// How many results had each status: one counter a status, no dictionary (whose storage and the Status
/// conformance it needs the Swift runtime looks up at its first use, in every run).
public struct StatusCounts: Sendable, Equatable {
    private var ok = 0
    private var warning = 0
    private var unknown = 0
    private var critical = 0

    public init() {}

    public subscript(status: Status) -> Int {
        get {
            switch status {
            case .ok: return ok
            case .warning: return warning
            case .unknown: return unknown
            case .critical: return critical
            }
        }
        set {
            switch status {
            case .ok: ok = newValue
            case .warning: warning = newValue
            case .unknown: unknown = newValue
            case .critical: critical = newValue
            }
        }
    }

    public mutating func add(_ status: Status, count: Int = 1) {
        self[status] += count
    }

    public mutating func add(_ other: StatusCounts) {
        ok += other.ok
        warning += other.warning
        unknown += other.unknown
        critical += other.critical
    }

    public var total: Int { ok + warning + unknown + critical }

    /// The worst status counted at least once; nil when nothing was counted.
    public var worst: Status? {
        if critical > 0 { return .critical }
        if unknown > 0 { return .unknown }
        if warning > 0 { return .warning }
        return ok > 0 ? .ok : nil
    }
}

/// What a run did, counted as it went.
public struct RunSummary: Sendable, Equatable {
    public var end: RunEnd = .completed
    /// Targets answered (written to the sink).
    public var targets = 0
    /// Objects written, per status.
    public var objects = StatusCounts()
    /// Inputs skipped because an earlier run answered them (`--resume`).
    public var resumed = 0
    /// Inputs of other shards.
    public var otherShards = 0
    /// Inputs given more than once, answered once.
    public var repeated = 0

    public var worst: Status? { objects.worst }
}
