import Foundation
import XCTest

@testable import MXCheckCore

/// A scripted endpoint check: records what it was asked, how many checks ran at once (overall and per
/// address), and answers after `delay` seconds (cut short by the stop signal, as the real check is).
final class ScriptedChecker: EndpointChecking {
    struct Counts {
        var checked: [String] = []
        var running = 0
        var maximumRunning = 0
        var runningPerAddress: [String: Int] = [:]
        var maximumPerAddress = 0
        /// The thread of each check, in the order they started.
        var threads: [pthread_t] = []
    }

    let delay: Double
    let counts = Locked(Counts())

    init(delay: Double = 0) {
        self.delay = delay
    }

    func check(_ endpoint: Endpoint, gate: ConnectionGate, stop: StopSignal, transcript: (@Sendable (String) -> Void)?) -> Observation {
        counts.withLock { counts in
            counts.checked.append("\(endpoint.address):\(endpoint.port)")
            counts.threads.append(pthread_self())
            counts.running += 1
            counts.maximumRunning = max(counts.maximumRunning, counts.running)
            counts.runningPerAddress[endpoint.address, default: 0] += 1
            counts.maximumPerAddress = max(counts.maximumPerAddress, counts.runningPerAddress[endpoint.address]!)
        }
        let until = Date(timeIntervalSinceNow: delay)
        while Date() < until && !stop.isRaised { usleep(2_000) }
        counts.withLock { counts in
            counts.running -= 1
            counts.runningPerAddress[endpoint.address]! -= 1
        }
        var observation = Observation(endpoint: endpoint)
        observation.connections = 1
        observation.failure = stop.isRaised ? .timeout(phase: "waiting for the greeting") : .connectFailed("Connection refused")
        return observation
    }

    var checked: [String] { counts.withLock { $0.checked } }
}

/// Scripted lookups: names to addresses, domains to MX results.
struct ScriptedResolver: TargetResolving {
    var hosts: [String: [String]] = [:]
    var domains: [String: DomainResult] = [:]
    var delay: Double = 0

    func addresses(of target: Target, family: AddressFamilyFilter, deadline: Deadline) -> Result<[String], ResolutionError> {
        if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
        if case .ipv4(let address) = target.host { return .success([address]) }
        guard let addresses = hosts[target.hostText] else { return .failure(.notFound(host: target.hostText, reason: "no such host")) }
        return .success(addresses)
    }

    func domain(_ name: String, options: MXResolutionOptions, stop: StopSignal) -> Result<DomainResult, DNSError> {
        guard let result = domains[name] else {
            return .success(DomainResult(domain: name, mx: [], implicitMX: false, endpoints: [], facts: [.domainNXDomain(domain: name)]))
        }
        return .success(result)
    }
}

/// Collects what the sink was handed.
final class CollectingSink: Sendable {
    let results = Locked<[TargetResult]>([])

    var all: [TargetResult] { results.withLock { $0 } }

    func add(_ result: TargetResult) { results.withLock { $0.append(result) } }

    func inputs() -> [String] { all.map(\.input) }
}

final class RunEngineTests: XCTestCase {
    func configuration(_ change: (inout RunConfiguration) -> Void = { _ in }) -> RunConfiguration {
        var configuration = RunConfiguration()
        configuration.timeout = 5
        change(&configuration)
        return configuration
    }

    func run(
        _ inputs: [String], configuration: RunConfiguration, checker: ScriptedChecker = ScriptedChecker(),
        resolver: ScriptedResolver = ScriptedResolver(), skipping: InputSet = InputSet()
    ) -> (RunSummary, CollectingSink) {
        let engine = RunEngine(configuration: configuration, checker: checker, resolver: resolver, clock: { Date(timeIntervalSince1970: 1_800_000_000) })
        let sink = CollectingSink()
        let summary = engine.run(inputs.map { TargetInput($0) }, skipping: skipping) { sink.add($0) }
        return (summary, sink)
    }

    func ids(_ object: ReportObject) -> [String] {
        switch object {
        case .endpoint(let report): return report.findings.map(\.id.rawValue)
        case .unchecked(let report): return report.findings.map(\.id.rawValue)
        }
    }

    func testEveryTargetIsAnsweredOnceWithItsInput() {
        let resolver = ScriptedResolver(hosts: ["mx.example.com": ["192.0.2.1", "192.0.2.2"]])
        let (summary, sink) = run(
            ["192.0.2.9:25", "mx.example.com", "bad host!", "nowhere.example.com", "192.0.2.9:25"], configuration: configuration(), resolver: resolver)
        XCTAssertEqual(sink.inputs().sorted(), ["192.0.2.9:25", "bad host!", "mx.example.com", "nowhere.example.com"])
        XCTAssertEqual(summary.repeated, 1)
        XCTAssertEqual(summary.targets, 4)
        let byInput = Dictionary(uniqueKeysWithValues: sink.all.map { ($0.input, $0) })
        XCTAssertEqual(byInput["mx.example.com"]?.objects.count, 2, "a name with two addresses: one object each, handed over together")
        XCTAssertTrue(byInput["mx.example.com"]?.objects.allSatisfy { $0.input == "mx.example.com" } ?? false)
        guard case .unchecked(let invalid)? = byInput["bad host!"]?.objects.first else { return XCTFail("no object for the invalid line") }
        XCTAssertNil(invalid.target)
        XCTAssertEqual(invalid.findings.map(\.id), [.inputInvalid])
        XCTAssertEqual(invalid.status, .unknown)
        XCTAssertNil(invalid.score, "no score for a check that was not made")
        guard case .unchecked(let unresolved)? = byInput["nowhere.example.com"]?.objects.first else { return XCTFail("no object for the unresolved host") }
        XCTAssertEqual(unresolved.target, TargetStub(host: "nowhere.example.com", port: 25, tls: .starttls))
        XCTAssertNil(unresolved.target?.address)
        XCTAssertEqual(unresolved.findings.map(\.id), [.dnsHostUnresolved])
        XCTAssertEqual(summary.worst, .critical)
    }

    func testASingleInputIsCheckedOnTheCallingThread() {
        let caller = pthread_self()
        let checker = ScriptedChecker()
        let (summary, sink) = run(["192.0.2.9:25"], configuration: configuration { $0.singleInput = true }, checker: checker)
        XCTAssertEqual(sink.inputs(), ["192.0.2.9:25"])
        XCTAssertEqual(summary.targets, 1)
        let threads = checker.counts.withLock { $0.threads }
        XCTAssertEqual(threads.count, 1)
        XCTAssertTrue(threads.allSatisfy { pthread_equal($0, caller) != 0 }, "no thread was started for the one check")

        // Without the setting the check has a thread of its own.
        let other = ScriptedChecker()
        _ = run(["192.0.2.9:25"], configuration: configuration(), checker: other)
        XCTAssertTrue(other.counts.withLock { $0.threads }.allSatisfy { pthread_equal($0, caller) == 0 })
    }

    func testASingleInputWithTwoAddressesChecksBothAtOnce() {
        let caller = pthread_self()
        let resolver = ScriptedResolver(hosts: ["mx.example.com": ["192.0.2.1", "192.0.2.2"]])
        let checker = ScriptedChecker(delay: 0.1)
        let (_, sink) = run(["mx.example.com"], configuration: configuration { $0.singleInput = true }, checker: checker, resolver: resolver)
        XCTAssertEqual(sink.all.first?.objects.count, 2)
        let counts = checker.counts.withLock { $0 }
        XCTAssertEqual(counts.maximumRunning, 2, "the second address gets a thread while the caller checks the first")
        XCTAssertEqual(counts.threads.filter { pthread_equal($0, caller) != 0 }.count, 1)
    }

    func testMoreInputsThanASingleInputRunAreAllAnswered() {
        // The first job counted on the calling thread, which goes on reading: a read-ahead of one would wait
        // forever for it unless a thread takes over. Run on a thread of its own, so a hang fails the test.
        let inputs = (1...5).map { "192.0.2.\($0):25" }
        let finished = DispatchSemaphore(value: 0)
        let outcome = Locked<[String]>([])
        let checker = ScriptedChecker(delay: 0.01)
        let engine = RunEngine(
            configuration: configuration { $0.singleInput = true; $0.readAhead = 1; $0.concurrency = 2 },
            checker: checker, resolver: ScriptedResolver(), clock: { Date(timeIntervalSince1970: 1_800_000_000) })
        let thread = Thread {
            let sink = CollectingSink()
            _ = engine.run(inputs.map { TargetInput($0) }) { sink.add($0) }
            outcome.withLock { $0 = sink.inputs() }
            finished.signal()
        }
        thread.start()
        XCTAssertEqual(finished.wait(timeout: .now() + 20), .success, "the run did not end")
        XCTAssertEqual(outcome.withLock { $0 }.sorted(), inputs.sorted())
        XCTAssertLessThanOrEqual(checker.counts.withLock { $0.maximumRunning }, 2, "the caller that withdrew takes no job beyond --concurrency")
    }

    func testAnAddressSortedInputKeepsEverySlotBusy() {
        // 4 addresses x 6 ports, in address order; --per-host 2 with the injection probe: one endpoint per address.
        let inputs = (1...4).flatMap { host in (1...6).map { port in "192.0.2.\(host):\(2500 + port)" } }
        let checker = ScriptedChecker(delay: 0.05)
        let (_, sink) = run(inputs, configuration: configuration { $0.concurrency = 4; $0.perHost = 2 }, checker: checker)
        XCTAssertEqual(sink.all.count, 24)
        let counts = checker.counts.withLock { $0 }
        XCTAssertEqual(counts.maximumPerAddress, 1, "the per-host bound holds across the run")
        XCTAssertEqual(counts.maximumRunning, 4, "endpoints waiting for a busy address do not hold the other slots")
    }

    func testPerHostEightAllowsFourEndpointsOfOneAddress() {
        let inputs = (1...12).map { "192.0.2.1:\(2500 + $0)" }
        let checker = ScriptedChecker(delay: 0.05)
        _ = run(inputs, configuration: configuration { $0.concurrency = 16; $0.perHost = 8 }, checker: checker)
        XCTAssertEqual(checker.counts.withLock { $0.maximumPerAddress }, 4, "two connections each: 8 / 2")
    }

    func testShardsPartitionTheInput() {
        let inputs = (1...200).map { "mx\($0).example\($0 % 7).net" }
        var seen: [String] = []
        for index in 1...4 {
            let shard = try! Shard(index: index, count: 4)
            let (summary, sink) = run(inputs, configuration: configuration { $0.shard = shard })
            seen += sink.inputs()
            XCTAssertEqual(summary.otherShards + summary.targets, inputs.count)
            XCTAssertGreaterThan(summary.targets, 20, "FNV-1a spreads the inputs")
        }
        XCTAssertEqual(seen.sorted(), inputs.sorted(), "every target exactly once over the shards")
    }

    func testShardHashIsFNV1a64() {
        XCTAssertEqual(Shard.hash(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(Shard.hash("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(Shard.hash("foobar"), 0x8594_4171_f739_67e8)
        XCTAssertEqual(try Shard.parse("3/8"), try Shard(index: 3, count: 8))
        XCTAssertThrowsError(try Shard.parse("0/8"))
        XCTAssertThrowsError(try Shard.parse("9/8"))
        XCTAssertThrowsError(try Shard.parse("2-8"))
    }

    func testStatusCountsAddUpAndNameTheWorst() {
        var counts = StatusCounts()
        XCTAssertNil(counts.worst)
        XCTAssertEqual(counts.total, 0)
        counts.add(.ok)
        XCTAssertEqual(counts.worst, .ok)
        counts.add(.warning, count: 2)
        counts.add(.critical)
        var other = StatusCounts()
        other.add(.unknown)
        other.add(.ok, count: 3)
        counts.add(other)
        XCTAssertEqual([counts[.ok], counts[.warning], counts[.unknown], counts[.critical]], [4, 2, 1, 1])
        XCTAssertEqual(counts.total, 8)
        XCTAssertEqual(counts.worst, .critical)
        counts[.critical] = 0
        XCTAssertEqual(counts.worst, .unknown, "UNKNOWN ranks above WARNING, as the exit codes' order of precedence has it")
    }

    /// The first input is held apart from the set: repeats of it and of later ones are seen all the same.
    func testInputSetSeesRepeatsOfTheFirstInputAndOfLaterOnes() {
        var set = InputSet()
        XCTAssertFalse(set.contains("a"))
        XCTAssertEqual(set.count, 0)
        XCTAssertTrue(set.insert("a"))
        XCTAssertFalse(set.insert("a"))
        XCTAssertTrue(set.insert("b"))
        XCTAssertFalse(set.insert("b"))
        XCTAssertFalse(set.insert("a"))
        XCTAssertTrue(set.insert("c"))
        XCTAssertEqual(set.count, 3)
        XCTAssertTrue(set.contains("a") && set.contains("b") && set.contains("c"))
        XCTAssertFalse(set.contains("d"))
    }

    func testResumedInputsAreSkipped() {
        var done = InputSet()
        done.insert("192.0.2.1:25")
        done.insert("192.0.2.2:25")
        let checker = ScriptedChecker()
        let (summary, sink) = run(["192.0.2.1:25", "192.0.2.2:25", "192.0.2.3:25"], configuration: configuration(), checker: checker, skipping: done)
        XCTAssertEqual(sink.inputs(), ["192.0.2.3:25"])
        XCTAssertEqual(checker.checked, ["192.0.2.3:25"])
        XCTAssertEqual(summary.resumed, 2)
    }

    func testAnAddressSeenThroughTwoDomainsIsCheckedOnce() {
        func domain(_ name: String) -> DomainResult {
            let mx = MXHost(host: "mx.shared.example", preference: 10)
            let endpoint = Endpoint(host: mx.host, address: "192.0.2.7", port: 25, tls: .starttls, serverName: mx.host, referenceIdentity: mx.host)
            return DomainResult(domain: name, mx: [], implicitMX: false, endpoints: [DomainEndpoint(endpoint: endpoint, domain: name, mx: mx, facts: [], secure: false)], facts: [])
        }
        let resolver = ScriptedResolver(domains: ["a.example": domain("a.example"), "b.example": domain("b.example")])
        let checker = ScriptedChecker(delay: 0.05)
        let (_, sink) = run(["a.example", "b.example"], configuration: configuration { $0.kind = .domain }, checker: checker, resolver: resolver)
        XCTAssertEqual(checker.checked, ["192.0.2.7:25"])
        XCTAssertEqual(sink.all.compactMap(\.domain).sorted(), ["a.example", "b.example"])
        XCTAssertTrue(sink.all.allSatisfy { $0.objects.count == 1 && $0.objects[0].isEndpoint })
    }

    func testAnMXHostWithoutAddressIsAnObjectInMXOrder() {
        let good = MXHost(host: "mx2.example.com", preference: 20)
        let empty = MXHost(host: "mx1.example.com", preference: 10)
        let endpoint = Endpoint(host: good.host, address: "192.0.2.2", port: 25, tls: .starttls, serverName: good.host, referenceIdentity: good.host)
        let result = DomainResult(
            domain: "example.com", mx: [], implicitMX: false,
            endpoints: [DomainEndpoint(endpoint: endpoint, domain: "example.com", mx: good, facts: [], secure: false)], facts: [],
            hostsWithoutEndpoint: [HostWithoutEndpoint(mx: empty, facts: [.hostNoAddress(empty, domain: "example.com", implicitMX: false)])])
        let (_, sink) = run(["Example.COM"], configuration: configuration { $0.kind = .domain }, resolver: ScriptedResolver(domains: ["example.com": result]))
        XCTAssertEqual(sink.all.count, 1)
        let objects = sink.all[0].objects
        XCTAssertEqual(objects.count, 2)
        guard case .unchecked(let first) = objects[0], case .endpoint(let second) = objects[1] else { return XCTFail("MX order: preference 10 first") }
        XCTAssertEqual(first.mx, empty)
        XCTAssertEqual(first.target?.host, "mx1.example.com")
        XCTAssertNil(first.target?.address)
        XCTAssertEqual(second.findings.map(\.id), [.smtpConnectFailed], "the empty host's finding is not copied onto the healthy one")
        XCTAssertEqual(objects.map(\.input), ["Example.COM", "Example.COM"], "input is the domain as given")
    }

    func testTheDeadlineAnswersEveryTargetAndCutsChecksShort() {
        let inputs = (1...6).map { "192.0.2.\($0):25" }
        let checker = ScriptedChecker(delay: 3)
        let started = Date()
        let (summary, sink) = run(inputs, configuration: configuration { $0.concurrency = 2; $0.deadline = 0.3 }, checker: checker)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5, "checks in flight end at the deadline, not after their 3 s")
        XCTAssertEqual(summary.end, .deadline)
        XCTAssertEqual(sink.inputs().sorted(), inputs.sorted())
        XCTAssertTrue(sink.all.allSatisfy { result in result.objects.allSatisfy { ids($0) == ["run.deadline"] } })
        guard case .unchecked(let report)? = sink.all.first?.objects.first else { return XCTFail() }
        XCTAssertEqual(report.status, .unknown)
    }

    func testAnInterruptWritesNoUnfinishedTarget() {
        let inputs = (1...50).map { "192.0.2.\($0):25" }
        let checker = ScriptedChecker(delay: 0.02)
        let engine = RunEngine(configuration: configuration { $0.concurrency = 2 }, checker: checker, resolver: ScriptedResolver())
        let sink = CollectingSink()
        let summary = engine.run(inputs.map { TargetInput($0) }) { result in
            sink.add(result)
            if sink.all.count == 5 { engine.interrupt(signal: SIGTERM) }
        }
        XCTAssertEqual(summary.end, .interrupted(signal: SIGTERM))
        XCTAssertGreaterThanOrEqual(sink.all.count, 5)
        XCTAssertLessThan(sink.all.count, 50)
        XCTAssertEqual(summary.targets, sink.all.count)
        XCTAssertTrue(sink.all.allSatisfy { result in result.objects.allSatisfy { ids($0) == ["smtp.connect_failed"] } }, "only whole answers were written")
        XCTAssertEqual(Set(sink.inputs()).count, sink.all.count)
    }

    func testInputIsReadOnlyAsFarAsTheReadAhead() {
        final class Answered: Sendable {
            let count = Locked(0)
        }
        final class CountingInputs: Sequence, IteratorProtocol {
            var index = 0
            let answered: Answered
            var maximumAhead = 0
            init(answered: Answered) { self.answered = answered }
            func next() -> TargetInput? {
                guard index < 400 else { return nil }
                index += 1
                maximumAhead = Swift.max(maximumAhead, index - answered.count.withLock { $0 })
                return TargetInput("192.0.2.\(index % 250):\(1000 + index)")
            }
        }
        let answered = Answered()
        let inputs = CountingInputs(answered: answered)
        let engine = RunEngine(configuration: configuration { $0.concurrency = 4; $0.readAhead = 10 }, checker: ScriptedChecker(delay: 0.001), resolver: ScriptedResolver())
        let summary = engine.run(inputs) { _ in answered.count.withLock { $0 += 1 } }
        XCTAssertEqual(summary.targets, 400)
        XCTAssertLessThanOrEqual(inputs.maximumAhead, 11, "memory is bounded by the read-ahead, not by the input")
    }

    func testResolutionOverlapsAndRunsInParallel() {
        let names = (1...40).map { "host\($0).example.com" }
        let resolver = ScriptedResolver(hosts: Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, ["192.0.2.\($0 + 1)"]) }), delay: 0.2)
        let started = Date()
        let (summary, _) = run(names, configuration: configuration { $0.resolutionConcurrency = 40 }, resolver: resolver)
        XCTAssertEqual(summary.targets, 40)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "40 lookups of 0.2 s each run side by side, not one after another (8 s)")
    }

    func testJSONObjectsCarryEveryTopLevelKey() {
        let (_, sink) = run(["192.0.2.1:25", "bad host!"], configuration: configuration())
        for result in sink.all {
            for object in result.objects {
                guard case .object(let members) = JSONReport.value(for: object) else { return XCTFail() }
                XCTAssertEqual(Set(members.keys), Set(JSONReport.topLevelKeys), result.input)
                XCTAssertEqual(members["schemaVersion"], .int(2))
                XCTAssertEqual(members["input"], .string(result.input))
                XCTAssertEqual(members["checkedAt"], .string("2027-01-15T08:00:00Z"))
            }
        }
    }
}
