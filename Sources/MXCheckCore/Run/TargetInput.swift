import FoundationEssentials
import Glibc

/// One target as given: a command-line argument or an input line, without its `#` comment and blanks.
public struct TargetInput: Sendable, Equatable {
    /// The target as given; the `input` field of every object answering it.
    public var text: String
    /// Where it came from, for messages: `targets.txt:12`, or nil for a command-line argument.
    public var source: String?

    public init(_ text: String, source: String? = nil) {
        self.text = text
        self.source = source
    }

    /// A line's target: its text before any `#`, trimmed; nil for a blank or comment-only line.
    public static func fromLine<S: StringProtocol>(_ line: S, source: String?) -> TargetInput? {
        var body = Substring(line)
        if let hash = body.firstIndex(of: "#") { body = body[..<hash] }
        let text = body.trimmingWhitespaceAndLineEnds()
        return text.isEmpty ? nil : TargetInput(text, source: source)
    }
}

/// The lines of a file or of standard input, read as they are needed: memory stays bounded by one chunk
/// and one line, whatever the input's length.
public final class InputLines: Sequence, IteratorProtocol {
    public enum OpenError: Error, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): return "cannot read targets from '\(path)': \(reason)"
            }
        }
    }

    /// A longer line is no target: it is cut there, and the rest of it skipped.
    public static let maximumLineBytes = 4_096

    private let fd: Int32
    private let owned: Bool
    private let name: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var lineNumber = 0
    /// Set when reading failed part-way: the lines before it were delivered.
    public private(set) var readError: String?

    /// `-` is standard input.
    public init(path: String) throws(OpenError) {
        if path == "-" {
            fd = STDIN_FILENO
            owned = false
            name = "stdin"
        } else {
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else {
                let code = errno
                throw .unreadable(path: path, reason: code == ENOENT ? "no such file" : errnoText(code))
            }
            var info = stat()
            if fstat(opened, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(opened)
                throw .unreadable(path: path, reason: "it is a directory")
            }
            fd = opened
            owned = true
            name = path
        }
    }

    deinit {
        if owned { close(fd) }
    }

    public func next() -> TargetInput? {
        while true {
            guard let line = nextLine() else { return nil }
            lineNumber += 1
            let text = String(decoding: line, as: UTF8.self)
            if let input = TargetInput.fromLine(text, source: "\(name):\(lineNumber)") { return input }
        }
    }

    /// The next line's bytes without its LF (and CR), at most `maximumLineBytes` of them, or nil at the end.
    private func nextLine() -> [UInt8]? {
        // Set while the tail of an overlong line is skipped.
        var head: [UInt8]?
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var line = Array(buffer[start..<newline].prefix(Self.maximumLineBytes))
                start = newline + 1
                if let head { return head }
                if line.last == 0x0D { line.removeLast() }
                return line
            }
            if head == nil, buffer.count - start > Self.maximumLineBytes {
                head = Array(buffer[start..<(start + Self.maximumLineBytes)])
            }
            if head != nil {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            if atEnd {
                if let head { return head }
                guard start < buffer.count else { return nil }
                var rest = Array(buffer[start...])
                start = buffer.count
                if rest.last == 0x0D { rest.removeLast() }
                return rest
            }
            fill()
        }
    }

    private func fill() {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.append(contentsOf: chunk[..<count])
                return
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { readError = "reading \(name): \(errnoText(errno))" }
            atEnd = true
            return
        }
    }
}

/// A set of inputs kept as keyed 64-bit hashes: a run of millions of targets remembers each in 8 bytes.
/// Hasher's per-process random seed means no input can be crafted to collide with another.
public struct InputSet: Sendable {
    /// Most runs check one target: its hash waits here, and the set (whose storage type the Swift runtime
    /// instantiates at its first insertion, at a cost comparable to parsing the target) holds the others.
    private var first: Int?
    private var hashes = Set<Int>()

    public init() {}

    public var count: Int { hashes.count + (first == nil ? 0 : 1) }

    public func contains(_ input: String) -> Bool {
        let hash = input.hashValue
        return first == hash || hashes.contains(hash)
    }

    /// True when the input was not there yet.
    @discardableResult
    public mutating func insert(_ input: String) -> Bool {
        let hash = input.hashValue
        guard let first else {
            self.first = hash
            return true
        }
        return first != hash && hashes.insert(hash).inserted
    }
}
