import CMXCheckShims
import COpenSSL
import FoundationEssentials
import Glibc

/// One TLSA record (RFC 6698 §2.1): what a DANE client matches against the server's certificates.
public struct TLSARecord: Sendable, Hashable, CustomStringConvertible {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218 names).
    public var usage: UInt8
    /// 0 the whole certificate, 1 its SubjectPublicKeyInfo.
    public var selector: UInt8
    /// 0 the data itself, 1 SHA-256, 2 SHA-512.
    public var matchingType: UInt8
    /// The certificate association data.
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    /// Wire-format rdata: three octets, then the data. Fewer than three octets is no TLSA record (nil).
    public static func parse(_ rdata: [UInt8]) -> TLSARecord? {
        guard rdata.count >= 3 else { return nil }
        return TLSARecord(usage: rdata[0], selector: rdata[1], matchingType: rdata[2], data: Array(rdata[3...]))
    }

    /// Presentation format as zone files and `openssl s_client -dane_tlsa_rrdata` write it: "3 1 1 ab12...".
    /// Hex may be split by blanks; nil for anything else.
    public init?(presentation text: String) {
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 4, let usage = UInt8(fields[0]), let selector = UInt8(fields[1]), let type = UInt8(fields[2]),
              let data = HexText.decode(fields[3...].joined())
        else { return nil }
        self.init(usage: usage, selector: selector, matchingType: type, data: data)
    }

    public var wire: [UInt8] { [usage, selector, matchingType] + data }

    public var description: String { "\(usage) \(selector) \(matchingType) \(HexText.encode(data))" }

    /// The usage, selector and matching type: what digest agility and `dane.stale_record` group by.
    public var combination: TLSACombination { TLSACombination(usage: usage, selector: selector, matchingType: matchingType) }

    /// Whether an SMTP client may use this record (RFC 7672 §3.1, RFC 7671 §5), and why not.
    public var usability: TLSAUsability {
        switch usage {
        case TLSAUsage.daneTA, TLSAUsage.daneEE: break
        case TLSAUsage.pkixTA, TLSAUsage.pkixEE: return .pkixUsage(usage)
        default: return .unknownUsage(usage)
        }
        guard selector == TLSASelector.certificate || selector == TLSASelector.publicKey else { return .unknownSelector(selector) }
        switch matchingType {
        case TLSAMatchingType.full:
            return Self.fullDataProblem(selector: selector, data: data).map(TLSAUsability.badFullData) ?? .usable
        case TLSAMatchingType.sha256, TLSAMatchingType.sha512:
            let expected = matchingType == TLSAMatchingType.sha256 ? 32 : 64
            return data.count == expected ? .usable : .badDigestLength(expected: expected, actual: data.count)
        default:
            return .unknownMatchingType(matchingType)
        }
    }

    /// Full data must be a DER certificate (selector 0) or SubjectPublicKeyInfo (selector 1), as OpenSSL requires.
    static func fullDataProblem(selector: UInt8, data: [UInt8]) -> String? {
        guard !data.isEmpty else { return "no data" }
        let parses = data.withUnsafeBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            var cursor: UnsafePointer<UInt8>? = base
            if selector == TLSASelector.certificate {
                guard let cert = d2i_X509(nil, &cursor, buffer.count) else { return false }
                X509_free(cert)
            } else {
                guard let key = d2i_PUBKEY(nil, &cursor, buffer.count) else { return false }
                EVP_PKEY_free(key)
            }
            // Trailing bytes after the DER object: not the object itself.
            return cursor == base + buffer.count
        }
        ERR_clear_error()
        if parses { return nil }
        return selector == TLSASelector.certificate ? "the data is not a DER certificate" : "the data is not a DER SubjectPublicKeyInfo"
    }
}

/// The usage, selector and matching type of a record.
public struct TLSACombination: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var usage: UInt8
    public var selector: UInt8
    public var matchingType: UInt8

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
    }

    public var description: String { "\(usage) \(selector) \(matchingType)" }

    public static func < (lhs: TLSACombination, rhs: TLSACombination) -> Bool {
        (lhs.usage, lhs.selector, lhs.matchingType) < (rhs.usage, rhs.selector, rhs.matchingType)
    }
}

public enum TLSAUsage {
    public static let pkixTA: UInt8 = 0
    public static let pkixEE: UInt8 = 1
    public static let daneTA: UInt8 = 2
    public static let daneEE: UInt8 = 3
}

public enum TLSASelector {
    public static let certificate: UInt8 = 0
    public static let publicKey: UInt8 = 1
}

public enum TLSAMatchingType {
    public static let full: UInt8 = 0
    public static let sha256: UInt8 = 1
    public static let sha512: UInt8 = 2

    /// Digest agility's order (RFC 7671 §9): the higher wins; full data is always used.
    static func strength(_ type: UInt8) -> Int {
        switch type {
        case sha256: return 1
        case sha512: return 2
        default: return 0
        }
    }
}

/// Whether a record can be used by a DANE SMTP client; each reason a record is not is a named case.
public enum TLSAUsability: Sendable, Hashable, CustomStringConvertible {
    case usable
    /// PKIX-TA(0) or PKIX-EE(1): SMTP clients do not use them (RFC 7672 §3.1.3).
    case pkixUsage(UInt8)
    case unknownUsage(UInt8)
    case unknownSelector(UInt8)
    case unknownMatchingType(UInt8)
    /// A SHA-256 or SHA-512 digest of the wrong size.
    case badDigestLength(expected: Int, actual: Int)
    /// Full data (matching type 0) that is not a certificate or key.
    case badFullData(String)
    /// Rdata shorter than the three octets of usage, selector and matching type.
    case malformed(length: Int)

    public var isUsable: Bool { self == .usable }

    public var description: String {
        switch self {
        case .usable: return "usable"
        case .pkixUsage(let usage): return "usage \(usage) (\(usage == 0 ? "PKIX-TA" : "PKIX-EE")) is not used by SMTP (RFC 7672 §3.1.3)"
        case .unknownUsage(let usage): return "unknown usage \(usage)"
        case .unknownSelector(let selector): return "unknown selector \(selector)"
        case .unknownMatchingType(let type): return "unknown matching type \(type)"
        case .badDigestLength(let expected, let actual): return "a digest of \(actual) bytes where the matching type needs \(expected)"
        case .badFullData(let reason): return reason
        case .malformed(let length): return "malformed rdata of \(length) bytes"
        }
    }
}

/// One record of a TLSA RRset as it came from DNS: parsed or not, usable or not.
public struct TLSAEntry: Sendable, Hashable {
    /// nil when the rdata is malformed.
    public var record: TLSARecord?
    public var rdata: [UInt8]
    public var usability: TLSAUsability

    public init(rdata: [UInt8]) {
        self.rdata = rdata
        record = TLSARecord.parse(rdata)
        usability = record?.usability ?? .malformed(length: rdata.count)
    }
}

/// A TLSA RRset, capped: a DNS answer of up to 64 KiB can hold thousands of records, and no sender reads them all.
public struct TLSARecordSet: Sendable, Hashable {
    /// How many records are read; Postfix reads at most 100 records of one RRset too (dns_rr_list_limit).
    public static let defaultLimit = 100

    /// The first `limit` records, in the order DNS gave them.
    public var entries: [TLSAEntry]
    /// The size of the RRset as published.
    public var total: Int

    public init(rdata: [[UInt8]], limit: Int = TLSARecordSet.defaultLimit) {
        entries = rdata.prefix(max(0, limit)).map(TLSAEntry.init)
        total = rdata.count
    }

    public init(records: [TLSARecord]) {
        self.init(rdata: records.map(\.wire))
    }

    /// Records beyond the limit, not evaluated.
    public var ignored: Int { total - entries.count }

    public var usable: [TLSARecord] { entries.compactMap { $0.usability.isUsable ? $0.record : nil } }
}

/// Lower-case hexadecimal.
public enum HexText {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for an odd number of digits or a character that is no hex digit.
    public static func decode(_ text: String) -> [UInt8]? {
        let scalars = Array(text.utf8)
        guard scalars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(scalars.count / 2)
        var index = 0
        while index < scalars.count {
            guard let high = value(scalars[index]), let low = value(scalars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
