/// How the reference identity matched the certificate.
public enum NameMatch: Sendable, Equatable {
    /// A subject alternative name matched.
    case subjectAltName(String)
    /// The certificate has no SAN and its subject CN matched.
    case commonNameOnly(String)
    case none
}

/// RFC 6125 identity checks: DNS names against dNSName SANs (a wildcard only as the whole left-most
/// label, matching exactly one label, never in a name of fewer than three labels), IP addresses
/// against iPAddress SANs; the CN counts only when there is no SAN at all.
public enum NameMatcher {
    public static func match(reference: String, dnsNames: [String], ipAddresses: [String], commonName: String?) -> NameMatch {
        let hasSAN = !dnsNames.isEmpty || !ipAddresses.isEmpty
        if let referenceBytes = IPAddressText.bytes(of: reference) {
            if let hit = ipAddresses.first(where: { IPAddressText.bytes(of: $0) == referenceBytes }) {
                return .subjectAltName(hit)
            }
            if !hasSAN, let commonName, IPAddressText.bytes(of: commonName) == referenceBytes {
                return .commonNameOnly(commonName)
            }
            return .none
        }
        if let hit = dnsNames.first(where: { dnsName($0, matches: reference) }) {
            return .subjectAltName(hit)
        }
        if !hasSAN, let commonName, dnsName(commonName, matches: reference) {
            return .commonNameOnly(commonName)
        }
        return .none
    }

    /// Whether a presented DNS identifier (possibly `*.example.com`) matches a reference name.
    public static func dnsName(_ presented: String, matches reference: String) -> Bool {
        let presentedLabels = labels(presented)
        let referenceLabels = labels(reference)
        guard !presentedLabels.isEmpty, presentedLabels.count == referenceLabels.count else { return false }
        guard presentedLabels.allSatisfy({ !$0.isEmpty }), referenceLabels.allSatisfy({ !$0.isEmpty }) else { return false }
        for (index, (left, right)) in zip(presentedLabels, referenceLabels).enumerated() {
            if index == 0 && left == "*" {
                // *.com or *.example would cover a whole registry.
                if presentedLabels.count < 3 { return false }
                // The reference's own left-most label must be a real label, not an IDN A-label prefix trick.
                continue
            }
            if left.contains("*") { return false }
            if left != right { return false }
        }
        return true
    }

    private static func labels(_ name: String) -> [String] {
        var text = name.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        return text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }
}
