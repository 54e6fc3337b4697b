/// A TLS alert (RFC 8446 §6).
public struct TLSAlert: Sendable, Equatable, CustomStringConvertible {
    public var level: UInt8
    public var code: UInt8

    public init(level: UInt8, code: UInt8) {
        self.level = level
        self.code = code
    }

    public static let handshakeFailure: UInt8 = 40
    public static let illegalParameter: UInt8 = 47
    public static let protocolVersion: UInt8 = 70
    public static let insufficientSecurity: UInt8 = 71

    public var name: String {
        switch code {
        case 0: return "close_notify"
        case 10: return "unexpected_message"
        case 20: return "bad_record_mac"
        case 22: return "record_overflow"
        case 40: return "handshake_failure"
        case 42: return "bad_certificate"
        case 47: return "illegal_parameter"
        case 50: return "decode_error"
        case 51: return "decrypt_error"
        case 70: return "protocol_version"
        case 71: return "insufficient_security"
        case 80: return "internal_error"
        case 86: return "inappropriate_fallback"
        case 90: return "user_canceled"
        case 109: return "missing_extension"
        case 110: return "unsupported_extension"
        case 112: return "unrecognized_name"
        default: return "alert \(code)"
        }
    }

    public var description: String { "\(level == 2 ? "fatal" : "warning") \(name)" }
}

/// What the server's key exchange message showed (TLS 1.2 and earlier).
public enum ServerKeyExchangeFacts: Sendable, Equatable {
    /// ECDHE over a named curve (RFC 8422 §5.4).
    case namedCurve(UInt16)
    /// ECDHE over explicit curve parameters.
    case explicitCurve
    /// Finite-field DHE: the size of the prime p in bits, and the group p is (an RFC 7919 group, else `dh<bits>`).
    case finiteField(primeBits: Int, group: KeyExchangeGroup)
}

/// A ServerHello or HelloRetryRequest (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3), with the key exchange facts that
/// followed it in the same flight when they were asked for.
public struct ServerHello: Sendable, Equatable {
    public struct Extension: Sendable, Equatable {
        public var type: UInt16
        public var data: [UInt8]
    }

    /// SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest (RFC 8446 §4.1.3).
    public static let helloRetryRequestRandom: [UInt8] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ]

    public var legacyVersion: UInt16
    public var random: [UInt8]
    public var sessionID: [UInt8]
    public var cipherSuite: UInt16
    public var compressionMethod: UInt8
    public var extensions: [Extension]
    public var keyExchange: ServerKeyExchangeFacts?

    /// The negotiated version: supported_versions when present (TLS 1.3), else server_version.
    public var negotiatedVersion: UInt16 {
        if let data = extensionData(0x002B), data.count == 2 { return UInt16(data[0]) << 8 | UInt16(data[1]) }
        return legacyVersion
    }

    public var version: ProtocolVersion? { ProtocolVersion(wireValue: negotiatedVersion) }

    public var isHelloRetryRequest: Bool { random == Self.helloRetryRequestRandom }

    /// key_share: the HelloRetryRequest's selected_group, or the group of the server's share.
    public var keyShareGroup: UInt16? {
        guard let data = extensionData(0x0033), data.count >= 2 else { return nil }
        return UInt16(data[0]) << 8 | UInt16(data[1])
    }

    public func extensionData(_ type: UInt16) -> [UInt8]? { extensions.first { $0.type == type }?.data }
}

/// SSLv2 SERVER-HELLO: the server lists every cipher kind it shares with the client.
public struct SSLv2ServerHello: Sendable, Equatable {
    public var version: UInt16
    public var certificateLength: Int
    public var cipherKinds: [UInt32]
}

/// What came back for a ClientHello.
public enum ServerAnswer: Sendable, Equatable {
    case hello(ServerHello)
    case alert(TLSAlert)
    case sslv2Hello(SSLv2ServerHello)
    /// SSLv2 ERROR message (e.g. 0x0001 NO-CIPHER-ERROR).
    case sslv2Error(UInt16)
}

/// Why an answer could not be read. Never a crash: every length is checked before use.
public enum ServerAnswerError: Error, Equatable, CustomStringConvertible {
    /// The stream ended inside a record or message (bytes received so far).
    case truncated(Int)
    /// More than `ServerAnswerParser.maximumBytes` without a complete answer.
    case oversized(Int)
    /// Not TLS nor SSLv2 at all (e.g. an SMTP reply); a printable prefix.
    case notTLS(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .truncated(let count): return "the answer ended after \(count) bytes, inside a record"
        case .oversized(let count): return "no complete answer in \(count) bytes"
        case .notTLS(let prefix): return "not TLS: '\(prefix)'"
        case .malformed(let detail): return "malformed answer: \(detail)"
        }
    }
}

/// Reads the server's first flight as it arrives: records, then handshake messages up to the ServerHello
/// (and, when asked, on to the ServerKeyExchange or ServerHelloDone), or an alert.
public enum ServerAnswerParser {
    /// The most the probe reads for one answer (a certificate chain fits many times over).
    public static let maximumBytes = 65_536

    public enum Progress: Sendable, Equatable {
        case needMore
        case complete(ServerAnswer)
    }

    /// Parses the bytes received so far. `atEnd`: the server closed, so nothing more will come.
    /// `keyExchange`: read on past a TLS 1.2-or-earlier ServerHello of an (EC)DHE suite to its ServerKeyExchange.
    public static func parse(_ bytes: [UInt8], keyExchange: Bool, atEnd: Bool) throws(ServerAnswerError) -> Progress {
        guard let first = bytes.first else {
            if atEnd { throw .truncated(0) }
            return .needMore
        }
        let progress: Progress
        if first & 0x80 != 0 {
            progress = try parseSSLv2(bytes)
        } else if (20...23).contains(first) {
            // At the cap a ServerHello already read is the answer, whatever of the flight is missing.
            progress = try parseTLS(bytes, keyExchange: keyExchange, atEnd: atEnd || bytes.count >= maximumBytes)
        } else {
            throw .notTLS(printable(bytes.prefix(60)))
        }
        if case .needMore = progress {
            if bytes.count >= maximumBytes { throw .oversized(bytes.count) }
            if atEnd { throw .truncated(bytes.count) }
        }
        return progress
    }

    private static func parseSSLv2(_ bytes: [UInt8]) throws(ServerAnswerError) -> Progress {
        guard bytes.count >= 2 else { return .needMore }
        let length = Int(bytes[0] & 0x7F) << 8 | Int(bytes[1])
        guard length >= 1 else { throw .malformed("empty SSLv2 record") }
        guard bytes.count >= 2 + length else { return .needMore }
        var reader = ByteReader(bytes[2..<(2 + length)])
        let type = try reader.uint8()
        switch type {
        case 0:  // MSG-ERROR
            return .complete(.sslv2Error(try reader.uint16()))
        case 4:  // MSG-SERVER-HELLO
            _ = try reader.uint8()  // SESSION-ID-HIT
            _ = try reader.uint8()  // CERTIFICATE-TYPE
            let version = try reader.uint16()
            let certificateLength = Int(try reader.uint16())
            let specsLength = Int(try reader.uint16())
            let connectionIDLength = Int(try reader.uint16())
            guard specsLength % 3 == 0 else { throw .malformed("SSLv2 cipher specs of \(specsLength) bytes") }
            _ = try reader.bytes(certificateLength)
            let specs = try reader.bytes(specsLength)
            _ = try reader.bytes(connectionIDLength)
            var kinds: [UInt32] = []
            var index = specs.startIndex
            while index + 2 < specs.endIndex {
                kinds.append(UInt32(specs[index]) << 16 | UInt32(specs[index + 1]) << 8 | UInt32(specs[index + 2]))
                index += 3
            }
            return .complete(.sslv2Hello(SSLv2ServerHello(version: version, certificateLength: certificateLength, cipherKinds: kinds)))
        default:
            throw .malformed("SSLv2 message type \(type)")
        }
    }

    private static func parseTLS(_ bytes: [UInt8], keyExchange: Bool, atEnd: Bool) throws(ServerAnswerError) -> Progress {
        var offset = 0
        var handshake: [UInt8] = []
        var hello: ServerHello?
        var records = 0
        while bytes.count - offset >= 5 {
            let type = bytes[offset]
            let major = bytes[offset + 1]
            let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            // An alert is an alert whatever its record's version says: GnuTLS refuses an SSLv3 or TLS 1.0 hello
            // with a protocol_version alert in a record marked 0xFEFD (DTLS 1.2).
            let alertBeforeHello = type == 21 && hello == nil
            guard (20...23).contains(type), major == 3 || alertBeforeHello else {
                if hello != nil { return .complete(.hello(try finish(hello))) }
                throw records == 0 ? .notTLS(printable(bytes.prefix(60))) : .malformed("record type \(type), version \(major).\(bytes[offset + 2])")
            }
            // RFC 5246 §6.2.3: a record never exceeds 2^14 + 2048 bytes.
            guard length <= 18_432 else { throw .malformed("record of \(length) bytes") }
            guard bytes.count - offset - 5 >= length else { break }
            let fragment = Array(bytes[(offset + 5)..<(offset + 5 + length)])
            offset += 5 + length
            records += 1
            switch type {
            case 21:
                if let hello { return .complete(.hello(hello)) }
                guard fragment.count >= 2 else { throw .malformed("alert of \(fragment.count) bytes") }
                return .complete(.alert(TLSAlert(level: fragment[0], code: fragment[1])))
            case 22:
                handshake += fragment
                if let done = try consumeHandshake(&handshake, hello: &hello, keyExchange: keyExchange) { return .complete(.hello(done)) }
            default:
                // ChangeCipherSpec (TLS 1.3 compatibility) or encrypted records: nothing more to read in the clear.
                if let hello { return .complete(.hello(hello)) }
                throw .malformed("record type \(type) before the ServerHello")
            }
        }
        if atEnd, let hello { return .complete(.hello(hello)) }
        return .needMore
    }

    /// Reads complete handshake messages; returns the hello once nothing more is needed.
    private static func consumeHandshake(_ buffer: inout [UInt8], hello: inout ServerHello?, keyExchange: Bool) throws(ServerAnswerError) -> ServerHello? {
        var consumed = 0
        defer { buffer.removeFirst(consumed) }
        while buffer.count - consumed >= 4 {
            let type = buffer[consumed]
            let length = Int(buffer[consumed + 1]) << 16 | Int(buffer[consumed + 2]) << 8 | Int(buffer[consumed + 3])
            guard length <= maximumBytes else { throw .malformed("handshake message of \(length) bytes") }
            guard buffer.count - consumed - 4 >= length else { return nil }
            let body = buffer[(consumed + 4)..<(consumed + 4 + length)]
            consumed += 4 + length
            if var current = hello {
                switch type {
                case 12:  // server_key_exchange
                    // An odd key exchange message does not undo the ServerHello: the suite was chosen.
                    current.keyExchange = try? keyExchangeFacts(body, suite: current.cipherSuite)
                    return current
                case 14:  // server_hello_done
                    return current
                default:
                    continue  // certificate, certificate_status, certificate_request
                }
            }
            if type == 0 { continue }  // hello_request: ignored by clients
            guard type == 2 else { throw .malformed("handshake message type \(type) before the ServerHello") }
            let parsed = try serverHello(body)
            if !keyExchange || parsed.isHelloRetryRequest || parsed.negotiatedVersion >= ProtocolVersion.tls13.wireValue || !needsKeyExchange(parsed.cipherSuite) {
                return parsed
            }
            hello = parsed
        }
        return nil
    }

    private static func finish(_ hello: ServerHello?) throws(ServerAnswerError) -> ServerHello {
        guard let hello else { throw .malformed("no ServerHello") }
        return hello
    }

    static func needsKeyExchange(_ code: UInt16) -> Bool {
        guard let suite = CipherSuite.tls(code: code) else { return false }
        switch suite.keyExchange {
        case .dhe, .ecdhe, .dhePSK, .ecdhePSK: return true
        default: return false
        }
    }

    static func serverHello(_ body: ArraySlice<UInt8>) throws(ServerAnswerError) -> ServerHello {
        var reader = ByteReader(body)
        let version = try reader.uint16()
        let random = try reader.bytes(32)
        let sessionLength = Int(try reader.uint8())
        guard sessionLength <= 32 else { throw .malformed("session id of \(sessionLength) bytes") }
        let session = try reader.bytes(sessionLength)
        let suite = try reader.uint16()
        let compression = try reader.uint8()
        var extensions: [ServerHello.Extension] = []
        if !reader.isAtEnd {
            let total = Int(try reader.uint16())
            var list = ByteReader(try reader.bytes(total))
            while !list.isAtEnd {
                let type = try list.uint16()
                let length = Int(try list.uint16())
                extensions.append(ServerHello.Extension(type: type, data: Array(try list.bytes(length))))
            }
            guard reader.isAtEnd else { throw .malformed("bytes after the ServerHello extensions") }
        }
        return ServerHello(
            legacyVersion: version, random: Array(random), sessionID: Array(session), cipherSuite: suite,
            compressionMethod: compression, extensions: extensions, keyExchange: nil)
    }

    /// RFC 8422 §5.4 (ECDHE), RFC 5246 §7.4.3 (DHE), RFC 4279/5489 (a PSK identity hint first).
    static func keyExchangeFacts(_ body: ArraySlice<UInt8>, suite code: UInt16) throws(ServerAnswerError) -> ServerKeyExchangeFacts? {
        guard let suite = CipherSuite.tls(code: code) else { return nil }
        var reader = ByteReader(body)
        if suite.keyExchange == .dhePSK || suite.keyExchange == .ecdhePSK {
            _ = try reader.bytes(Int(try reader.uint16()))
        }
        switch suite.keyExchange {
        case .ecdhe, .ecdhePSK:
            let curveType = try reader.uint8()
            if curveType == 3 { return .namedCurve(try reader.uint16()) }
            return .explicitCurve
        case .dhe, .dhePSK:
            let prime = try reader.bytes(Int(try reader.uint16()))
            guard let top = prime.firstIndex(where: { $0 != 0 }) else { throw .malformed("DH prime of zero") }
            let bits = (prime.endIndex - top) * 8 - prime[top].leadingZeroBitCount
            return .finiteField(primeBits: bits, group: KeyExchangeGroup(finiteFieldPrime: prime))
        default:
            return nil
        }
    }

    static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }
}

/// Bounds-checked reads over a byte slice.
struct ByteReader {
    private var slice: ArraySlice<UInt8>

    init(_ slice: ArraySlice<UInt8>) {
        self.slice = slice
    }

    var isAtEnd: Bool { slice.isEmpty }

    mutating func uint8() throws(ServerAnswerError) -> UInt8 {
        guard let byte = slice.first else { throw .malformed("message ends early") }
        slice = slice.dropFirst()
        return byte
    }

    mutating func uint16() throws(ServerAnswerError) -> UInt16 {
        let high = try uint8()
        return UInt16(high) << 8 | UInt16(try uint8())
    }

    mutating func bytes(_ count: Int) throws(ServerAnswerError) -> ArraySlice<UInt8> {
        guard count >= 0, slice.count >= count else { throw .malformed("a field of \(count) bytes overruns its message") }
        let taken = slice.prefix(count)
        slice = slice.dropFirst(count)
        return taken
    }
}
