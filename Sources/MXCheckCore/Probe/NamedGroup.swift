import CMXCheckShims

/// A TLS named group (supported_groups / key_share codepoint).
public struct NamedGroup: Sendable, Hashable, CustomStringConvertible {
    public let code: UInt16
    /// The IANA registry's name: x25519, secp256r1, ffdhe2048, X25519MLKEM768...
    public let name: String

    init(_ code: UInt16, _ name: String) {
        self.code = code
        self.name = name
    }

    public var description: String { name }

    public var isFiniteField: Bool { (0x0100...0x01FF).contains(code) }

    /// Groups an ECDHE suite of TLS 1.2 and earlier can use (RFC 8422 curves, brainpool r1).
    public var isClassicECDHE: Bool { code < 0x001F }

    /// The post-quantum hybrids of draft-ietf-tls-ecdhe-mlkem and the ML-KEM groups: TLS 1.3 only.
    public var isPostQuantum: Bool { (0x0200...0x02FF).contains(code) || (0x11EB...0x11ED).contains(code) }

    /// Length of a client's key_share public value, where the group fixes it. The hybrids concatenate an
    /// ML-KEM encapsulation key (768: 1184 bytes, 1024: 1568) with an ECDH share: X25519MLKEM768 puts
    /// ML-KEM first and x25519 LAST; SecP256r1MLKEM768 and SecP384r1MLKEM1024 put the EC point FIRST.
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
        case "X25519MLKEM768": return 1184 + 32
        case "SecP256r1MLKEM768": return 65 + 1184
        case "SecP384r1MLKEM1024": return 97 + 1568
        case "MLKEM512": return 800
        case "MLKEM768": return 1184
        case "MLKEM1024": return 1568
        default: return nil
        }
    }

    public static func code(_ code: UInt16) -> NamedGroup? { byCode[code] }

    public static func named(_ name: String) -> NamedGroup? { all.first { $0.name == name } }

    private static let byCode: [UInt16: NamedGroup] = Dictionary(all.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })

    // MARK: OpenSSL's names

    /// The entry for a group as OpenSSL names it: its TLS group name (`x25519`, `secp256r1`, `ffdhe2048`,
    /// `X25519MLKEM768`), an object short name (`X25519`, `prime256v1`) or a NIST curve name (`P-256`).
    /// A scan of the table: a basic check asks once, and a dictionary would cost more to build than that.
    public static func openSSL(_ name: String) -> NamedGroup? {
        let key = name.lowercased()
        let iana = ianaName(openSSLAlias: key) ?? key
        return all.first { $0.name.lowercased() == iana }
    }

    /// The IANA name (lower case) of an OpenSSL name that is not the IANA name in another case.
    private static func ianaName(openSSLAlias name: String) -> String? {
        switch name {
        case "prime256v1", "p-256": return "secp256r1"
        case "prime192v1", "p-192": return "secp192r1"
        case "p-224": return "secp224r1"
        case "p-384": return "secp384r1"
        case "p-521": return "secp521r1"
        case "sm2": return "curvesm2"
        default: return nil
        }
    }

    // MARK: RFC 7919 primes

    /// The RFC 7919 group whose prime is `prime` (big-endian, leading zero bytes ignored), or nil.
    public static func rfc7919(prime: some Collection<UInt8>) -> NamedGroup? {
        let significant = Array(prime.drop { $0 == 0 })
        guard let name = rfc7919PrimeDigests[significant.count] else { return nil }
        var digest = [UInt8](repeating: 0, count: 32)
        guard significant.withUnsafeBufferPointer({ CMXCheckShims_sha256($0.baseAddress, $0.count, &digest) }) == 1 else { return nil }
        let hex = HexText.encode(digest)
        guard hex == name.digest else { return nil }
        return named(name.group)
    }

    /// SHA-256 of each RFC 7919 prime (RFC 7919 Appendix A), by its length in bytes. The primes are long;
    /// their digests identify them. A unit test recomputes them from `openssl genpkey -genparam`.
    static let rfc7919PrimeDigests: [Int: (group: String, digest: String)] = [
        256: ("ffdhe2048", "9cd3b7f336872f46c09428d1bbc19877a4d440512cda8d1c1cf0cd6e33698966"),
        384: ("ffdhe3072", "0eaf67db3a839156d5013494a5318a772b5697d270d721f37f092efc69ea5a17"),
        512: ("ffdhe4096", "4648414224ac881b3d0dc59b466f96d06a558278776807797ecf1f66ff397b3e"),
        768: ("ffdhe6144", "227ac9066b3ddd9e193670cda2388fa884f65ba0cf98b742d1fe77a6687c79c7"),
        1024: ("ffdhe8192", "770b14efaf6f049929c523113b3fa99a8d11dab1b18af3609590122075d19833"),
    ]
}

/// The key-exchange group of a handshake or a probe, spelled as the report writes it (`tls.group`, `groups`).
public enum KeyExchangeGroup: Sendable, Hashable, CustomStringConvertible {
    /// A group of the IANA TLS Supported Groups registry.
    case named(NamedGroup)
    /// A finite-field group the server chose outside RFC 7919 (TLS 1.2 and earlier DHE): `dh<bits>`.
    case customFiniteField(bits: Int)
    /// A name OpenSSL gave that the table does not hold, kept as OpenSSL spelled it.
    case unlisted(String)

    /// A finite-field DHE group from its prime: the RFC 7919 group it is, else `dh<bits>`.
    public init(finiteFieldPrime prime: some Collection<UInt8>) {
        if let group = NamedGroup.rfc7919(prime: prime) {
            self = .named(group)
        } else {
            let significant = Array(prime.drop { $0 == 0 })
            self = .customFiniteField(bits: significant.first.map { significant.count * 8 - $0.leadingZeroBitCount } ?? 0)
        }
    }

    /// A group as OpenSSL names it (see `NamedGroup.openSSL`).
    public init(openSSLName name: String) {
        self = NamedGroup.openSSL(name).map(KeyExchangeGroup.named) ?? .unlisted(name)
    }

    /// Reads the report's own spelling back: an IANA name or `dh<bits>`.
    public init?(name: String) {
        if let group = NamedGroup.named(name) {
            self = .named(group)
        } else if name.hasPrefix("dh"), let bits = Int(name.dropFirst(2)), bits > 0 {
            self = .customFiniteField(bits: bits)
        } else {
            return nil
        }
    }

    public var name: String {
        switch self {
        case .named(let group): return group.name
        case .customFiniteField(let bits): return "dh\(bits)"
        case .unlisted(let name): return name
        }
    }

    public var description: String { name }

    public var isFiniteField: Bool {
        switch self {
        case .named(let group): return group.isFiniteField
        case .customFiniteField: return true
        case .unlisted: return false
        }
    }

    /// One of the RFC 7919 groups (ffdhe2048 ... ffdhe8192).
    public var isRFC7919: Bool {
        if case .named(let group) = self { return group.isFiniteField }
        return false
    }
}
