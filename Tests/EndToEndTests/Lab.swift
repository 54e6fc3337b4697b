import Foundation
import XCTest

/// The local test lab (Tests/Lab/lab.sh): a private Postfix with one smtpd per case, scripted odd
/// servers, and a generated PKI. Started once for the whole test run and stopped when it ends.
final class Lab: @unchecked Sendable {
    struct Case {
        var address: String
        var port: Int
        var tls: String

        /// The target as the command line takes it.
        var target: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }
    }

    let stateDirectory: String
    let rootCA: String
    let serverName: String
    let cases: [String: Case]
    private let owned: Bool

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: Result<Lab, LabError>?

    struct LabError: Error, CustomStringConvertible {
        var description: String
    }

    /// The running lab: the one named by MXCHECK_LAB_CASES, or one this test run starts.
    static func shared() throws -> Lab {
        try lock.withLock {
            if let started { return try started.get() }
            let result = Result { () throws(LabError) -> Lab in try start() }
            started = result
            return try result.get()
        }
    }

    private static func start() throws(LabError) -> Lab {
        if let existing = ProcessInfo.processInfo.environment["MXCHECK_LAB_CASES"], !existing.isEmpty {
            return try load(casesFile: existing, owned: false)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-lab-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        let run = Command.run(["/bin/bash", "\(packageRoot)/Tests/Lab/lab.sh", "start", directory], timeout: 120)
        guard run.status == 0 else {
            _ = Command.run(["/bin/bash", "\(packageRoot)/Tests/Lab/lab.sh", "stop", directory], timeout: 60)
            throw LabError(description: "the test lab did not start (exit \(run.status)):\n\(run.stderr)\n\(run.stdout)")
        }
        let lab = try load(casesFile: "\(directory)/cases.json", owned: true)
        BundleTeardown.register { lab.stop() }
        return lab
    }

    private static func load(casesFile: String, owned: Bool) throws(LabError) -> Lab {
        guard let data = FileManager.default.contents(atPath: casesFile),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let stateDirectory = json["stateDir"] as? String, let rootCA = json["rootCA"] as? String,
              let rawCases = json["cases"] as? [String: [String: Any]]
        else { throw LabError(description: "cannot read the lab's cases from \(casesFile)") }
        var cases: [String: Case] = [:]
        for (name, entry) in rawCases {
            guard let address = entry["address"] as? String, let port = entry["port"] as? Int else { continue }
            cases[name] = Case(address: address, port: port, tls: entry["tls"] as? String ?? "starttls")
        }
        return Lab(stateDirectory: stateDirectory, rootCA: rootCA, serverName: json["name"] as? String ?? "mx.lab.example", cases: cases, owned: owned)
    }

    private init(stateDirectory: String, rootCA: String, serverName: String, cases: [String: Case], owned: Bool) {
        self.stateDirectory = stateDirectory
        self.rootCA = rootCA
        self.serverName = serverName
        self.cases = cases
        self.owned = owned
    }

    func `case`(_ name: String) throws -> Case {
        guard let found = cases[name] else { throw LabError(description: "the lab has no case '\(name)' (has: \(cases.keys.sorted().joined(separator: ", ")))") }
        return found
    }

    /// A log file's text. Decoded leniently: a server logs whatever bytes a client sent (a ClientHello sent to a
    /// plain port, say), and one byte that is not UTF-8 must not hide the whole log.
    static func text(of path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Every command line the scripted servers received, as (mode, line).
    func oddServerCommands() -> [(String, String)] {
        let text = Self.text(of: "\(stateDirectory)/odd-commands.log")
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }

    /// Every command line Postfix logged from a client ("< client: VERB ..."), via debug_peer_list.
    func postfixCommands() -> [String] {
        let text = Self.text(of: "\(stateDirectory)/postfix/maillog")
        return text.split(separator: "\n").compactMap { line in
            guard let marker = line.range(of: "]: < ") else { return nil }
            let rest = line[marker.upperBound...]
            guard let colon = rest.range(of: ": ") else { return nil }
            return String(rest[colon.upperBound...])
        }
    }

    /// How many connections the smtpd services logged under `mxcheck-lab/NAME` so far.
    func postfixConnections(service: String) -> Int {
        let text = Self.text(of: "\(stateDirectory)/postfix/maillog")
        return text.split(separator: "\n").filter { $0.contains("mxcheck-lab/\(service)/smtpd[") && $0.contains("]: connect from ") }.count
    }

    /// For failure messages: how large the Postfix log is and how it ends.
    func postfixLogSummary() -> String {
        let text = Self.text(of: "\(stateDirectory)/postfix/maillog")
        let lines = text.split(separator: "\n")
        return "maillog: \(lines.count) lines; last: \(lines.suffix(3).joined(separator: " | "))"
    }

    func stop() {
        guard owned else { return }
        _ = Command.run(["/bin/bash", "\(Lab.packageRoot)/Tests/Lab/lab.sh", "stop", stateDirectory], timeout: 60)
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }
}

/// Runs a closure when the test bundle finishes: how the labs stop after the last test.
final class BundleTeardown: NSObject, XCTestObservation, @unchecked Sendable {
    private let action: () -> Void

    private init(_ action: @escaping () -> Void) {
        self.action = action
    }

    static func register(_ action: @escaping () -> Void) {
        let observer = BundleTeardown(action)
        if Thread.isMainThread {
            XCTestObservationCenter.shared.addTestObserver(observer)
        } else {
            DispatchQueue.main.sync { XCTestObservationCenter.shared.addTestObserver(observer) }
        }
    }

    func testBundleDidFinish(_ testBundle: Bundle) {
        action()
    }
}

/// A finished process: exit status, output, and how long it took.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var seconds: Double
    /// Peak resident memory of the process, in KB (wait4's ru_maxrss).
    var maxRSSKilobytes: Int = 0
}

enum Command {
    /// Runs a program with a hard time bound (killed past `timeout`). Output goes to temporary files, not
    /// pipes, so daemons the program leaves behind cannot hold the test up; posix_spawn and waitpid rather
    /// than Foundation's Process, whose exit notification was seen to hang here.
    static func run(_ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil, timeout: Double = 60) -> CommandResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-run-\(getpid())-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inPath = directory.appendingPathComponent("in").path
        let outPath = directory.appendingPathComponent("out").path
        let errPath = directory.appendingPathComponent("err").path
        FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a timeout kills whatever it started too.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let environmentStrings = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environmentStrings.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let started = Date()
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, &envp)
        guard spawned == 0 else {
            return CommandResult(status: -1, stdout: "", stderr: "cannot run \(arguments[0]): \(String(cString: strerror(spawned)))", seconds: 0)
        }
        var status: Int32 = 0
        var exitStatus: Int32 = -1
        var usage = rusage()
        while true {
            let reaped = wait4(pid, &status, WNOHANG, &usage)
            if reaped == pid {
                // WIFEXITED / WEXITSTATUS, WTERMSIG spelled out: the C macros are not imported.
                exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                break
            }
            if reaped < 0 && errno != EINTR { break }
            if Date().timeIntervalSince(started) > timeout {
                kill(-pid, SIGKILL)
                _ = wait4(pid, &status, 0, &usage)
                exitStatus = 128 + SIGKILL
                break
            }
            usleep(2_000)
        }
        let seconds = Date().timeIntervalSince(started)
        let out = FileManager.default.contents(atPath: outPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let err = FileManager.default.contents(atPath: errPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return CommandResult(status: exitStatus, stdout: out, stderr: err, seconds: seconds, maxRSSKilobytes: Int(usage.ru_maxrss))
    }
}
