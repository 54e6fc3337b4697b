import FoundationEssentials
import Glibc

/// The thresholds and the clock the rules judge by.
public struct RuleSettings: Sendable {
    public var now: Date
    public var warnDays: Int
    public var critDays: Int
    /// `--role`: how suites the server merely accepts are judged; nil: the default for the endpoint's port.
    public var role: PortRole?
    /// `--mx` mode: every endpoint is an MX host, so its default role is relay whatever the port.
    public var domainMode: Bool

    public init(now: Date, warnDays: Int = 14, critDays: Int = 7, role: PortRole? = nil, domainMode: Bool = false) {
        self.now = now
        self.warnDays = warnDays
        self.critDays = critDays
        self.role = role
        self.domainMode = domainMode
    }

    /// The role an endpoint is judged by, with the reason its findings give.
    public func assumedRole(for endpoint: Endpoint) -> AssumedRole {
        AssumedRole(explicit: role, port: endpoint.port, domainMode: domainMode)
    }
}

/// The thresholds several rules judge by, each in one place (docs/findings.md gives the reasons).
public enum RuleThresholds {
    /// A finite-field DH group below this many bits is tls.weak_dh, negotiated or found by a probe: under the
    /// 112 bits of security OpenSSL's security level 2 asks for, and smaller than RFC 7919's smallest group.
    public static let minimumDHBits = 2048
    /// An RSA or DSA certificate key below this many bits is cert.weak_key (security level 2 again).
    public static let minimumRSAKeyBits = 2048
    /// An EC certificate key below this many bits is cert.weak_key.
    public static let minimumECKeyBits = 224
}

/// Observation → findings. Pure functions of their inputs.
public enum Rules {
    public static func findings(for observation: Observation, settings: RuleSettings) -> [Finding] {
        var findings: [Finding] = []
        if let failure = observation.failure {
            findings.append(finding(for: failure, endpoint: observation.endpoint))
        }
        if !observation.plaintextAfter220.isEmpty {
            let shown = SMTPReplyParser.printable(observation.plaintextAfter220.prefix(60))
            findings.append(Finding(
                .starttlsPlaintextAfter220,
                message: "the server sent \(observation.plaintextAfter220.count) bytes of plaintext after its 220 to STARTTLS: '\(shown)'"))
        }
        if case .vulnerable(let reply) = observation.injection {
            findings.append(Finding(
                .starttlsCommandInjection,
                message: "a NOOP sent in plaintext together with STARTTLS was answered inside TLS ('\(reply)'): the server executes commands injected before encryption"))
        }
        if let tls = observation.tls {
            // The enumeration, when it ran, speaks for protocols and suites; the negotiated ones only fill in.
            let role = settings.assumedRole(for: observation.endpoint)
            let probed = observation.probe.map { ProbeRules.findings(for: $0, role: role, negotiated: tls) } ?? []
            let negotiated = protocolFindings(tls).filter { finding in !probed.contains { $0.id == finding.id } }
            findings += probed + negotiated
        }
        if let leaf = observation.chain.first {
            findings += certificateFindings(
                chain: observation.chain, leaf: leaf, verification: observation.verification,
                reference: observation.endpoint.referenceIdentity, settings: settings)
        } else if observation.tls != nil, !observation.chainParseErrors.isEmpty {
            findings.append(Finding(.certUntrusted, message: "the server's certificate could not be read: \(observation.chainParseErrors[0])"))
        }
        return findings
    }

    static func finding(for failure: DialogFailure, endpoint: Endpoint) -> Finding {
        switch failure {
        case .connectFailed(let reason):
            return Finding(.smtpConnectFailed, message: "cannot connect to \(endpoint.address) port \(endpoint.port): \(reason)")
        case .timeout(let phase):
            return Finding(.smtpTimeout, message: "no complete answer within the time bound while \(phase)")
        case .rateLimited(let reply, let phase):
            return Finding(.smtpRateLimited, message: "the server answered \(phase) with '\(reply.firstLine)': it refuses to talk now")
        case .refused(let reply):
            return Finding(.smtpRefused, message: "the server refused the session: '\(reply.firstLine)'")
        case .ehloRejected(let reply):
            return Finding(.smtpEhloRejected, message: "EHLO was refused: '\(reply.firstLine)'")
        case .protocolError(let detail):
            return Finding(.smtpProtocolError, message: detail)
        case .closed(let phase):
            return Finding(.smtpProtocolError, message: "the server closed the connection while \(phase)")
        case .starttlsMissing:
            return Finding(.starttlsMissing, message: "the server does not offer STARTTLS: mail to it travels in plaintext")
        case .starttlsRejected(let reply):
            return Finding(.starttlsRejected, message: "STARTTLS was answered '\(reply.firstLine)'")
        case .handshakeFailed(let reason):
            let how = endpoint.tls == .implicit ? "implicit TLS handshake" : "TLS handshake after STARTTLS"
            return Finding(.starttlsFailed, message: "\(how) failed: \(reason)")
        case .localError(let reason):
            return Finding(.runLocalError, message: "the check could not be made on this machine: \(reason)")
        }
    }

    static func protocolFindings(_ tls: NegotiatedTLS) -> [Finding] {
        var findings: [Finding] = []
        switch protocolFinding(for: tls.version) {
        case .tlsLegacyProtocol?:
            findings.append(Finding(.tlsLegacyProtocol, message: "\(tls.version) negotiated: the server offers nothing newer"))
        case .tlsObsoleteProtocol?:
            findings.append(Finding(.tlsObsoleteProtocol, message: "\(tls.version) negotiated"))
        default:
            break
        }
        if let suite = CipherSuite.scanned(tls.cipher), let verdict = suite.judged(.negotiated) {
            findings.append(Finding(.tlsWeakCipher, severity: verdict.severity, message: "\(tls.cipher) negotiated: \(suite.reason(for: verdict.weakness))"))
        }
        if let group = tls.group, let bits = tls.keyExchangeBits, isFiniteFieldDH(group: group, cipher: tls.cipher), bits < RuleThresholds.minimumDHBits {
            findings.append(Finding(.tlsWeakDH, message: "DHE key exchange with a \(bits)-bit group"))
        }
        return findings
    }

    /// The one judgement of a protocol version, negotiated or accepted: SSLv2 and SSLv3 are obsolete (broken),
    /// TLS 1.0 and 1.1 legacy (deprecated by RFC 8996); nil for TLS 1.2 and 1.3.
    public static func protocolFinding(for version: ProtocolVersion) -> FindingID? {
        switch version {
        case .sslv2, .sslv3: return .tlsObsoleteProtocol
        case .tls10, .tls11: return .tlsLegacyProtocol
        case .tls12, .tls13: return nil
        }
    }

    /// An `ffdhe*` or `dh<bits>` group, or a DHE suite (IANA names: TLS_DHE_RSA_..., TLS_DHE_DSS_..., TLS_DHE_PSK_...).
    static func isFiniteFieldDH(group: KeyExchangeGroup, cipher: String) -> Bool {
        group.isFiniteField || cipher.hasPrefix("TLS_DHE_")
    }

    static func certificateFindings(
        chain: [CertificateFacts], leaf: CertificateFacts, verification: ChainVerification?, reference: String,
        settings: RuleSettings
    ) -> [Finding] {
        var findings: [Finding] = []
        let now = settings.now
        // Validity of the leaf by the clock, then the verifier's view of the rest.
        if leaf.notAfter < now {
            findings.append(Finding(.certExpired, message: "the certificate expired on \(JSONDates.format(leaf.notAfter)), \(days(Int((now.timeIntervalSince(leaf.notAfter) / 86_400).rounded(.down)))) ago"))
        } else if leaf.notBefore > now {
            findings.append(Finding(.certNotYetValid, message: "the certificate is valid only from \(JSONDates.format(leaf.notBefore))"))
        } else {
            let remaining = leaf.notAfter.timeIntervalSince(now)
            let days = daysRemaining(leaf, now: now)
            if remaining < Double(settings.critDays) * 86_400 {
                findings.append(Finding(.certExpiring, severity: .critical, message: "the certificate expires in \(Self.days(days)), on \(JSONDates.format(leaf.notAfter)) (critical below \(settings.critDays) days)"))
            } else if remaining < Double(settings.warnDays) * 86_400 {
                findings.append(Finding(.certExpiring, severity: .warning, message: "the certificate expires in \(Self.days(days)), on \(JSONDates.format(leaf.notAfter)) (warning below \(settings.warnDays) days)"))
            }
        }
        findings += verificationFindings(chain: chain, verification: verification, already: findings)

        switch NameMatcher.match(reference: reference, dnsNames: leaf.dnsNames, ipAddresses: leaf.ipAddresses, commonName: leaf.commonName) {
        case .subjectAltName:
            break
        case .commonNameOnly(let commonName):
            findings.append(Finding(.certCNOnly, message: "'\(reference)' matches only the subject CN '\(commonName)': the certificate has no subjectAltName"))
        case .none:
            let names = leaf.names.isEmpty ? (leaf.commonName.map { "CN \($0)" } ?? "no names") : leaf.names.prefix(8).joined(separator: ", ")
            findings.append(Finding(.certHostnameMismatch, message: "'\(reference)' matches none of the certificate's names (\(names))"))
        }

        for (depth, certificate) in chain.enumerated() {
            if hasWeakKey(certificate) {
                findings.append(Finding(.certWeakKey, message: "\(position(depth)) has a \(certificate.keyType) key of \(certificate.keyBits) bits"))
            }
            if hasWeakSignature(certificate) {
                findings.append(Finding(.certWeakSignature, message: "\(position(depth)) is signed with \(certificate.signatureAlgorithm)"))
            }
        }
        return findings
    }

    /// Under 112 bits of security, what OpenSSL's security level 2 refuses.
    static func hasWeakKey(_ certificate: CertificateFacts) -> Bool {
        switch certificate.keyType {
        case .rsa, .dsa: return certificate.keyBits < RuleThresholds.minimumRSAKeyBits
        case .ec: return certificate.keyBits < RuleThresholds.minimumECKeyBits
        default: return false
        }
    }

    static func hasWeakSignature(_ certificate: CertificateFacts) -> Bool {
        let signature = certificate.signatureAlgorithm
        return !certificate.selfSigned && (signature.containsASCII(caseInsensitive: "sha1") || signature.containsASCII(caseInsensitive: "md5")
            || signature.containsASCII(caseInsensitive: "md2"))
    }

    /// Maps OpenSSL's errors to the most specific findings; `cert.untrusted` only for what nothing else explains.
    static func verificationFindings(chain: [CertificateFacts], verification: ChainVerification?, already: [Finding]) -> [Finding] {
        guard let verification, !verification.trusted else { return [] }
        var findings: [Finding] = []
        var unexplained: [VerifyError] = []
        func add(_ finding: Finding) {
            if !(already + findings).contains(where: { $0.id == finding.id }) { findings.append(finding) }
        }
        for error in verification.errors {
            switch error.code {
            case VerifyError.Code.expired:
                if error.depth == 0 && already.contains(where: { $0.id == .certExpired }) { continue }
                add(Finding(.certExpired, message: "\(position(error.depth)) has expired"))
            case VerifyError.Code.notYetValid:
                if error.depth == 0 && already.contains(where: { $0.id == .certNotYetValid }) { continue }
                add(Finding(.certNotYetValid, message: "\(position(error.depth)) is not valid yet"))
            case VerifyError.Code.depthZeroSelfSigned:
                add(Finding(.certSelfSigned, message: "the certificate is self-signed (\(chain.first?.subject ?? "?")) and no trust anchor vouches for it"))
            case VerifyError.Code.unableToGetIssuerLocally, VerifyError.Code.unableToVerifyLeafSignature:
                if chain.count == 1, chain.first?.selfSigned == false {
                    add(Finding(.certChainIncomplete, message: "the server sent only its leaf certificate, and its issuer '\(chain[0].issuer)' is not a trust anchor: an intermediate is missing"))
                } else {
                    unexplained.append(error)
                }
            case VerifyError.Code.leafKeyTooSmall, VerifyError.Code.issuerKeyTooSmall:
                // cert.weak_key names the certificates sent; a weak trust anchor (beyond them) is named here.
                if error.depth >= chain.count {
                    add(Finding(.certWeakKey, message: "the trust anchor at depth \(error.depth) has a key under 112 bits of security"))
                } else if !hasWeakKey(chain[error.depth]) {
                    unexplained.append(error)
                }
            case VerifyError.Code.signatureDigestTooWeak:
                if error.depth >= chain.count || !hasWeakSignature(chain[error.depth]) { unexplained.append(error) }
            default:
                unexplained.append(error)
            }
        }
        if let first = unexplained.first {
            add(Finding(.certUntrusted, message: "the chain is not trusted: \(first.message) (\(position(first.depth)))"))
        }
        return findings
    }

    static func daysRemaining(_ certificate: CertificateFacts, now: Date) -> Int {
        Int((certificate.notAfter.timeIntervalSince(now) / 86_400).rounded(.down))
    }

    /// "1 day", "3 days".
    static func days(_ count: Int) -> String { count == 1 ? "1 day" : "\(count) days" }

    static func position(_ depth: Int) -> String {
        depth == 0 ? "the leaf certificate" : "the chain certificate at depth \(depth)"
    }
}

/// RFC 3339 UTC timestamps as the JSON output writes them.
public enum JSONDates {
    public static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let year = Int(parts.tm_year) + 1900
        guard (0...9999).contains(year) else {
            return String(
                cFormat: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                parts.tm_hour, parts.tm_min, parts.tm_sec)
        }
        // Digits by hand: four dates an object, and printf's variadic boxing costs more than the rest of the JSON.
        var text = ""
        text.reserveCapacity(20)
        func append(_ value: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "0") + UInt8(rest / divisor)))
                rest %= divisor
                divisor /= 10
            }
        }
        append(year, digits: 4)
        text += "-"
        append(Int(parts.tm_mon) + 1, digits: 2)
        text += "-"
        append(Int(parts.tm_mday), digits: 2)
        text += "T"
        append(Int(parts.tm_hour), digits: 2)
        text += ":"
        append(Int(parts.tm_min), digits: 2)
        text += ":"
        append(Int(parts.tm_sec), digits: 2)
        text += "Z"
        return text
    }
}
