/// An HTTP/1.1 response as far as an MTA-STS policy fetch needs it (RFC 9112).
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var reason: String
    /// Header fields in order, names as sent.
    public var headers: [HTTPHeaderField]
    /// The decoded body; empty when the status is not 200 (it is not read then).
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    /// The media type without parameters, lower case (`text/plain`).
    public var mediaType: String? {
        header("Content-Type").map { String($0.split(separator: ";", maxSplits: 1).first ?? "").trimmingSpacesAndTabs.lowercased() }
    }

    public var location: String? { header("Location") }
}

public struct HTTPHeaderField: Sendable, Equatable {
    public var name: String
    public var value: String
}

extension String {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    var trimmingSpacesAndTabs: String { String(self[...].trimmingSpaces) }
}

/// Why a response could not be read.
public enum HTTPResponseError: Error, Sendable, Equatable, CustomStringConvertible {
    case badStatusLine(String)
    case headerLineWithoutColon(String)
    case obsoleteLineFolding
    case headersTooLong(limit: Int)
    case badContentLength(String)
    case unsupportedTransferEncoding(String)
    case badChunk
    case bodyTooLarge(limit: Int)
    /// The connection closed before the body (or the headers) ended.
    case truncated

    public var description: String {
        switch self {
        case .badStatusLine(let line): return "not an HTTP/1.x status line: '\(line)'"
        case .headerLineWithoutColon(let line): return "a header line without a colon: '\(line)'"
        case .obsoleteLineFolding: return "a folded header line (obsolete line folding)"
        case .headersTooLong(let limit): return "headers longer than \(limit) bytes"
        case .badContentLength(let value): return "Content-Length '\(value)' is not a number"
        case .unsupportedTransferEncoding(let value): return "Transfer-Encoding '\(value)' (only chunked is understood)"
        case .badChunk: return "a malformed chunk in the chunked body"
        case .bodyTooLarge(let limit): return "body over \(limit / 1024) KiB"
        case .truncated: return "the connection closed before the response ended"
        }
    }
}

/// Reads a response as its bytes arrive: headers, then a body delimited by Content-Length, chunked coding or
/// the end of the connection. Every buffer is capped; each byte is looked at a bounded number of times.
public struct HTTPResponseParser: Sendable {
    public static let maximumHeaderBytes = 16 * 1024
    public static let maximumBodyBytes = 64 * 1024

    public enum Outcome: Sendable, Equatable {
        case needMore
        case complete(HTTPResponse)
        case failed(HTTPResponseError)
    }

    private enum Framing: Sendable {
        case length(Int)
        case chunked
        case close
    }

    private var buffer: [UInt8] = []
    private var searchFrom = 0
    private var head: (status: Int, reason: String, headers: [HTTPHeaderField], framing: Framing)?
    private var bodyStart = 0
    // Chunked decoding: where the next chunk-size line starts, and the body so far.
    private var chunkCursor = 0
    private var decoded: [UInt8] = []
    private var finished: Outcome?
    public let bodyLimit: Int

    public init(bodyLimit: Int = HTTPResponseParser.maximumBodyBytes) {
        self.bodyLimit = bodyLimit
    }

    /// Feeds bytes read from the connection; an empty array means the connection closed.
    public mutating func feed(_ bytes: [UInt8]) -> Outcome {
        if let finished { return finished }
        let closed = bytes.isEmpty
        buffer += bytes
        let outcome = step(closed: closed)
        if outcome != .needMore { finished = outcome; buffer = [] }
        return outcome
    }

    private mutating func step(closed: Bool) -> Outcome {
        if head == nil {
            guard let end = headerEnd() else {
                if buffer.count > Self.maximumHeaderBytes { return .failed(.headersTooLong(limit: Self.maximumHeaderBytes)) }
                return closed ? .failed(.truncated) : .needMore
            }
            guard end.headEnd <= Self.maximumHeaderBytes else { return .failed(.headersTooLong(limit: Self.maximumHeaderBytes)) }
            switch Self.parseHead(buffer[..<end.headEnd]) {
            case .failure(let error): return .failed(error)
            case .success(let parsed): head = parsed
            }
            bodyStart = end.bodyStart
            chunkCursor = bodyStart
        }
        guard let head else { return .needMore }
        // Only a 200's body is a policy: for any other status the head says all that is reported.
        if head.status != 200 {
            return .complete(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: []))
        }
        switch head.framing {
        case .length(let length):
            guard length <= bodyLimit else { return .failed(.bodyTooLarge(limit: bodyLimit)) }
            let have = buffer.count - bodyStart
            if have >= length {
                return .complete(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers,
                                              body: Array(buffer[bodyStart..<bodyStart + length])))
            }
            return closed ? .failed(.truncated) : .needMore
        case .close:
            if buffer.count - bodyStart > bodyLimit { return .failed(.bodyTooLarge(limit: bodyLimit)) }
            if closed {
                return .complete(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: Array(buffer[bodyStart...])))
            }
            return .needMore
        case .chunked:
            while true {
                guard let lineEnd = Self.lineEnd(in: buffer, from: chunkCursor) else {
                    if buffer.count - chunkCursor > 1024 { return .failed(.badChunk) }
                    return closed ? .failed(.truncated) : .needMore
                }
                let sizeLine = buffer[chunkCursor..<lineEnd.contentEnd]
                let sizeText = sizeLine.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != 0x20 && $0 != 0x09 }
                // chunk-size is 1*HEXDIG (RFC 9112, 7.1): Int(_:radix:) alone would also take a sign, and a
                // negative size would reach before the data.
                guard !sizeText.isEmpty, sizeText.count <= 8, sizeText.allSatisfy(Self.isHexDigit),
                      let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16)
                else { return .failed(.badChunk) }
                if size == 0 {
                    // Trailer fields up to the empty line; none is needed, so the first line end or the close will do.
                    return .complete(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: decoded))
                }
                guard decoded.count + size <= bodyLimit else { return .failed(.bodyTooLarge(limit: bodyLimit)) }
                let dataStart = lineEnd.next
                guard buffer.count >= dataStart + size else { return closed ? .failed(.truncated) : .needMore }
                guard let dataEnd = Self.lineEnd(in: buffer, from: dataStart + size) else {
                    return closed ? .failed(.truncated) : (buffer.count > dataStart + size + 2 ? .failed(.badChunk) : .needMore)
                }
                guard dataEnd.contentEnd == dataStart + size else { return .failed(.badChunk) }
                decoded += buffer[dataStart..<dataStart + size]
                chunkCursor = dataEnd.next
            }
        }
    }

    /// Where the head ends (CRLF CRLF, or bare LF LF), searching only bytes not searched before.
    private mutating func headerEnd() -> (headEnd: Int, bodyStart: Int)? {
        var index = max(0, searchFrom - 3)
        while index < buffer.count {
            if buffer[index] == 0x0A {
                if index + 1 < buffer.count, buffer[index + 1] == 0x0A { return (index + 1, index + 2) }
                if index + 2 < buffer.count, buffer[index + 1] == 0x0D, buffer[index + 2] == 0x0A { return (index + 1, index + 3) }
            }
            index += 1
        }
        searchFrom = buffer.count
        return nil
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    private static func lineEnd(in bytes: [UInt8], from start: Int) -> (contentEnd: Int, next: Int)? {
        guard start < bytes.count, let newline = bytes[start...].firstIndex(of: 0x0A) else { return nil }
        let contentEnd = newline > start && bytes[newline - 1] == 0x0D ? newline - 1 : newline
        return (contentEnd, newline + 1)
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>) -> Result<(status: Int, reason: String, headers: [HTTPHeaderField], framing: Framing), HTTPResponseError> {
        var lines: [ArraySlice<UInt8>] = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            line.last == 0x0D ? line.dropLast() : line
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let statusLine = lines.first else { return .failure(.badStatusLine("")) }
        let statusText = TerminalText.decoded(statusLine.prefix(120))
        let parts = statusText.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].count == 3,
              let status = Int(parts[1]), (100...599).contains(status)
        else { return .failure(.badStatusLine(statusText)) }
        let reason = parts.count > 2 ? String(parts[2]) : ""
        var headers: [HTTPHeaderField] = []
        for line in lines.dropFirst() {
            if line.first == 0x20 || line.first == 0x09 { return .failure(.obsoleteLineFolding) }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                return .failure(.headerLineWithoutColon(TerminalText.decoded(line.prefix(80))))
            }
            let name = TerminalText.decoded(line[..<colon])
            let value = TerminalText.decoded(line[(colon + 1)...]).trimmingSpacesAndTabs
            headers.append(HTTPHeaderField(name: name, value: value))
        }
        let response = HTTPResponse(status: status, reason: reason, headers: headers, body: [])
        var framing = Framing.close
        if let encoding = response.header("Transfer-Encoding") {
            guard encoding.lowercased() == "chunked" else { return .failure(.unsupportedTransferEncoding(String(encoding.prefix(40)))) }
            framing = .chunked
        } else if let lengthText = response.header("Content-Length") {
            guard (1...18).contains(lengthText.count), lengthText.allSatisfy({ $0 >= "0" && $0 <= "9" }), let length = Int(lengthText), length >= 0 else {
                return .failure(.badContentLength(String(lengthText.prefix(40))))
            }
            framing = .length(length)
        }
        return .success((status, reason, headers, framing))
    }
}
