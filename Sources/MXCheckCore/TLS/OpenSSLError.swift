import CMXCheckShims
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
            CMXCheckShims_load_ssl_error_strings()
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

/// OpenSSL, started once per process before any other call of the run's.
enum OpenSSLLibrary {
    /// mxcheck sets the TLS parameters of its handshakes and verifications itself, so the machine's
    /// openssl.cnf is not read: a system policy with groups, signature algorithms or options of its own would
    /// change what mxcheck observes, and reading the file costs about 0.5 ms at every start.
    /// Nor does OpenSSL free its every table at exit (OPENSSL_cleanup from atexit): the process is ending and
    /// its memory goes with it, and the freeing cost about 0.5 ms at the end of every run.
    /// libssl's error texts are loaded when an error is first read (`drain`), not at start (0.3 ms).
    private static let started: Bool = OPENSSL_init_ssl(
        UInt64(OPENSSL_INIT_NO_LOAD_CONFIG) | UInt64(OPENSSL_INIT_NO_ATEXIT) | UInt64(OPENSSL_INIT_NO_LOAD_SSL_STRINGS), nil) == 1

    static func prepare() throws(OpenSSLError) {
        guard started else { throw OpenSSLError.drain() }
    }
}

