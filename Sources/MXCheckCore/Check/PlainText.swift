import CMXCheckShims
import FoundationEssentials
import Glibc

// The few text operations the library took from full Foundation, which it no longer imports (ICU and
// tens of megabytes every start would map): printf formatting, fixed-width padding, trimming.

extension String {
    /// printf-style formatting through the C library, as Foundation's `String(format:)` did for these
    /// (numbers only: %d, %X, %f and their widths).
    public init(cFormat format: String, _ arguments: CVarArg...) {
        self = Self.printed { buffer, capacity in withVaList(arguments) { vsnprintf(buffer, capacity, format, $0) } }
    }

    /// printf's "%.Nf" with N = `decimals` (0 to 9), as String(cFormat:) would write it, through a
    /// fixed-argument C function (Swift's CVarArg path costs a runtime conformance lookup).
    public init(fixed value: Double, decimals: Int) {
        self = Self.printed { buffer, capacity in CMXCheckShims_format_fixed(value, Int32(decimals), buffer, Int32(capacity)) }
    }

    /// What a snprintf-like `write` (buffer, capacity -> length it needed) printed; written again into a
    /// buffer that fits when the first was too small.
    private static func printed(_ write: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        let needed = buffer.withUnsafeMutableBufferPointer { write($0.baseAddress!, $0.count) }
        if needed >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(needed) + 1)
            _ = buffer.withUnsafeMutableBufferPointer { write($0.baseAddress!, $0.count) }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Padded with spaces, or cut, to exactly `width` characters (Foundation's `padding(toLength:withPad:" "startingAt:0)`).
    public func padded(toWidth width: Int) -> String {
        let count = self.count
        if count >= width { return String(prefix(width)) }
        return String(self) + String(repeating: " ", count: width - count)
    }

    /// Whether the ASCII text `needle` occurs in this text, compared byte by byte, ASCII letters in any case:
    /// for the short names the rules look into, without the string-processing library's searcher (a table
    /// built for each search, and its generic types instantiated at run time).
    public func containsASCII(caseInsensitive needle: StaticString) -> Bool {
        let lower: (UInt8) -> UInt8 = { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        let text = Array(utf8)
        return needle.withUTF8Buffer { pattern in
            guard !pattern.isEmpty, pattern.count <= text.count else { return pattern.isEmpty }
            for start in 0...(text.count - pattern.count) {
                var index = 0
                while index < pattern.count, lower(text[start + index]) == lower(pattern[index]) { index += 1 }
                if index == pattern.count { return true }
            }
            return false
        }
    }

    /// Without leading and trailing spaces and tabs (Foundation's `.whitespaces`); line ends stay.
    public func trimmingBlanks() -> String {
        let isBlank: (Character) -> Bool = { $0.isWhitespace && !$0.isNewline }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Without leading and trailing white space, line ends included (Foundation's `.whitespacesAndNewlines`).
    public func trimmingWhitespaceAndLineEnds() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
