import FoundationEssentials
import Glibc

/// Checks one endpoint for the run: the real SMTP/TLS check, or a script in tests. Every connection takes a
/// slot of `gate` (shared by everything that talks to the address); `stop` ends every wait early.
public protocol EndpointChecking: Sendable {
    func check(_ endpoint: Endpoint, gate: ConnectionGate, stop: StopSignal, transcript: (@Sendable (String) -> Void)?) -> Observation
}

/// Finds what a target names: the addresses of a host, the MX endpoints of a domain.
public protocol TargetResolving: Sendable {
    func addresses(of target: Target, family: AddressFamilyFilter, deadline: Deadline) -> Result<[String], ResolutionError>
    func domain(_ name: String, options: MXResolutionOptions, stop: StopSignal) -> Result<DomainResult, DNSError>
}

/// A target whose objects are being gathered; written once its last slot is filled.
final class PendingTarget: @unchecked Sendable {  // `slots` and `remaining` are guarded by `lock`
    let input: String
    let domain: String?
    /// The domain's policy step, set before the first job is submitted.
    var mailPolicy: MailPolicyTask?
    private let lock = MutexLock()
    private var slots: [(order: (UInt16, String), object: ReportObject?)]
    private var remaining: Int
    private var abandoned = false

    /// `orders`: each slot's place in the output (MX preference and host; equal for host targets).
    init(input: String, domain: String?, orders: [(UInt16, String)]) {
        self.input = input
        self.domain = domain
        slots = orders.map { ($0, nil) }
        remaining = orders.count
    }

    /// Fills a slot; the whole result once the last one is filled, nil before (and after `abandon`).
    func fill(_ slot: Int, with object: ReportObject) -> TargetResult? {
        lock.withLock {
            guard !abandoned, slots[slot].object == nil else { return nil }
            slots[slot].object = object
            remaining -= 1
            guard remaining == 0 else { return nil }
            let ordered = slots.enumerated().sorted { a, b in
                a.element.order != b.element.order ? a.element.order < b.element.order : a.offset < b.offset
            }
            return TargetResult(input: input, domain: domain, objects: ordered.compactMap(\.element.object))
        }
    }

    /// The run stopped before this target was done: it is never written. True the first time.
    func abandon() -> Bool {
        lock.withLock {
            defer { abandoned = true }
            return !abandoned && remaining > 0
        }
    }
}

/// The whole run: reads targets as they are needed, resolves them beside the checks of earlier ones, checks
/// every endpoint under the per-address bound, and hands each finished target to the sink in one piece.
/// Memory is bounded by the read-ahead, not by the input's length.
public final class RunEngine: Sendable {
    public let configuration: RunConfiguration
    private let checker: any EndpointChecking
    private let resolver: any TargetResolving
    private let policies: PolicyStep
    private let clock: @Sendable () -> Date
    private let transcript: (@Sendable (Endpoint) -> (@Sendable (String) -> Void)?)?
    /// The per-domain MTA-STS/TLS-RPT step in `--mx` mode; nil with `--no-mta-sts`.
    private let mailPolicy: (any MailPolicyEvaluating)?
    private let stopSignal = StopSignal()
    private let end = Locked<RunEnd?>(nil)

    public init(
        configuration: RunConfiguration, checker: any EndpointChecking, resolver: any TargetResolving,
        policies: PolicyStep = PolicyStep(), clock: @escaping @Sendable () -> Date = { Date() },
        transcript: (@Sendable (Endpoint) -> (@Sendable (String) -> Void)?)? = nil,
        mailPolicy: (any MailPolicyEvaluating)? = nil
    ) {
        self.mailPolicy = mailPolicy
        self.configuration = configuration
        self.checker = checker
        self.resolver = resolver
        self.policies = policies
        self.clock = clock
        self.transcript = transcript
    }

    /// Stops the run as for SIGINT/SIGTERM: no new target starts, connections in flight end within a fraction
    /// of a second, finished targets are written, unfinished ones are not. Safe from any thread.
    public func interrupt(signal: Int32) {
        stop(.interrupted(signal: signal))
    }

    /// The first reason wins, except that a signal overrides a passed deadline.
    private func stop(_ reason: RunEnd) {
        end.withLock { current in
            if current == nil { current = reason } else if case .interrupted = reason { current = reason }
        }
        stopSignal.raise()
    }

    fileprivate var ending: RunEnd? { end.withLock { $0 } }

    fileprivate var interrupted: Bool {
        if case .interrupted = ending { return true }
        return false
    }

    /// Runs every input; `skipping`: inputs an earlier run answered (`--resume`). The sink is called for one
    /// target at a time, never concurrently.
    public func run(
        _ inputs: some Sequence<TargetInput>, skipping: InputSet = InputSet(),
        sink: @escaping @Sendable (TargetResult) -> Void
    ) -> RunSummary {
        let state = RunState(engine: self, sink: sink)
        let watcher = configuration.deadline.map { seconds in
            JoinableThread(stackSize: 64 << 10) { [self] in
                if state.sleep(seconds: seconds) { stop(.deadline) }
            }
        }
        var seen = InputSet()
        var admitted = 0
        for input in inputs {
            if interrupted { break }
            let text = input.text
            if let shard = configuration.shard, !shard.contains(text) {
                state.count { $0.otherShards += 1 }
                continue
            }
            if skipping.contains(text) {
                state.count { $0.resumed += 1 }
                continue
            }
            guard seen.insert(text) else {
                state.count { $0.repeated += 1 }
                continue
            }
            // Before waiting for room: the first target's job may be waiting for this thread.
            admitted += 1
            if admitted == 2 { state.withdrawCaller() }
            guard state.admit() else { break }
            start(input, state: state)
        }
        state.finishReading()
        watcher?.join()
        var summary = state.summary
        summary.end = ending ?? .completed
        return summary
    }

    // MARK: - one target

    /// Parses a target and sends it on: to the resolvers, or for an address straight to the checks.
    private func start(_ input: TargetInput, state: RunState) {
        let text = input.text
        let now = clock()
        switch configuration.kind {
        case .host:
            let target: Target
            do {
                target = try Target.parse(text, defaultPort: configuration.defaultPort)
            } catch {
                return state.answer(invalid(text, reason: error.description, now: now))
            }
            if ending == .deadline { return state.answer(deadlineAnswer(text, stub: stub(for: target), now: now)) }
            if target.isIPLiteral {
                guard configuration.family.admits(target.hostText) else {
                    let finding = RunRules.finding(for: .hostUnresolved(.noAddressInFamily(host: target.hostText)))
                    return state.answer(.unchecked(UncheckedReport(input: text, checkedAt: now, target: stub(for: target), findings: [finding])))
                }
                let endpoints = Endpoint.endpoints(for: target, addresses: [target.hostText], tls: configuration.tls, servername: configuration.serverName)
                return schedule(text, domain: nil, endpoints: endpoints.map { ($0, nil) }, extra: [], state: state)
            }
            state.resolve { [self] in resolveHost(text, target: target, state: state) }
        case .domain:
            let domain: String
            do {
                domain = try MXResolution.normalizedDomain(text)
            } catch {
                return state.answer(invalid(text, reason: error.description, now: now))
            }
            if ending == .deadline { return state.answer(deadlineAnswer(text, domain: domain, now: now)) }
            state.resolve { [self] in resolveDomain(text, domain: domain, state: state) }
        }
    }

    private func stub(for target: Target) -> TargetStub {
        TargetStub(host: target.hostText, port: target.port, tls: configuration.tls.resolved(forPort: target.port))
    }

    private func invalid(_ text: String, reason: String, now: Date) -> TargetResult {
        let finding = RunRules.finding(for: .invalidInput(text: text, domainMode: configuration.kind == .domain, reason: reason))
        return .unchecked(UncheckedReport(input: text, checkedAt: now, findings: [finding]))
    }

    private func deadlineAnswer(_ text: String, domain: String? = nil, stub: TargetStub? = nil, now: Date) -> TargetResult {
        return .unchecked(UncheckedReport(input: text, checkedAt: now, domain: domain, target: stub, findings: [deadlineFinding()]))
    }

    private func deadlineFinding() -> Finding {
        RunRules.finding(for: .deadlinePassed(seconds: configuration.deadline))
    }

    private func resolveHost(_ text: String, target: Target, state: RunState) {
        guard !interrupted else { return state.drop() }
        let deadline = Deadline(secondsFromNow: configuration.lookupTimeout, stop: stopSignal)
        let result = resolver.addresses(of: target, family: configuration.family, deadline: deadline)
        if interrupted { return state.drop() }
        if ending == .deadline { return state.answer(deadlineAnswer(text, stub: stub(for: target), now: clock())) }
        switch result {
        case .success(let addresses):
            let endpoints = Endpoint.endpoints(for: target, addresses: addresses, tls: configuration.tls, servername: configuration.serverName)
            let policy = policies.policy(forHost: target.hostText, port: target.port, stop: stopSignal)
            if interrupted { return state.drop() }
            schedule(text, domain: nil, endpoints: endpoints.map { ($0, nil) }, extra: [], policies: policy.map { [target.hostText: $0] } ?? [:], state: state)
        case .failure(let error):
            let finding = RunRules.finding(for: .hostUnresolved(error))
            state.answer(.unchecked(UncheckedReport(input: text, checkedAt: clock(), target: stub(for: target), findings: [finding])))
        }
    }

    private func resolveDomain(_ text: String, domain: String, state: RunState) {
        guard !interrupted else { return state.drop() }
        let result = resolver.domain(domain, options: configuration.mxOptions, stop: stopSignal)
        if interrupted { return state.drop() }
        if ending == .deadline { return state.answer(deadlineAnswer(text, domain: domain, now: clock())) }
        let now = clock()
        switch result {
        case .failure(let error):
            state.answer(.unchecked(UncheckedReport(input: text, checkedAt: now, domain: domain, findings: [RunRules.finding(for: .domainResolutionFailed(domain: domain, error: error))])))
        case .success(let resolved) where resolved.endpoints.isEmpty:
            state.answer(.unchecked(UncheckedReport(input: text, checkedAt: now, domain: domain, findings: resolved.findings)))
        case .success(let resolved):
            let endpoints = resolved.endpoints.map { entry in
                (entry.endpoint, DomainOrigin(domain: entry.domain, mx: entry.mx, findings: entry.findings))
            }
            let extra = resolved.hostsWithoutEndpoint.map { host in
                ReportObject.unchecked(UncheckedReport(
                    input: text, checkedAt: now, domain: domain, mx: host.mx,
                    target: TargetStub(host: host.mx.host, port: configuration.defaultPort, tls: configuration.tls.resolved(forPort: configuration.defaultPort)),
                    findings: host.findings))
            }
            // Started beside the SMTP checks, once per domain; the endpoints' reports wait for it.
            let mail = mailPolicy.map { MailPolicyTask(domain: domain, evaluator: $0, stop: stopSignal) }
            let hostPolicies = policies.policies(for: resolved, port: configuration.defaultPort, stop: stopSignal)
            if interrupted { return state.drop() }
            schedule(text, domain: domain, endpoints: endpoints, extra: extra, policies: hostPolicies, state: state, mailPolicy: mail)
        }
    }

    /// Queues a target's endpoints, each prepared by its host's policies (keyed by `Endpoint.host`); objects that
    /// need no check fill their slots at once. `mailPolicy`: the domain's MTA-STS/TLS-RPT step, which the
    /// endpoints' reports wait for.
    private func schedule(
        _ text: String, domain: String?, endpoints: [(Endpoint, DomainOrigin?)], extra: [ReportObject], policies: [String: HostPolicy] = [:], state: RunState,
        mailPolicy: MailPolicyTask? = nil
    ) {
        func order(_ mx: MXHost?) -> (UInt16, String) { (mx?.preference ?? 0, mx?.host ?? "") }
        let extraMX = extra.map { object -> MXHost? in
            if case .unchecked(let report) = object { return report.mx }
            return nil
        }
        guard !endpoints.isEmpty || !extra.isEmpty else {
            return state.answer(.unchecked(UncheckedReport(input: text, checkedAt: clock(), domain: domain, findings: [RunRules.finding(for: .noAddress(text: text))])))
        }
        let target = PendingTarget(input: text, domain: domain, orders: endpoints.map { order($0.1?.mx) } + extraMX.map(order))
        target.mailPolicy = mailPolicy
        for (index, object) in extra.enumerated() {
            if let result = target.fill(endpoints.count + index, with: object) { state.answer(result) }
        }
        for (index, (endpoint, origin)) in endpoints.enumerated() {
            let policy = policies[endpoint.host]
            let job = EndpointJob(endpoint: policy?.prepared(endpoint) ?? endpoint, origin: origin, target: target, slot: index, policy: policy)
            state.submit(job)
        }
    }

    // MARK: - checks

    /// A worker: takes jobs until the run is over.
    fileprivate func work(_ scheduler: AddressScheduler, state: RunState) {
        while let (job, gate) = scheduler.next() {
            let startedAt = clock()
            var observation: Observation?
            if ending == nil {
                let seen = checker.check(job.endpoint, gate: gate, stop: stopSignal, transcript: transcript?(job.endpoint))
                // A check the run's end cut short is not an answer.
                if ending == nil { observation = seen }
            }
            let outcome = CheckOutcome(observation: observation, startedAt: startedAt)
            let waiting = scheduler.finish(job, outcome: outcome)
            for each in [job] + waiting {
                complete(each, outcome: outcome, state: state)
            }
        }
        releaseOpenSSLThreadState()
    }

    fileprivate func complete(_ job: EndpointJob, outcome: CheckOutcome, state: RunState) {
        let object: ReportObject
        if var observation = outcome.observation {
            observation.endpoint = job.endpoint
            let mail = job.target.mailPolicy?.wait()
            var policy = job.policy?.evaluated(observation, at: outcome.startedAt)
            if let mail {
                if policy == nil { policy = EndpointPolicy() }
                policy?.mail = mail
            }
            let report = EndpointReport(observation: observation, settings: configuration.ruleSettings(now: outcome.startedAt), origin: job.origin, input: job.target.input, policy: policy)
            object = .endpoint(report)
        } else if ending == .deadline {
            let endpoint = job.endpoint
            let stub = TargetStub(host: endpoint.host, port: endpoint.port, tls: endpoint.tls, address: endpoint.address)
            object = .unchecked(UncheckedReport(
                input: job.target.input, checkedAt: outcome.startedAt, domain: job.origin?.domain, mx: job.origin?.mx, target: stub,
                findings: (job.origin?.findings ?? []) + [deadlineFinding()]))
        } else {
            if job.target.abandon() { state.drop() }
            return
        }
        if let result = job.target.fill(job.slot, with: object) { state.answer(result) }
    }

    fileprivate func makeScheduler() -> AddressScheduler {
        let perHost = configuration.perHost, delay = configuration.delayMilliseconds
        return AddressScheduler(
            perAddress: configuration.endpointsPerAddress, maximumWorkers: configuration.concurrency, callerWorks: configuration.singleInput
        ) {
            ConnectionGate(limit: perHost, delayMilliseconds: delay)
        }
    }
}

/// The moving parts of one run: the read-ahead bound, the resolver and check threads, the sink and the counts.
private final class RunState: @unchecked Sendable {  // every var is guarded by `condition`
    private let engine: RunEngine
    private let sink: @Sendable (TargetResult) -> Void
    private let condition = ConditionLock()
    private let scheduler: AddressScheduler
    private let lookups: WorkQueue
    private var threads: [JoinableThread] = []
    /// Targets read and not yet answered.
    private var inFlight = 0
    private var finished = false
    private var counts = RunSummary()

    init(engine: RunEngine, sink: @escaping @Sendable (TargetResult) -> Void) {
        self.engine = engine
        self.sink = sink
        scheduler = engine.makeScheduler()
        lookups = WorkQueue(maximumWorkers: max(1, engine.configuration.resolutionConcurrency))
    }

    var summary: RunSummary { condition.withLock { counts } }

    func count(_ change: (inout RunSummary) -> Void) {
        condition.withLock { change(&counts) }
    }

    /// Waits until the read-ahead has room; false when the run was interrupted meanwhile.
    func admit() -> Bool {
        let limit = engine.configuration.targetsReadAhead
        condition.lock()
        defer { condition.unlock() }
        while inFlight >= limit {
            if engineInterrupted { return false }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1))
        }
        if engineInterrupted { return false }
        inFlight += 1
        return true
    }

    private var engineInterrupted: Bool { engine.interrupted }

    /// Writes a target's objects, in one call of the sink, and frees its place in the read-ahead.
    func answer(_ result: TargetResult) {
        condition.lock()
        sink(result)
        counts.targets += 1
        for object in result.objects { counts.objects.add(object.status) }
        inFlight -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// A target the run's interruption left unanswered.
    func drop() {
        condition.lock()
        inFlight -= 1
        condition.broadcast()
        condition.unlock()
    }

    func resolve(_ work: @escaping @Sendable () -> Void) {
        if lookups.push(work) {
            let thread = JoinableThread(stackSize: 256 << 10) { [lookups] in lookups.drain() }
            condition.withLock { threads.append(thread) }
        }
    }

    func submit(_ job: EndpointJob) {
        switch scheduler.submit(job) {
        case .queued(let startWorker):
            if startWorker { startWorkerThread() }
        case .following:
            break
        case .done(let outcome):
            engine.complete(job, outcome: outcome, state: self)
        }
    }

    private func startWorkerThread() {
        let thread = JoinableThread { [engine, scheduler] in engine.work(scheduler, state: self) }
        condition.withLock { threads.append(thread) }
    }

    /// A second input came although the run was to read one (`singleInput`): the calling thread goes on
    /// reading, so the jobs that counted on it get a thread of their own.
    func withdrawCaller() {
        if scheduler.callerWithdraws() { startWorkerThread() }
    }

    /// After the last input: waits for every lookup, then (`singleInput`) takes jobs itself until none is
    /// left, then waits for every check and every thread.
    func finishReading() {
        lookups.close()
        lookups.waitUntilEmpty()
        scheduler.close()
        if engine.configuration.singleInput && scheduler.callerArrives() {
            engine.work(scheduler, state: self)
        }
        condition.lock()
        while inFlight > 0 { condition.wait() }
        finished = true
        condition.broadcast()
        let all = threads
        condition.unlock()
        all.forEach { $0.join() }
    }

    /// Sleeps until `seconds` pass (true) or the run finishes (false).
    func sleep(seconds: Double) -> Bool {
        let until = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            if !condition.wait(until: until) { return !finished }
        }
        return false
    }
}

/// Closures run by up to `maximumWorkers` threads, started as work arrives.
private final class WorkQueue: @unchecked Sendable {  // every var is guarded by `condition`
    private let condition = ConditionLock()
    private let maximumWorkers: Int
    private var items = FIFO<@Sendable () -> Void>()
    private var workers = 0
    private var idle = 0
    private var running = 0
    private var closed = false

    init(maximumWorkers: Int) {
        self.maximumWorkers = maximumWorkers
    }

    /// Queues work; true when the caller should start a thread running `drain`.
    func push(_ work: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        items.push(work)
        condition.broadcast()
        guard idle == 0, workers < maximumWorkers else { return false }
        workers += 1
        return true
    }

    func drain() {
        while let work = take() {
            work()
            condition.withLock {
                running -= 1
                condition.broadcast()
            }
        }
        releaseOpenSSLThreadState()
    }

    private func take() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let work = items.pop() {
                running += 1
                return work
            }
            if closed { return nil }
            idle += 1
            condition.wait()
            idle -= 1
        }
    }

    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    func waitUntilEmpty() {
        condition.lock()
        while !items.isEmpty || running > 0 { condition.wait() }
        condition.unlock()
    }
}
