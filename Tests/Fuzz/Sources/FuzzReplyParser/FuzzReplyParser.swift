import CFuzzDriver
import MXCheckCore

/// Any bytes, split at an arbitrary point as a network read would: the parser returns replies or throws, never traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReplyParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    var parser = SMTPReplyParser()
    var buffer = Array(bytes.prefix(split))
    var start = 0
    do {
        while let reply = try parser.parse(buffer, start: &start) {
            precondition((200...599).contains(reply.code))
            precondition(start <= buffer.count)
        }
        buffer += bytes.dropFirst(split)
        while let reply = try parser.parse(buffer, start: &start) {
            precondition((200...599).contains(reply.code))
            _ = Capabilities(ehloReply: reply).contains("STARTTLS")
        }
    } catch {
        _ = error.description
    }
    return 0
}

/// The entry point SwiftPM links as main: libFuzzer's driver, running the function above.
@_cdecl("FuzzReplyParser_main")
public func fuzzReplyParserMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzReplyParser(data, size)
    }
}
