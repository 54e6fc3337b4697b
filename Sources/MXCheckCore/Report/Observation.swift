import FoundationEssentials
import Glibc

/// Why a dialog ended before the check was complete.
public enum DialogFailure: Sendable, Equatable {
    case connectFailed(String)
    case timeout(phase: String)
    case rateLimited(SMTPReply, phase: String)
    case refused(SMTPReply)
    case ehloRejected(SMTPReply)
    case protocolError(String)
    /// The server closed the connection while the client waited for it (after a greeting: a protocol error;
    /// while probing, at the greeting: possibly rate limiting).
    case closed(phase: String)
    case starttlsMissing
    case starttlsRejected(SMTPReply)
    case handshakeFailed(String)
    /// This machine could not make the check (no file descriptors, no memory).
    case localError(String)
}

/// Everything one connection showed, as plain values; rules turn it into findings.
public struct Observation: Sendable {
    public var endpoint: Endpoint
    public var banner: String?
    /// EHLO capability lines before TLS (for implicit TLS: inside TLS).
    public var ehloCapabilities: [String] = []
    /// EHLO capability lines inside TLS, after STARTTLS.
    public var ehloCapabilitiesTLS: [String]?
    public var starttlsOffered: Bool?
    public var tls: NegotiatedTLS?
    public var chain: [CertificateFacts] = []
    public var chainParseErrors: [String] = []
    public var verification: ChainVerification?
    /// Bytes the server sent after its 220 to STARTTLS and before the handshake.
    public var plaintextAfter220: [UInt8] = []
    public var failure: DialogFailure?
    /// The STARTTLS command-injection probe's verdict; nil when it was not run.
    public var injection: InjectionProbeResult?
    /// What --protocols / --ciphers found, when they ran.
    public var probe: ProbeResult?
    /// Connections of the basic check (the probe counts its own).
    public var connections = 0
    public var durationMilliseconds: Double = 0

    public init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    /// Whether the EHLO reply inside TLS lists REQUIRETLS (RFC 8689); nil without an EHLO inside TLS.
    public var requireTLS: Bool? {
        ehloCapabilitiesTLS.map { Capabilities(lines: $0).contains("REQUIRETLS") }
    }
}
