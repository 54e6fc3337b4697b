import CFuzzDriver
import MXCheckCore

/// Any bytes, as bytes and as the String a lossy decoder would make of them: what TerminalText writes never
/// holds a raw control or bidirectional character, escaping it again changes nothing, and decoding keeps
/// every byte visible (no U+FFFD appears that the input did not hold).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTerminalText(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let lossy = String(decoding: bytes, as: UTF8.self)
    for written in [TerminalText.escaped(lossy), TerminalText.escaped(bytes: bytes), TerminalText.escaped(TerminalText.decoded(bytes))] {
        for scalar in written.unicodeScalars {
            precondition(!TerminalText.needsEscape(scalar), "raw U+\(String(scalar.value, radix: 16)) written")
        }
        precondition(TerminalText.escaped(written) == written, "escaping twice changed the text")
    }
    precondition(TerminalText.escaped(bytes: bytes) == TerminalText.escaped(TerminalText.decoded(bytes)))
    let decoded = TerminalText.decoded(bytes)
    if !bytes.contains(0xEF) {
        // U+FFFD is EF BF BD: without an 0xEF byte in the input, the decoder never makes one up.
        precondition(!decoded.unicodeScalars.contains("\u{FFFD}"), "invalid bytes turned into U+FFFD")
    }
    return 0
}

/// The entry point SwiftPM links as main: libFuzzer's driver, running the function above.
@_cdecl("FuzzTerminalText_main")
public func fuzzTerminalTextMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzTerminalText(data, size)
    }
}
