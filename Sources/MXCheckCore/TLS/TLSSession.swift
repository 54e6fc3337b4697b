import CMXCheckShims
import COpenSSL
import FoundationEssentials
import Glibc

/// The client's OpenSSL context: every protocol from TLS 1.0 and every suite at security level 0,
/// no verification during the handshake, so any server is observed rather than refused.
public final class TLSClientContext: @unchecked Sendable {  // `slot` is written once, by its builder, before `join` returns
    private final class Slot: @unchecked Sendable {
        var built: Result<OpaquePointer, OpenSSLError>?
    }

    private let slot = Slot()
    private let builder: JoinableThread?

    /// Builds the context now; a failure is thrown here.
    public init() throws(OpenSSLError) {
        slot.built = .success(try Self.make())
        builder = nil
    }

    /// Starts building the context on a thread of its own and returns at once: making an OpenSSL 3 client
    /// context takes longer than a first connection's plaintext dialogue (connect, greeting, EHLO, STARTTLS)
    /// waits for the server, so the two overlap. The first handshake waits for the context, and a failure to
    /// make it is that handshake's error. Start it when no other OpenSSL work runs: OpenSSL 3.0's shared
    /// algorithm store makes two threads that set up at once each take several times as long.
    public init(buildingInBackground: Void) {
        let slot = slot
        builder = JoinableThread(stackSize: 256 << 10) {
            do throws(OpenSSLError) { slot.built = .success(try Self.make()) } catch { slot.built = .failure(error) }
            releaseOpenSSLThreadState()
        }
    }

    /// Waits for the background build (if any) to end. Call before the process exits, also when no handshake
    /// was made: no thread is then left in OpenSSL, nor one that ended without being joined.
    public func finishBuilding() {
        builder?.join()
    }

    /// The SSL_CTX, once built.
    func handle() throws(OpenSSLError) -> OpaquePointer {
        builder?.join()
        guard let built = slot.built else { throw OpenSSLError(reasons: ["the TLS context was not built"]) }
        return try built.get()
    }

    private static func make() throws(OpenSSLError) -> OpaquePointer {
        try OpenSSLLibrary.prepare()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw OpenSSLError.drain() }
        _ = CMXCheckShims_SSL_CTX_set_min_proto_version(context, TLS1_VERSION)
        _ = CMXCheckShims_SSL_CTX_set_max_proto_version(context, 0)
        CMXCheckShims_SSL_CTX_allow_legacy_servers(context)
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        CMXCheckShims_SSL_CTX_defer_verification(context)
        CMXCheckShims_SSL_CTX_watch_client_sessions(context) { ssl, session in
            guard let ssl, let session, let watcher = SSL_get_ex_data(ssl, TLSSession.sessionWatcherIndex) else { return 0 }
            Unmanaged<SessionHandoff>.fromOpaque(watcher).takeUnretainedValue().offer(newSession: session)
            return 0
        }
        guard SSL_CTX_set_cipher_list(context, "ALL:COMPLEMENTOFALL:@SECLEVEL=0") == 1,
              SSL_CTX_set_ciphersuites(context, tls13Suites) == 1
        else {
            let error = OpenSSLError.drain()
            SSL_CTX_free(context)
            throw error
        }
        return context
    }

    /// The TLS 1.3 suites in the client's order of preference, as SSL_CTX_set_ciphersuites reads them: one
    /// literal, since joining an array at every start costs a runtime instantiation of its metadata.
    static let tls13Suites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"

    deinit {
        builder?.join()
        if case .success(let context)? = slot.built { SSL_CTX_free(context) }
    }
}

/// What the handshake settled on.
public struct NegotiatedTLS: Sendable, Equatable {
    /// TLS 1.0 to 1.3, the versions the client context allows.
    public var version: ProtocolVersion
    /// The IANA name of the cipher suite.
    public var cipher: String
    /// The key-exchange group, whose `name` JSON and text write: the IANA name ("x25519", "secp256r1",
    /// "ffdhe2048", "X25519MLKEM768"), or "dh<bits>" for a finite-field group outside RFC 7919; nil when none.
    public var group: KeyExchangeGroup?
    /// Size of the server's ephemeral key in bits, where there is one.
    public var keyExchangeBits: Int?
    /// The certificates as the server sent them, leaf first, DER.
    public var chainDER: [[UInt8]]

    public init(version: ProtocolVersion, cipher: String, group: KeyExchangeGroup?, keyExchangeBits: Int?, chainDER: [[UInt8]]) {
        self.version = version
        self.cipher = cipher
        self.group = group
        self.keyExchangeBits = keyExchangeBits
        self.chainDER = chainDER
    }
}

/// A TLS client session on an already connected socket (SSL_set_fd), every wait bounded by a deadline.
final class TLSSession {
    private let ssl: OpaquePointer
    private let connection: TCPConnection
    private let context: TLSClientContext
    /// Kept for as long as the SSL may call the context's new-session callback with it.
    private var watcher: SessionHandoff?

    init(context: TLSClientContext, connection: TCPConnection, serverName: String?) throws(OpenSSLError) {
        guard let ssl = SSL_new(try context.handle()) else { throw OpenSSLError.drain() }
        self.ssl = ssl
        self.connection = connection
        self.context = context
        guard SSL_set_fd(ssl, connection.fd) == 1 else { throw OpenSSLError.drain() }
        if let serverName, !serverName.isEmpty {
            _ = CMXCheckShims_SSL_set_tlsext_host_name(ssl, serverName)
        }
    }

    deinit { SSL_free(ssl) }

    enum Failure: Error {
        case timedOut
        case closed
        case failed(String)
    }

    /// Completes the handshake. SMTP reply lines that arrive before the server's first TLS record are
    /// response injection: they go to `onPlaintext` and are consumed, never read as TLS.
    /// Without `onPlaintext` (implicit TLS) nothing is screened. `whileServerWorks` runs once, when the
    /// ClientHello is sent and before the first wait for the server's answer: work of the caller's that then
    /// costs no time, since the server computes its key share, signature and chain meanwhile.
    func handshake(deadline: Deadline, onPlaintext: (([UInt8]) -> Void)?, whileServerWorks: (() -> Void)? = nil) throws(Failure) {
        // Implicit TLS: OpenSSL first reads from an empty pipe, so it sends its ClientHello and stops before
        // reading a byte of the server's; then the server's first bytes are looked at (a plaintext greeting
        // may well be there already), and only then does OpenSSL read the socket.
        var holdingReads: [Int32]? = nil
        if onPlaintext == nil {
            var pipeEnds: [Int32] = [-1, -1]
            if pipe(&pipeEnds) == 0 {
                _ = fcntl(pipeEnds[0], F_SETFL, fcntl(pipeEnds[0], F_GETFL) | O_NONBLOCK)
                if SSL_set_rfd(ssl, pipeEnds[0]) == 1 { holdingReads = pipeEnds } else { pipeEnds.forEach { _ = Glibc.close($0) } }
            }
        }
        defer { holdingReads?.forEach { _ = Glibc.close($0) } }
        var screened = false
        while true {
            ERR_clear_error()
            let status = SSL_connect(ssl)
            if status == 1 { return }
            if !screened && SSL_get_error(ssl, status) == SSL_ERROR_WANT_READ {
                screened = true
                whileServerWorks?()
                if let onPlaintext {
                    let plaintext = try screenPlaintext(deadline: deadline)
                    if !plaintext.isEmpty { onPlaintext(plaintext) }
                } else {
                    if let greeting = try plaintextGreeting(deadline: deadline) {
                        throw .failed("the server speaks plaintext SMTP on this port (it sent '\(greeting)' instead of a TLS handshake): use --tls starttls")
                    }
                    if holdingReads != nil {
                        guard SSL_set_rfd(ssl, connection.fd) == 1 else { throw .failed(OpenSSLError.drain().description) }
                        continue
                    }
                }
            }
            try waitOrFail(status: status, deadline: deadline, phase: "handshake")
        }
    }

    /// Implicit TLS: the server's first bytes, looked at without consuming them. An SMTP reply line (a
    /// plaintext server's `220 ` or `220-` greeting, which no TLS record starts with) is returned, its first
    /// line up to 120 bytes; anything else is left for OpenSSL. Waits no longer than the deadline.
    private func plaintextGreeting(deadline: Deadline) throws(Failure) -> String? {
        var pending: [UInt8] = []
        for _ in 0..<64 where pending.count < 4 {
            let ready: Bool
            do { ready = try connection.wait(for: Int16(POLLIN), until: deadline) } catch { throw .failed(error.description) }
            guard ready else { throw .timedOut }
            let peeked = connection.peekPending(waitingMilliseconds: 0, maximum: 128)
            if peeked.isEmpty { break }  // closed: OpenSSL says so
            if peeked.count == pending.count {
                usleep(10_000)  // the first line arrives in pieces: a moment for the rest
                continue
            }
            pending = peeked
            if !pending.prefix(3).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return nil }
        }
        guard Self.startsLikeSMTPReply(pending) else { return nil }
        let line = pending.prefix { $0 != 0x0D && $0 != 0x0A }.prefix(120)
        return TerminalText.decoded(line)
    }

    /// Before OpenSSL reads the ServerHello: consumes whole lines that look like SMTP replies. Anything else
    /// (a TLS record, garbage, end of stream) is left for OpenSSL to judge. At most 64 KB.
    private func screenPlaintext(deadline: Deadline) throws(Failure) -> [UInt8] {
        var consumed: [UInt8] = []
        while consumed.count < 65_536 {
            let ready: Bool
            do { ready = try connection.wait(for: Int16(POLLIN), until: deadline) } catch { throw .failed(error.description) }
            guard ready else { throw .timedOut }
            let pending = connection.peekPending(waitingMilliseconds: 0)
            guard Self.startsLikeSMTPReply(pending), let newline = pending.lastIndex(of: 0x0A) else { break }
            connection.discard(newline + 1)
            consumed += pending[...newline]
        }
        return consumed
    }

    /// Three digits then a space, a hyphen or a line end: an SMTP reply line, which no TLS record starts with.
    static func startsLikeSMTPReply(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        let digits = bytes[0..<3].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        return digits && (bytes[3] == 0x20 || bytes[3] == 0x2D || bytes[3] == 0x0D || bytes[3] == 0x0A)
    }

    private func waitOrFail(status: Int32, deadline: Deadline, phase: String) throws(Failure) {
        let savedErrno = errno
        let code = SSL_get_error(ssl, status)
        let events: Int16
        switch code {
        case SSL_ERROR_WANT_READ: events = Int16(POLLIN)
        case SSL_ERROR_WANT_WRITE: events = Int16(POLLOUT)
        case SSL_ERROR_ZERO_RETURN: throw .closed
        case SSL_ERROR_SYSCALL:
            let queue = OpenSSLError.drain()
            if !queue.reasons.isEmpty { throw .failed(queue.description) }
            if savedErrno == 0 || savedErrno == ECONNRESET || savedErrno == EPIPE { throw .closed }
            throw .failed(errnoText(savedErrno))
        default:
            throw .failed(OpenSSLError.drain().description)
        }
        let ready: Bool
        do { ready = try connection.wait(for: events, until: deadline) } catch { throw .failed(error.description) }
        if !ready { throw .timedOut }
    }

    func write(_ bytes: [UInt8], deadline: Deadline) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let written = bytes[offset...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
            if written > 0 {
                offset += Int(written)
                continue
            }
            try waitOrFail(status: written, deadline: deadline, phase: "write")
        }
    }

    /// Up to `maximum` bytes of plaintext; empty when the server closed the session.
    func read(maximum: Int, deadline: Deadline) throws(Failure) -> [UInt8] {
        while true {
            ERR_clear_error()
            // Not zeroed first, and returned as read: SSL_read writes the bytes that count.
            var count: Int32 = 0
            let buffer = [UInt8](unsafeUninitializedCapacity: maximum) { storage, initialized in
                count = SSL_read(ssl, storage.baseAddress, Int32(maximum))
                initialized = max(0, Int(count))
            }
            if count > 0 { return buffer }
            do {
                try waitOrFail(status: count, deadline: deadline, phase: "read")
            } catch .closed {
                return []
            }
        }
    }

    /// The SSL's application-data slot, where `offerSessions(to:)` leaves its handoff for the context's callback.
    static let sessionWatcherIndex: Int32 = 0

    /// Offers the session to `handoff` as soon as it exists: for TLS 1.3, when the server's ticket is read,
    /// which comes before the reply to the EHLO sent inside TLS. Call before the handshake.
    func offerSessions(to handoff: SessionHandoff) {
        watcher = handoff
        _ = SSL_set_ex_data(ssl, Self.sessionWatcherIndex, Unmanaged.passUnretained(handoff).toOpaque())
    }

    /// Offers a session of an earlier connection to the same server for resumption (before the handshake).
    func resume(_ ticket: TLSSessionTicket) {
        _ = SSL_set_session(ssl, ticket.session)
    }

    /// This connection's session, when the server made it resumable (in TLS 1.3 once its tickets were read).
    func ticket() -> TLSSessionTicket? {
        SSL_get1_session(ssl).flatMap(TLSSessionTicket.init(takingResumable:))
    }

    /// Whether the handshake resumed an earlier session.
    var resumed: Bool { SSL_session_reused(ssl) == 1 }

    /// Sends close_notify without waiting for the server's.
    func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    var negotiated: NegotiatedTLS { negotiated(chain: peerCertificates()) }

    /// The certificates the server sent, leaf first, as OpenSSL decoded them in the handshake.
    func peerCertificates() -> [X509Certificate] {
        var chain: [X509Certificate] = []
        if let stack = SSL_get_peer_cert_chain(ssl) {
            for index in 0..<CMXCheckShims_sk_X509_num(stack) {
                if let cert = CMXCheckShims_sk_X509_value(stack, index) { chain.append(X509Certificate(retaining: cert)) }
            }
        }
        if chain.isEmpty, let leaf = SSL_get1_peer_certificate(ssl) {
            chain.append(X509Certificate(retaining: leaf))
            X509_free(leaf)
        }
        return chain
    }

    /// What was negotiated, with `chain` (from `peerCertificates()`, or none) as its DER chain.
    func negotiated(chain certificates: [X509Certificate]) -> NegotiatedTLS {
        // The context's bounds (TLS 1.0 to OpenSSL's highest, 1.3) leave no other version to negotiate.
        let version = ProtocolVersion(wireValue: UInt16(truncatingIfNeeded: SSL_version(ssl))) ?? .tls13
        let cipherPointer = SSL_get_current_cipher(ssl)
        let cipher = cipherPointer.flatMap { SSL_CIPHER_standard_name($0) }.map { String(cString: $0) }
            ?? cipherPointer.flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? "unknown"
        // OpenSSL's names ("x25519", "prime256v1"...) become the IANA names of the group table.
        var group = CMXCheckShims_SSL_negotiated_group_name(ssl).map { KeyExchangeGroup(openSSLName: String(cString: $0)) }
        var bits: Int?
        if let key = CMXCheckShims_SSL_get_peer_tmp_key(ssl) {
            bits = Int(EVP_PKEY_get_bits(key))
            if group == nil { group = Self.group(ofServerKey: key) }
            EVP_PKEY_free(key)
        }
        let chain = certificates.compactMap { CertificateDER.encode($0.pointer) }
        return NegotiatedTLS(version: version, cipher: cipher, group: group, keyExchangeBits: bits, chainDER: chain)
    }

    /// The group of the server's ephemeral key where OpenSSL names no negotiated group (DHE below TLS 1.3):
    /// a DH key by its prime (an RFC 7919 group, else `dh<bits>`), any other key by OpenSSL's group or type name.
    static func group(ofServerKey key: OpaquePointer) -> KeyExchangeGroup? {
        if EVP_PKEY_get_base_id(key) == EVP_PKEY_DH {
            var prime: OpaquePointer?
            guard EVP_PKEY_get_bn_param(key, "p", &prime) == 1, let prime else {
                return .customFiniteField(bits: Int(EVP_PKEY_get_bits(key)))
            }
            defer { BN_free(prime) }
            var bytes = [UInt8](repeating: 0, count: (Int(BN_num_bits(prime)) + 7) / 8)
            _ = BN_bn2bin(prime, &bytes)
            return KeyExchangeGroup(finiteFieldPrime: bytes)
        }
        var buffer = [CChar](repeating: 0, count: 80)
        var length = 0
        if EVP_PKEY_get_group_name(key, &buffer, buffer.count, &length) == 1, length > 0 {
            return KeyExchangeGroup(openSSLName: String(cString: buffer))
        }
        return EVP_PKEY_get0_type_name(key).map { KeyExchangeGroup(openSSLName: String(cString: $0)) }
    }
}

enum CertificateDER {
    static func encode(_ cert: OpaquePointer) -> [UInt8]? {
        var out: UnsafeMutablePointer<UInt8>?
        let length = CMXCheckShims_X509_to_der(cert, &out)
        guard length > 0, let out else { return nil }
        defer { CMXCheckShims_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}
