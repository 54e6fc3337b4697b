import Foundation
import XCTest
@testable import MXCheckCore

/// Hand-built schema-version-2 objects, one per kind of outcome, for the monitoring renderers' tests.
enum MonitoringFixtures {
    static func finding(_ id: String, _ severity: String, _ message: String, fix: String = "") -> JSONValue {
        .object(["id": .string(id), "severity": .string(severity), "message": .string(message), "fix": .string(fix)])
    }

    /// An endpoint object with every top-level key; nil arguments stay JSON null.
    static func endpoint(
        input: String, host: String, address: String?, port: Int?, status: String, score: Int?,
        daysRemaining: Int? = nil, notAfter: String? = nil, tls: (String, String, String?)? = nil,
        findings: [JSONValue] = [], totalMs: Double? = nil, connections: Int? = nil,
        checkedAt: String? = "2026-12-01T20:00:00Z", banner: String? = nil, domain: String? = nil, mxHost: String? = nil
    ) -> JSONValue {
        var certificate = JSONValue.null
        if let daysRemaining, let notAfter {
            certificate = .object(["daysRemaining": .int(daysRemaining), "notAfter": .string(notAfter), "subject": .string("CN=\(host)")])
        }
        let object: [String: JSONValue] = [
            "schemaVersion": .int(2), "input": .string(input), "checkedAt": JSONValue(checkedAt), "mxcheckVersion": .string("0.2.0"),
            "target": .object(["host": .string(host), "address": JSONValue(address), "port": JSONValue(port), "tls": .string("starttls")]),
            "status": .string(status), "score": JSONValue(score),
            "smtp": banner.map { .object(["banner": .string($0), "ehloCapabilities": .array([]), "starttlsOffered": .bool(true)]) } ?? .null,
            "tls": tls.map { .object(["version": .string($0.0), "cipher": .string($0.1), "group": JSONValue($0.2)]) } ?? .null,
            "certificate": certificate,
            "findings": .array(findings),
            "timings": totalMs.map { .object(["totalMs": .double($0)]) } ?? .null,
            "connections": JSONValue(connections),
            "domain": JSONValue(domain),
            "mx": mxHost.map { .object(["host": .string($0), "preference": .int(10)]) } ?? .null,
        ]
        return .object(object)
    }

    static let ok = endpoint(
        input: "mx.example.com", host: "mx.example.com", address: "192.0.2.1", port: 25, status: "ok", score: 100,
        daysRemaining: 37, notAfter: "2026-12-30T00:00:00Z", tls: ("TLSv1.3", "TLS_AES_256_GCM_SHA384", "x25519"),
        findings: [finding("dane.not_signed", "info", "the MX host's addresses are not DNSSEC-signed")],
        totalMs: 41.2, connections: 2, banner: "220 mx.example.com ESMTP Postfix")

    static let warning = endpoint(
        input: "legacy.example.com:587", host: "legacy.example.com", address: "192.0.2.2", port: 587, status: "warning", score: 80,
        daysRemaining: 10, notAfter: "2026-12-11T06:30:00Z", tls: ("TLSv1.0", "ECDHE-RSA-AES256-SHA", nil),
        findings: [
            finding("tls.legacy_protocol", "warning", "TLSv1.0 negotiated", fix: "Postfix: smtpd_tls_protocols = >=TLSv1.2"),
            finding("cert.expiring", "warning", "the certificate expires in 10 days", fix: "renew the certificate"),
            finding("tls.legacy_protocol", "warning", "TLSv1.1 accepted", fix: "Postfix: smtpd_tls_protocols = >=TLSv1.2"),
        ],
        totalMs: 1234.5678, connections: 3, banner: "220 legacy.example.com ESMTP")

    /// A server-controlled message carrying `|`, a quote and a line break: none may escape its place in the output.
    static let critical = endpoint(
        input: "[2001:db8::25]:25", host: "2001:db8::25", address: "2001:db8::25", port: 25, status: "critical", score: 0,
        daysRemaining: -3, notAfter: "2026-11-28T12:00:00Z", tls: ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "secp256r1"),
        findings: [
            finding("cert.cn_only", "warning", "the name matched only the CN"),
            finding("cert.expired", "critical", "the certificate expired on 2026-11-28T12:00:00Z | \"CN=x\"\nnext line", fix: "renew it | now"),
        ],
        totalMs: 87.0, connections: 2, banner: "220 [2001:db8::25] ESMTP")

    static let unknown = endpoint(
        input: "nowhere.example", host: "nowhere.example", address: nil, port: 25, status: "unknown", score: nil,
        findings: [finding("dns.host_unresolved", "unknown", "nowhere.example: no such name", fix: "check the name")],
        totalMs: 3.25, connections: 0)

    /// An input line that does not parse: target null, its input the only name it has.
    static let invalid: JSONValue = .object([
        "schemaVersion": .int(2), "input": .string("bad'in=put \\ \"x\""), "checkedAt": .string("2026-12-01T20:00:00Z"),
        "mxcheckVersion": .string("0.2.0"), "target": .null, "status": .string("unknown"), "score": .null, "smtp": .null,
        "tls": .null, "certificate": .null, "findings": .array([finding("input.invalid", "unknown", "not a target: bad'in=put")]),
        "timings": .null, "connections": .int(0), "domain": .null, "mx": .null,
    ])

    /// --mx: two domains sharing one MX endpoint, so only the domain tells their labels apart.
    static func domainEndpoint(_ domain: String, host: String, address: String, status: String, score: Int, days: Int) -> JSONValue {
        endpoint(
            input: domain, host: host, address: address, port: 25, status: status, score: score, daysRemaining: days,
            notAfter: "2026-12-30T00:00:00Z", tls: ("TLSv1.3", "TLS_AES_128_GCM_SHA256", "X25519MLKEM768"),
            findings: status == "ok" ? [] : [finding("dane.mismatch", "critical", "no TLSA record matches", fix: "publish 3 1 1 abcd")],
            totalMs: 12.5, connections: 1, banner: "220 \(host) ESMTP", domain: domain, mxHost: host)
    }

    static let domainRun: [JSONValue] = [
        domainEndpoint("example.com", host: "mx1.example.com", address: "192.0.2.10", status: "ok", score: 100, days: 37),
        domainEndpoint("example.com", host: "mx2.example.com", address: "2001:db8::10", status: "critical", score: 40, days: 37),
        domainEndpoint("example.net", host: "mx1.example.com", address: "192.0.2.10", status: "ok", score: 100, days: 37),
    ]

    /// Reads a field of a hand-built object by a dotted path, for comparing output with its source.
    static func field(_ object: JSONValue, _ path: String) -> JSONValue {
        var current = object
        for key in path.split(separator: ".") {
            guard case .object(let members) = current else { return .null }
            current = members[String(key)] ?? .null
        }
        return current
    }

    static func number(_ object: JSONValue, _ path: String) -> Double? {
        switch field(object, path) {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    static func string(_ object: JSONValue, _ path: String) -> String? {
        if case .string(let value) = field(object, path) { return value }
        return nil
    }
}

/// Runs a program with a hard time bound: posix_spawn and files rather than Foundation's Process, whose exit
/// notification was seen to hang on this machine.
enum BoundedCommand {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The first of `candidates` that is an executable file, searched on PATH.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"])
            .map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ arguments: [String], stdin: String = "", timeout: Double = 60) -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-unit-\(getpid())-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inPath = directory.appendingPathComponent("in").path
        let outPath = directory.appendingPathComponent("out").path
        let errPath = directory.appendingPathComponent("err").path
        _ = FileManager.default.createFile(atPath: inPath, contents: Data(stdin.utf8))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { return Result(status: -1, stdout: "", stderr: "cannot run \(arguments[0])") }
        let started = Date()
        var status: Int32 = 0
        var exitStatus: Int32 = -1
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                break
            }
            if reaped < 0 && errno != EINTR { break }
            if Date().timeIntervalSince(started) > timeout {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                exitStatus = 128 + SIGKILL
                break
            }
            usleep(2_000)
        }
        let read = { (path: String) in FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        return Result(status: exitStatus, stdout: read(outPath), stderr: read(errPath))
    }
}
