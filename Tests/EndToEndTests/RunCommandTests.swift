import Foundation
import XCTest

/// A helper server the suite starts for one test (slowsmtp.py, slowdns.py): its first stdout line is a JSON
/// description; stopped (its process group killed) when the test ends.
final class BackgroundServer {
    let pid: pid_t
    let description: [String: Any]
    private let directory: URL

    init(_ arguments: [String], readyWithin seconds: Double = 20) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-bg-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let out = directory.appendingPathComponent("out").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, directory.appendingPathComponent("err").path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard status == 0 else { throw Lab.LabError(description: "cannot start \(arguments[0])") }
        self.pid = pid
        let until = Date().addingTimeInterval(seconds)
        var found: [String: Any]?
        while Date() < until {
            let text = Lab.text(of: out)
            if let line = text.split(separator: "\n").first, let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                found = object
                break
            }
            usleep(20_000)
        }
        guard let found else {
            kill(-pid, SIGKILL)
            throw Lab.LabError(description: "\(arguments.joined(separator: " ")) did not start: \(Lab.text(of: directory.appendingPathComponent("err").path))")
        }
        description = found
    }

    func stop() {
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A process of mxcheck left running so the test can signal it.
final class RunningCommand {
    let pid: pid_t

    init(_ arguments: [String], environment: [String: String], stdout: String, stderr: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, nil, &argv, &envp) == 0 else { throw Lab.LabError(description: "cannot run \(arguments[0])") }
        self.pid = pid
    }

    /// The exit status (128 + signal for a killed process), or nil past `seconds`.
    func wait(seconds: Double) -> Int32? {
        let until = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < until {
            if waitpid(pid, &status, WNOHANG) == pid {
                return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return nil
    }
}

/// Batches through the binary: shards under GNU parallel, a SIGTERM and --resume, --deadline, a slow resolver,
/// the open-file limit.
final class RunCommandTests: EndToEndTestCase {
    var servers: [BackgroundServer] = []
    var directory: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-run-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        servers.forEach { $0.stop() }
        servers = []
        try? FileManager.default.removeItem(at: directory)
        super.tearDown()
    }

    /// `count` SMTP listeners on 127.0.0.1 that greet after `delay` seconds and offer no STARTTLS.
    func slowSMTP(count: Int, delay: Double, code: Int = 220) throws -> [Int] {
        let server = try BackgroundServer([
            "/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/slowsmtp.py", "--address", "127.0.0.1", "--count", String(count),
            "--delay", String(delay), "--code", String(code),
        ])
        servers.append(server)
        return server.description["ports"] as? [Int] ?? []
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func objects(inFile file: String) -> [[String: Any]] {
        Lab.text(of: file).split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func testShardsUnderGNUParallelCoverEveryTargetExactlyOnce() throws {
        let ports = try slowSMTP(count: 30, delay: 0)
        let lines = ports.map { "127.0.0.1:\($0)" } + ["not a target!", "# a comment", "127.0.0.1:\(ports[0])   # repeated"]
        try (lines.joined(separator: "\n") + "\n").write(toFile: path("targets.txt"), atomically: true, encoding: .utf8)

        // The command of docs/scale.md, as it is written there.
        let doc = Lab.text(of: "\(Lab.packageRoot)/docs/scale.md")
        let marker = try XCTUnwrap(doc.range(of: "<!-- parallel-example"))
        let fenceStart = try XCTUnwrap(doc.range(of: "```\n", range: marker.upperBound..<doc.endIndex))
        let fenceEnd = try XCTUnwrap(doc.range(of: "```", range: fenceStart.upperBound..<doc.endIndex))
        let script = String(doc[fenceStart.upperBound..<fenceEnd.lowerBound])
        XCTAssertTrue(script.contains("parallel"), script)
        let binDirectory = URL(fileURLWithPath: Self.binary).deletingLastPathComponent().path
        var environment = plainEnvironment()
        environment["PATH"] = "\(binDirectory):\(environment["PATH"] ?? "/usr/bin:/bin")"
        environment["HOME"] = directory.path
        let sharded = Command.run(["/bin/bash", "-c", "cd '\(directory.path)' && \(script)"], environment: environment, timeout: 120)
        XCTAssertTrue(sharded.status == 0 || sharded.status <= 4, "parallel's status counts shards with findings: \(sharded.stderr)")
        for shard in 1...4 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path("results-\(shard).jsonl")), "shard \(shard) wrote its file: \(sharded.stderr)")
        }

        let full = mxcheck(["smtp", "--json", "--input", path("targets.txt")])
        let fullObjects = full.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let merged = objects(inFile: path("results.jsonl"))
        XCTAssertEqual(fullObjects.count, 31, "30 endpoints and the invalid line; the repeat answered once")
        let key = { (object: [String: Any]) in "\(object["input"] as? String ?? "?") \(object["status"] as? String ?? "?")" }
        XCTAssertEqual(merged.map(key).sorted(), fullObjects.map(key).sorted(), "the shards together give exactly the objects of one full run")
        XCTAssertEqual(Set(merged.compactMap { $0["input"] as? String }).count, merged.count, "each target once")
    }

    func testSIGTERMThenResumeAnswersEveryTargetExactlyOnce() throws {
        let ports = try slowSMTP(count: 40, delay: 0.3)
        let inputs = ports.map { "127.0.0.1:\($0)" } + ["not a target!"]
        try (inputs.joined(separator: "\n") + "\n").write(toFile: path("targets.txt"), atomically: true, encoding: .utf8)
        let output = path("results.jsonl")
        let arguments = [Self.binary, "smtp", "--json", "--concurrency", "4", "--per-host", "8", "--timeout", "10",
                         "--input", path("targets.txt"), "--output", output, "--resume", output]
        let first = try RunningCommand(arguments, environment: plainEnvironment(), stdout: path("out1"), stderr: path("err1"))
        let until = Date().addingTimeInterval(20)
        while objects(inFile: output).count < 6 && Date() < until { usleep(20_000) }
        XCTAssertGreaterThanOrEqual(objects(inFile: output).count, 6, "the run wrote results as it went")
        kill(first.pid, SIGTERM)
        XCTAssertEqual(first.wait(seconds: 5), 143, "SIGTERM: exit 143, within a second or so")
        let stderr = Lab.text(of: path("err1"))
        XCTAssertTrue(stderr.contains("interrupted") && stderr.contains("--resume"), stderr)
        let afterKill = Lab.text(of: output)
        XCTAssertTrue(afterKill.hasSuffix("\n"), "no partial line")
        let done = objects(inFile: output).count
        XCTAssertLessThan(done, inputs.count, "the run was stopped part-way")
        XCTAssertTrue(stderr.contains("\(done) target"), stderr)

        // A line cut off by a harder kill is dropped and its target checked again.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: output))
        handle.seekToEndOfFile()
        handle.write(Data("{\"input\":\"127.0.0.1:\(ports.last!)\",\"sta".utf8))
        handle.closeFile()

        let second = mxcheck(Array(arguments.dropFirst()), timeout: 60)
        XCTAssertEqual(second.status, 2, "the resumed run's exit code covers the targets read back too: \(second.stderr)")
        let all = objects(inFile: output)
        XCTAssertEqual(Lab.text(of: output).split(separator: "\n").count, all.count, "every line is a whole object")
        XCTAssertEqual(all.compactMap { $0["input"] as? String }.sorted(), inputs.sorted(), "every target answered exactly once")
    }

    func testDeadlineAnswersEveryTarget() throws {
        let ports = try slowSMTP(count: 3, delay: 30)
        let started = Date()
        let result = mxcheck(["smtp", "--json", "--deadline", "1", "--timeout", "20"] + ports.map { "127.0.0.1:\($0)" })
        XCTAssertLessThan(Date().timeIntervalSince(started), 5 + Self.sanitizerSlack, "checks in flight end at the deadline")
        XCTAssertEqual(result.status, 3)
        let objects = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(objects.count, 3)
        XCTAssertTrue(objects.allSatisfy { findingIDs($0) == ["run.deadline"] }, result.stdout)
        XCTAssertTrue(objects.allSatisfy { $0["score"] is NSNull })
        XCTAssertTrue(result.stderr.contains("--deadline"), result.stderr)
    }

    func testASlowResolverDoesNotSerialiseABatch() throws {
        let ports = try slowSMTP(count: 4, delay: 0)
        let dns = try BackgroundServer(["/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/slowdns.py", "--delay", "0.3", "--stats", path("dns-stats")])
        servers.append(dns)
        let dnsPort = try XCTUnwrap(dns.description["port"] as? Int)
        let targets = (1...200).map { "t\($0).slow.example:\(ports[$0 % ports.count])" }
        try (targets.joined(separator: "\n") + "\n").write(toFile: path("targets.txt"), atomically: true, encoding: .utf8)
        let started = Date()
        let result = mxcheck(["smtp", "--json", "--resolver", "127.0.0.1:\(dnsPort)", "--per-host", "8", "--input", path("targets.txt")], timeout: 120)
        let seconds = Date().timeIntervalSince(started)
        let objects = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(objects.count, 200, result.stderr)
        XCTAssertTrue(objects.allSatisfy { findingIDs($0) == ["starttls.missing"] }, "every name resolved through the slow resolver")
        let stats = Lab.text(of: path("dns-stats"))
        let inFlight = stats.split(separator: "\n").first { $0.hasPrefix("max_in_flight ") }.flatMap { Int($0.dropFirst("max_in_flight ".count)) } ?? 0
        XCTAssertGreaterThanOrEqual(inFlight, 16, "lookups run side by side: \(stats)")
        XCTAssertLessThan(seconds, 30, "one after another, 200 lookups of 0.3 s would take 60 s")
    }

    func testConcurrencyIsLoweredToTheOpenFileLimitAndALocalFailureIsNoServerFinding() throws {
        let ports = try slowSMTP(count: 2, delay: 0)
        let lowered = Command.run(["/usr/bin/prlimit", "--nofile=256:256", Self.binary, "smtp", "--json", "--concurrency", "10000"] + ports.map { "127.0.0.1:\($0)" },
                                  environment: plainEnvironment())
        XCTAssertTrue(lowered.stderr.contains("--concurrency 10000 needs about"), lowered.stderr)
        XCTAssertTrue(lowered.stderr.contains("the limit is 256"), lowered.stderr)
        XCTAssertEqual(lowered.stdout.split(separator: "\n").count, 2)
        XCTAssertTrue(lowered.stdout.contains("starttls.missing"), lowered.stdout)

        // Four descriptors: stdin, stdout, stderr and the --output file; the socket cannot be had. Whatever the
        // test runner left open is closed first, so the limit is exact. The trust store's loader thread may hold
        // the fourth for a moment while the output file is opened (then mxcheck says so and exits 3): a few tries.
        let exec = "import os, resource, sys; os.closerange(3, 65536); resource.setrlimit(resource.RLIMIT_NOFILE, (4, 4)); os.execv(sys.argv[1], sys.argv[1:])"
        var written: [String: Any]?
        for attempt in 1...5 where written == nil {
            let file = path("starved-\(attempt).jsonl")
            // LeakSanitizer needs descriptors of its own at exit: not in a process starved of them.
            let starved = Command.run(["/usr/bin/env", "python3", "-c", exec, Self.binary, "smtp", "--json", "--output", file, "127.0.0.1:\(ports[0])"],
                                      environment: plainEnvironment(["ASAN_OPTIONS": "detect_leaks=0"]))
            XCTAssertEqual(starved.status, 3, Lab.text(of: file) + starved.stderr)
            written = objects(inFile: file).first
            if written == nil { XCTAssertTrue(starved.stderr.contains("--output"), "no object only when the output file itself could not be opened: \(starved.stderr)") }
        }
        let object = try XCTUnwrap(written, "five tries, and the output file could never be opened")
        XCTAssertEqual(findingIDs(object), ["run.local_error"])
        XCTAssertTrue(object["score"] is NSNull)
    }

    func testA421ServerSeesOneConnectionFromABasicCheck() throws {
        let server = try BackgroundServer([
            "/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/slowsmtp.py", "--address", "127.0.0.1", "--count", "1",
            "--delay", "0.2", "--code", "421", "--log", path("log421"),
        ])
        servers.append(server)
        let port = try XCTUnwrap((server.description["ports"] as? [Int])?.first)
        let result = mxcheck(["smtp", "--json", "127.0.0.1:\(port)"])
        XCTAssertEqual(result.status, 3)
        XCTAssertEqual(findingIDs(try object(result)), ["smtp.rate_limited"])
        usleep(300_000)
        XCTAssertEqual(Lab.text(of: path("log421")), "connections 1\n", "the injection probe waits for a 220 greeting")
    }
}
