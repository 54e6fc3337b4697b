import FoundationEssentials

/// What a TXT lookup said: a parsed record, a named defect, or no answer.
public enum PolicyRecordLookup<Record: Sendable & Equatable>: Sendable, Equatable {
    case found(Record)
    case absent
    /// Records carrying the version tag that senders ignore: several of them, or one malformed (with its text).
    case invalid(PolicyRecordError, text: String?)
    /// No answer (SERVFAIL, timeout): the reason.
    case lookupFailed(String)

    public var record: Record? {
        if case .found(let record) = self { return record }
        return nil
    }
}

/// MTA-STS as evaluated once for a domain (RFC 8461): its record, its policy fetch and its parsed policy.
public struct MTASTSEvaluation: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case enforce, testing, none, absent, invalid, error
    }

    public var domain: String
    public var record: PolicyRecordLookup<MTASTSRecord>
    /// Nil when no fetch was made (no usable record).
    public var fetch: PolicyFetch?
    public var policy: Result<MTASTSPolicy, MTASTSPolicyError>?

    public init(domain: String, record: PolicyRecordLookup<MTASTSRecord>, fetch: PolicyFetch? = nil,
                policy: Result<MTASTSPolicy, MTASTSPolicyError>? = nil) {
        self.domain = domain
        self.record = record
        self.fetch = fetch
        self.policy = policy
    }

    public var parsedPolicy: MTASTSPolicy? {
        if case .success(let policy)? = policy { return policy }
        return nil
    }

    /// The contract's `mtaSts.status`.
    public var status: Status {
        switch record {
        case .absent: return .absent
        case .invalid: return .invalid
        case .lookupFailed: return .error
        case .found: break
        }
        if fetch?.error != nil || fetch == nil { return .error }
        switch policy {
        case .success(let policy)?:
            switch policy.mode {
            case .enforce: return .enforce
            case .testing: return .testing
            case .none: return .none
            }
        case .failure?: return .invalid
        case nil: return .error
        }
    }

    /// Whether the policy covers this MX host; nil when there is no policy with `mx` lines to ask.
    public func mxMatch(host: String) -> Bool? {
        guard let policy = parsedPolicy, policy.mode != .none else { return nil }
        return policy.covers(mxHost: host)
    }

    /// A policy in force whose certificate verdicts stay critical.
    public var enforces: Bool { status == .enforce }
}

/// TLS-RPT as evaluated once for a domain (RFC 8460).
public struct TLSRPTEvaluation: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case valid, invalid, absent, error
    }

    public var domain: String
    public var record: PolicyRecordLookup<TLSRPTRecord>

    public init(domain: String, record: PolicyRecordLookup<TLSRPTRecord>) {
        self.domain = domain
        self.record = record
    }

    public var status: Status {
        switch record {
        case .found: return .valid
        case .absent: return .absent
        case .invalid: return .invalid
        case .lookupFailed: return .error
        }
    }
}

/// Both evaluations of one domain.
public struct MailDomainPolicy: Sendable, Equatable {
    public var mtaSts: MTASTSEvaluation
    public var tlsRpt: TLSRPTEvaluation

    public init(mtaSts: MTASTSEvaluation, tlsRpt: TLSRPTEvaluation) {
        self.mtaSts = mtaSts
        self.tlsRpt = tlsRpt
    }
}

/// The per-domain step: the `_mta-sts` and `_smtp._tls` TXT lookups in one batch, then the policy fetch.
public struct MailDomainPolicyLookup: Sendable {
    public let fetcher: PolicyFetcher

    public init(fetcher: PolicyFetcher) {
        self.fetcher = fetcher
    }

    public func evaluate(domain: String, lookup: any DNSLookup, deadline: Deadline) -> MailDomainPolicy {
        let name = DNSName.normalized(domain)
        let answers = lookup.answers(to: [DNSQuestion("_mta-sts." + name, .txt), DNSQuestion("_smtp._tls." + name, .txt)], deadline: deadline)
        let stsRecord: PolicyRecordLookup<MTASTSRecord> = Self.record(answers.first, tag: MTASTSRecord.versionTag, parse: MTASTSRecord.parse(rdata:))
        let rptRecord: PolicyRecordLookup<TLSRPTRecord> = Self.record(answers.dropFirst().first, tag: TLSRPTRecord.versionTag, parse: TLSRPTRecord.parse(rdata:))
        var sts = MTASTSEvaluation(domain: name, record: stsRecord)
        if case .found = stsRecord {
            let fetch = fetcher.fetch(domain: name, lookup: lookup, deadline: deadline)
            sts.fetch = fetch
            if fetch.error == nil, let body = fetch.body { sts.policy = MTASTSPolicy.parse(body) }
        }
        return MailDomainPolicy(mtaSts: sts, tlsRpt: TLSRPTEvaluation(domain: name, record: rptRecord))
    }

    /// One TXT answer as a record lookup: NXDOMAIN and NODATA are absent, other failures no answer.
    static func record<Record>(_ answer: Result<DNSAnswer, DNSError>?, tag: String,
                               parse: ([[UInt8]]) -> Result<Record, PolicyRecordError>) -> PolicyRecordLookup<Record> {
        guard let answer else { return .lookupFailed("no answer") }
        switch answer {
        case .failure(let error): return .lookupFailed(error.description)
        case .success(let answer):
            if answer.rcode == .nxDomain { return .absent }
            guard answer.rcode == .noError else { return .lookupFailed("\(answer.question): \(answer.rcode)") }
            switch parse(answer.rdata) {
            case .success(let record): return .found(record)
            case .failure(.absent): return .absent
            case .failure(let error):
                let text = VersionedRecords.select(rdata: answer.rdata, tag: tag).first.map { TXTRecordText.display(Array($0.utf8)) }
                return .invalid(error, text: text)
            }
        }
    }
}
