/// The rules of the headers command: one finding per hop that deserves one, or one for a trace-less message.
enum HeaderRules {
    static func findings(for hops: [ReceivedHop]) -> [Finding] {
        guard !hops.isEmpty else {
            return [Finding(.headersNoReceived, message: "the header block holds no Received field, so the path of the message is unknown")]
        }
        var findings: [Finding] = []
        for hop in hops {
            let path = "hop \(hop.index): \(hop.senderLabel) -> \(hop.receiverLabel)"
            if hop.unparsed {
                findings.append(Finding(.headersUnparsedHop, message: "\(path): mxcheck could not read this Received field"))
                continue
            }
            if hop.isPlaintextBetweenHosts {
                findings.append(Finding(.headersPlaintextHop, message: "\(path) went without TLS (with \(hop.with ?? "?"))"))
            }
            // A hop's version is judged as mxcheck's own would be: anything below TLS 1.2.
            if let version = hop.tls?.version, Rules.protocolFinding(for: version) != nil {
                findings.append(Finding(.headersLegacyTLSHop, message: "\(path) used \(version.rawValue)"))
            }
        }
        return findings
    }
}
