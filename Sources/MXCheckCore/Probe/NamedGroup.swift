/// A TLS named group (supported_groups / key_share codepoint).
public struct NamedGroup: Sendable, Hashable, CustomStringConvertible {
    public let code: UInt16
    /// The IANA registry's name: x25519, secp256r1, ffdhe2048...
    public let name: String

    init(_ code: UInt16, _ name: String) {
        self.code = code
        self.name = name
    }

    public var description: String { name }

    public var isFiniteField: Bool { (0x0100...0x01FF).contains(code) }

    /// Groups an ECDHE suite of TLS 1.2 and earlier can use (RFC 8422 curves, brainpool r1).
    public var isClassicECDHE: Bool { code < 0x001F }

    /// Length of a key_share public value: fixed for the groups mxcheck puts in key_share.
    public var keyShareLength: Int? {
        switch name {
        case "x25519": return 32
        case "x448": return 56
        case "secp256r1", "brainpoolP256r1tls13": return 65
        case "secp384r1", "brainpoolP384r1tls13": return 97
        case "secp521r1": return 133
        case "brainpoolP512r1tls13": return 129
        case "ffdhe2048": return 256
        case "ffdhe3072": return 384
        case "ffdhe4096": return 512
        case "ffdhe6144": return 768
        case "ffdhe8192": return 1024
        default: return nil
        }
    }

    public static func code(_ code: UInt16) -> NamedGroup? { byCode[code] }

    public static func named(_ name: String) -> NamedGroup? { all.first { $0.name == name } }

    private static let byCode: [UInt16: NamedGroup] = Dictionary(all.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
}
