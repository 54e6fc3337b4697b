import Foundation
import XCTest
@testable import MXCheckCore

/// A ClientHello read back from its bytes, strictly: every length must add up (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2).
struct ParsedClientHello {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var recordType: UInt8
    var recordVersion: UInt16
    var handshakeType: UInt8
    var clientVersion: UInt16
    var random: [UInt8]
    var sessionID: [UInt8]
    var suites: [UInt16]
    var compression: [UInt8]
    /// nil: the hello has no extensions block at all (SSLv3).
    var extensions: [(type: UInt16, data: [UInt8])]?

    func ext(_ type: UInt16) -> [UInt8]? { extensions?.first { $0.type == type }?.data }

    var extensionTypes: [UInt16] { extensions?.map(\.type) ?? [] }

    var supportedVersions: [UInt16] {
        guard let data = ext(43), let first = data.first, Int(first) == data.count - 1 else { return [] }
        return stride(from: 1, to: data.count - 1, by: 2).map { UInt16(data[$0]) << 8 | UInt16(data[$0 + 1]) }
    }

    var groups: [UInt16] {
        guard let data = ext(10), data.count >= 2 else { return [] }
        return stride(from: 2, to: data.count - 1, by: 2).map { UInt16(data[$0]) << 8 | UInt16(data[$0 + 1]) }
    }

    var signatureAlgorithms: [UInt16] {
        guard let data = ext(13), data.count >= 2 else { return [] }
        return stride(from: 2, to: data.count - 1, by: 2).map { UInt16(data[$0]) << 8 | UInt16(data[$0 + 1]) }
    }

    var keyShares: [(group: UInt16, key: [UInt8])] {
        guard let data = ext(51), data.count >= 2 else { return [] }
        var shares: [(UInt16, [UInt8])] = []
        var index = 2
        while index + 4 <= data.count {
            let group = UInt16(data[index]) << 8 | UInt16(data[index + 1])
            let length = Int(data[index + 2]) << 8 | Int(data[index + 3])
            guard index + 4 + length <= data.count else { break }
            shares.append((group, Array(data[(index + 4)..<(index + 4 + length)])))
            index += 4 + length
        }
        return shares
    }

    var serverName: String? {
        guard let data = ext(0), data.count >= 5 else { return nil }
        return String(decoding: data[5...], as: UTF8.self)
    }

    /// The highest version offered: supported_versions when present, else client_version.
    var maximumVersion: UInt16 { supportedVersions.max() ?? clientVersion }

    init(_ bytes: [UInt8]) throws {
        var reader = TestReader(bytes)
        recordType = try reader.u8()
        recordVersion = try reader.u16()
        let recordLength = Int(try reader.u16())
        guard reader.remaining == recordLength else { throw Failure(description: "record length \(recordLength), \(reader.remaining) bytes follow") }
        handshakeType = try reader.u8()
        let length = Int(try reader.u24())
        guard reader.remaining == length else { throw Failure(description: "handshake length \(length), \(reader.remaining) bytes follow") }
        clientVersion = try reader.u16()
        random = try reader.take(32)
        sessionID = try reader.take(Int(try reader.u8()))
        let suitesLength = Int(try reader.u16())
        guard suitesLength % 2 == 0 else { throw Failure(description: "odd cipher_suites length") }
        let suiteBytes = try reader.take(suitesLength)
        suites = stride(from: 0, to: suiteBytes.count, by: 2).map { UInt16(suiteBytes[$0]) << 8 | UInt16(suiteBytes[$0 + 1]) }
        compression = try reader.take(Int(try reader.u8()))
        if reader.remaining == 0 {
            extensions = nil
            return
        }
        let total = Int(try reader.u16())
        guard reader.remaining == total else { throw Failure(description: "extensions length \(total), \(reader.remaining) bytes follow") }
        var list: [(UInt16, [UInt8])] = []
        while reader.remaining > 0 {
            let type = try reader.u16()
            list.append((type, try reader.take(Int(try reader.u16()))))
        }
        extensions = list
    }
}

struct TestReader {
    private var bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws -> UInt8 { try take(1)[0] }
    mutating func u16() throws -> UInt16 {
        let b = try take(2)
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }

    mutating func u24() throws -> UInt32 {
        let b = try take(3)
        return UInt32(b[0]) << 16 | UInt32(b[1]) << 8 | UInt32(b[2])
    }

    mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, remaining >= count else { throw ParsedClientHello.Failure(description: "needs \(count) bytes, \(remaining) left") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }
}

/// Server flights as bytes, for the parser and the simulated server.
enum ServerBytes {
    static func record(_ type: UInt8, _ payload: [UInt8], version: UInt16 = 0x0303) -> [UInt8] {
        [type, UInt8(version >> 8), UInt8(version & 0xFF), UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
    }

    static func handshake(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
        [type, UInt8(body.count >> 16), UInt8((body.count >> 8) & 0xFF), UInt8(body.count & 0xFF)] + body
    }

    static func alert(_ code: UInt8, level: UInt8 = 2, version: UInt16 = 0x0303) -> [UInt8] { record(21, [level, code], version: version) }

    static func serverHelloBody(
        version: UInt16, random: [UInt8] = [UInt8](repeating: 0x5A, count: 32), suite: UInt16, sessionID: [UInt8] = [],
        extensions: [(UInt16, [UInt8])] = []
    ) -> [UInt8] {
        var body = [UInt8(version >> 8), UInt8(version & 0xFF)] + random + [UInt8(sessionID.count)] + sessionID
        body += [UInt8(suite >> 8), UInt8(suite & 0xFF), 0]
        if !extensions.isEmpty {
            var list: [UInt8] = []
            for (type, data) in extensions {
                list += [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
            }
            body += [UInt8(list.count >> 8), UInt8(list.count & 0xFF)] + list
        }
        return body
    }

    /// TLS 1.3 ServerHello (or HelloRetryRequest) with supported_versions and key_share.
    static func tls13Hello(suite: UInt16, group: UInt16, retry: Bool) -> [UInt8] {
        let share: [UInt8] = retry ? [UInt8(group >> 8), UInt8(group & 0xFF)]
            : [UInt8(group >> 8), UInt8(group & 0xFF), 0, 32] + [UInt8](repeating: 9, count: 32)
        let body = serverHelloBody(
            version: 0x0303, random: retry ? ServerHello.helloRetryRequestRandom : [UInt8](repeating: 0x42, count: 32),
            suite: suite, sessionID: [UInt8](repeating: 1, count: 32), extensions: [(43, [3, 4]), (51, share)])
        return record(22, handshake(2, body)) + record(20, [1])
    }

    static func ecdheKeyExchange(curve: UInt16) -> [UInt8] {
        [3, UInt8(curve >> 8), UInt8(curve & 0xFF), 65, 4] + [UInt8](repeating: 7, count: 64) + [4, 1, 0, 2, 0xAB, 0xCD]
    }

    static func dheKeyExchange(bits: Int) -> [UInt8] {
        let bytes = (bits + 7) / 8
        var prime = [UInt8](repeating: 0xFF, count: bytes)
        prime[0] = UInt8(0xFF >> (bytes * 8 - bits))
        return dheKeyExchange(prime: prime)
    }

    /// ServerDHParams (p, g = 2, Ys) and a signature.
    static func dheKeyExchange(prime: [UInt8]) -> [UInt8] {
        let bytes = prime.count
        return [UInt8(bytes >> 8), UInt8(bytes & 0xFF)] + prime + [0, 1, 2] + [UInt8(bytes >> 8), UInt8(bytes & 0xFF)] + [UInt8](repeating: 3, count: bytes)
    }

    /// ServerHello, a certificate of `certificateSize` bytes, an optional ServerKeyExchange, ServerHelloDone.
    static func tls12Flight(version: UInt16, suite: UInt16, keyExchange: [UInt8]?, certificateSize: Int = 1200) -> [UInt8] {
        var messages = handshake(2, serverHelloBody(version: version, suite: suite))
        let certificate = [UInt8](repeating: 0x30, count: certificateSize)
        let entry = [UInt8(certificate.count >> 16), UInt8((certificate.count >> 8) & 0xFF), UInt8(certificate.count & 0xFF)] + certificate
        messages += handshake(11, [UInt8(entry.count >> 16), UInt8((entry.count >> 8) & 0xFF), UInt8(entry.count & 0xFF)] + entry)
        if let keyExchange { messages += handshake(12, keyExchange) }
        messages += handshake(14, [])
        // Split into records of at most 16 KB, as a server does.
        var out: [UInt8] = []
        var index = 0
        while index < messages.count {
            let end = min(messages.count, index + 16_384)
            out += record(22, Array(messages[index..<end]), version: version)
            index = end
        }
        return out
    }

    static func sslv2ServerHello(kinds: [UInt32], certificateSize: Int = 300) -> [UInt8] {
        var body: [UInt8] = [4, 0, 1, 0, 2]
        body += [UInt8(certificateSize >> 8), UInt8(certificateSize & 0xFF)]
        body += [UInt8((kinds.count * 3) >> 8), UInt8((kinds.count * 3) & 0xFF), 0, 16]
        body += [UInt8](repeating: 0x30, count: certificateSize)
        for kind in kinds { body += [UInt8(kind >> 16), UInt8((kind >> 8) & 0xFF), UInt8(kind & 0xFF)] }
        body += [UInt8](repeating: 0xEE, count: 16)
        return [0x80 | UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
    }
}

/// A simulated server behind the probe transport: it reads each ClientHello and answers like a TLS stack
/// configured by `Config`, in bytes that go through the real answer parser.
final class SimulatedServer: ProbeTransport, @unchecked Sendable {
    struct Config {
        /// Accepted suites per version, in the server's preference order.
        var suites: [ProtocolVersion: [String]] = [:]
        var serverOrder = false
        /// Groups for TLS 1.3, in preference order.
        var groups13: [String] = []
        /// Curves for ECDHE below TLS 1.3, in preference order.
        var curves: [String] = []
        var dhBits = 2048
        /// The server's own DH prime (instead of one of `dhBits` bits), e.g. an RFC 7919 prime it uses whatever is offered.
        var dhPrime: [UInt8]?
        /// RFC 7919 groups the server negotiates below TLS 1.3, in preference order, with their primes.
        var ffdhe12: [(name: String, prime: [UInt8])] = []
        /// The record version of its alerts (GnuTLS refuses old hellos in a record marked 0xFEFD).
        var alertRecordVersion: UInt16 = 0x0303
        /// Shared SSLv2 cipher kinds answered in SERVER-HELLO.
        var sslv2: [String] = []
        /// Close without an alert instead of refusing with one.
        var silentRefusals = false
        /// Hellos with more suites than this meet silence (a middlebox dropping large hellos).
        var dropsHellosAbove: Int?
        /// Every connection after this many is answered 421 at the greeting.
        var rateLimitAfter: Int?
        var secondsPerConnection = 0.0
    }

    let config: Config
    private let lock = NSLock()
    private var count = 0
    private var open = 0
    private var mostOpen = 0
    private var startTimes: [Double] = []
    private(set) var hellos: [[UInt8]] = []

    init(_ config: Config) {
        self.config = config
    }

    var connections: Int { lock.withLock { count } }
    var mostAtOnce: Int { lock.withLock { mostOpen } }
    var starts: [Double] { lock.withLock { startTimes } }
    var allHellos: [[UInt8]] { lock.withLock { hellos } }

    func exchange(_ hello: [UInt8], keyExchange: Bool) throws(DialogFailure) -> ProbeReply {
        let number = lock.withLock { () -> Int in
            count += 1
            open += 1
            mostOpen = max(mostOpen, open)
            startTimes.append(Date().timeIntervalSinceReferenceDate)
            hellos.append(hello)
            return count
        }
        defer { lock.withLock { open -= 1 } }
        if config.secondsPerConnection > 0 { Thread.sleep(forTimeInterval: config.secondsPerConnection) }
        if let limit = config.rateLimitAfter, number > limit {
            throw .rateLimited(SMTPReply(code: 421, lines: ["4.7.0 Too many connections"]), phase: "the connection")
        }
        let answer = respond(to: hello)
        guard !answer.isEmpty else { return .closed }
        // Delivered in odd-sized pieces, as TCP may.
        var offset = 0
        return SMTPProbeTransport.readAnswer(keyExchange: keyExchange) { maximum in
            guard offset < answer.count else { return [] }
            let end = min(answer.count, offset + min(maximum, 700))
            defer { offset = end }
            return Array(answer[offset..<end])
        }
    }

    private func refuse(_ code: UInt8) -> [UInt8] { config.silentRefusals ? [] : ServerBytes.alert(code, version: config.alertRecordVersion) }

    private func respond(to hello: [UInt8]) -> [UInt8] {
        if let first = hello.first, first & 0x80 != 0 { return respondSSLv2(hello) }
        guard let parsed = try? ParsedClientHello(hello) else { return ServerBytes.alert(50) }
        if let limit = config.dropsHellosAbove, parsed.suites.count > limit { return [] }
        let supported = config.suites.filter { !$0.value.isEmpty }.map(\.key).filter { $0 != .sslv2 }
        // A server without TLS 1.3 ignores supported_versions and reads legacy_version.
        let ceiling = supported.contains(.tls13) ? parsed.maximumVersion : parsed.clientVersion
        guard let version = supported.filter({ $0.wireValue <= ceiling }).max() else { return refuse(70) }
        let mine = (config.suites[version] ?? []).compactMap { CipherSuite.named($0) }.map { UInt16(truncatingIfNeeded: $0.code) }
        let curve = pick(config.curves.compactMap { NamedGroup.named($0)?.code }, parsed.groups)
        // RFC 7919 §4: offered FFDHE groups bind a server that knows them; no common one rules DHE out.
        let offeredFFDHE = parsed.groups.filter { (0x0100...0x01FF).contains($0) }
        let negotiatesFFDHE = !config.ffdhe12.isEmpty && !offeredFFDHE.isEmpty
        let ffdhe = pick(config.ffdhe12.compactMap { NamedGroup.named($0.name)?.code }, offeredFFDHE)
        let usable = mine.filter { code in
            guard let suite = CipherSuite.tls(code: code) else { return false }
            if version != .tls13 && suite.keyExchange == .dhe && negotiatesFFDHE { return ffdhe != nil }
            return version == .tls13 || (suite.keyExchange != .ecdhe && suite.keyExchange != .ecdhePSK) || curve != nil
        }
        guard let suite = pick(usable, parsed.suites) else { return refuse(negotiatesFFDHE && ffdhe == nil ? 71 : 40) }
        if version == .tls13 {
            let groups = config.groups13.compactMap { NamedGroup.named($0)?.code }
            if let share = parsed.keyShares.first(where: { groups.contains($0.group) }) {
                return ServerBytes.tls13Hello(suite: suite, group: share.group, retry: false)
            }
            guard let group = pick(groups, parsed.groups) else { return refuse(40) }
            return ServerBytes.tls13Hello(suite: suite, group: group, retry: true)
        }
        var keyExchange: [UInt8]?
        switch CipherSuite.tls(code: suite)?.keyExchange {
        case .ecdhe: keyExchange = curve.map { ServerBytes.ecdheKeyExchange(curve: $0) }
        case .dhe:
            if negotiatesFFDHE, let code = ffdhe, let chosen = config.ffdhe12.first(where: { NamedGroup.named($0.name)?.code == code }) {
                keyExchange = ServerBytes.dheKeyExchange(prime: chosen.prime)
            } else {
                keyExchange = config.dhPrime.map(ServerBytes.dheKeyExchange(prime:)) ?? ServerBytes.dheKeyExchange(bits: config.dhBits)
            }
        default: keyExchange = nil
        }
        return ServerBytes.tls12Flight(version: version.wireValue, suite: suite, keyExchange: keyExchange)
    }

    /// The server's choice: by its own order, or by the client's.
    private func pick(_ mine: [UInt16], _ offered: [UInt16]) -> UInt16? {
        config.serverOrder ? mine.first { offered.contains($0) } : offered.first { mine.contains($0) }
    }

    private func respondSSLv2(_ hello: [UInt8]) -> [UInt8] {
        guard !config.sslv2.isEmpty, hello.count > 11 else { return ServerBytes.alert(70) }
        let specsLength = Int(hello[5]) << 8 | Int(hello[6])
        let specs = Array(hello[11..<min(hello.count, 11 + specsLength)])
        var offered: [UInt32] = []
        for index in stride(from: 0, to: specs.count - 2, by: 3) {
            let high = UInt32(specs[index]) << 16
            let middle = UInt32(specs[index + 1]) << 8
            offered.append(high | middle | UInt32(specs[index + 2]))
        }
        let mine = config.sslv2.compactMap { name in CipherSuite.all.first { $0.isSSLv2 && $0.name == name }?.code }
        return ServerBytes.sslv2ServerHello(kinds: mine.filter(offered.contains))
    }
}

extension Prober {
    /// A prober on a simulated server, with short back-off pauses and fixed randomness.
    static func simulated(_ server: SimulatedServer, ciphers: Bool = true, perHost: Int = 2, delay: Int = 0, backoff: [Double] = [0.01, 0.02, 0.04]) -> Prober {
        Prober(
            settings: ProbeSettings(ciphers: ciphers, timeout: 5, perHost: perHost, delayMilliseconds: delay, backoffSeconds: backoff),
            transport: server, serverName: "mx.example.com", randomBytes: { [UInt8](repeating: 0xA5, count: $0) })
    }
}

/// The RFC 7919 primes, from the openssl CLI (`genpkey -genparam`: PEM of PKCS#3 DER, SEQUENCE { p, g }).
enum FFDHEPrimes {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func prime(_ group: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:\(group)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let pem = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("openssl cannot make \(group) parameters") }
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let decoded = Data(base64Encoded: body) else { throw Failure(description: "no PEM from openssl") }
        let der = Array(decoded)
        var reader = TestReader(der)
        func length() throws -> Int {
            let first = try reader.u8()
            guard first & 0x80 != 0 else { return Int(first) }
            return try reader.take(Int(first & 0x7F)).reduce(0) { $0 << 8 | Int($1) }
        }
        guard try reader.u8() == 0x30 else { throw Failure(description: "no SEQUENCE") }
        _ = try length()
        guard try reader.u8() == 0x02 else { throw Failure(description: "no INTEGER") }
        let prime = try reader.take(try length())
        return Array(prime.drop { $0 == 0 })
    }
}
