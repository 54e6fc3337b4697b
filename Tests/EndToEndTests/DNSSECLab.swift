import Foundation
import XCTest

/// The DNSSEC and DANE test lab (Tests/Lab/dnssec.sh): signed zones under example. served by nsd, a loopback
/// unbound doing iteration only, a second nsd serving the same zones unsigned, the DS of example. as trust
/// anchor, and a private Postfix with one smtpd per MX host (127.0.3.N, one port). Started once for the whole
/// test run and stopped when the bundle finishes.
final class DNSSECLab: @unchecked Sendable {
    /// What dnssec.json says a DANE check of a case should find.
    struct Expectation: Decodable {
        var status: String
        var mxDnssec: String?
        var daneDnssec: String?
        var matchedDepth: Int?
        var findings: [String]
        var perMX: [String: String]?
    }

    struct MXEntry: Decodable {
        var host: String
        var preference: Int
    }

    struct Case: Decodable {
        var what: String
        var domain: String
        var mx: [MXEntry]
        /// The first MX host's SMTP server (nil where the host has none of its own and none is shared).
        var address: String?
        /// The chain its server sends (a file STATE/pki/CHAIN.chain.pem); nil: the MX host is another case's.
        var chain: String?
        var tlsaName: String
        /// The TLSA records in presentation form, "3 1 1 hex".
        var tlsaRecords: [String]
        var cname: String?
        var expect: Expectation

        var host: String { mx[0].host }
    }

    private struct Description: Decodable {
        var stateDir: String
        var resolver: String
        var authoritative: String
        var stripped: String
        var trustAnchor: String
        var rootCA: String
        var smtpPort: Int
        var smtpServer: String?
        var setupSeconds: Double
        var cases: [String: Case]
    }

    let stateDirectory: String
    /// The validating-free unbound, libunbound's form `127.0.0.1@PORT`.
    let resolver: String
    /// The signed zones' nsd itself (authoritative only: does not follow delegations).
    let authoritative: String
    /// An nsd serving the same zones unsigned: a resolver that strips DNSSEC records.
    let stripped: String
    /// The DS of example. in zone-file format.
    let trustAnchor: String
    let rootCA: String
    let smtpPort: Int
    /// "postfix", or nil when the lab runs without SMTP servers (DNSSEC_LAB_SMTP=0).
    let smtpServer: String?
    let setupSeconds: Double
    let cases: [String: Case]
    private let owned: Bool

    struct LabError: Error, CustomStringConvertible {
        var description: String
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: Result<DNSSECLab, LabError>?

    private static var script: String { "\(Lab.packageRoot)/Tests/Lab/dnssec.sh" }

    /// The running DNSSEC lab: the one whose dnssec.json MXCHECK_DNSSEC_LAB names, or one this test run starts.
    static func shared() throws -> DNSSECLab {
        try lock.withLock {
            if let started { return try started.get() }
            let result = Result { () throws(LabError) -> DNSSECLab in try start() }
            started = result
            return try result.get()
        }
    }

    private static func start() throws(LabError) -> DNSSECLab {
        if let existing = ProcessInfo.processInfo.environment["MXCHECK_DNSSEC_LAB"], !existing.isEmpty {
            return try load(existing, owned: false)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-dnssec-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        // Without root there is no Postfix: the DNS-only tests still run.
        let environment = getuid() == 0 ? nil : ProcessInfo.processInfo.environment.merging(["DNSSEC_LAB_SMTP": "0"]) { $1 }
        let run = Command.run(["/bin/bash", script, "start", directory], environment: environment, timeout: 90)
        guard run.status == 0 else {
            _ = Command.run(["/bin/bash", script, "stop", directory], timeout: 60)
            throw LabError(description: "the DNSSEC lab did not start (exit \(run.status)):\n\(run.stderr)\n\(run.stdout)")
        }
        let lab = try load("\(directory)/dnssec.json", owned: true)
        BundleTeardown.register { lab.stop() }
        return lab
    }

    private static func load(_ path: String, owned: Bool) throws(LabError) -> DNSSECLab {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LabError(description: "cannot read the DNSSEC lab's description \(path)")
        }
        let description: Description
        do {
            description = try JSONDecoder().decode(Description.self, from: data)
        } catch {
            throw LabError(description: "cannot decode \(path): \(error)")
        }
        return DNSSECLab(description, owned: owned)
    }

    private init(_ description: Description, owned: Bool) {
        stateDirectory = description.stateDir
        resolver = description.resolver
        authoritative = description.authoritative
        stripped = description.stripped
        trustAnchor = description.trustAnchor
        rootCA = description.rootCA
        smtpPort = description.smtpPort
        smtpServer = description.smtpServer
        setupSeconds = description.setupSeconds
        cases = description.cases
        self.owned = owned
    }

    func `case`(_ key: String) throws -> Case {
        guard let found = cases[key] else { throw LabError(description: "dnssec.json has no case \(key)") }
        return found
    }

    /// The PEM file of the chain a case's server sends.
    func chainFile(_ chain: String) -> String { "\(stateDirectory)/pki/\(chain).chain.pem" }

    func stop() {
        guard owned else { return }
        _ = Command.run(["/bin/bash", Self.script, "stop", stateDirectory], timeout: 60)
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }
}
