import CFuzzDriver
import Foundation
import MXCheckCore

/// Any bytes as a TLSA RRset (each record: a 2-byte big-endian length, then its rdata) matched against a
/// "chain" made of the full-certificate data of the records themselves: parsing, usability, digest agility,
/// OpenSSL's DANE verification and the findings, on whatever comes out. Never a crash, never a hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTLSARecords(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var rdata: [[UInt8]] = []
    var offset = 0
    while offset + 2 <= bytes.count, rdata.count < 300 {
        let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        offset += 2
        let end = min(bytes.count, offset + length)
        rdata.append(Array(bytes[offset..<end]))
        offset = end
    }
    let set = TLSARecordSet(rdata: rdata)
    precondition(set.entries.count <= TLSARecordSet.defaultLimit && set.total == rdata.count)
    for entry in set.entries {
        if let record = entry.record {
            precondition(TLSARecord.parse(record.wire) == record)
            precondition(TLSARecord(presentation: record.description) == record || record.data.isEmpty)
        }
    }
    let chain = set.entries.compactMap { entry -> [UInt8]? in
        guard let record = entry.record, record.selector == 0, record.matchingType == 0 else { return nil }
        return record.data
    }
    let policy = DANEPolicy(host: "mx.example.com", port: 25, mxDNSSEC: .secure, addressDNSSEC: .secure, tlsaDNSSEC: .secure,
                            outcome: .records(set), referenceIdentities: ["mx.example.com", "example.com"])
    for candidate in [chain, Array(chain.reversed().prefix(3)), nil] {
        let evaluation = DANEEvaluation(policy: policy, chainDER: candidate, at: Date(timeIntervalSince1970: 1_796_000_000))
        precondition(evaluation.records.count == set.entries.count)
        precondition(evaluation.status != .valid || evaluation.records.contains { $0.usable && $0.matched })
        _ = DANERules.findings(for: evaluation)
    }
    return 0
}

/// The entry point SwiftPM links as main: libFuzzer's driver, running the function above.
@_cdecl("FuzzTLSARecords_main")
public func fuzzTLSARecordsMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzTLSARecords(data, size)
    }
}
