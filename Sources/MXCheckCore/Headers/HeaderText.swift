/// Header bytes as text: what a message says is untrusted, so nothing of it may be lost silently or reach a
/// terminal as a control sequence.
public enum HeaderText {
    /// UTF-8 decoded; every byte that is not part of a valid UTF-8 sequence is kept as the four characters `\xNN`.
    public static func decoded<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        if let valid = String(validating: bytes, as: UTF8.self) { return valid }
        var out = String.UnicodeScalarView()
        var iterator = bytes.makeIterator()
        var pending: UInt8? = nil
        // A hand-rolled decoder: Swift's own replaces invalid bytes with U+FFFD, which loses the byte's value.
        while true {
            guard let lead = pending ?? iterator.next() else { break }
            pending = nil
            if lead < 0x80 {
                out.append(Unicode.Scalar(lead))
                continue
            }
            let length: Int
            var value: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
            case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
            case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
            default:
                appendEscaped(lead, to: &out)
                continue
            }
            var taken: [UInt8] = [lead]
            var valid = true
            for position in 1..<length {
                guard let next = iterator.next() else { valid = false; break }
                // The second byte's range excludes overlong forms, surrogates and values above U+10FFFF.
                let low: UInt8, high: UInt8
                if position == 1 {
                    switch lead {
                    case 0xE0: (low, high) = (0xA0, 0xBF)
                    case 0xED: (low, high) = (0x80, 0x9F)
                    case 0xF0: (low, high) = (0x90, 0xBF)
                    case 0xF4: (low, high) = (0x80, 0x8F)
                    default: (low, high) = (0x80, 0xBF)
                    }
                } else {
                    (low, high) = (0x80, 0xBF)
                }
                guard next >= low && next <= high else {
                    pending = next
                    valid = false
                    break
                }
                taken.append(next)
                value = value << 6 | UInt32(next & 0x3F)
            }
            if valid, let scalar = Unicode.Scalar(value) {
                out.append(scalar)
            } else {
                for byte in taken { appendEscaped(byte, to: &out) }
            }
        }
        return String(out)
    }

    private static func appendEscaped(_ byte: UInt8, to out: inout String.UnicodeScalarView) {
        out.append(contentsOf: "\\x".unicodeScalars)
        out.append(contentsOf: hex(UInt32(byte), digits: 2).unicodeScalars)
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Text safe to write to a terminal: C0 controls but tab, DEL, C1 controls and the bidi controls
    /// (U+202A-U+202E, U+2066-U+2069) written as `\x1b`, `\u0085`, `\u202e`. Invalid UTF-8 is already `\xff`
    /// in text that came through `decoded`.
    public static func escapedForTerminal(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            switch value {
            case 0x09:
                out.append(scalar)
            case 0x00...0x1F, 0x7F:
                out.append(contentsOf: ("\\x" + hex(value, digits: 2)).unicodeScalars)
            case 0x80...0x9F, 0x202A...0x202E, 0x2066...0x2069:
                out.append(contentsOf: ("\\u" + hex(value, digits: 4)).unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Raw bytes made safe for a terminal: decoded (invalid UTF-8 as `\xff`), then escaped.
    public static func escapedForTerminal<Bytes: Collection>(bytes: Bytes) -> String where Bytes.Element == UInt8 {
        escapedForTerminal(decoded(bytes))
    }
}
