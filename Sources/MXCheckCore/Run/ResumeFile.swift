import FoundationEssentials
import Glibc

/// An earlier run's JSON Lines output (`--resume FILE`): which inputs it answered, and their statuses for the
/// exit code. An unterminated last line (the run was killed mid-write) is dropped, and its target checked again.
public struct ResumeFile: Sendable {
    public var answered = InputSet()
    /// Objects read back, per status.
    public var statuses = StatusCounts()
    /// Bytes up to the end of the last complete line: where appending output continues.
    public var completeLength = 0
    /// Complete lines that were not mxcheck objects (skipped, and kept in the file).
    public var unreadableLines = 0

    public enum ReadError: Error, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): return "--resume \(path): \(reason)"
            }
        }
    }

    public init() {}

    /// A missing file is an empty one: the first run of a resumable job.
    public static func read(_ path: String) throws(ReadError) -> ResumeFile {
        var file = ResumeFile()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return file }
            throw .unreadable(path: path, reason: errnoText(errno))
        }
        defer { close(fd) }
        var pending: [UInt8] = []
        var offset = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: errnoText(errno))
            }
            if count == 0 { break }
            var start = 0
            for index in 0..<count where chunk[index] == 0x0A {
                pending.append(contentsOf: chunk[start..<index])
                file.take(line: pending)
                offset += pending.count + 1
                pending.removeAll(keepingCapacity: true)
                start = index + 1
            }
            pending.append(contentsOf: chunk[start..<count])
            // A line longer than any object mxcheck writes is no object: keep counting, drop its bytes.
            if pending.count > 64 << 20 { throw .unreadable(path: path, reason: "a line longer than 64 MB: not mxcheck's JSON output") }
        }
        file.completeLength = offset
        return file
    }

    private mutating func take(line: [UInt8]) {
        guard !line.isEmpty,
              let object = try? JSONDecoder().decode(AnsweredLine.self, from: Data(line))
        else {
            unreadableLines += 1
            return
        }
        answered.insert(object.input)
        if let text = object.status, let status = Status(rawValue: text) {
            statuses.add(status)
        }
    }
}

/// What a line of earlier output says about its target: its `input`, and its `status` when that is a string.
private struct AnsweredLine: Decodable {
    var input: String
    var status: String?

    private enum CodingKeys: String, CodingKey { case input, status }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        input = try container.decode(String.self, forKey: .input)
        status = try? container.decode(String.self, forKey: .status)
    }
}
