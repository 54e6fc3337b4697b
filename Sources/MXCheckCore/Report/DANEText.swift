/// The text report's `dane` line: the status, what matched or failed, and the record that would match.
extension DANEEvaluation {
    public var textSummary: String {
        let dnssecText = dnssec.map { "DNSSEC \($0.rawValue)" } ?? "no DNSSEC state"
        switch status {
        case .valid:
            let record = matchedRecord.flatMap { records[$0].record }
            let what = record.map { "\($0.combination)" } ?? "a TLSA record"
            let depth = matchedDepth.map { $0 == 0 ? "the leaf" : "certificate \($0) of the chain" } ?? "a certificate published in DNS"
            return "valid: \(what) matched \(depth) (\(dnssecText))"
        case .mismatch:
            return "mismatch: \(reason)" + wouldMatch
        case .unverified:
            return "unverified: \(name) has usable TLSA records, but no TLS handshake completed: DANE senders defer mail"
        case .unusable:
            return "unusable: \(reason)" + wouldMatch
        case .absent:
            return "absent: no TLSA records at \(name) (\(dnssecText))" + wouldMatch
        case .notApplicable:
            return "not applicable: \(reason)"
        case .error:
            return "error: \(reason)"
        }
    }

    /// "; would match: _25._tcp.host. IN TLSA 3 1 1 ..." when the server sent a chain.
    private var wouldMatch: String {
        guard let line = suggestedRecords.first else { return "" }
        return "; would match: \(line)"
    }
}

extension EndpointPolicy {
    /// The text report's `dane` line; nil when DANE was neither evaluated nor tried.
    public var daneText: String? {
        if let dane { return dane.textSummary }
        if findings.contains(where: { $0.id == .daneResolverUnusable }) { return "not evaluated: the resolver does not pass DNSSEC records" }
        return nil
    }
}
