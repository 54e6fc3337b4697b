import FoundationEssentials
import Glibc

/// The parts of a Received field's value (RFC 5321 §4.4, RFC 5322 §3.6.7): words, comments and semicolons.
/// Comments nest and take quoted pairs; quoted strings, `[...]` literals and `<...>` paths are parts of words,
/// so a `;` or `(` inside them does not count. No recursion: nesting is a counter, so depth costs nothing.
struct ReceivedTokens {
    enum Kind: Equatable {
        case word
        /// The text between the outer parentheses (nested comments included).
        case comment
        case semicolon
    }

    struct Token: Equatable {
        var kind: Kind
        var range: Range<Int>
    }

    var tokens: [Token] = []
    /// A comment that was never closed (it runs to the end of the field).
    var unclosedComment = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        let count = bytes.count
        var index = 0
        while index < count {
            let byte = bytes[index]
            switch byte {
            case 0x20, 0x09, 0x0D, 0x0A, 0x29:  // white space; a stray ")" is dropped
                index += 1
            case 0x3B:
                tokens.append(Token(kind: .semicolon, range: index..<(index + 1)))
                index += 1
            case 0x28:
                let start = index + 1
                var depth = 1
                index += 1
                while index < count {
                    let inner = bytes[index]
                    if inner == 0x5C {
                        index += 2
                        continue
                    }
                    if inner == 0x28 {
                        depth += 1
                    } else if inner == 0x29 {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    index += 1
                }
                if index >= count {
                    unclosedComment = true
                    tokens.append(Token(kind: .comment, range: start..<count))
                    index = count
                } else {
                    tokens.append(Token(kind: .comment, range: start..<index))
                    index += 1
                }
            default:
                let start = index
                while index < count {
                    let inner = bytes[index]
                    if inner == 0x20 || inner == 0x09 || inner == 0x0D || inner == 0x0A || inner == 0x28 || inner == 0x29 || inner == 0x3B { break }
                    // A quoted string, a [literal] or a <path> opens only a word: "evil[x" is one plain word.
                    let close: UInt8? = index != start ? nil : inner == 0x22 ? 0x22 : inner == 0x5B ? 0x5D : inner == 0x3C ? 0x3E : nil
                    if let close {
                        index += 1
                        while index < count && bytes[index] != close {
                            index += (close == 0x22 && bytes[index] == 0x5C) ? 2 : 1
                        }
                    }
                    index += 1
                }
                index = min(index, count)
                tokens.append(Token(kind: .word, range: start..<index))
            }
        }
    }
}

/// A host named in a `from` or `by` clause: the names and addresses its text and comments give.
public struct HopHost: Sendable, Equatable {
    /// Lower case, without a trailing dot.
    public var names: [String] = []
    /// Textual IPv4/IPv6 addresses, without `IPv6:` prefix, port or zone.
    public var addresses: [String] = []
    /// The MTA says the connection came over a local channel (`[local]`, a unix socket).
    public var localChannel = false

    public init() {}

    /// What text output shows: the clause's name, then the first address in brackets.
    public func label(clause: String?) -> String {
        var parts: [String] = []
        if let clause { parts.append(clause) }
        // An address the clause itself names ("[192.0.2.1]") is not shown twice.
        if let address = addresses.first, clause.flatMap({ TraceAddress.address(in: Substring($0)) }) != address { parts.append("[\(address)]") }
        return parts.isEmpty ? "?" : parts.joined(separator: " ")
    }

    /// Loopback, localhost or a local channel.
    public var isLoopback: Bool {
        if localChannel { return true }
        if addresses.contains(where: TraceAddress.isLoopback) { return true }
        return addresses.isEmpty && names.contains(where: { $0 == "localhost" || $0.hasPrefix("localhost.") || $0 == "localhost6" })
    }

    /// Shares a name or an address with the other host.
    public func isSameHost(as other: HopHost) -> Bool {
        let ignored: Set<String> = ["unknown", "localhost", "authenticated-user"]
        if addresses.contains(where: { other.addresses.contains($0) }) { return true }
        return names.contains { !ignored.contains($0) && other.names.contains($0) }
    }
}

/// IP addresses as trace fields write them.
enum TraceAddress {
    /// `[IPv6:2001:db8::1]`, `[192.0.2.1]:25`, `2001:db8::1%14`, `::ffff:192.0.2.1` → the canonical address, or nil.
    static func address(in text: Substring) -> String? {
        var candidate = text
        if candidate.hasPrefix("[") {
            guard let close = candidate.firstIndex(of: "]") else { return nil }
            candidate = candidate[candidate.index(after: candidate.startIndex)..<close]
        }
        if candidate.lowercased().hasPrefix("ipv6:") { candidate = candidate.dropFirst(5) }
        if let percent = candidate.firstIndex(of: "%") { candidate = candidate[..<percent] }
        // Only hex digits, dots and colons can make an address: most words fail here, before inet_pton.
        let utf8 = candidate.utf8
        guard utf8.count >= 2, utf8.count <= 64, utf8.contains(where: { $0 == 0x2E || $0 == 0x3A }),
              utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x3A) || $0 == 0x2E || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) })
        else { return nil }
        return IPAddressText.canonical(String(candidate))
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.") || address.hasPrefix("::ffff:127.")
    }
}

/// One `Received:` field read: its clauses, date, TLS details and verdict.
public struct ReceivedHop: Sendable, Equatable {
    /// 0 for the topmost (newest) field.
    public var index: Int
    public var from: String?
    public var by: String?
    public var via: String?
    public var with: String?
    public var id: String?
    public var `for`: String?
    public var date: Date?
    public var tls: HopTLS?
    /// True: TLS; false: no TLS; nil: the trace does not say.
    public var encrypted: Bool?
    /// The field's value, unfolded.
    public var raw: String
    public var fromHost: HopHost
    public var byHost: HopHost
    /// Neither `from` nor `by` could be read (and it is not a comment-only trace such as qmail's).
    public var unparsed: Bool

    /// A host handing mail to itself, or no sending host named: not a hop between two hosts.
    public var isLocal: Bool {
        guard from != nil else { return true }
        return fromHost.isLoopback || fromHost.isSameHost(as: byHost)
    }

    /// Plaintext between two different hosts.
    public var isPlaintextBetweenHosts: Bool { encrypted == false && !isLocal }
}

extension ReceivedHop {
    enum Clause: String, CaseIterable {
        case from, by, via, with, id, `for`, tls
    }

    /// Parses one field value; never fails: what cannot be read stays nil and `unparsed` says so.
    public init<Bytes: Collection>(index: Int, value input: Bytes) where Bytes.Element == UInt8 {
        let bytes = Array(input)
        self = bytes.withUnsafeBufferPointer { buffer in ReceivedHop.parse(index: index, buffer) }
    }

    private static func parse(index: Int, _ buffer: UnsafeBufferPointer<UInt8>) -> ReceivedHop {
        let tokens = ReceivedTokens(buffer)
        func text(_ range: Range<Int>) -> String { HeaderText.decoded(UnsafeBufferPointer(rebasing: buffer[range])) }

        let lastSemicolon = tokens.tokens.lastIndex { $0.kind == .semicolon }
        let clauseTokens = tokens.tokens[..<(lastSemicolon ?? tokens.tokens.endIndex)]

        var words: [Clause: [Range<Int>]] = [:]
        var comments: [Clause: [Range<Int>]] = [:]
        var allComments: [Range<Int>] = []
        var current: Clause? = nil
        var currentWords: [Range<Int>] = []
        var closed = false
        var leadingComment = false
        func finish() {
            if let clause = current, words[clause] == nil, !currentWords.isEmpty { words[clause] = currentWords }
        }
        for (position, token) in clauseTokens.enumerated() {
            switch token.kind {
            case .word:
                if current == nil || !currentWords.isEmpty, let keyword = clauseKeyword(buffer, token.range) {
                    finish()
                    current = keyword
                    currentWords = []
                    closed = false
                } else if current != nil && !closed {
                    currentWords.append(token.range)
                }
            case .comment:
                if position == 0 { leadingComment = true }
                allComments.append(token.range)
                if let clause = current {
                    comments[clause, default: []].append(token.range)
                    if !currentWords.isEmpty { closed = true }
                }
            case .semicolon:
                if !currentWords.isEmpty { closed = true }
            }
        }
        finish()
        func clause(_ name: Clause) -> String? {
            words[name].map { $0.map(text).joined(separator: " ") }
        }

        var hop = ReceivedHop(
            index: index, from: clause(.from), by: clause(.by), via: clause(.via), with: clause(.with), id: clause(.id),
            for: clause(.for), date: nil, tls: nil, encrypted: nil,
            raw: text(trimmed(buffer)), fromHost: HopHost(), byHost: HopHost(), unparsed: false)

        // The date after the last ";"; Courier writes its id after the date.
        if let lastSemicolon {
            // A date and Courier's "id X" after it fit in 16 words; the rest is not decoded.
            let dateWords = Array(tokens.tokens[(lastSemicolon + 1)...].lazy.filter { $0.kind == .word }.prefix(16).map { text($0.range) })
            if let parsed = MailDate.parse(dateWords) {
                hop.date = parsed.date
                let rest = dateWords[parsed.wordsUsed...]
                if hop.id == nil, let idIndex = rest.firstIndex(where: { $0.lowercased() == "id" }), idIndex + 1 < rest.endIndex {
                    hop.id = rest[idIndex + 1]
                }
            }
        }

        hop.fromHost = host(words: words[.from] ?? [], comments: comments[.from] ?? [], text: text)
        hop.byHost = host(words: words[.by] ?? [], comments: comments[.by] ?? [], text: text)

        // Comments longer than any MTA writes, or past the 64th, are not read for TLS details.
        let commentTexts = Array(allComments.lazy.filter { $0.count <= 4_096 }.prefix(64).map(text))
        hop.tls = HopTLS.read(comments: commentTexts, tlsClause: clause(.tls))
        hop.encrypted = verdict(tls: hop.tls, with: hop.with, comments: commentTexts)
        let readable = hop.from != nil || hop.by != nil
        hop.unparsed = !readable && !(leadingComment && hop.date != nil)
        return hop
    }

    /// The field without the white space around it.
    private static func trimmed(_ buffer: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var start = 0
        var end = buffer.count
        while start < end && (buffer[start] == 0x20 || buffer[start] == 0x09) { start += 1 }
        while end > start && (buffer[end - 1] == 0x20 || buffer[end - 1] == 0x09) { end -= 1 }
        return start..<end
    }

    /// "unix socket" in any case, as Postfix and others write a local channel.
    private static func containsUnixSocket(_ text: String.UTF8View) -> Bool {
        let pattern = Array("unix socket".utf8)
        let bytes = Array(text)
        guard bytes.count >= pattern.count else { return false }
        for start in 0...(bytes.count - pattern.count) where bytes[start] | 0x20 == 0x75 {
            var index = 0
            while index < pattern.count && (bytes[start + index] | (pattern[index] == 0x20 ? 0 : 0x20)) == pattern[index] { index += 1 }
            if index == pattern.count { return true }
        }
        return false
    }

    /// The clause a word starts (from, by, via, with, id, for, tls), compared byte by byte without decoding.
    private static func clauseKeyword(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Clause? {
        guard range.count >= 2, range.count <= 4 else { return nil }
        var lowered = ""
        for index in range {
            let byte = buffer[index] | 0x20
            guard byte >= 0x61 && byte <= 0x7A else { return nil }
            lowered.unicodeScalars.append(Unicode.Scalar(byte))
        }
        return Clause(rawValue: lowered)
    }

    private static func host(words: [Range<Int>], comments: [Range<Int>], text: (Range<Int>) -> String) -> HopHost {
        var host = HopHost()
        // The clause's own words name the host whatever they look like; in comments only what looks like a host
        // name (dotted, localhost, or after helo=) counts, not the prose of a TLS comment.
        func add(_ word: Substring, inComment: Bool) {
            // No host name or address literal is this long (RFC 1035: 255 octets).
            guard word.utf8.count <= 300 else { return }
            var item = word
            while let last = item.last, last == "," || last == ")" || last == ";" { item = item.dropLast() }
            var afterHelo = false
            if item.lowercased().hasPrefix("helo=") {
                item = item.dropFirst(5)
                afterHelo = true
            }
            if item.isEmpty { return }
            let lowered = item.lowercased()
            if lowered == "[local]" || lowered == "[unix" || lowered.hasPrefix("unix:") {
                host.localChannel = true
                return
            }
            if let address = TraceAddress.address(in: item) {
                if !host.addresses.contains(address) { host.addresses.append(address) }
                return
            }
            var name = lowered
            while name.hasSuffix(".") { name.removeLast() }
            // Letters, digits, dots, dashes, underscores; bytes above ASCII for names in UTF-8.
            guard !name.isEmpty, name.utf8.allSatisfy({ byte in
                byte >= 0x80 || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x2D || byte == 0x5F
            }) else { return }
            if inComment && !afterHelo && !name.contains(".") && name != "localhost" { return }
            if !host.names.contains(name) { host.names.append(name) }
        }
        for range in words { add(Substring(text(range)), inComment: false) }
        // A comment longer than any MTA's host comment is not read for host names.
        for range in comments where range.count <= 4_096 {
            let comment = text(range)
            if containsUnixSocket(comment.utf8) { host.localChannel = true }
            for word in comment.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "(" }) {
                add(word, inComment: true)
            }
        }
        return host
    }

    /// RFC 3848 keywords (and RFC 6531's UTF8 ones) with TLS, and without.
    static let encryptedKeywords: Set<String> = [
        "ESMTPS", "ESMTPSA", "LMTPS", "LMTPSA", "UTF8SMTPS", "UTF8SMTPSA", "UTF8LMTPS", "UTF8LMTPSA", "SMTPS", "HTTPS",
    ]
    static let plaintextKeywords: Set<String> = [
        "SMTP", "ESMTP", "ESMTPA", "LMTP", "LMTPA", "UTF8SMTP", "UTF8SMTPA", "UTF8LMTP", "UTF8LMTPA", "MICROSOFT SMTP SERVER",
    ]

    private static func verdict(tls: HopTLS?, with: String?, comments: [String]) -> Bool? {
        if tls != nil { return true }
        if comments.contains(where: HopTLS.isTLSMarker) { return true }
        guard let with else { return nil }
        let keyword = with.uppercased()
        if encryptedKeywords.contains(keyword) { return true }
        if plaintextKeywords.contains(keyword) { return false }
        return nil
    }
}
