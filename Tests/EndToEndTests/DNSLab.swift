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
        let run = Command.run(["/bin/bash", script, "start", directory], timeout: 60)
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
        return DNSLab(stateDirectory: stateDirectory, resolver: resolver, port: port, domains: domains, owned: owned)
    }

    private init(stateDirectory: String, resolver: String, port: Int, domains: [String: String], owned: Bool) {
        self.stateDirectory = stateDirectory
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
