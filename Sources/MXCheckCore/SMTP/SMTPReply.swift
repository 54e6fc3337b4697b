import FoundationEssentials
import Glibc

/// One SMTP reply: a three-digit code and its text lines (without code and separator).
public struct SMTPReply: Sendable, Equatable {
    public var code: Int
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The code and the first line of text, as messages quote a reply.
    public var firstLine: String { "\(code) \(lines.first ?? "")" }

    public var isPositiveCompletion: Bool { (200..<300).contains(code) }
}

public enum SMTPProtocolError: Error, Equatable, CustomStringConvertible {
    case lineTooLong(limit: Int)
    case replyTooLong(limit: Int)
    case malformedLine(String)
    case inconsistentCodes(first: Int, later: Int)

    public var description: String {
        switch self {
        case .lineTooLong(let limit): return "reply line longer than \(limit) bytes"
        case .replyTooLong(let limit): return "reply longer than \(limit) bytes"
        case .malformedLine(let line): return "malformed reply line '\(line)': expected a three-digit code"
        case .inconsistentCodes(let first, let later): return "multi-line reply mixes codes \(first) and \(later)"
        }
    }
}

/// Incremental SMTP reply parser (RFC 5321 §4.2): CRLF or bare LF line ends, `NNN-` continuation lines,
/// a final `NNN ` or bare `NNN` line. Lines and replies are capped.
public struct SMTPReplyParser: Sendable {
    public static let maxLineLength = 4096
    public static let maxReplyLength = 65_536

    private var code: Int?
    private var lines: [String] = []
    private var replyLength = 0

    public init() {}

    /// Takes complete lines from `buffer` (from `start` on, advancing it) and returns a reply once its
    /// final line is in. Returns nil when more bytes are needed; throws as soon as the bytes cannot be a reply.
    public mutating func parse(_ buffer: [UInt8], start: inout Int) throws(SMTPProtocolError) -> SMTPReply? {
        while true {
            guard let newline = buffer[start...].firstIndex(of: 0x0A) else {
                let pending = buffer.count - start
                if pending > Self.maxLineLength { throw .lineTooLong(limit: Self.maxLineLength) }
                if replyLength + pending > Self.maxReplyLength { throw .replyTooLong(limit: Self.maxReplyLength) }
                try checkPrefix(buffer[start...])
                return nil
            }
            var lineEnd = newline
            if lineEnd > start, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let raw = buffer[start..<lineEnd]
            let consumed = newline + 1 - start
            if raw.count > Self.maxLineLength { throw .lineTooLong(limit: Self.maxLineLength) }
            replyLength += consumed
            if replyLength > Self.maxReplyLength { throw .replyTooLong(limit: Self.maxReplyLength) }
            start = newline + 1
            let (lineCode, isLast, text) = try Self.split(raw)
            if let code, code != lineCode { throw .inconsistentCodes(first: code, later: lineCode) }
            code = lineCode
            lines.append(text)
            if isLast {
                let reply = SMTPReply(code: lineCode, lines: lines)
                self = SMTPReplyParser()
                return reply
            }
        }
    }

    /// Rejects a partial line as soon as its first bytes cannot start a reply line.
    private func checkPrefix(_ partial: ArraySlice<UInt8>) throws(SMTPProtocolError) {
        for (offset, byte) in partial.prefix(4).enumerated() {
            let fine = offset < 3 ? Self.isDigit(byte) : (byte == 0x20 || byte == 0x2D || byte == 0x0D)
            if !fine { throw .malformedLine(Self.printable(partial.prefix(64))) }
        }
    }

    private static func split(_ raw: ArraySlice<UInt8>) throws(SMTPProtocolError) -> (Int, Bool, String) {
        let bytes = Array(raw)
        guard bytes.count >= 3, bytes[0..<3].allSatisfy(isDigit), (0x32...0x35).contains(bytes[0]) else {
            throw .malformedLine(printable(raw.prefix(64)))
        }
        let code = Int(bytes[0] - 0x30) * 100 + Int(bytes[1] - 0x30) * 10 + Int(bytes[2] - 0x30)
        if bytes.count == 3 { return (code, true, "") }
        // Bytes that are not UTF-8 stay visible as the text `\xff` (TerminalText.decoded), never U+FFFD.
        switch bytes[3] {
        case 0x20: return (code, true, TerminalText.decoded(bytes[4...]))
        case 0x2D: return (code, false, TerminalText.decoded(bytes[4...]))
        default: throw .malformedLine(printable(raw.prefix(64)))
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// Bytes shown in messages: printable ASCII kept, anything else as `\xNN`.
    static func printable<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var text = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F { text.unicodeScalars.append(Unicode.Scalar(byte)) } else {
                text += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return text
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// The EHLO keywords a server announced, matched case-insensitively.
public struct Capabilities: Sendable, Equatable {
    /// The capability lines as sent (the first EHLO line, the server's greeting name, excluded).
    public var lines: [String]

    public init(lines: [String]) {
        self.lines = lines
    }

    public init(ehloReply: SMTPReply) {
        self.init(lines: Array(ehloReply.lines.dropFirst()))
    }

    public func contains(_ keyword: String) -> Bool {
        lines.contains { line in
            let word = line.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
            return word.lowercased() == keyword.lowercased()
        }
    }
}
