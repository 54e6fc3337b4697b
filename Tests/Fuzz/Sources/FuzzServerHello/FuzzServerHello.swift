import CFuzzDriver
import MXCheckCore

/// Any bytes as a server's answer to a ClientHello, whole and as a prefix still arriving: a ServerHello,
/// an alert, "need more" or a ServerAnswerError, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServerHello(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for keyExchange in [false, true] {
        _ = try? ServerAnswerParser.parse(bytes, keyExchange: keyExchange, atEnd: true)
        _ = try? ServerAnswerParser.parse(Array(bytes.prefix(bytes.count / 2)), keyExchange: keyExchange, atEnd: false)
    }
    return 0
}

/// The entry point SwiftPM links as main: libFuzzer's driver, running the function above.
@_cdecl("FuzzServerHello_main")
public func fuzzServerHelloMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzServerHello(data, size)
    }
}
