/// How bad a finding is; the order is that of the contract: critical > unknown > warning > info.
public enum Severity: String, Sendable, Comparable, CaseIterable {
    case info
    case warning
    case unknown
    case critical

    private var rank: Int {
        switch self {
        case .info: return 0
        case .warning: return 1
        case .unknown: return 2
        case .critical: return 3
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// The verdict on an endpoint, and the exit code that goes with it.
public enum Status: String, Sendable, Comparable {
    case ok
    case warning
    case unknown
    case critical

    public init(worstOf findings: [Finding]) {
        switch findings.map(\.severity).max() {
        case .critical: self = .critical
        case .unknown: self = .unknown
        case .warning: self = .warning
        case .info, nil: self = .ok
        }
    }

    /// Monitoring-plugin exit codes.
    public var exitCode: Int32 {
        switch self {
        case .ok: return 0
        case .warning: return 1
        case .critical: return 2
        case .unknown: return 3
        }
    }

    /// The severity the status stands for: CRITICAL > UNKNOWN > WARNING > OK is the severities' one ranking.
    private var severity: Severity {
        switch self {
        case .ok: return .info
        case .warning: return .warning
        case .unknown: return .unknown
        case .critical: return .critical
        }
    }

    public static func < (lhs: Status, rhs: Status) -> Bool { lhs.severity < rhs.severity }
}

/// One thing the check found, with what to do about it.
public struct Finding: Sendable, Equatable {
    public var id: FindingID
    public var severity: Severity
    public var message: String
    public var fix: String

    public init(_ id: FindingID, severity: Severity? = nil, message: String) {
        let entry = FindingCatalogue.entry(for: id)
        self.id = id
        self.severity = severity ?? entry.severity
        self.message = message
        self.fix = entry.fix
    }

    /// The finding as a transport policy sees it: at `severity`, its message followed by why in parentheses.
    func restated(as severity: Severity, because reason: String) -> Finding {
        var restated = self
        restated.severity = severity
        restated.message += " (\(reason))"
        return restated
    }
}
