import Foundation
import XCTest

/// The DNS test lab (Tests/Lab/dns.sh): an authoritative nsd for lab.example. on a free loopback port.
/// Started once for the whole test run and stopped when the bundle finishes.
final class DNSLab: @unchecked Sendable {
    let stateDirectory: String
    /// libunbound's form, `127.0.0.1@PORT`.
    let resolver: String
    let port: Int
    /// Domain → what it is for, as dns.sh describes it.
    let domains: [String: String]
    /// Where the zone puts the MTA-STS policy hosts (`mta-sts.<site>`): an address of 127.0.9.0/24 whose port 443
    /// was free when the lab started, so two test runs side by side do not share it (Tests/Lab/mtasts_zone.sh).
    let policyAddress: String
    private let owned: Bool

    struct LabError: Error, CustomStringConvertible {
        var description: String
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: Result<DNSLab, LabError>?

    private static var script: String { "\(Lab.packageRoot)/Tests/Lab/dns.sh" }

    /// The running DNS lab: the one whose dns.json MXCHECK_DNS_LAB names, or one this test run starts.
    static func shared() throws -> DNSLab {
        try lock.withLock {
            if let started { return try started.get() }
            let result = Result { () throws(LabError) -> DNSLab in try start() }
            started = result
            return try result.get()
        }
    }

    private static func start() throws(LabError) -> DNSLab {
        if let existing = ProcessInfo.processInfo.environment["MXCHECK_DNS_LAB"], !existing.isEmpty {
            return try load(existing, owned: false)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-dns-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        let policyAddress = try freePolicyAddress()
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(directory)/policy-address", contents: Data(policyAddress.utf8))
        let run = Command.run(["/usr/bin/env", "MXCHECK_POLICY_ADDRESS=\(policyAddress)", "/bin/bash", script, "start", directory], timeout: 60)
        guard run.status == 0 else {
            _ = Command.run(["/bin/bash", script, "stop", directory], timeout: 30)
            throw LabError(description: "the DNS lab did not start (exit \(run.status)):\n\(run.stderr)\n\(run.stdout)")
        }
        let lab = try load("\(directory)/dns.json", owned: true)
        BundleTeardown.register { lab.stop() }
        return lab
    }

    private static func load(_ path: String, owned: Bool) throws(LabError) -> DNSLab {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let resolver = json["resolver"] as? String, let port = json["port"] as? Int,
              let stateDirectory = json["stateDir"] as? String, let domains = json["domains"] as? [String: String]
        else { throw LabError(description: "cannot read the DNS lab's description from \(path)") }
        let recorded = (try? String(contentsOfFile: "\(stateDirectory)/policy-address", encoding: .utf8)) ?? ""
        let policyAddress = recorded.isEmpty ? "127.0.9.1" : recorded
        return DNSLab(stateDirectory: stateDirectory, resolver: resolver, port: port, domains: domains, policyAddress: policyAddress, owned: owned)
    }

    private init(stateDirectory: String, resolver: String, port: Int, domains: [String: String], policyAddress: String, owned: Bool) {
        self.stateDirectory = stateDirectory
        self.policyAddress = policyAddress
        self.resolver = resolver
        self.port = port
        self.domains = domains
        self.owned = owned
    }

    func stop() {
        guard owned else { return }
        _ = Command.run(["/bin/bash", Self.script, "stop", stateDirectory], timeout: 30)
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    /// A 127.0.9.N (N 3-250; 2 is the zone's address that refuses) whose TCP port 443 can be bound now, tried
    /// from an N of this process's own: the policy server binds it only later, so two runs must not start alike.
    static func freePolicyAddress() throws(LabError) -> String {
        let first = Int(getpid()) % 248
        for step in 0..<248 {
            let candidate = "127.0.9.\(3 + (first + step) % 248)"
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw LabError(description: "socket: \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(443).bigEndian
            address.sin_addr.s_addr = inet_addr(candidate)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if bound { return candidate }
        }
        throw LabError(description: "no address of 127.0.9.0/24 has port 443 free for the MTA-STS policy server")
    }

    /// A UDP port on 127.0.0.1 with nothing behind it: bound once by the kernel's choice, then released.
    static func silentPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw LabError(description: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw LabError(description: "cannot bind a UDP port on 127.0.0.1: \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }
}
