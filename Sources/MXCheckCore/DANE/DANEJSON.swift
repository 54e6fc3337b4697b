/// The contract's `dane` JSON object for an endpoint, and the `mx.dnssec` value: for JSONReport to place.
extension DANEEvaluation {
    /// How many records `records` shows at most; `recordsTotal` always gives the RRset's size.
    public static let jsonRecordLimit = 20

    /// `{"name", "dnssec", "status", "records": [{"usage", "selector", "matchingType", "data", "usable", "used",
    /// "matched"}], "recordsTotal", "matchedDepth"}`. A malformed record (under three octets) has null fields
    /// and its raw rdata as `data`.
    public func jsonObject(recordLimit: Int = DANEEvaluation.jsonRecordLimit) -> JSONValue {
        let shown = records.prefix(max(0, recordLimit)).map { result -> JSONValue in
            let number = { (value: UInt8?) -> JSONValue in value.map { .int(Int($0)) } ?? .null }
            return .object([
                "usage": number(result.record?.usage),
                "selector": number(result.record?.selector),
                "matchingType": number(result.record?.matchingType),
                "data": .string(HexText.encode(result.record?.data ?? result.rdata)),
                "usable": .bool(result.usable),
                "used": .bool(result.used),
                "matched": .bool(result.matched),
            ])
        }
        return .object([
            "name": .string(name),
            "dnssec": dnssec.map { .string($0.rawValue) } ?? .null,
            "status": .string(status.rawValue),
            "records": .array(Array(shown)),
            "recordsTotal": .int(recordsTotal),
            "matchedDepth": matchedDepth.map { .int($0) } ?? .null,
        ])
    }
}

extension DNSSECState {
    /// For `mx.dnssec` and `dane.dnssec`.
    public var json: JSONValue { .string(rawValue) }
}
