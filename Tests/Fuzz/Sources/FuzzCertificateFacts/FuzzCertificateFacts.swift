import CFuzzDriver
import MXCheckCore

/// Any bytes as a DER certificate: facts or a CertificateParseError, and name matching on whatever came out.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCertificateFacts(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let der = Array(UnsafeBufferPointer(start: data, count: size))
    guard let facts = try? CertificateFacts(der: der) else { return 0 }
    precondition(facts.sha256.count == 64)
    for reference in ["mx.example.com", "192.0.2.1", "2001:db8::1"] {
        _ = NameMatcher.match(reference: reference, dnsNames: facts.dnsNames, ipAddresses: facts.ipAddresses, commonName: facts.commonName)
    }
    for name in facts.dnsNames.prefix(16) {
        _ = NameMatcher.dnsName(name, matches: "mx.example.com")
    }
    return 0
}

/// The entry point SwiftPM links as main: libFuzzer's driver, running the function above.
@_cdecl("FuzzCertificateFacts_main")
public func fuzzCertificateFactsMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzCertificateFacts(data, size)
    }
}
