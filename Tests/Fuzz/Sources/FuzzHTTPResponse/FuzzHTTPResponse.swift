import CFuzzDriver
import MXCheckCore

/// Any bytes as an HTTP response, fed whole and then in pieces whose sizes the first byte picks: the same outcome
/// either way, a body never over the cap. Never a crash, never a hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let response = Array(bytes.dropFirst())
    var whole = HTTPResponseParser()
    var outcome = whole.feed(response)
    if outcome == .needMore { outcome = whole.feed([]) }
    var pieces = HTTPResponseParser()
    var piecewise = HTTPResponseParser.Outcome.needMore
    let step = Int(first % 17) + 1
    var offset = 0
    while offset < response.count, piecewise == .needMore {
        piecewise = pieces.feed(Array(response[offset..<min(response.count, offset + step)]))
        offset += step
    }
    if piecewise == .needMore { piecewise = pieces.feed([]) }
    if case .complete(let parsed) = outcome {
        precondition(parsed.body.count <= HTTPResponseParser.maximumBodyBytes)
    }
    precondition(outcome == piecewise, "split feeding changed the outcome")
    return 0
}

@_cdecl("FuzzHTTPResponse_main")
public func fuzzHTTPResponseMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzHTTPResponse(data, size)
    }
}
