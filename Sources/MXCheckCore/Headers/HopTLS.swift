/// The TLS details a Received field wrote: protocol version, cipher suite (by its IANA name where mxcheck
/// knows the suite, else as written) and the cipher's key bits.
public struct HopTLS: Sendable, Equatable {
    public var version: ProtocolVersion?
    public var cipher: String?
    public var bits: Int?

    public init(version: ProtocolVersion?, cipher: String?, bits: Int?) {
        self.version = version
        self.cipher = cipher
        self.bits = bits
    }
}

extension HopTLS {
    /// A version as MTAs spell it: `TLSv1.3` (OpenSSL), `TLS1.3` (GnuTLS), `TLS1_3` (Microsoft, Google), `TLSv1`,
    /// `SSLv3`. `TLSv1/SSLv3` is no version: OpenSSL 1.0's SSL_CIPHER_get_version, the cipher's class.
    static func version(_ text: Substring) -> ProtocolVersion? {
        guard let first = text.utf8.first, first | 0x20 == 0x74 || first | 0x20 == 0x73, text.utf8.count >= 4, text.utf8.count <= 8 else { return nil }
        let upper = text.uppercased()
        let isSSL = upper.hasPrefix("SSL")
        guard isSSL || upper.hasPrefix("TLS") else { return nil }
        var rest = upper.dropFirst(3)
        if rest.hasPrefix("V") { rest = rest.dropFirst() }
        let number = rest.replacingUnderscores()
        if isSSL {
            switch number {
            case "2", "2.0": return .sslv2
            case "3", "3.0": return .sslv3
            default: return nil
            }
        }
        switch number {
        case "1", "1.0": return .tls10
        case "1.1": return .tls11
        case "1.2": return .tls12
        case "1.3": return .tls13
        default: return nil
        }
    }

    /// What a cipher name in a trace may be.
    enum CipherCandidate: Equatable {
        case suite(CipherSuite)
        /// Exim with GnuTLS 3 writes the session's parts: `ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM`.
        case gnuTLSDescription(keyExchange: String, authentication: String, bulk: String, mac: String?)
    }

    static func cipherCandidate(_ text: Substring) -> CipherCandidate? {
        guard text.utf8.count >= 6, text.utf8.count <= 80, text.utf8.contains(where: { $0 == 0x2D || $0 == 0x5F }) else { return nil }
        var name = String(text)
        // Older Exchange names the curve after the suite: TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384_P384.
        for curve in ["_P256", "_P384", "_P521"] where name.hasSuffix(curve) { name = String(name.dropLast(curve.count)) }
        if let suite = CipherSuite.named(libraryName: name) { return .suite(suite) }
        let bytes = Array(name.utf8)
        guard zip(bytes, bytes.dropFirst()).contains(where: { $0 == 0x5F && $1 == 0x5F }) else { return nil }
        let parts = name.components(separatedBy: "__")
        guard parts.count >= 3 else { return nil }
        let keyExchange = parts[0].split(separator: "_").first.map(String.init) ?? ""
        let authentication = parts[1].split(separator: "_").first.map(String.init) ?? ""
        guard ["ECDHE", "DHE", "RSA", "PSK"].contains(keyExchange), !parts[2].isEmpty else { return nil }
        return .gnuTLSDescription(keyExchange: keyExchange, authentication: authentication, bulk: parts[2], mac: parts.count > 3 ? parts[3] : nil)
    }

    /// The suite a candidate names once the version is known: TLS 1.3 suites fix only the AEAD and hash, so a
    /// TLS 1.2 name written for a TLS 1.3 session (Exim with GnuTLS does this) stands for the TLS 1.3 suite with
    /// that bulk cipher.
    private static let tls13 = CipherSuite.all.filter { $0.minimumVersion == .tls13 && $0.ianaName != nil }

    static func resolve(_ candidate: CipherCandidate, version: ProtocolVersion?) -> CipherSuite? {
        switch candidate {
        case .suite(let suite):
            guard version == .tls13, suite.minimumVersion != .tls13, suite.isAEAD else { return suite }
            return tls13.first { $0.cipher == suite.cipher && $0.bits == suite.bits } ?? suite
        case .gnuTLSDescription(let keyExchange, let authentication, let bulk, let mac):
            if version == .tls13 || (keyExchange != "RSA" && authentication.isEmpty) {
                return tls13.first { suite in
                    guard let name = suite.ianaName, let hash = name.ranges(of: "_SHA").last else { return false }
                    return name[name.startIndex..<hash.lowerBound] == "TLS_" + bulk
                }
            }
            let stem = keyExchange == "RSA" ? "TLS_RSA_WITH_\(bulk)" : "TLS_\(keyExchange)_\(authentication)_WITH_\(bulk)"
            let macs = mac.map { [$0 == "SHA1" ? "_SHA" : "_" + $0] } ?? ["", "_SHA256", "_SHA384"]
            for suffix in macs {
                if let suite = CipherSuite.named(stem + suffix) { return suite }
            }
            return nil
        }
    }

    /// A comment that says only that TLS was used: Microsoft's `(TLS)`, `(Google Transport Security)`.
    static func isTLSMarker(_ comment: String) -> Bool {
        let text = comment.trimmingWhitespace().uppercased()
        return text == "TLS" || text == "GOOGLE TRANSPORT SECURITY" || text.hasSuffix(" WITH TLS")
    }

    /// Reads the TLS details of one field from its comments and its RFC 8314 `tls` clause, whichever MTA wrote
    /// them: Postfix `using TLSv1.3 with cipher X (256/256 bits)`, Exim `(TLS1.3)` or `(TLS1.2:X:256)`, Sendmail
    /// and Google `version=... cipher=... bits=...`, Microsoft `(version=TLS1_2, cipher=X)`, OpenSMTPD
    /// `(TLSv1.3:X:256:NO)`, Courier `(TLS: TLSv1/SSLv3,256bits,X)`, qmail `(X encrypted)`. Nil when none.
    static func read(comments: [String], tlsClause: String?) -> HopTLS? {
        var version: ProtocolVersion? = nil
        var cipherClassOnly = false
        var candidate: CipherCandidate? = nil
        var unknownCipher: String? = nil
        var bits: Int? = nil
        var texts = comments.filter { $0.count <= 4_096 }.prefix(32).map { Substring($0) }
        if let tlsClause { texts.append("cipher=" + tlsClause) }
        for text in texts {
            var previousToken: Substring = ""
            for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "(" || $0 == ")" || $0 == ";" }) {
                defer { previousToken = token }
                if token.caseInsensitiveEquals("TLSv1/SSLv3") {
                    cipherClassOnly = true
                    continue
                }
                let keyValue = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let pieces = keyValue.count == 2 ? keyValue : token.split(separator: ":", omittingEmptySubsequences: false)
                var previousPiece = previousToken
                var previousWasCipher = false
                for piece in pieces {
                    defer { previousPiece = piece }
                    if piece.isEmpty { continue }
                    if version == nil, let found = Self.version(piece) {
                        version = found
                        continue
                    }
                    if piece.caseInsensitiveEquals("TLSv1/SSLv3") {
                        cipherClassOnly = true
                        continue
                    }
                    if candidate == nil, let found = cipherCandidate(piece) {
                        candidate = found
                        previousWasCipher = true
                        continue
                    }
                    if candidate == nil, unknownCipher == nil, previousPiece.caseInsensitiveEquals("cipher"), piece.utf8.count <= 80 {
                        unknownCipher = String(piece)
                        previousWasCipher = true
                        continue
                    }
                    if bits == nil, let number = bitCount(piece, previousPiece: previousPiece, afterCipher: previousWasCipher) {
                        bits = number
                    }
                    previousWasCipher = false
                }
            }
        }
        let suite = candidate.flatMap { resolve($0, version: version) }
        // Without a version (or with only the cipher's class), a TLS 1.3 suite or a TLS 1.2-only suite fixes it.
        if version == nil, let suite {
            if suite.minimumVersion == .tls13 { version = .tls13 } else if suite.minimumVersion == .tls12 { version = .tls12 }
        }
        let cipher = suite?.name ?? unknownCipher
        guard version != nil || cipher != nil || (cipherClassOnly && bits != nil) else { return nil }
        return HopTLS(version: version, cipher: cipher, bits: bits)
    }

    /// `256/256` (Postfix, Google), `bits=256` (Sendmail), `256bits` (Courier), or the number after the cipher in
    /// the colon forms of Exim and OpenSMTPD.
    private static func bitCount(_ piece: Substring, previousPiece: Substring, afterCipher: Bool) -> Int? {
        func number(_ text: Substring) -> Int? {
            guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isNumber) else { return nil }
            return Int(text)
        }
        if let slash = piece.firstIndex(of: "/"), let first = number(piece[..<slash]), number(piece[piece.index(after: slash)...]) != nil {
            return first
        }
        if previousPiece.caseInsensitiveEquals("bits") || afterCipher { return number(piece) }
        if piece.utf8.count > 4, piece.hasSuffix("bits") { return number(piece.dropLast(4)) }
        return nil
    }
}

extension StringProtocol {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { $0 == $1 || ($0 | 0x20 == $1 | 0x20 && $0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }
    }

    func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "." : $0 })
    }

    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
