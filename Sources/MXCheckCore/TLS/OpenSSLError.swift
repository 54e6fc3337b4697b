import COpenSSL

/// What OpenSSL said went wrong: the reasons from its error queue, oldest first.
public struct OpenSSLError: Error, Equatable, CustomStringConvertible {
    public var reasons: [String]

    public init(reasons: [String]) {
        self.reasons = reasons
    }

    /// Drains the calling thread's OpenSSL error queue.
    static func drain() -> OpenSSLError {
        var reasons: [String] = []
        for _ in 0..<16 {
            let code = ERR_get_error()
            if code == 0 { break }
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                reasons.append("error 0x\(String(code, radix: 16))")
            }
        }
        while ERR_get_error() != 0 {}
        return OpenSSLError(reasons: reasons)
    }

    public var description: String { reasons.isEmpty ? "unknown OpenSSL error" : reasons.joined(separator: "; ") }
}

/// OpenSSL keeps an error queue per thread; a thread that used OpenSSL releases it before it signals
/// that it is done, so the state is not left behind when the process exits right after.
func releaseOpenSSLThreadState() {
    ERR_clear_error()
    OPENSSL_thread_stop()
}
