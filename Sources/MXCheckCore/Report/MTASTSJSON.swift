/// The `mtaSts` and `tlsRpt` objects of an endpoint (docs/json.md, "Mail domain policy").
public enum MTASTSJSON {
    /// Patterns beyond this are left out of `policy.mx` (matching always uses every one).
    public static let displayedPatternsLimit = 100

    public static func mtaSts(_ policy: MailDomainPolicy?, mxHost: String?) -> JSONValue {
        guard let sts = policy?.mtaSts else { return .null }
        var object: [String: JSONValue] = [
            "record": .null, "id": .null, "policyUrl": .string(PolicyFetcher.url(of: sts.domain)), "fetch": .null, "policy": .null,
            "mxMatch": .null, "status": .string(sts.status.rawValue),
        ]
        switch sts.record {
        case .found(let record):
            object["record"] = .string(record.text)
            object["id"] = .string(record.id)
        case .invalid(_, let text):
            object["record"] = text.map { .string($0) } ?? .null
        case .absent, .lookupFailed:
            break
        }
        if let fetch = sts.fetch {
            object["fetch"] = .object([
                "httpStatus": fetch.httpStatus.map { .int($0) } ?? .null,
                "contentType": fetch.contentType.map { .string(TXTRecordText.display(Array($0.utf8), maximum: 200)) } ?? .null,
                "bytes": fetch.body.map { .int($0.count) } ?? .null,
                "error": fetch.error.map { .string($0.description) } ?? .null,
            ])
        }
        if let parsed = sts.parsedPolicy {
            object["policy"] = .object([
                "version": .string(parsed.version), "mode": .string(parsed.mode.rawValue),
                "mx": .array(parsed.mx.prefix(displayedPatternsLimit).map { .string($0) }), "maxAge": .int(parsed.maxAge),
            ])
        }
        if let mxHost, let match = sts.mxMatch(host: mxHost) { object["mxMatch"] = .bool(match) }
        return .object(object)
    }

    public static func tlsRpt(_ policy: MailDomainPolicy?) -> JSONValue {
        guard let rpt = policy?.tlsRpt else { return .null }
        var object: [String: JSONValue] = ["record": .null, "rua": .null, "status": .string(rpt.status.rawValue)]
        switch rpt.record {
        case .found(let record):
            object["record"] = .string(record.text)
            object["rua"] = .array(record.rua.map { .string($0) })
        case .invalid(_, let text):
            object["record"] = text.map { .string($0) } ?? .null
        case .absent, .lookupFailed:
            break
        }
        return .object(object)
    }
}
