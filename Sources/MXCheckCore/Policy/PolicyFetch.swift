import CMXCheckShims
import COpenSSL
import Dispatch
import FoundationEssentials

/// How the certificate of `mta-sts.<domain>` fared, checked as an MTA-STS sender checks it (RFC 8461 §3.3).
public struct PolicyHostCertificate: Sendable, Equatable {
    /// The chain verified against the system store and `--ca-file`; OpenSSL's reasons otherwise.
    public var verification: ChainVerification
    /// A DNS-ID SAN matches the policy host (no partial wildcard, never the CN).
    public var nameMatches: Bool
    /// The leaf's subject CN matches while no SAN does (reported as the reason, never accepted).
    public var cnOnly: Bool
    /// The leaf's DNS names, capped, for the fix text.
    public var names: [String]

    public var valid: Bool { verification.trusted && nameMatches }

    /// Why a sender rejects it, in a few words; nil when valid.
    public var problem: String? {
        if let first = verification.errors.first {
            return first.message + (first.depth > 0 ? " (at depth \(first.depth))" : "")
        }
        if !nameMatches {
            if cnOnly { return "the name is only in the subject CN, which MTA-STS senders never read" }
            let shown = names.prefix(4).joined(separator: ", ")
            return names.isEmpty ? "no DNS name in the certificate" : "no subjectAltName matches (it names \(shown))"
        }
        return nil
    }
}

/// Why the policy could not be fetched.
public enum PolicyFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    case noAddress(String)
    case connect(String)
    case timedOut
    case tls(String)
    case certificate(String)
    case http(HTTPResponseError)
    /// Any status but 200; a redirect's Location is kept (never followed).
    case status(Int, location: String?)
    case local(String)

    public var description: String {
        switch self {
        case .noAddress(let reason): return "the policy host has no address: \(reason)"
        case .connect(let reason): return "cannot connect: \(reason)"
        case .timedOut: return "the fetch did not complete within the time bound"
        case .tls(let reason): return "TLS handshake failed: \(reason)"
        case .certificate(let reason): return "certificate not valid for the policy host: \(reason)"
        case .http(let error): return error.description
        case .status(let code, let location?): return "HTTP \(code), redirecting to \(location) (redirects are never followed)"
        case .status(let code, nil): return "HTTP \(code)"
        case .local(let reason): return reason
        }
    }
}

/// The outcome of one policy fetch.
public struct PolicyFetch: Sendable, Equatable {
    public var url: String
    /// The address connected to, when one was.
    public var address: String?
    public var certificate: PolicyHostCertificate?
    public var httpStatus: Int?
    /// The Content-Type as sent.
    public var contentType: String?
    /// The media type of `contentType`, lower case, without parameters.
    public var mediaType: String?
    public var body: [UInt8]?
    public var error: PolicyFetchError?
    public var milliseconds: Double

    public init(url: String, address: String? = nil, certificate: PolicyHostCertificate? = nil, httpStatus: Int? = nil,
                contentType: String? = nil, mediaType: String? = nil, body: [UInt8]? = nil, error: PolicyFetchError? = nil,
                milliseconds: Double = 0) {
        self.url = url
        self.address = address
        self.certificate = certificate
        self.httpStatus = httpStatus
        self.contentType = contentType
        self.mediaType = mediaType
        self.body = body
        self.error = error
        self.milliseconds = milliseconds
    }
}

/// Fetches `https://mta-sts.<domain>/.well-known/mta-sts.txt` with OpenSSL on a socket of mxcheck's own:
/// the address from the run's resolver, SNI and the name check for the policy host, one GET, no redirect.
public struct PolicyFetcher: Sendable {
    public let trustStore: TrustStore
    public let context: TLSClientContext
    /// 443 in use; the unit tests' scripted server listens elsewhere.
    public let port: UInt16
    public let clock: @Sendable () -> Date

    public init(trustStore: TrustStore, context: TLSClientContext, port: UInt16 = 443, clock: @escaping @Sendable () -> Date = Date.init) {
        self.trustStore = trustStore
        self.context = context
        self.port = port
        self.clock = clock
    }

    public static func policyHost(of domain: String) -> String { "mta-sts." + DNSName.normalized(domain) }
    public static func url(of domain: String) -> String { "https://\(policyHost(of: domain))/.well-known/mta-sts.txt" }

    /// Looks up the policy host's addresses, then fetches from the first that accepts a connection.
    public func fetch(domain: String, lookup: any DNSLookup, deadline: Deadline) -> PolicyFetch {
        let started = DispatchTime.now().uptimeNanoseconds
        let host = Self.policyHost(of: domain)
        var result = PolicyFetch(url: Self.url(of: domain))
        let answers = lookup.answers(to: [DNSQuestion(host, .a), DNSQuestion(host, .aaaa)], deadline: deadline)
        var addresses: [String] = []
        var reasons: [String] = []
        for answer in answers {
            switch answer {
            case .success(let answer):
                if answer.rcode == .nxDomain { reasons.append("NXDOMAIN") }
                else if answer.rcode != .noError { reasons.append(answer.rcode.description) }
                addresses += (try? answer.addresses()) ?? []
            case .failure(let error):
                reasons.append(error.description)
            }
        }
        guard !addresses.isEmpty else {
            result.error = .noAddress(reasons.first ?? "no A or AAAA record for \(host)")
            result.milliseconds = Self.elapsed(since: started)
            return result
        }
        result = fetch(host: host, addresses: addresses, deadline: deadline)
        result.milliseconds = Self.elapsed(since: started)
        return result
    }

    /// Fetches from the given addresses in order (the first that connects is used).
    public func fetch(host: String, addresses: [String], deadline: Deadline) -> PolicyFetch {
        var result = PolicyFetch(url: "https://\(host)/.well-known/mta-sts.txt")
        var connection: TCPConnection?
        var lastError = PolicyFetchError.noAddress("no address")
        for address in addresses.prefix(8) {
            do {
                connection = try TCPConnection.connect(address: address, port: port, deadline: deadline)
                result.address = address
                break
            } catch .timedOut {
                lastError = .timedOut
                break
            } catch .local(let reason) {
                lastError = .local(reason)
            } catch {
                lastError = .connect("\(address): \(error.description)")
            }
        }
        guard let connection else {
            result.error = lastError
            return result
        }
        defer { connection.close() }
        let session: TLSSession
        do {
            session = try TLSSession(context: context, connection: connection, serverName: host)
        } catch {
            result.error = .local(error.description)
            return result
        }
        do {
            try session.handshake(deadline: deadline, onPlaintext: nil, whileServerWorks: { trustStore.loadAnchors() })
        } catch {
            switch error {
            case .timedOut: result.error = .timedOut
            case .closed: result.error = .tls("the server closed the connection")
            case .failed(let reason): result.error = .tls(reason)
            }
            return result
        }
        let certificate = check(chainDER: session.negotiated.chainDER, host: host)
        result.certificate = certificate
        if let problem = certificate.problem {
            result.error = .certificate(problem)
            session.shutdown()
            return result
        }
        let request = "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: mxcheck\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
        var parser = HTTPResponseParser()
        do {
            try session.write(Array(request.utf8), deadline: deadline)
            // Each read returns at least one byte or the close; the deadline bounds a server that drips.
            var reads = 0
            while true {
                reads += 1
                let bytes = try session.read(maximum: 16_384, deadline: deadline)
                switch parser.feed(bytes) {
                case .needMore:
                    if bytes.isEmpty || reads > 1_000_000 { result.error = .http(.truncated); return result }
                    continue
                case .failed(let error):
                    result.error = .http(error)
                    return result
                case .complete(let response):
                    result.httpStatus = response.status
                    result.contentType = response.header("Content-Type")
                    result.mediaType = response.mediaType
                    if response.status != 200 {
                        result.error = .status(response.status, location: response.status / 100 == 3 ? response.location.map { String($0.prefix(200)) } : nil)
                        return result
                    }
                    result.body = response.body
                    session.shutdown()
                    return result
                }
            }
        } catch {
            switch error {
            case .timedOut: result.error = .timedOut
            case .closed: result.error = .http(.truncated)
            case .failed(let reason): result.error = .tls(reason)
            }
        }
        return result
    }

    /// The chain against the trust store now, and the leaf's DNS-IDs against the policy host.
    func check(chainDER: [[UInt8]], host: String) -> PolicyHostCertificate {
        let verification = trustStore.verify(chainDER: chainDER, at: clock())
        var matches = false
        var names: [String] = []
        var cnOnly = false
        if let leafDER = chainDER.first, let leaf = try? X509Certificate(der: leafDER) {
            matches = CMXCheckShims_X509_check_policy_host(leaf.pointer, host) == 1
            ERR_clear_error()
            if let facts = try? CertificateFacts(der: leafDER) {
                names = Array(facts.dnsNames.prefix(16))
                cnOnly = !matches && facts.dnsNames.isEmpty && facts.commonName.map { MXPattern.normalized($0) == host } == true
            }
        }
        return PolicyHostCertificate(verification: verification, nameMatches: matches, cnOnly: cnOnly, names: names)
    }

    static func elapsed(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e6
    }
}
