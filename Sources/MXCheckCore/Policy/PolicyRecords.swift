/// TXT rdata as its character-strings (RFC 1035 §3.3.14), joined without spaces (RFC 8461 §3.1, RFC 8460 §3).
public enum TXTRecordText {
    /// Each rdata's strings concatenated; nil for an rdata whose length bytes run past its end.
    public static func joined(_ rdata: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var offset = 0
        while offset < rdata.count {
            let length = Int(rdata[offset])
            let start = offset + 1
            guard start + length <= rdata.count else { return nil }
            out += rdata[start..<start + length]
            offset = start + length
        }
        return out
    }

    /// The joined record as text for reports: bytes outside printable ASCII become U+FFFD, capped at `maximum`.
    public static func display(_ bytes: [UInt8], maximum: Int = 512) -> String {
        var text = String(decoding: bytes.prefix(maximum).map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
        if bytes.count > maximum { text += "..." }
        return text
    }
}

/// `field=value` pairs separated by `;` with optional spaces around them (the grammar both RFCs share).
enum PolicyRecordFields {
    /// The fields in order; nil when a non-empty part has no `=` or an empty name.
    static func parse(_ text: String) -> [(name: String, value: String)]? {
        var fields: [(String, String)] = []
        for part in text.split(separator: ";", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingSpaces
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { return nil }
            let name = trimmed[..<equals].trimmingSpaces
            let value = trimmed[trimmed.index(after: equals)...].trimmingSpaces
            guard !name.isEmpty else { return nil }
            fields.append((String(name), String(value)))
        }
        return fields
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (the RFCs' `*WSP`).
    var trimmingSpaces: Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}

/// What a TXT lookup found: the records that carry the version tag, and what was wrong.
public enum PolicyRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No record starts with the version tag.
    case absent
    /// Several records start with it (RFC 8461 §3.1, RFC 8460 §3: exactly one).
    case several(Int)
    /// The one record does not parse: a field without `=`, version not first, or a bad field value.
    case malformed(String)

    public var description: String {
        switch self {
        case .absent: return "no record"
        case .several(let count): return "\(count) records where exactly one is allowed"
        case .malformed(let reason): return reason
        }
    }
}

/// The `_mta-sts.<domain>` TXT record (RFC 8461 §3.1).
public struct MTASTSRecord: Sendable, Equatable {
    /// The record as published, strings joined.
    public var text: String
    /// 1 to 32 letters and digits.
    public var id: String

    public init(text: String, id: String) {
        self.text = text
        self.id = id
    }

    public static let versionTag = "v=STSv1"
    /// A TXT record longer than this is not read (a DNS message holds 64 KiB; a record is never that long in use).
    public static let maximumBytes = 4096

    /// Picks the one record from a TXT RRset and parses it.
    public static func parse(rdata: [[UInt8]]) -> Result<MTASTSRecord, PolicyRecordError> {
        let candidates = VersionedRecords.select(rdata: rdata, tag: versionTag)
        guard let record = candidates.first else { return .failure(.absent) }
        guard candidates.count == 1 else { return .failure(.several(candidates.count)) }
        return parse(text: record)
    }

    /// Parses one joined record that starts with `v=STSv1`.
    public static func parse(text: String) -> Result<MTASTSRecord, PolicyRecordError> {
        guard text.utf8.count <= maximumBytes else { return .failure(.malformed("record longer than \(maximumBytes) bytes")) }
        guard let fields = PolicyRecordFields.parse(text) else { return .failure(.malformed("a field without '='")) }
        guard let first = fields.first, first.name == "v", first.value == "STSv1" else {
            return .failure(.malformed("'v=STSv1' is not the first field"))
        }
        guard let id = fields.first(where: { $0.name == "id" })?.value else { return .failure(.malformed("no 'id' field")) }
        guard (1...32).contains(id.utf8.count), id.utf8.allSatisfy({ isLetterOrDigit($0) }) else {
            return .failure(.malformed("'id=\(TXTRecordText.display(Array(id.utf8), maximum: 64))' is not 1 to 32 letters and digits"))
        }
        return .success(MTASTSRecord(text: text, id: id))
    }

    static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }
}

/// The `_smtp._tls.<domain>` TXT record (RFC 8460 §3).
public struct TLSRPTRecord: Sendable, Equatable {
    public var text: String
    /// Every reporting URI, in order.
    public var rua: [String]

    public init(text: String, rua: [String]) {
        self.text = text
        self.rua = rua
    }

    public static let versionTag = "v=TLSRPTv1"
    public static let maximumBytes = 4096
    /// A record naming more URIs than this is cut to these for output.
    public static let maximumURIs = 32

    public static func parse(rdata: [[UInt8]]) -> Result<TLSRPTRecord, PolicyRecordError> {
        let candidates = VersionedRecords.select(rdata: rdata, tag: versionTag)
        guard let record = candidates.first else { return .failure(.absent) }
        guard candidates.count == 1 else { return .failure(.several(candidates.count)) }
        return parse(text: record)
    }

    public static func parse(text: String) -> Result<TLSRPTRecord, PolicyRecordError> {
        guard text.utf8.count <= maximumBytes else { return .failure(.malformed("record longer than \(maximumBytes) bytes")) }
        guard let fields = PolicyRecordFields.parse(text) else { return .failure(.malformed("a field without '='")) }
        guard let first = fields.first, first.name == "v", first.value == "TLSRPTv1" else {
            return .failure(.malformed("'v=TLSRPTv1' is not the first field"))
        }
        guard let value = fields.first(where: { $0.name == "rua" })?.value else { return .failure(.malformed("no 'rua' field")) }
        let uris = value.split(separator: ",").map { String($0.trimmingSpaces) }
        guard !uris.isEmpty, !uris.contains(where: \.isEmpty) else { return .failure(.malformed("an empty 'rua' URI")) }
        for uri in uris {
            let lower = uri.lowercased()
            let body: Substring
            if lower.hasPrefix("mailto:") { body = uri.dropFirst(7) }
            else if lower.hasPrefix("https:") { body = uri.dropFirst(6) }
            else {
                return .failure(.malformed("'\(TXTRecordText.display(Array(uri.utf8), maximum: 80))' is neither a mailto: nor an https: URI"))
            }
            guard !body.isEmpty else { return .failure(.malformed("'\(uri)' has nothing after its scheme")) }
        }
        return .success(TLSRPTRecord(text: text, rua: Array(uris.prefix(maximumURIs))))
    }
}

/// Records of a TXT RRset that start with a version tag; the others are ignored before counting.
enum VersionedRecords {
    static func select(rdata: [[UInt8]], tag: String) -> [String] {
        let tagBytes = Array(tag.utf8)
        return rdata.compactMap { raw -> String? in
            guard let bytes = TXTRecordText.joined(raw), bytes.starts(with: tagBytes) else { return nil }
            // `v=STSv1` must be the whole first field: "v=STSv10" is another version.
            let next = bytes.count > tagBytes.count ? bytes[tagBytes.count] : UInt8(ascii: ";")
            guard next == UInt8(ascii: ";") || next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") else { return nil }
            guard bytes.count <= 65_536 else { return nil }
            return TXTRecordText.display(bytes, maximum: 65_536)
        }
    }
}
