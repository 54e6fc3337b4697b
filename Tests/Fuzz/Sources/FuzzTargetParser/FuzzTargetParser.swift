import CFuzzDriver
import MXCheckCore

/// Any text as a command-line target: a Target or a TargetError, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTargetParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let target = try Target.parse(text)
        precondition(target.port >= 1)
        _ = target.description
        _ = Endpoint.endpoints(for: target, addresses: [target.hostText], tls: .auto, servername: nil)
    } catch {
        _ = error.description
    }
    return 0
}

/// The entry point SwiftPM links as main: libFuzzer's driver, running the function above.
@_cdecl("FuzzTargetParser_main")
public func fuzzTargetParserMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzTargetParser(data, size)
    }
}
