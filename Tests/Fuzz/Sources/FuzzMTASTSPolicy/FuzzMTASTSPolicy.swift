import CFuzzDriver
import MXCheckCore

/// Any bytes as an MTA-STS policy body, the first line also as an MX host matched against its patterns, and the
/// findings for an endpoint. Never a crash, never a hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMTASTSPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let result = MTASTSPolicy.parse(bytes)
    let host = String(decoding: bytes.prefix { $0 != 0x0A }.prefix(255), as: UTF8.self)
    if case .success(let policy) = result {
        precondition(policy.maxAge >= 0 && policy.maxAge <= MTASTSPolicy.maximumMaxAge)
        precondition(policy.mode == .none || !policy.mx.isEmpty)
        for pattern in policy.mx.prefix(16) { _ = MXPattern.matches(pattern: pattern, host: host) }
    }
    let fetch = PolicyFetch(url: PolicyFetcher.url(of: "example.com"), httpStatus: 200, contentType: "text/plain", mediaType: "text/plain", body: bytes)
    let sts = MTASTSEvaluation(domain: "example.com", record: .found(MTASTSRecord(text: "v=STSv1; id=1", id: "1")), fetch: fetch, policy: result)
    _ = MTASTSRules.findings(for: MailDomainPolicy(mtaSts: sts, tlsRpt: TLSRPTEvaluation(domain: "example.com", record: .absent)), mxHost: host)
    return 0
}

@_cdecl("FuzzMTASTSPolicy_main")
public func fuzzMTASTSPolicyMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzMTASTSPolicy(data, size)
    }
}
