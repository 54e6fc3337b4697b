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
