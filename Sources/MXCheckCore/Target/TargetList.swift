import Foundation

/// Targets read from a file or stdin: one a line, `#` starts a comment, blank lines are ignored.
public enum TargetList {
    public struct Line: Sendable, Equatable {
        public var number: Int
        public var text: String
    }

    /// At most this many bytes are read from one input (a line a target: millions of targets).
    public static let maximumBytes = 64 << 20

    public static func lines(of text: String) -> [Line] {
        var result: [Line] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { result.append(Line(number: index + 1, text: trimmed)) }
        }
        return result
    }

    public enum ReadError: Error, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case tooLarge(path: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): return "cannot read targets from '\(path)': \(reason)"
            case .tooLarge(let path): return "'\(path)' is larger than \(TargetList.maximumBytes >> 20) MB; split it"
            }
        }
    }

    /// Reads `path`, or standard input for `-`.
    public static func read(_ path: String) throws(ReadError) -> [Line] {
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let opened = FileHandle(forReadingAtPath: path) else {
                throw .unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
            }
            handle = opened
        }
        let data: Data
        do { data = try handle.read(upToCount: maximumBytes + 1) ?? Data() } catch {
            throw .unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        guard data.count <= maximumBytes else { throw .tooLarge(path: path) }
        return lines(of: String(decoding: data, as: UTF8.self))
    }
}
