import FoundationEssentials
import Glibc

/// How TLS starts on a connection.
public enum TLSMode: String, Sendable, CaseIterable {
    case auto
    case starttls
    case implicit

    /// The concrete mode for a port: `auto` means implicit TLS on 465, STARTTLS elsewhere.
    public func resolved(forPort port: UInt16) -> TLSMode {
        guard self == .auto else { return self }
        return port == 465 ? .implicit : .starttls
    }
}

/// A target as the user wrote it: a host name or an IP literal, and a port.
public struct Target: Sendable, Equatable, CustomStringConvertible {
    public enum Host: Sendable, Equatable {
        case name(String)
        case ipv4(String)
        case ipv6(String)
    }

    public var host: Host
    public var port: UInt16

    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// The host as written, without brackets and without an absolute name's trailing dot.
    public var hostText: String {
        switch host {
        case .name(let name): return name.hasSuffix(".") ? String(name.dropLast()) : name
        case .ipv4(let address), .ipv6(let address): return address
        }
    }

    public var isIPLiteral: Bool {
        if case .name = host { return false }
        return true
    }

    public var description: String {
        if case .ipv6 = host { return "[\(hostText)]:\(port)" }
        return "\(hostText):\(port)"
    }
}

public enum TargetError: Error, Equatable, CustomStringConvertible {
    case empty
    case invalidPort(String)
    case invalidHost(String)
    case unbalancedBracket(String)

    public var description: String {
        switch self {
        case .empty:
            return "empty target: give a host name or an IP address, optionally with :PORT"
        case .invalidPort(let text):
            return "invalid port '\(text)': use a number from 1 to 65535"
        case .invalidHost(let text):
            return "invalid host '\(text)': use a host name (letters, digits, '-', '.'), an IPv4 address or an IPv6 address in brackets"
        case .unbalancedBracket(let text):
            return "invalid target '\(text)': an IPv6 address with a port is written [2001:db8::1]:25"
        }
    }
}

extension Target {
    /// Parses `host`, `host:port`, `192.0.2.1[:port]`, `[2001:db8::1][:port]` and bare `2001:db8::1`.
    public static func parse(_ raw: String, defaultPort: UInt16 = 25) throws(TargetError) -> Target {
        let text = raw.trimmingBlanks()
        guard !text.isEmpty else { throw .empty }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .unbalancedBracket(text) }
            let inner = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard IPAddressText.isIPv6(inner) else { throw .invalidHost(inner) }
            var port = defaultPort
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw .unbalancedBracket(text) }
                port = try parsePort(String(rest.dropFirst()))
            }
            return Target(host: .ipv6(IPAddressText.canonical(inner) ?? inner), port: port)
        }
        let colons = text.filter { $0 == ":" }.count
        if colons > 1 {
            guard IPAddressText.isIPv6(text) else { throw .invalidHost(text) }
            return Target(host: .ipv6(IPAddressText.canonical(text) ?? text), port: defaultPort)
        }
        var hostPart = text
        var port = defaultPort
        if colons == 1, let colon = text.firstIndex(of: ":") {
            hostPart = String(text[..<colon])
            port = try parsePort(String(text[text.index(after: colon)...]))
        }
        if IPAddressText.isIPv4(hostPart) {
            return Target(host: .ipv4(hostPart), port: port)
        }
        guard isValidHostName(hostPart) else { throw .invalidHost(hostPart) }
        return Target(host: .name(hostPart.lowercased()), port: port)
    }

    static func parsePort(_ text: String) throws(TargetError) -> UInt16 {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int(text), value >= 1, value <= 65535
        else { throw .invalidPort(text) }
        return UInt16(value)
    }

    /// Letters, digits, hyphens and underscores in dot-separated labels of 1 to 63 characters;
    /// a final dot (absolute name) is allowed; an all-numeric last label is not (it would be a bad IPv4 address).
    static func isValidHostName(_ name: String) -> Bool {
        var body = Substring(name)
        if body.hasSuffix(".") { body = body.dropLast() }
        guard !body.isEmpty, body.utf8.count <= 253 else { return false }
        let labels = body.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.utf8.count), !label.hasPrefix("-"), !label.hasSuffix("-") else { return false }
            guard label.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F
            }) else { return false }
        }
        if let last = labels.last, last.allSatisfy({ $0.isNumber }) { return false }
        return true
    }
}

/// Textual IP address checks and canonical forms, through inet_pton/inet_ntop.
public enum IPAddressText {
    public static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    public static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// The canonical text of an IPv4 or IPv6 address (`2001:DB8:0::1` becomes `2001:db8::1`), or nil.
    public static func canonical(_ text: String) -> String? {
        if let bytes = bytes(of: text) { return Self.text(of: bytes) }
        return nil
    }

    /// The 4 or 16 address bytes, or nil when the text is no IP address.
    public static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    public static func text(of bytes: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
