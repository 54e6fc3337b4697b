/// A ClientHello as a probe sends it, built byte by byte: any version from SSLv2 to TLS 1.3 and any
/// suite list, including what OpenSSL 3 can no longer send. No key exchange ever follows it.
public struct ClientHello: Sendable, Equatable {
    /// A TLS 1.3 key_share entry.
    public struct KeyShare: Sendable, Equatable {
        public var group: NamedGroup
        public var publicKey: [UInt8]

        public init(group: NamedGroup, publicKey: [UInt8]) {
            self.group = group
            self.publicKey = publicKey
        }
    }

    /// The highest version offered: client_version up to TLS 1.2, supported_versions for TLS 1.3.
    public var version: ProtocolVersion
    /// SSLv2 cipher kinds for an SSLv2 hello, two-byte suites otherwise (SSLv2 kinds are then skipped).
    public var suites: [CipherSuite]
    /// SNI; nil or an IP literal sends none.
    public var serverName: String?
    /// supported_groups, TLS 1.0 and later; omitted when empty.
    public var groups: [NamedGroup]
    /// key_share entries (TLS 1.3). Empty is legal (RFC 8446 §4.2.8) and makes the server name its group in a HelloRetryRequest.
    public var keyShares: [KeyShare]
    /// 32 bytes; an SSLv2 hello sends the first 16 as its challenge.
    public var random: [UInt8]
    /// legacy_session_id (at most 32 bytes): TLS 1.3 hellos carry 32 random bytes (middlebox compatibility).
    public var sessionID: [UInt8]
    public var signatureAlgorithms: [UInt16]

    public init(
        version: ProtocolVersion, suites: [CipherSuite], serverName: String? = nil, groups: [NamedGroup] = [],
        keyShares: [KeyShare] = [], random: [UInt8], sessionID: [UInt8] = [],
        signatureAlgorithms: [UInt16] = ClientHello.allSignatureAlgorithms
    ) {
        self.version = version
        self.suites = suites
        self.serverName = serverName
        self.groups = groups
        self.keyShares = keyShares
        self.random = random
        self.sessionID = sessionID
        self.signatureAlgorithms = signatureAlgorithms
    }

    /// Every SignatureScheme a server might need for its certificate (RFC 8446 §4.2.3, RFC 5246 §7.4.1.4.1),
    /// strongest first, SHA-1 and DSA last.
    public static let allSignatureAlgorithms: [UInt16] = [
        0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x081A, 0x081B, 0x081C,
        0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B,
        0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0402, 0x0502, 0x0602, 0x0302,
        0x0203, 0x0201, 0x0202,
    ]

    public enum ExtensionType: UInt16, Sendable {
        case serverName = 0
        case supportedGroups = 10
        case ecPointFormats = 11
        case signatureAlgorithms = 13
        case padding = 21
        case supportedVersions = 43
        case pskKeyExchangeModes = 45
        case keyShare = 51
    }

    /// The bytes to write after the 220 to STARTTLS (or first, for implicit TLS).
    public func bytes() -> [UInt8] {
        version == .sslv2 ? sslv2Bytes() : tlsBytes()
    }

    /// SSLv2 CLIENT-HELLO with a two-byte record header (SSLv2 spec, "Client Only Protocol Messages").
    private func sslv2Bytes() -> [UInt8] {
        let kinds = suites.filter(\.isSSLv2)
        let challenge = Array(random.prefix(16))
        var body: [UInt8] = [1]  // MSG-CLIENT-HELLO
        body.appendUInt16(ProtocolVersion.sslv2.wireValue)
        body.appendUInt16(UInt16(kinds.count * 3))
        body.appendUInt16(0)  // no session id
        body.appendUInt16(UInt16(challenge.count))
        for kind in kinds {
            body += [UInt8(truncatingIfNeeded: kind.code >> 16), UInt8(truncatingIfNeeded: kind.code >> 8), UInt8(truncatingIfNeeded: kind.code)]
        }
        body += challenge
        return [0x80 | UInt8(truncatingIfNeeded: body.count >> 8), UInt8(truncatingIfNeeded: body.count)] + body
    }

    /// SSLv3 (RFC 6101 §5.6.1.2) or TLS (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2) ClientHello in one handshake record.
    private func tlsBytes() -> [UInt8] {
        var body: [UInt8] = []
        body.appendUInt16(version == .tls13 ? ProtocolVersion.tls12.wireValue : version.wireValue)
        body += random.prefix(32)
        let session = Array(sessionID.prefix(32))
        body.append(UInt8(session.count))
        body += session
        let codes = suites.filter { !$0.isSSLv2 }
        body.appendUInt16(UInt16(codes.count * 2))
        for suite in codes { body.appendUInt16(UInt16(truncatingIfNeeded: suite.code)) }
        body += [1, 0]  // compression_methods: null only
        // SSLv3 hellos carry no extensions: servers of that age may reject them.
        if version >= .tls10 {
            var extensions = extensionBytes()
            // RFC 7685 padding: some load balancers drop hellos of 256 to 511 bytes.
            let length = 4 + body.count + 2 + extensions.count
            if (256...511).contains(length) {
                let padding = max(0, 512 - length - 4)
                extensions.appendUInt16(ExtensionType.padding.rawValue)
                extensions.appendUInt16(UInt16(padding))
                extensions += [UInt8](repeating: 0, count: padding)
            }
            body.appendUInt16(UInt16(extensions.count))
            body += extensions
        }
        var handshake: [UInt8] = [1]  // client_hello
        handshake.appendUInt24(UInt32(body.count))
        handshake += body
        // Record version 0x0301 (0x0300 for SSLv3): what old servers expect whatever the hello offers.
        var record: [UInt8] = [22]
        record.appendUInt16(version == .sslv3 ? ProtocolVersion.sslv3.wireValue : ProtocolVersion.tls10.wireValue)
        record.appendUInt16(UInt16(handshake.count))
        return record + handshake
    }

    private func extensionBytes() -> [UInt8] {
        var out: [UInt8] = []
        func add(_ type: ExtensionType, _ data: [UInt8]) {
            out.appendUInt16(type.rawValue)
            out.appendUInt16(UInt16(data.count))
            out += data
        }
        if let name = Self.sniName(serverName) {
            var entry: [UInt8] = [0]  // host_name
            entry.appendUInt16(UInt16(name.count))
            entry += name
            var list: [UInt8] = []
            list.appendUInt16(UInt16(entry.count))
            add(.serverName, list + entry)
        }
        if !groups.isEmpty {
            var list: [UInt8] = []
            list.appendUInt16(UInt16(groups.count * 2))
            for group in groups { list.appendUInt16(group.code) }
            add(.supportedGroups, list)
            add(.ecPointFormats, [3, 0, 1, 2])  // uncompressed, ansiX962_compressed_prime, _char2
        }
        if version >= .tls12 {
            var list: [UInt8] = []
            list.appendUInt16(UInt16(signatureAlgorithms.count * 2))
            for scheme in signatureAlgorithms { list.appendUInt16(scheme) }
            add(.signatureAlgorithms, list)
        }
        if version == .tls13 {
            add(.supportedVersions, [2, 0x03, 0x04])
            add(.pskKeyExchangeModes, [1, 1])  // psk_dhe_ke
            var shares: [UInt8] = []
            for share in keyShares {
                shares.appendUInt16(share.group.code)
                shares.appendUInt16(UInt16(share.publicKey.count))
                shares += share.publicKey
            }
            var list: [UInt8] = []
            list.appendUInt16(UInt16(shares.count))
            add(.keyShare, list + shares)
        }
        return out
    }

    /// A DNS name fit for SNI (RFC 6066 §3: no IP literals, no trailing dot), as bytes.
    static func sniName(_ name: String?) -> [UInt8]? {
        guard var name, !name.isEmpty else { return nil }
        if name.hasSuffix(".") { name.removeLast() }
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 255, !name.contains(":"),
              bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              !name.split(separator: ".").allSatisfy({ $0.allSatisfy(\.isNumber) })
        else { return nil }
        return bytes
    }
}

extension Array where Element == UInt8 {
    mutating func appendUInt16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendUInt24(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }
}
