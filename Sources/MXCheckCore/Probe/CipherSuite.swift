/// A protocol version as the contract spells it, with its wire value.
public enum ProtocolVersion: String, Sendable, CaseIterable, Comparable, Hashable, CustomStringConvertible {
    case sslv2 = "SSLv2"
    case sslv3 = "SSLv3"
    case tls10 = "TLSv1.0"
    case tls11 = "TLSv1.1"
    case tls12 = "TLSv1.2"
    case tls13 = "TLSv1.3"

    /// The two bytes of ProtocolVersion on the wire (SSLv2's CLIENT-VERSION is 0x0002).
    public var wireValue: UInt16 {
        switch self {
        case .sslv2: return 0x0002
        case .sslv3: return 0x0300
        case .tls10: return 0x0301
        case .tls11: return 0x0302
        case .tls12: return 0x0303
        case .tls13: return 0x0304
        }
    }

    public init?(wireValue: UInt16) {
        guard let found = Self.allCases.first(where: { $0.wireValue == wireValue }) else { return nil }
        self = found
    }

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    /// The spelling of JSON and text ("TLSv1.2"), also where a version is written into a message.
    public var description: String { rawValue }

    public static func < (lhs: ProtocolVersion, rhs: ProtocolVersion) -> Bool { lhs.rank < rhs.rank }
}

/// One cipher suite with the facts that judge it. The table itself is `CipherSuite.all`
/// (CipherSuiteTable.swift, generated from the reference file).
public struct CipherSuite: Sendable, Hashable, CustomStringConvertible {
    public enum KeyExchange: String, Sendable {
        /// TLS 1.3: the suite does not fix the key exchange.
        case any
        case ecdhe, dhe, rsa
        /// Static (EC)DH keys in the certificate.
        case dh, ecdh
        case psk, rsaPSK, dhePSK, ecdhePSK
        case srp, krb5, gost, cecpq1
        /// TLS_NULL_WITH_NULL_NULL and SSLv2's NULL.
        case none
    }

    public enum Authentication: String, Sendable {
        case any, rsa, dss, ecdsa, anonymous, psk, srp, krb5, gost94, gost01
    }

    /// How good a suite is: `insecure` is a critical finding, `weak` a warning.
    public enum Strength: Int, Sendable, Comparable, CaseIterable {
        /// Export grade, NULL encryption, anonymous, RC4, RC2, single DES.
        case insecure
        /// 3DES (64-bit block), or no forward secrecy (static RSA, DH, ECDH, PSK, KRB5, GOST key exchange).
        case weak
        /// Forward secret, without AEAD.
        case acceptable
        /// Forward secret AEAD.
        case strong

        public static func < (lhs: Strength, rhs: Strength) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Two bytes for SSLv3/TLS (0xC02F); three for SSLv2's cipher kinds (0x010080).
    public let code: UInt32
    public let isSSLv2: Bool
    public let ianaName: String?
    public let opensslName: String?
    /// The earliest version the suite is defined for.
    public let minimumVersion: ProtocolVersion
    public let keyExchange: KeyExchange
    public let authentication: Authentication
    /// "AESGCM", "AES", "ChaCha20", "3DES", "DES", "RC4", "NULL"...
    public let cipher: String
    public let bits: Int
    /// "AEAD", "SHA1", "SHA256", "MD5", "NULL"...
    public let mac: String
    public let isExport: Bool

    init(
        _ code: UInt32, _ isSSLv2: Bool, _ ianaName: String?, _ opensslName: String?, _ minimumVersion: ProtocolVersion,
        _ keyExchange: KeyExchange, _ authentication: Authentication, _ cipher: String, _ bits: Int, _ mac: String,
        _ isExport: Bool
    ) {
        self.code = code
        self.isSSLv2 = isSSLv2
        self.ianaName = ianaName
        self.opensslName = opensslName
        self.minimumVersion = minimumVersion
        self.keyExchange = keyExchange
        self.authentication = authentication
        self.cipher = cipher
        self.bits = bits
        self.mac = mac
        self.isExport = isExport
    }

    /// The name mxcheck reports: IANA's, else OpenSSL's (a few private GOST suites have no IANA name).
    public var name: String { ianaName ?? opensslName ?? hexCode }

    public var hexCode: String {
        let digits = String(code, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, (isSSLv2 ? 6 : 4) - digits.count)) + digits
    }

    public var description: String { "\(name) (\(hexCode))" }

    /// The versions in which a client may offer the suite.
    public var versions: [ProtocolVersion] {
        switch minimumVersion {
        case .sslv2: return [.sslv2]
        case .tls13: return [.tls13]
        case .sslv3: return [.sslv3, .tls10, .tls11, .tls12]
        case .tls10, .tls11: return [.tls10, .tls11, .tls12]
        case .tls12: return [.tls12]
        }
    }

    public var isForwardSecret: Bool {
        switch keyExchange {
        case .any, .ecdhe, .dhe, .dhePSK, .ecdhePSK, .srp, .cecpq1: return true
        case .rsa, .dh, .ecdh, .psk, .rsaPSK, .krb5, .gost, .none: return false
        }
    }

    public var isAnonymous: Bool { authentication == .anonymous || keyExchange == .none }

    public var isAEAD: Bool { mac == "AEAD" }

    /// The suite's class, from the severity table's negotiated column: critical is insecure, warning weak.
    public var strength: Strength {
        switch judged(.negotiated)?.severity {
        case .critical?: return .insecure
        case .warning?: return .weak
        default: return isAEAD && bits >= 128 ? .strong : .acceptable
        }
    }

    /// Why a suite is insecure or weak, in a few words; nil when it is neither.
    public var weakness: (strength: Strength, reason: String)? {
        judged(.negotiated).map { (strength, reason(for: $0.weakness)) }
    }

    /// What makes a suite weak. A suite may have several (an anonymous 3DES suite); it is judged by its worst.
    public enum Weakness: String, Sendable, CaseIterable {
        case export, nullEncryption, anonymous, rc4, rc2, singleDES, shortKey, tripleDES, noForwardSecrecy

        /// The words messages use.
        public var reason: String {
            switch self {
            case .export: return "export grade"
            case .nullEncryption: return "no encryption"
            case .anonymous: return "anonymous"
            case .rc4: return "RC4"
            case .rc2: return "RC2"
            case .singleDES: return "single DES"
            case .shortKey: return "short key"
            case .tripleDES: return "3DES"
            case .noForwardSecrecy: return "no forward secrecy"
            }
        }
    }

    /// How a suite came to be judged: mxcheck's own modern client negotiated it, or a probe (`--ciphers`)
    /// found the server merely accepts it, on a port of this role.
    public enum Sighting: Sendable, Hashable {
        case negotiated
        case accepted(PortRole)
    }

    /// THE table of how bad each weakness is (docs/findings.md gives the reasons). Negotiated: a current
    /// client ends up with it. Accepted on a relay: TLS there is opportunistic (the peer would otherwise send
    /// in plaintext, and anonymous or static-RSA key exchange still defeats a passive eavesdropper), so only
    /// what breaks the encryption itself (export, NULL, RC4, RC2, DES, 3DES, short keys) is worth a warning.
    /// Accepted on a submission port: passwords travel there, so a suite without authentication or with
    /// broken encryption is critical, and one without forward secrecy a warning.
    public static let severityTable: [Weakness: (negotiated: Severity, relay: Severity, submission: Severity)] = [
        .export: (.critical, .warning, .critical),
        .nullEncryption: (.critical, .warning, .critical),
        .anonymous: (.critical, .info, .critical),
        .rc4: (.critical, .warning, .critical),
        .rc2: (.critical, .warning, .critical),
        .singleDES: (.critical, .warning, .critical),
        .shortKey: (.critical, .warning, .critical),
        .tripleDES: (.warning, .warning, .critical),
        .noForwardSecrecy: (.warning, .info, .warning),
    ]

    /// Every weakness of the suite, in the order messages name them.
    public var weaknesses: [Weakness] {
        var found: [Weakness] = []
        if isExport { found.append(.export) }
        if cipher == "NULL" { found.append(.nullEncryption) }
        if isAnonymous { found.append(.anonymous) }
        if cipher.hasPrefix("RC4") { found.append(.rc4) }
        if cipher == "RC2" { found.append(.rc2) }
        if cipher == "DES" { found.append(.singleDES) }
        if bits < 112 && cipher != "NULL" && !isExport && !["RC4", "RC2", "DES"].contains(where: { cipher.hasPrefix($0) }) {
            found.append(.shortKey)
        }
        if cipher == "3DES" { found.append(.tripleDES) }
        if !isForwardSecret && !isAnonymous { found.append(.noForwardSecrecy) }
        return found
    }

    /// The words a message uses for one of this suite's weaknesses ("56-bit key" rather than "short key").
    public func reason(for weakness: Weakness) -> String {
        weakness == .shortKey ? "\(bits)-bit key" : weakness.reason
    }

    /// The severity of a finding about this suite seen this way, and the weakness that decides it (the first
    /// of the worst); nil when the suite has no weakness.
    public func judged(_ sighting: Sighting) -> (severity: Severity, weakness: Weakness)? {
        var worst: (severity: Severity, weakness: Weakness)?
        for weakness in weaknesses {
            guard let row = Self.severityTable[weakness] else { continue }
            let severity: Severity
            switch sighting {
            case .negotiated: severity = row.negotiated
            case .accepted(.relay): severity = row.relay
            case .accepted(.submission): severity = row.submission
            }
            if worst == nil || severity > worst!.severity { worst = (severity, weakness) }
        }
        return worst
    }

    /// The severity for a suite mxcheck's own client negotiated (the table's first column); nil when the
    /// suite has no weakness.
    public var findingSeverity: Severity? { judged(.negotiated)?.severity }

    /// Lookup by IANA name, OpenSSL name or reported name (IANA names are unique except two private FIPS pairs).
    public static func named(_ name: String) -> CipherSuite? { byName[name] ?? byOpenSSLName[name] }

    /// `named(_:)` without building the lookup tables: for a single question, as a basic check asks of the
    /// negotiated suite, a scan of the table costs less than the two dictionaries.
    static func scanned(_ name: String) -> CipherSuite? {
        all.first { $0.name == name } ?? all.first { !$0.isSSLv2 && $0.opensslName == name }
    }

    /// Lookup by any name a mail server writes in a trace: IANA's, OpenSSL's, GnuTLS's (`ECDHE_RSA_AES_256_GCM_SHA384`)
    /// or LibreSSL's TLS 1.3 names (`AEAD-AES256-GCM-SHA384`).
    public static func named(libraryName name: String) -> CipherSuite? {
        named(name) ?? ianaName(gnuTLSName: name).flatMap { byName[$0] } ?? libreSSLNames[name].flatMap { byName[$0] }
    }

    /// The IANA name a GnuTLS name (lib/algorithms/ciphersuites.c) stands for, by GnuTLS's naming rule run
    /// backwards: GnuTLS drops `TLS_` and `WITH_`, writes `SHA1` for `SHA`, `ARCFOUR` for `RC4`, `ANON_DH` for
    /// `DH_anon` and ChaCha20 without its hash. TLS 1.3 names are IANA's already.
    static func ianaName(gnuTLSName name: String) -> String? {
        guard name.utf8.count <= 64, !name.hasPrefix("TLS_") else { return nil }
        for (gnuTLS, iana) in gnuTLSKeyExchanges where name.hasPrefix(gnuTLS + "_") {
            var cipher = String(name.dropFirst(gnuTLS.utf8.count + 1))
            if cipher.hasPrefix("ARCFOUR_") { cipher = "RC4_" + cipher.dropFirst(8) }
            if cipher.hasSuffix("_SHA1") { cipher.removeLast() }
            if cipher.hasSuffix("CHACHA20_POLY1305") { cipher += "_SHA256" }
            let candidate = "TLS_\(iana)_WITH_\(cipher)"
            if byName[candidate] != nil { return candidate }
        }
        return nil
    }

    /// GnuTLS's key-exchange and authentication prefixes and IANA's, longest first.
    private static let gnuTLSKeyExchanges: [(String, String)] = [
        ("SRP_SHA_RSA", "SRP_SHA_RSA"), ("SRP_SHA_DSS", "SRP_SHA_DSS"), ("ECDHE_ECDSA", "ECDHE_ECDSA"), ("ECDHE_RSA", "ECDHE_RSA"),
        ("ECDHE_PSK", "ECDHE_PSK"), ("ANON_ECDH", "ECDH_anon"), ("DHE_RSA", "DHE_RSA"), ("DHE_DSS", "DHE_DSS"), ("DHE_PSK", "DHE_PSK"),
        ("RSA_PSK", "RSA_PSK"), ("ANON_DH", "DH_anon"), ("SRP_SHA", "SRP_SHA"), ("RSA", "RSA"), ("PSK", "PSK"),
    ]

    /// LibreSSL names its TLS 1.3 suites apart from IANA and OpenSSL.
    private static let libreSSLNames: [String: String] = [
        "AEAD-AES128-GCM-SHA256": "TLS_AES_128_GCM_SHA256", "AEAD-AES256-GCM-SHA384": "TLS_AES_256_GCM_SHA384",
        "AEAD-CHACHA20-POLY1305-SHA256": "TLS_CHACHA20_POLY1305_SHA256",
    ]

    /// The SSLv3/TLS suite with a two-byte code.
    public static func tls(code: UInt16) -> CipherSuite? { byTLSCode[code] }

    /// The SSLv2 cipher kind with a three-byte code.
    public static func sslv2(code: UInt32) -> CipherSuite? { bySSLv2Code[code] }

    /// Candidates for a version, in the order a probe offers them: first what common servers enable (named
    /// by OpenSSL, ECDHE/DHE/RSA key exchange, RSA, ECDSA or no authentication: 118 suites for TLS 1.2, so
    /// one hello of 128 holds them all and a server's own order among them shows), then DSS, static-key and
    /// unnamed suites, then PSK and SRP, then Kerberos, GOST and private suites.
    public static func candidates(for version: ProtocolVersion) -> [CipherSuite] {
        all.enumerated()
            .filter { $0.element.versions.contains(version) }
            .sorted { ($0.element.offerTier, $0.offset) < ($1.element.offerTier, $1.offset) }
            .map(\.element)
    }

    var offerTier: Int {
        if code >= 0xFE00 && !isSSLv2 { return 3 }  // Netscape's private FIPS and GOST codes
        switch keyExchange {
        case .any, .ecdhe, .dhe, .rsa:
            let common = opensslName != nil && !name.hasSuffix("_OLD")
                && [.any, .rsa, .ecdsa, .anonymous].contains(authentication)
            return common ? 0 : 1
        case .dh, .ecdh, .none: return 1
        case .psk, .rsaPSK, .dhePSK, .ecdhePSK, .srp: return 2
        case .krb5, .gost, .cecpq1: return 3
        }
    }

    private static let byName: [String: CipherSuite] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    private static let byOpenSSLName: [String: CipherSuite] = Dictionary(
        all.compactMap { suite in suite.opensslName.map { ($0, suite) } }.filter { !$0.1.isSSLv2 }, uniquingKeysWith: { first, _ in first })
    private static let byTLSCode: [UInt16: CipherSuite] = Dictionary(
        all.filter { !$0.isSSLv2 }.map { (UInt16(truncatingIfNeeded: $0.code), $0) }, uniquingKeysWith: { first, _ in first })
    private static let bySSLv2Code: [UInt32: CipherSuite] = Dictionary(
        all.filter(\.isSSLv2).map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
}
