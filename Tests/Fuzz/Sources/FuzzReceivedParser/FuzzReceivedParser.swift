import CFuzzDriver
import MXCheckCore

/// Any bytes as a message's start, then as one Received field's value: a trace or a named result, never a trap;
/// and whatever the bytes, text output carries no control character.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReceivedParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let endOfInput = size == 0 || bytes[0] & 1 == 0
    let block = HeaderBlock(parsing: bytes, endOfInput: endOfInput)
    precondition(block.fields.count <= HeaderBlock.maximumFields)
    let trace = HeaderTrace(block)
    precondition(trace.findings.isEmpty == false || !trace.hops.isEmpty)
    _ = trace.json.serialized()
    let text = HeaderTextReport.render(trace, source: "fuzz")
    precondition(!text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) })
    let hop = ReceivedHop(index: 0, value: bytes)
    if let bits = hop.tls?.bits { precondition(bits >= 0) }
    _ = hop.isPlaintextBetweenHosts
    _ = HeaderText.escapedForTerminal(bytes: bytes)
    return 0
}

/// The entry point SwiftPM links as main: libFuzzer's driver, running the function above.
@_cdecl("FuzzReceivedParser_main")
public func fuzzReceivedParserMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzReceivedParser(data, size)
    }
}
