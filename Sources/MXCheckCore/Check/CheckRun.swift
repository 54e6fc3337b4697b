import Foundation

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

/// One endpoint to report on.
public struct CheckJob: Sendable {
    public var endpoint: Endpoint
    public var origin: DomainOrigin?

    public init(endpoint: Endpoint, origin: DomainOrigin? = nil) {
        self.endpoint = endpoint
        self.origin = origin
    }

    /// What the network exchange depends on: jobs with the same key share one check (an address seen
    /// through several domains is checked once); the identity checked against the certificate does not.
    var networkKey: String { "\(endpoint.address)|\(endpoint.port)|\(endpoint.tls.rawValue)|\(endpoint.serverName ?? "")" }
}

/// A batch of checks: at most `concurrency` endpoints at once, at most `perHost` connections at once to any
/// one address across the whole batch, each report handed over as soon as it is ready.
public struct CheckRun: Sendable {
    public var checker: Checker
    public var rules: RuleSettings
    public var probe: ProbeSettings?
    public var concurrency: Int
    public var perHost: Int
    public var delayMilliseconds: Int

    public init(checker: Checker, rules: RuleSettings, probe: ProbeSettings?, concurrency: Int, perHost: Int, delayMilliseconds: Int) {
        self.checker = checker
        self.rules = rules
        self.probe = probe
        self.concurrency = concurrency
        self.perHost = perHost
        self.delayMilliseconds = delayMilliseconds
    }

    public func run(
        _ jobs: [CheckJob], transcript: (@Sendable (Endpoint) -> (@Sendable (String) -> Void)?)? = nil,
        onReport: @escaping @Sendable (EndpointReport) -> Void
    ) {
        var groups: [String: [CheckJob]] = [:]
        var order: [String] = []
        for job in jobs {
            if groups[job.networkKey] == nil { order.append(job.networkKey) }
            groups[job.networkKey, default: []].append(job)
        }
        let gates = Dictionary(jobs.map { ($0.endpoint.address, 0) }, uniquingKeysWith: { first, _ in first })
            .mapValues { _ in ConnectionGate(limit: perHost, delayMilliseconds: delayMilliseconds) }
        let batches = order.compactMap { groups[$0] }
        Batch.run(batches, concurrency: concurrency, work: { group -> [EndpointReport] in
            let first = group[0].endpoint
            let observation = checker.check(first, now: rules.now, probe: probe, gate: gates[first.address], transcript: transcript?(first))
            return group.map { job in
                var seen = observation
                seen.endpoint = job.endpoint
                return EndpointReport(observation: seen, settings: rules, origin: job.origin)
            }
        }, onResult: { reports in reports.forEach(onReport) })
    }
}

/// A domain of `--mx` mode that yields no endpoint at all (null MX, NXDOMAIN, no usable MX).
public struct DomainReport: Sendable {
    public var domain: String
    public var findings: [Finding]
    public var status: Status
    public var score: Int

    public init(domain: String, findings: [Finding]) {
        self.domain = domain
        self.findings = findings.sorted { $0.severity > $1.severity }
        status = Status(worstOf: findings)
        score = Scoring.score(for: findings)
    }
}
