/// Text from a server, a DNS answer or a file, made safe for a terminal: nothing a server sends can move the
/// cursor, set the window title, clear the screen or reorder what the reader sees.
///
/// Written escaped: the C0 controls except tab (`\x1b`, `\x0d`), DEL (`\x7f`), the C1 controls (`\u009b`),
/// and the Unicode bidirectional controls and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C:
/// `\u202e`). Everything else, backslashes included, is kept, so escaping twice changes nothing.
///
/// Bytes that are not UTF-8 never reach a String as U+FFFD: `decoded(_:)` writes each invalid byte as the
/// four characters `\xff`. The SMTP reply parser decodes every reply line this way (so a reply's text, in
/// the JSON output too, shows `\xff` where the server sent that byte); control characters stay as they
/// are there, for `escaped` (terminal) and the JSON encoder (`\u001b`) to deal with.
public enum TerminalText {
    /// `text` with every control and bidirectional character written as an escape.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) { out += escape(scalar) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// Raw bytes (from the network): valid UTF-8 as text, escaped as `escaped(_:)` does; each byte that is
    /// not part of a valid UTF-8 sequence as `\xNN`.
    public static func escaped<Bytes: Collection>(bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = ""
        decode(bytes) { scalar in
            if needsEscape(scalar) { out += escape(scalar) } else { out.unicodeScalars.append(scalar) }
        } invalid: { byte in
            out += hex(byte)
        }
        return out
    }

    /// Bytes as a String without losing what is not UTF-8: valid sequences decoded (controls kept as they
    /// are), each invalid byte as the text `\xNN`.
    public static func decoded<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = ""
        decode(bytes) { out.unicodeScalars.append($0) } invalid: { out += hex($0) }
        return out
    }

    /// Whether a scalar is written escaped: C0 but tab, DEL, C1, bidirectional controls and marks.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09: return false
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        default: return false
        }
    }

    static func escape(_ scalar: Unicode.Scalar) -> String {
        scalar.value < 0x80 ? hex(UInt8(scalar.value)) : "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
    }

    static func hex(_ byte: UInt8) -> String {
        "\\x" + String(byte, radix: 16).leftPadded(to: 2)
    }

    /// UTF-8 by the well-formed byte sequences of Unicode's Table 3-7 (no overlong forms, no surrogates,
    /// nothing above U+10FFFF); a byte that does not start such a sequence is invalid on its own, and
    /// decoding goes on at the next byte.
    static func decode<Bytes: Collection>(_ bytes: Bytes, scalar: (Unicode.Scalar) -> Void, invalid: (UInt8) -> Void) where Bytes.Element == UInt8 {
        let bytes = Array(bytes)
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            if lead < 0x80 {
                scalar(Unicode.Scalar(lead))
                index += 1
                continue
            }
            // The length of the sequence and the range its second byte must fall in.
            let length: Int
            var second: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; second = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; second = 0x80...0x9F
            case 0xF0: length = 4; second = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; second = 0x80...0x8F
            default: length = 0
            }
            var valid = length > 0 && index + length <= bytes.count
            if valid {
                valid = second.contains(bytes[index + 1])
                    && (2..<length).allSatisfy { (0x80...0xBF).contains(bytes[index + $0]) }
            }
            guard valid else {
                invalid(lead)
                index += 1
                continue
            }
            var value = UInt32(lead) & (length == 2 ? 0x1F : (length == 3 ? 0x0F : 0x07))
            for offset in 1..<length { value = value << 6 | UInt32(bytes[index + offset] & 0x3F) }
            if let decoded = Unicode.Scalar(value) { scalar(decoded) } else { invalid(lead) }
            index += length
        }
    }
}
