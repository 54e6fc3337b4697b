/// The record types mxcheck asks for; adding one (TXT, TLSA) is a case here and a case in `DNSRecordData.parse`.
public enum DNSRecordType: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case a = 1
    case mx = 15
    case txt = 16
    case aaaa = 28
    case dnskey = 48
    case tlsa = 52

    public var description: String {
        switch self {
        case .a: return "A"
        case .mx: return "MX"
        case .txt: return "TXT"
        case .aaaa: return "AAAA"
        case .dnskey: return "DNSKEY"
        case .tlsa: return "TLSA"
        }
    }
}

/// The response code of an answer (RFC 1035 §4.1.1, RFC 6895).
public enum DNSResponseCode: Sendable, Equatable, CustomStringConvertible {
    case noError
    case formatError
    case serverFailure
    case nxDomain
    case notImplemented
    case refused
    case other(Int)

    public init(_ code: Int) {
        switch code {
        case 0: self = .noError
        case 1: self = .formatError
        case 2: self = .serverFailure
        case 3: self = .nxDomain
        case 4: self = .notImplemented
        case 5: self = .refused
        default: self = .other(code)
        }
    }

    public var description: String {
        switch self {
        case .noError: return "NOERROR"
        case .formatError: return "FORMERR"
        case .serverFailure: return "SERVFAIL"
        case .nxDomain: return "NXDOMAIN"
        case .notImplemented: return "NOTIMP"
        case .refused: return "REFUSED"
        case .other(let code): return "RCODE\(code)"
        }
    }
}

/// One question: a name (absolute or not; it is always asked as absolute) and a type, class IN.
public struct DNSQuestion: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var type: DNSRecordType

    public init(_ name: String, _ type: DNSRecordType) {
        self.name = name
        self.type = type
    }

    public var description: String { "\(type) \(DNSName.display(name))" }
}

/// What the resolver said about one question.
public struct DNSAnswer: Sendable, Equatable {
    public var question: DNSQuestion
    public var rcode: DNSResponseCode
    /// The rdata of each record of the asked type, in wire format, in the order given.
    public var rdata: [[UInt8]]
    /// The owner name of the answer after any CNAME chain, as the resolver gave it (nil when it gave none).
    public var canonicalName: String?
    /// DNSSEC-validated (needs a trust anchor; see `DNSResolver.Configuration.trustAnchorFile`).
    public var secure: Bool
    /// DNSSEC validation failed; the resolver then answers SERVFAIL.
    public var bogus: Bool
    public var whyBogus: String?
    /// The whole answer message, for names compressed against it (libunbound keeps them uncompressed).
    public var message: [UInt8]

    public init(
        question: DNSQuestion, rcode: DNSResponseCode, rdata: [[UInt8]] = [], canonicalName: String? = nil,
        secure: Bool = false, bogus: Bool = false, whyBogus: String? = nil, message: [UInt8] = []
    ) {
        self.question = question
        self.rcode = rcode
        self.rdata = rdata
        self.canonicalName = canonicalName
        self.secure = secure
        self.bogus = bogus
        self.whyBogus = whyBogus
        self.message = message
    }

    /// NOERROR with no record of the asked type (NODATA).
    public var isNoData: Bool { rcode == .noError && rdata.isEmpty }

    /// A CNAME was followed: the answer's owner is not the name asked.
    public var followedCNAME: Bool {
        guard let canonicalName else { return false }
        return DNSName.normalized(canonicalName) != DNSName.normalized(question.name)
    }

    /// The CNAME target, without the trailing dot, when a CNAME was followed.
    public var cnameTarget: String? { followedCNAME ? canonicalName.map(DNSName.display) : nil }

    /// Every record parsed; the first malformed one is an error.
    public func records() throws(DNSRecordError) -> [DNSRecordData] {
        var parsed: [DNSRecordData] = []
        for bytes in rdata {
            parsed.append(try DNSRecordData.parse(question.type, rdata: bytes, message: message.isEmpty ? nil : message))
        }
        return parsed
    }

    public func mxRecords() throws(DNSRecordError) -> [MXRecord] {
        try records().compactMap { if case .mx(let record) = $0 { return record } else { return nil } }
    }

    /// A or AAAA records as canonical address text.
    public func addresses() throws(DNSRecordError) -> [String] {
        try records().compactMap {
            switch $0 {
            case .a(let address), .aaaa(let address): return address
            default: return nil
            }
        }
    }
}

/// An MX record: the exchange without its trailing dot, "." for the null MX.
public struct MXRecord: Sendable, Hashable, CustomStringConvertible {
    public var preference: UInt16
    public var exchange: String

    public init(preference: UInt16, exchange: String) {
        self.preference = preference
        self.exchange = exchange
    }

    public var isNull: Bool { exchange == "." }
    public var description: String { "MX \(preference) \(exchange)" }
}

/// A parsed record.
public enum DNSRecordData: Sendable, Hashable {
    case a(String)
    case aaaa(String)
    case mx(MXRecord)
    /// A record mxcheck reads elsewhere (TLSA: `TLSARecord.parse`) or only counts (DNSKEY), as its rdata.
    case opaque(DNSRecordType, [UInt8])

    /// Parses rdata in wire format; `message` lets a compressed name point into the whole answer.
    public static func parse(_ type: DNSRecordType, rdata: [UInt8], message: [UInt8]? = nil) throws(DNSRecordError) -> DNSRecordData {
        switch type {
        case .a:
            guard rdata.count == 4, let text = IPAddressText.text(of: rdata) else { throw .badLength(type: type, length: rdata.count) }
            return .a(text)
        case .aaaa:
            guard rdata.count == 16, let text = IPAddressText.text(of: rdata) else { throw .badLength(type: type, length: rdata.count) }
            return .aaaa(text)
        case .mx:
            // Preference, then at least the root label.
            guard rdata.count >= 3 else { throw .badLength(type: type, length: rdata.count) }
            let preference = UInt16(rdata[0]) << 8 | UInt16(rdata[1])
            let (name, end) = try DNSName.parse(rdata, at: 2, message: message)
            guard end == rdata.count else { throw .trailingBytes(type: type, count: rdata.count - end) }
            return .mx(MXRecord(preference: preference, exchange: DNSName.display(name)))
        case .dnskey, .tlsa, .txt:
            return .opaque(type, rdata)
        }
    }
}

/// Rdata that does not parse: never a crash, always one of these.
public enum DNSRecordError: Error, Equatable, CustomStringConvertible {
    case badLength(type: DNSRecordType, length: Int)
    case trailingBytes(type: DNSRecordType, count: Int)
    case truncatedName
    case badLabelType(UInt8)
    case nameTooLong
    case compressionWithoutMessage
    case badPointer(Int)

    public var description: String {
        switch self {
        case .badLength(let type, let length): return "\(type) rdata of \(length) bytes"
        case .trailingBytes(let type, let count): return "\(count) bytes after the end of the \(type) rdata"
        case .truncatedName: return "truncated domain name"
        case .badLabelType(let byte): return "unknown label type 0x\(String(byte, radix: 16))"
        case .nameTooLong: return "domain name longer than 255 bytes"
        case .compressionWithoutMessage: return "compressed domain name without the message it points into"
        case .badPointer(let offset): return "compression pointer to offset \(offset) does not point backwards into the message"
        }
    }
}

/// Domain names: wire format and text.
public enum DNSName {
    /// Parses a wire-format name at `offset` of `bytes`; returns its text (absolute, with the trailing dot) and the
    /// offset just after it in `bytes`. Compression pointers are followed in `message` (RFC 1035 §4.1.4).
    public static func parse(_ bytes: [UInt8], at offset: Int, message: [UInt8]?) throws(DNSRecordError) -> (name: String, end: Int) {
        var labels: [String] = []
        var wireLength = 1
        var buffer = bytes
        var position = offset
        var end: Int?
        // Each pointer must go strictly backwards, so the walk ends; the bound is belt and braces.
        var lowestPointer = Int.max
        var jumps = 0
        while true {
            guard position >= 0, position < buffer.count else { throw .truncatedName }
            let length = buffer[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    let name = labels.isEmpty ? "." : labels.joined(separator: ".") + "."
                    return (name, end ?? position + 1)
                }
                let start = position + 1
                let stop = start + Int(length)
                guard stop <= buffer.count else { throw .truncatedName }
                wireLength += Int(length) + 1
                guard wireLength <= 255 else { throw .nameTooLong }
                labels.append(labelText(buffer[start..<stop]))
                position = stop
            case 0xC0:
                guard position + 1 < buffer.count else { throw .truncatedName }
                let target = Int(length & 0x3F) << 8 | Int(buffer[position + 1])
                guard let message else { throw .compressionWithoutMessage }
                if end == nil { end = position + 2 }
                // The first pointer may lead anywhere earlier in the message; later ones must go further back.
                let limit = jumps == 0 ? message.count : lowestPointer
                guard target < limit, jumps < 128 else { throw .badPointer(target) }
                lowestPointer = target
                jumps += 1
                buffer = message
                position = target
            default:
                throw .badLabelType(length)
            }
        }
    }

    /// A label in presentation format: `.`, `\` and bytes outside printable ASCII escaped (RFC 4343 §2.1).
    static func labelText(_ bytes: ArraySlice<UInt8>) -> String {
        var text = ""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"),
                UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                text += "\\" + String(UnicodeScalar(byte))
            case 0x21...0x7E:
                text += String(UnicodeScalar(byte))
            default:
                let digits = String(byte)
                text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            }
        }
        return text
    }

    /// Lower case, without the trailing dot ("." stays "."), for comparing names.
    public static func normalized(_ name: String) -> String {
        display(name).lowercased()
    }

    /// Without the trailing dot, for humans and for certificate names; the root stays ".".
    public static func display(_ name: String) -> String {
        guard name != ".", name.hasSuffix("."), !name.hasSuffix("\\.") else { return name }
        return String(name.dropLast())
    }

    /// The name as libunbound should ask it: absolute, so no search list could ever apply.
    public static func absolute(_ name: String) -> String {
        name.hasSuffix(".") && !name.hasSuffix("\\.") ? name : name + "."
    }
}
