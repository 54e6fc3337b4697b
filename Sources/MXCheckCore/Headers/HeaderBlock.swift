import FoundationEssentials
import Glibc

/// One header field: its name as written and its value unfolded (the line breaks of folded lines removed, the
/// white space after them kept), as the bytes the message holds.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// The header block of a message (RFC 5322 §2.2): from the start (after an mbox `From ` line) to the first
/// empty line, cut at the caps.
public struct HeaderBlock: Sendable {
    /// A header block longer than this is cut here.
    public static let maximumBytes = 1_048_576
    /// Fields after this many are not read.
    public static let maximumFields = 1_000

    public var fields: [HeaderField]
    /// The block was cut at `maximumBytes` or `maximumFields`; a field the byte cap cut in two is left out.
    public var truncated: Bool
    /// Lines that are neither a field nor the continuation of one (no colon, a name with spaces or controls).
    public var skippedLines: Int

    /// Parses the start of a message. `endOfInput`: nothing follows these bytes (so a last line without a line
    /// break is a whole line); false when a reader stopped at the byte cap.
    public init<Bytes: Collection>(parsing input: Bytes, endOfInput: Bool = true) where Bytes.Element == UInt8 {
        fields = []
        truncated = false
        skippedLines = 0
        let bytes = Array(input.prefix(Self.maximumBytes + 1))
        let limit = min(bytes.count, Self.maximumBytes)
        let cutAtCap = bytes.count > Self.maximumBytes || !endOfInput
        bytes.withUnsafeBufferPointer { buffer in
            parse(buffer, limit: limit, cutAtCap: cutAtCap)
        }
    }

    private mutating func parse(_ buffer: UnsafeBufferPointer<UInt8>, limit: Int, cutAtCap: Bool) {
        var position = 0
        // A UTF-8 byte-order mark some editors write.
        if limit >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { position = 3 }
        var currentName: String? = nil
        var currentValue: [UInt8] = []
        var first = true
        while position < limit {
            var end = position
            while end < limit && buffer[end] != 0x0A { end += 1 }
            if end == limit && cutAtCap {
                // This line may go on past the cap: the field it belongs to is not known whole. A field before
                // it is whole when this line starts a new one.
                truncated = true
                if let name = currentName, buffer[position] != 0x20 && buffer[position] != 0x09 {
                    fields.append(HeaderField(name: name, value: currentValue))
                }
                return
            }
            let next = end + 1
            var lineEnd = end
            if lineEnd > position && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            defer { position = next }
            if first {
                first = false
                if lineEnd - position >= 5 && buffer[position] == 0x46 && buffer[position + 1] == 0x72 && buffer[position + 2] == 0x6F
                    && buffer[position + 3] == 0x6D && buffer[position + 4] == 0x20 {
                    continue  // the mbox "From " separator line
                }
            }
            if lineEnd == position { break }  // the empty line: end of the header block
            let lead = buffer[position]
            if lead == 0x20 || lead == 0x09 {
                if currentName != nil {
                    currentValue.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[position..<lineEnd]))
                } else {
                    skippedLines += 1
                }
                continue
            }
            if let name = currentName {
                fields.append(HeaderField(name: name, value: currentValue))
                currentName = nil
            }
            if fields.count >= Self.maximumFields {
                truncated = true
                return
            }
            guard let colon = Self.fieldNameEnd(buffer, from: position, to: lineEnd) else {
                skippedLines += 1
                continue
            }
            var nameEnd = colon
            while nameEnd > position && (buffer[nameEnd - 1] == 0x20 || buffer[nameEnd - 1] == 0x09) { nameEnd -= 1 }
            currentName = String(decoding: UnsafeBufferPointer(rebasing: buffer[position..<nameEnd]), as: UTF8.self)
            currentValue = Array(UnsafeBufferPointer(rebasing: buffer[(colon + 1)..<lineEnd]))
        }
        if let name = currentName {
            fields.append(HeaderField(name: name, value: currentValue))
        }
    }

    /// The colon after a field name: printable ASCII but colon (RFC 5322 ftext), then optional white space
    /// (the obsolete `Name :` form); nil for a line that is not a field.
    private static func fieldNameEnd(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var index = start
        while index < end {
            let byte = buffer[index]
            if byte == 0x3A { return index > start ? index : nil }
            if byte == 0x20 || byte == 0x09 {
                var after = index
                while after < end && (buffer[after] == 0x20 || buffer[after] == 0x09) { after += 1 }
                return after < end && buffer[after] == 0x3A && index > start ? after : nil
            }
            guard byte >= 33 && byte <= 126 else { return nil }
            index += 1
        }
        return nil
    }

    /// The fields with this name (case-insensitive), in order.
    public func fields(named name: String) -> [HeaderField] {
        let lowered = name.lowercased()
        return fields.filter { $0.name.count == lowered.count && $0.name.lowercased() == lowered }
    }
}

/// Why a message could not be read.
public enum HeaderInputError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case cannotRead(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open \(path): \(reason)"
        case .cannotRead(let path, let reason): return "cannot read \(path): \(reason)"
        }
    }
}

/// Reads the start of a message from a file or standard input: up to the empty line that ends the header
/// block, or the byte cap, never the rest (a 50 MB message costs what its header block costs).
public enum HeaderBlockReader {
    static let chunkSize = 65_536

    /// `path` "-" is standard input.
    public static func read(path: String) throws(HeaderInputError) -> HeaderBlock {
        if path == "-" { return try read(fileDescriptor: 0, shownAs: "standard input") }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        return try read(fileDescriptor: descriptor, shownAs: path)
    }

    public static func read(fileDescriptor descriptor: Int32, shownAs name: String) throws(HeaderInputError) -> HeaderBlock {
        var bytes: [UInt8] = []
        var endOfInput = false
        var scanned = 0
        let cap = HeaderBlock.maximumBytes + 1
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while bytes.count < cap {
            let wanted = min(chunkSize, cap - bytes.count)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: name, reason: String(cString: strerror(errno)))
            }
            if count == 0 {
                endOfInput = true
                break
            }
            bytes.append(contentsOf: chunk[0..<count])
            if containsEmptyLine(bytes, from: scanned) { break }
            // Scanning starts again two bytes back, so a "\n\r\n" split across reads is seen.
            scanned = max(0, bytes.count - 2)
        }
        return HeaderBlock(parsing: bytes, endOfInput: endOfInput || bytes.count < cap)
    }

    /// An empty line: "\n\n" or "\n\r\n", or one at the very start.
    static func containsEmptyLine(_ bytes: [UInt8], from start: Int) -> Bool {
        if start == 0 && (bytes.first == 0x0A || (bytes.count >= 2 && bytes[0] == 0x0D && bytes[1] == 0x0A)) { return true }
        var index = max(start, 0)
        while index + 1 < bytes.count {
            if bytes[index] == 0x0A {
                if bytes[index + 1] == 0x0A { return true }
                if bytes[index + 1] == 0x0D && index + 2 < bytes.count && bytes[index + 2] == 0x0A { return true }
            }
            index += 1
        }
        return false
    }
}
