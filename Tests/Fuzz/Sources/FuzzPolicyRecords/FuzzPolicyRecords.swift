import CFuzzDriver
import MXCheckCore

/// Any bytes as a TXT RRset (each record: a 2-byte big-endian length, then its rdata of character-strings),
/// read as `_mta-sts` and as `_smtp._tls` records, and the findings made of them. Never a crash, never a hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicyRecords(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var rdata: [[UInt8]] = []
    var offset = 0
    while offset + 2 <= bytes.count, rdata.count < 64 {
        let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        offset += 2
        let end = min(bytes.count, offset + length)
        rdata.append(Array(bytes[offset..<end]))
        offset = end
    }
    if case .success(let record) = MTASTSRecord.parse(rdata: rdata) {
        precondition((1...32).contains(record.id.count))
        precondition(MTASTSRecord.parse(text: record.text) == .success(record))
    }
    if case .success(let record) = TLSRPTRecord.parse(rdata: rdata) {
        precondition(!record.rua.isEmpty && record.rua.count <= TLSRPTRecord.maximumURIs)
    }
    let sts: PolicyRecordLookup<MTASTSRecord> = (try? MTASTSRecord.parse(rdata: rdata).get()).map { .found($0) } ?? .absent
    let rpt: PolicyRecordLookup<TLSRPTRecord> = (try? TLSRPTRecord.parse(rdata: rdata).get()).map { .found($0) } ?? .absent
    _ = MTASTSRules.findings(for: MailDomainPolicy(mtaSts: MTASTSEvaluation(domain: "example.com", record: sts),
                                                   tlsRpt: TLSRPTEvaluation(domain: "example.com", record: rpt)), mxHost: "mx.example.com")
    return 0
}

@_cdecl("FuzzPolicyRecords_main")
public func fuzzPolicyRecordsMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzPolicyRecords(data, size)
    }
}
