import Foundation
import XCTest

/// Runs the built mxcheck binary and reads what a user or a script would see.
class EndToEndTestCase: XCTestCase {
    /// The binary under test: MXCHECK_BIN, or the one built next to this test bundle.
    static let binary: String = {
        if let override = ProcessInfo.processInfo.environment["MXCHECK_BIN"], !override.isEmpty { return override }
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mxcheck").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            let candidate = bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("mxcheck").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "\(Lab.packageRoot)/.build/debug/mxcheck"
    }()

    var lab: Lab!

    override func setUpWithError() throws {
        try super.setUpWithError()
        lab = try Lab.shared()
    }

    /// Set by `make sanitize` (address or thread): the binary is slower and larger, so time and memory
    /// bounds get headroom, and the binary's own sanitizer options come from MXCHECK_ASAN_OPTIONS.
    static let sanitizer = ProcessInfo.processInfo.environment["MXCHECK_SANITIZER"] ?? ""

    /// Seconds of slack on time bounds: none for a normal build.
    static var sanitizerSlack: Double { sanitizer.isEmpty ? 0 : 2 }

    /// The environment without colour hints, so output is what a script gets.
    func plainEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let options = environment["MXCHECK_ASAN_OPTIONS"] { environment["ASAN_OPTIONS"] = options }
        environment["NO_COLOR"] = nil
        environment["TERM"] = "dumb"
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    @discardableResult
    func mxcheck(_ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil, timeout: Double = 90) -> CommandResult {
        Command.run([Self.binary] + arguments, environment: environment ?? plainEnvironment(), stdin: stdin, timeout: timeout)
    }

    /// Runs mxcheck and measures its own peak memory, in KB. wait4's figure for a process posix_spawn started
    /// can include the test runner's own pages, so a small forking wrapper starts it and reports its child's.
    func mxcheckMeasuringMemory(_ arguments: [String], timeout: Double = 90) -> (CommandResult, Int) {
        let wrapper = """
            import os, resource, sys
            pid = os.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            _, status = os.waitpid(pid, 0)
            sys.stderr.write("peak-rss-kb %d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let result = Command.run(["/usr/bin/env", "python3", "-c", wrapper, Self.binary] + arguments, environment: plainEnvironment(), timeout: timeout)
        let line = result.stderr.split(separator: "\n").last { $0.hasPrefix("peak-rss-kb ") }
        return (result, line.flatMap { Int($0.dropFirst("peak-rss-kb ".count)) } ?? Int.max)
    }

    /// Checks one lab case as JSON; returns the exit status and the single JSON object.
    func check(_ caseName: String, _ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> (Int32, [String: Any]) {
        let target = try lab.case(caseName)
        var arguments = ["smtp", "--json", "--ca-file", lab.rootCA, "--timeout", "10"]
        if target.tls == "implicit" { arguments += ["--tls", "implicit"] }
        arguments += extra + [target.target]
        let result = mxcheck(arguments)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one JSON document for one endpoint; stdout: \(result.stdout) stderr: \(result.stderr)", file: file, line: line)
        guard let first = lines.first, let object = try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any] else {
            XCTFail("no JSON object on stdout: \(result.stdout)\nstderr: \(result.stderr)", file: file, line: line)
            return (result.status, [:])
        }
        return (result.status, object)
    }

    /// The one JSON object a single-endpoint run printed.
    func object(_ result: CommandResult, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        guard let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            XCTFail("no JSON object on stdout: \(result.stdout)\nstderr: \(result.stderr)", file: file, line: line)
            return [:]
        }
        return parsed
    }

    func findingIDs(_ object: [String: Any]) -> [String] {
        ((object["findings"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }.sorted()
    }

    func finding(_ id: String, in object: [String: Any]) -> [String: Any]? {
        ((object["findings"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == id }
    }

    func field(_ object: [String: Any], _ path: String) -> Any? {
        var current: Any? = object
        for key in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(key)]
        }
        return current
    }
}
