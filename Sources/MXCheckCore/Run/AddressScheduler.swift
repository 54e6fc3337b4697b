import FoundationEssentials
import Glibc

/// A first-in first-out queue over an array: amortised O(1) at both ends. A popped element is released at
/// once (its slot emptied), so the queue never keeps alive what it handed out.
struct FIFO<Element> {
    private var items: [Element?] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func push(_ item: Element) { items.append(item) }

    mutating func pop() -> Element? {
        guard head < items.count else { return nil }
        let item = items[head]
        items[head] = nil
        head += 1
        if head > 1_024 && head * 2 > items.count {
            items.removeSubrange(0..<head)
            head = 0
        }
        return item
    }
}

/// One endpoint of one target, waiting for its turn.
struct EndpointJob: Sendable {
    let endpoint: Endpoint
    let origin: DomainOrigin?
    let target: PendingTarget
    let slot: Int
    /// What the transport policies (DANE) said about the endpoint's host before the check.
    var policy: HostPolicy? = nil

    /// What the network exchange depends on: jobs with the same key share one check (an address seen through
    /// several domains is checked once); the identity checked against the certificate does not.
    var networkKey: String { "\(endpoint.address)|\(endpoint.port)|\(endpoint.tls.rawValue)|\(endpoint.serverName ?? "")" }
}

/// What a finished check hands to the jobs that waited for it.
struct CheckOutcome: Sendable {
    /// Nil when the check was cut short by the run's end (deadline or signal).
    let observation: Observation?
    let startedAt: Date
}

/// Which endpoint goes next. An address takes at most `perAddress` endpoints at once; a worker takes the first
/// endpoint of any address with room, so endpoints waiting for a busy address hold no worker, and an input
/// sorted by address keeps every worker as busy as a shuffled one. Jobs whose network exchange is already
/// queued or running wait for that one's outcome instead of connecting again.
final class AddressScheduler: @unchecked Sendable {  // every stored property is guarded by `condition`
    private struct AddressState {
        var active = 0
        var waiting = FIFO<EndpointJob>()
        let gate: ConnectionGate
    }

    private let condition = ConditionLock()
    private let perAddress: Int
    private let maximumWorkers: Int
    private let makeGate: () -> ConnectionGate
    private var addresses: [String: AddressState] = [:]
    /// Addresses with room and a waiting job, each listed once.
    private var ready = FIFO<String>()
    private var listed = Set<String>()
    /// Network keys of queued or running checks, with the jobs that wait for their outcome.
    private var followers: [String: [EndpointJob]] = [:]
    private var recent = RecentOutcomes(capacity: 256)
    private var closed = false
    private var workers = 0
    private var idle = 0
    /// The submitting thread will take jobs itself once it has submitted all (`callerWorks`): until then it
    /// counts as a worker and as an idle one, so the first ready address starts no thread.
    private var callerExpected: Bool

    init(perAddress: Int, maximumWorkers: Int, callerWorks: Bool = false, makeGate: @escaping () -> ConnectionGate) {
        self.perAddress = max(1, perAddress)
        self.maximumWorkers = max(1, maximumWorkers)
        self.makeGate = makeGate
        callerExpected = callerWorks
        if callerWorks {
            workers = 1
            idle = 1
        }
    }

    /// The submitting thread comes to take jobs (`callerWorks`): from now on it counts as idle only while it
    /// waits in `next()`, like any worker. False when it withdrew before: a worker took its place, and it
    /// must not take jobs beyond `maximumWorkers`.
    func callerArrives() -> Bool {
        condition.withLock {
            guard callerExpected else { return false }
            callerExpected = false
            idle -= 1
            return true
        }
    }

    /// The submitting thread will not take jobs after all; true when a worker must start for the jobs that
    /// counted on it.
    func callerWithdraws() -> Bool {
        condition.withLock {
            guard callerExpected else { return false }
            callerExpected = false
            idle -= 1
            workers -= 1
            let startWorker = ready.count > idle && workers < maximumWorkers
            if startWorker { workers += 1 }
            return startWorker
        }
    }

    enum Submission {
        /// Queued; `startWorker`: more jobs can run than idle workers wait, so the caller starts one.
        case queued(startWorker: Bool)
        /// The same exchange is queued or running: the job gets its outcome.
        case following
        /// The same exchange finished a moment ago: here is its outcome.
        case done(CheckOutcome)
    }

    func submit(_ job: EndpointJob) -> Submission {
        condition.lock()
        defer { condition.unlock() }
        let key = job.networkKey
        if let outcome = recent.outcome(for: key) { return .done(outcome) }
        if followers[key] != nil {
            followers[key]!.append(job)
            return .following
        }
        followers[key] = []
        let address = job.endpoint.address
        if addresses[address] == nil { addresses[address] = AddressState(gate: makeGate()) }
        addresses[address]!.waiting.push(job)
        list(address)
        condition.signal()
        // One runnable job per listed address: start a worker when they outnumber the idle ones (a woken
        // worker still counts as idle until it runs, so `idle == 0` alone would leave the pool too small).
        let startWorker = ready.count > idle && workers < maximumWorkers
        if startWorker { workers += 1 }
        return .queued(startWorker: startWorker)
    }

    /// Lists an address as ready when it has room and a waiting job; called under `condition`. True when listed.
    @discardableResult
    private func list(_ address: String) -> Bool {
        guard let state = addresses[address], state.active < perAddress, !state.waiting.isEmpty, !listed.contains(address) else { return false }
        listed.insert(address)
        ready.push(address)
        return true
    }

    /// The next job and its address's gate; waits while none is ready; nil once closed and nothing is left.
    func next() -> (EndpointJob, ConnectionGate)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let address = ready.pop() {
                listed.remove(address)
                guard var state = addresses[address], let job = state.waiting.pop() else { continue }
                state.active += 1
                addresses[address] = state
                list(address)
                // Pass the turn on while work is ready, so no waiting worker sleeps through it.
                if !ready.isEmpty { condition.signal() }
                return (job, state.gate)
            }
            if closed && addresses.isEmpty {
                condition.broadcast()
                return nil
            }
            idle += 1
            condition.wait()
            idle -= 1
        }
    }

    /// Ends a job's check; returns the jobs that waited for the same exchange.
    func finish(_ job: EndpointJob, outcome: CheckOutcome) -> [EndpointJob] {
        condition.lock()
        defer { condition.unlock() }
        let key = job.networkKey
        let waiting = followers.removeValue(forKey: key) ?? []
        if outcome.observation != nil { recent.insert(outcome, for: key) }
        let address = job.endpoint.address
        var listedAgain = false
        if var state = addresses[address] {
            state.active -= 1
            if state.active == 0 && state.waiting.isEmpty {
                addresses[address] = nil
            } else {
                addresses[address] = state
                listedAgain = list(address)
            }
        }
        // One waiting worker for the address that has room again; all of them once the last job is done.
        if closed && addresses.isEmpty {
            condition.broadcast()
        } else if listedAgain {
            condition.signal()
        }
        return waiting
    }

    /// No more jobs come: workers end once the queue is empty.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// The outcomes of the last few checks, so an address a later target names again right away is not checked twice.
private struct RecentOutcomes {
    private let capacity: Int
    private var outcomes: [String: CheckOutcome] = [:]
    private var order = FIFO<String>()

    init(capacity: Int) {
        self.capacity = capacity
    }

    func outcome(for key: String) -> CheckOutcome? { outcomes[key] }

    mutating func insert(_ outcome: CheckOutcome, for key: String) {
        if outcomes.updateValue(outcome, forKey: key) == nil { order.push(key) }
        while order.count > capacity, let oldest = order.pop() {
            outcomes[oldest] = nil
        }
    }
}
