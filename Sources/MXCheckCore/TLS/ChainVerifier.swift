import CMXCheckShims
import COpenSSL
import FoundationEssentials
import Glibc

/// A pointer handed to a thread that alone uses it until it is joined.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One reason OpenSSL gave against a chain.
public struct VerifyError: Sendable, Equatable {
    /// 0 is the leaf.
    public var depth: Int
    /// OpenSSL's X509_V_ERR_* code.
    public var code: Int
    public var message: String

    public init(depth: Int, code: Int, message: String) {
        self.depth = depth
        self.code = code
        self.message = message
    }

    /// The X509_V_ERR_* codes the rules tell apart.
    public enum Code {
        public static let unableToGetIssuer = Int(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
        public static let notYetValid = Int(X509_V_ERR_CERT_NOT_YET_VALID)
        public static let expired = Int(X509_V_ERR_CERT_HAS_EXPIRED)
        public static let depthZeroSelfSigned = Int(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
        public static let selfSignedInChain = Int(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
        public static let unableToGetIssuerLocally = Int(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
        public static let unableToVerifyLeafSignature = Int(X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
        /// Security level 2 (`TrustStore.authenticationLevel`): the leaf's key is under 112 bits of security.
        public static let leafKeyTooSmall = Int(X509_V_ERR_EE_KEY_TOO_SMALL)
        /// An issuer's key, the trust anchor's included, is under 112 bits of security.
        public static let issuerKeyTooSmall = Int(X509_V_ERR_CA_KEY_TOO_SMALL)
        /// A signature below the trust anchor uses a digest under 112 bits (SHA-1, MD5).
        public static let signatureDigestTooWeak = Int(X509_V_ERR_CA_MD_TOO_WEAK)
    }
}

/// The outcome of verifying the chain a server sent.
public struct ChainVerification: Sendable, Equatable {
    /// Every error met, in the order OpenSSL met them; empty when the chain is trusted.
    public var errors: [VerifyError]

    public init(errors: [VerifyError]) {
        self.errors = errors
    }

    public var trusted: Bool { errors.isEmpty }
}

public enum TrustStoreError: Error, Equatable, CustomStringConvertible {
    case cannotLoad(path: String, reason: String)
    case openSSL(String)

    public var description: String {
        switch self {
        case .cannotLoad(let path, let reason):
            return "cannot load trust anchors from '\(path)': \(reason); give a readable PEM file of CA certificates"
        case .openSSL(let reason):
            return "cannot set up the trust store: \(reason)"
        }
    }
}

/// The system's trust anchors plus the user's `--ca-file`; verifies chains at a given time, as a default
/// OpenSSL 3 client would: at security level 2 (the handshake itself stays at level 0, see TLSClientContext).
public final class TrustStore: @unchecked Sendable {
    /// OpenSSL's default security level: keys and signature digests of at least 112 bits of security
    /// (RSA and DSA 2048, EC 224, no SHA-1 or MD5 signature below the trust anchor).
    public static let authenticationLevel: Int32 = 2

    private let store: OpaquePointer
    private let lock = MutexLock()
    /// The `--ca-file` not parsed yet (`loadAnchors`), and what went wrong when it was; guarded by `lock`.
    private var pendingCAFile: String?
    private var caFileProblem: TrustStoreError?
    /// Reading a system bundle takes tens of milliseconds: it happens on its own thread while the
    /// dialogue runs, and verification waits for it.
    private var loader: JoinableThread?

    /// A store with no anchors but the given file: for tests that must not depend on the system store.
    static func withoutSystemAnchors(extraCAFile: String? = nil) throws(TrustStoreError) -> TrustStore {
        try TrustStore(extraCAFile: extraCAFile, systemAnchors: false)
    }

    /// The `--ca-file` must be a readable file with a PEM certificate or CRL in it, or this throws. OpenSSL
    /// parses it later (`loadAnchors`, at the latest when a chain is verified): a first parse of a certificate
    /// sets up OpenSSL's decoders, about 1.3 ms of a basic check that were spent before its first connection
    /// and now pass while the server computes its first handshake flight. A file that fails to parse then is
    /// `anchorProblem`.
    public convenience init(extraCAFile: String?) throws(TrustStoreError) {
        try self.init(extraCAFile: extraCAFile, systemAnchors: true)
    }

    private init(extraCAFile: String?, systemAnchors: Bool) throws(TrustStoreError) {
        do { try OpenSSLLibrary.prepare() } catch { throw .openSSL(error.description) }
        guard let store = X509_STORE_new() else { throw .openSSL(OpenSSLError.drain().description) }
        self.store = store
        // Every verification context made from this store inherits the level (X509_STORE_CTX_init).
        X509_VERIFY_PARAM_set_auth_level(X509_STORE_get0_param(store), Self.authenticationLevel)
        if let extraCAFile {
            guard access(extraCAFile, R_OK) == 0 else {
                throw .cannotLoad(path: extraCAFile, reason: "no such readable file")
            }
            guard Self.holdsPEMCertificate(extraCAFile) else {
                throw .cannotLoad(path: extraCAFile, reason: "no PEM certificate in it (a DER file, a key or another file?)")
            }
            pendingCAFile = extraCAFile
        }
        guard systemAnchors else { return }
        let anchors = Self.systemAnchors()
        if let directory = anchors.directory {
            // Cheap: OpenSSL reads a file of the directory only when a chain names its issuer's hash.
            _ = X509_STORE_load_path(store, directory)
            ERR_clear_error()
        }
        guard let bundle = anchors.bundle else { return }
        let handle = UnsafeSendable(store)
        loader = JoinableThread(stackSize: 512 * 1024) {
            _ = X509_STORE_load_file(handle.value, bundle)
            releaseOpenSSLThreadState()
        }
    }

    /// Whether a line of the file begins a PEM certificate, trusted certificate or CRL, the blocks
    /// X509_STORE_load_file takes (OpenSSL's PEM reader, too, looks for them at line starts); read up to its
    /// first 64 MB.
    static func holdsPEMCertificate(_ path: String) -> Bool {
        guard let bytes = FilePrefix.read(path, maximum: 64 << 20) else { return false }
        let markers = ["-----BEGIN CERTIFICATE-----", "-----BEGIN TRUSTED CERTIFICATE-----", "-----BEGIN X509 CERTIFICATE-----",
                       "-----BEGIN X509 CRL-----"].map { Array($0.utf8) }
        return bytes.split(separator: 0x0A).contains { line in markers.contains { line.starts(with: $0) } }
    }

    /// Parses the `--ca-file` into the store, once; any thread, any number of times. Verification calls it
    /// first; a check calls it while its first handshake waits for the server.
    public func loadAnchors() {
        lock.withLock {
            guard let path = pendingCAFile else { return }
            pendingCAFile = nil
            ERR_clear_error()
            if X509_STORE_load_file(store, path) != 1 {
                caFileProblem = .cannotLoad(path: path, reason: OpenSSLError.drain().description)
            }
        }
    }

    /// Set when the `--ca-file` turned out not to parse (`loadAnchors`): chains were then verified without
    /// its anchors, and the run must say so.
    public var anchorProblem: TrustStoreError? {
        lock.withLock { caFileProblem }
    }

    /// Where the system's anchors are, as OpenSSL finds them (SSL_CERT_DIR / SSL_CERT_FILE or the built-in
    /// paths): the hashed certificate directory, looked up lazily by issuer, and the bundle file to parse
    /// whole (tens of milliseconds, so on a thread of its own while the dialogue runs), needed only when there
    /// is no such directory or when SSL_CERT_FILE names a bundle of its own.
    static func systemAnchors() -> (directory: String?, bundle: String?) {
        let directory = environment(X509_get_default_cert_dir_env()) ?? String(cString: X509_get_default_cert_dir())
        let defaultFile = String(cString: X509_get_default_cert_file())
        let file = environment(X509_get_default_cert_file_env()) ?? defaultFile
        let hashed = holdsHashedCertificate(directory)
        let bundleIsTheDirectorys = file == defaultFile || file.hasPrefix(directory + "/")
        let bundle = (!hashed || !bundleIsTheDirectorys) && access(file, R_OK) == 0 ? file : nil
        return (hashed ? directory : nil, bundle)
    }

    /// The environment variable of that name, read with getenv (ProcessInfo would copy the whole environment).
    private static func environment(_ name: UnsafePointer<CChar>) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Whether the directory has an OpenSSL hash link (`1a2b3c4d.0`); stops at the first one, reading the
    /// directory a little at a time.
    static func holdsHashedCertificate(_ directory: String) -> Bool {
        CMXCheckShims_directory_holds_hash_link(directory) == 1
    }

    deinit {
        loader?.join()
        X509_STORE_free(store)
    }

    /// Waits for the system anchors to be loaded. Call before the process exits, so that the exit handlers
    /// of the C libraries do not run under a thread still reading the bundle.
    public func finishLoading() {
        loader?.join()
    }

    /// Verifies the chain as sent (leaf first) for TLS server use, at `time`.
    public func verify(chainDER: [[UInt8]], at time: Date) -> ChainVerification {
        guard let leafDER = chainDER.first, let leaf = try? X509Certificate(der: leafDER) else {
            return ChainVerification(errors: [VerifyError(depth: 0, code: -1, message: "no certificate")])
        }
        let intermediates = chainDER.dropFirst().compactMap { try? X509Certificate(der: $0) }
        return verify(leaf: leaf, intermediates: intermediates, at: time)
    }

    /// Verifies a chain already decoded (a handshake's peer chain, leaf first), at `time`.
    func verify(chain: [X509Certificate], at time: Date) -> ChainVerification {
        guard let leaf = chain.first else {
            return ChainVerification(errors: [VerifyError(depth: 0, code: -1, message: "no certificate")])
        }
        return verify(leaf: leaf, intermediates: Array(chain.dropFirst()), at: time)
    }

    private func verify(leaf: X509Certificate, intermediates: [X509Certificate], at time: Date) -> ChainVerification {
        guard let stack = CMXCheckShims_sk_X509_new_null() else {
            return ChainVerification(errors: [VerifyError(depth: 0, code: -1, message: "out of memory")])
        }
        for certificate in intermediates {
            X509_up_ref(certificate.pointer)
            _ = CMXCheckShims_sk_X509_push(stack, certificate.pointer)
        }
        defer { CMXCheckShims_sk_X509_pop_free(stack) }
        var depths = [Int32](repeating: 0, count: 32)
        var codes = [Int32](repeating: 0, count: 32)
        var total: Int32 = 0
        loadAnchors()
        finishLoading()
        let count = lock.withLock {
            CMXCheckShims_verify_chain(store, leaf.pointer, stack, Int64(time.timeIntervalSince1970), &depths, &codes, 32, &total)
        }
        ERR_clear_error()
        guard count >= 0 else {
            return ChainVerification(errors: [VerifyError(depth: 0, code: -1, message: "verification could not start")])
        }
        let errors = (0..<Int(count)).map { index in
            VerifyError(
                depth: Int(depths[index]), code: Int(codes[index]),
                message: String(cString: X509_verify_cert_error_string(Int(codes[index]))))
        }
        return ChainVerification(errors: errors)
    }
}
