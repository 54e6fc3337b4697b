/// An MTA-STS policy (RFC 8461 §3.2) as served at `https://mta-sts.<domain>/.well-known/mta-sts.txt`.
public struct MTASTSPolicy: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable {
        case enforce, testing, none
    }

    public var version: String
    public var mode: Mode
    /// Seconds, 0 to 31557600.
    public var maxAge: Int
    /// The `mx` patterns in order (`*.example.com` or a host name).
    public var mx: [String]

    public init(version: String = "STSv1", mode: Mode, maxAge: Int, mx: [String]) {
        self.version = version
        self.mode = mode
        self.maxAge = maxAge
        self.mx = mx
    }

    /// RFC 8461 §3.2: at most about a year.
    public static let maximumMaxAge = 31_557_600
    /// Under a day a sender refetches so often that an outage of the policy host soon lifts the policy.
    public static let shortMaxAge = 86_400

    /// Parses the body. Lines end in LF or CRLF; for every key but `mx` the first occurrence wins; unknown
    /// keys are ignored; `mx` is required unless the mode is `none`.
    public static func parse(_ body: [UInt8]) -> Result<MTASTSPolicy, MTASTSPolicyError> {
        var version: String?
        var mode: String?
        var maxAge: String?
        var mx: [String] = []
        var lineNumber = 0
        for rawLine in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine[...]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            guard line.allSatisfy({ $0 == 0x09 || (0x20...0x7E).contains($0) }) else {
                return .failure(.notText(line: lineNumber))
            }
            let text = String(decoding: line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { return .failure(.lineWithoutColon(line: lineNumber)) }
            let key = text[..<colon].trimmingSpaces
            let value = String(text[text.index(after: colon)...].trimmingSpaces)
            switch key {
            case "version": if version == nil { version = value }
            case "mode": if mode == nil { mode = value }
            case "max_age": if maxAge == nil { maxAge = value }
            case "mx": mx.append(value)
            default: break
            }
        }
        guard let version else { return .failure(.missing("version")) }
        guard version == "STSv1" else { return .failure(.badVersion(short(version))) }
        guard let modeText = mode else { return .failure(.missing("mode")) }
        guard let parsedMode = Mode(rawValue: modeText) else { return .failure(.badMode(short(modeText))) }
        guard let maxAgeText = maxAge else { return .failure(.missing("max_age")) }
        guard (1...10).contains(maxAgeText.utf8.count), maxAgeText.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let seconds = Int(maxAgeText), seconds <= maximumMaxAge
        else { return .failure(.badMaxAge(short(maxAgeText))) }
        if parsedMode != .none && mx.isEmpty { return .failure(.noMX(mode: parsedMode)) }
        for pattern in mx where !MXPattern.isWellFormed(pattern) {
            return .failure(.badMX(short(pattern)))
        }
        return .success(MTASTSPolicy(version: version, mode: parsedMode, maxAge: seconds, mx: mx))
    }

    static func short(_ text: String) -> String {
        text.count > 64 ? String(text.prefix(64)) + "..." : text
    }

    /// Whether an MX host is covered by one of the policy's patterns.
    public func covers(mxHost host: String) -> Bool {
        mx.contains { MXPattern.matches(pattern: $0, host: host) }
    }
}

/// Why a policy body is not a valid policy.
public enum MTASTSPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    case notText(line: Int)
    case lineWithoutColon(line: Int)
    case missing(String)
    case badVersion(String)
    case badMode(String)
    case badMaxAge(String)
    case noMX(mode: MTASTSPolicy.Mode)
    case badMX(String)

    public var description: String {
        switch self {
        case .notText(let line): return "line \(line) holds bytes that are not printable ASCII"
        case .lineWithoutColon(let line): return "line \(line) is not 'key: value'"
        case .missing(let key): return "no '\(key)' line"
        case .badVersion(let value): return "version '\(value)' is not STSv1"
        case .badMode(let value): return "mode '\(value)' is none of enforce, testing, none"
        case .badMaxAge(let value): return "max_age '\(value)' is not a number of seconds from 0 to \(MTASTSPolicy.maximumMaxAge)"
        case .noMX(let mode): return "no 'mx' line in mode \(mode.rawValue)"
        case .badMX(let value): return "mx '\(value)' is not a host name or '*.' and a domain"
        }
    }
}

/// RFC 8461 §4.1: `mx` patterns against MX host names.
public enum MXPattern {
    /// Case-insensitive, a trailing dot ignored; `*.` stands for exactly one left-most label.
    public static func matches(pattern: String, host: String) -> Bool {
        let pattern = normalized(pattern)
        let host = normalized(host)
        guard !pattern.isEmpty, !host.isEmpty else { return false }
        if pattern.hasPrefix("*.") {
            let suffix = pattern.dropFirst(1)  // ".example.com"
            guard suffix.count > 1, host.hasSuffix(suffix) else { return false }
            let label = host.dropLast(suffix.count)
            return !label.isEmpty && !label.contains(".")
        }
        return pattern == host
    }

    static func normalized(_ name: String) -> String {
        var name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }

    /// A host name or `*.` and a domain: labels of letters, digits and hyphens (and underscores, seen in the wild).
    public static func isWellFormed(_ pattern: String) -> Bool {
        var name = normalized(pattern)
        if name.hasPrefix("*.") { name.removeFirst(2) }
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count)
                && label.utf8.allSatisfy { MTASTSRecord.isLetterOrDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        }
    }
}
