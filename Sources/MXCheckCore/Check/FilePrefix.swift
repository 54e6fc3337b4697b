import FoundationEssentials
import Glibc

/// The first bytes of a file, read with the C library (Foundation's FileHandle is not in FoundationEssentials).
enum FilePrefix {
    /// At most `maximum` bytes; nil when the file cannot be opened. Read in blocks, so a small file under a large
    /// cap touches no more memory than it holds.
    static func read(_ path: String, maximum: Int) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: min(maximum, 16 * 1024))
        while bytes.count < maximum {
            let wanted = min(block.count, maximum - bytes.count)
            let count = block.withUnsafeMutableBytes { fread($0.baseAddress, 1, wanted, file) }
            bytes.append(contentsOf: block[..<count])
            if count < wanted { break }
        }
        guard ferror(file) == 0 else { return nil }
        return bytes
    }
}
