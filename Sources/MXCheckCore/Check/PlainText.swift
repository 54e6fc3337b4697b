import CMXCheckShims
import FoundationEssentials
import Glibc

// The few text operations the library took from full Foundation, which it no longer imports (ICU and
// tens of megabytes every start would map): printf formatting, fixed-width padding, trimming.

extension String {
    /// printf-style formatting through the C library, as Foundation's `String(format:)` did for these
    /// (numbers only: %d, %X, %f and their widths).
    public init(cFormat format: String, _ arguments: CVarArg...) {
        var buffer = [CChar](repeating: 0, count: 128)
        let written = withVaList(arguments) { list in vsnprintf(&buffer, buffer.count, format, list) }
        if written >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(written) + 1)
            _ = withVaList(arguments) { list in vsnprintf(&buffer, buffer.count, format, list) }
        }
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension String {
    /// printf's "%.Nf" with N = `decimals` (0 to 9), as String(cFormat:) would write it.
    public init(fixed value: Double, decimals: Int) {
        var buffer = [CChar](repeating: 0, count: 64)
        let needed = CMXCheckShims_format_fixed(value, Int32(decimals), &buffer, Int32(buffer.count))
        if needed >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(needed) + 1)
            _ = CMXCheckShims_format_fixed(value, Int32(decimals), &buffer, Int32(buffer.count))
        }
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
