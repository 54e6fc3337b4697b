/// The `dane.*` findings, from a `DANEEvaluation` (see docs/dane.md), and how DANE changes the PKIX verdicts.
public enum DANERules {
    /// The findings one endpoint's DANE evaluation gives; empty for `unverified` (the failed handshake is
    /// reported by the starttls.* findings).
    public static func findings(for evaluation: DANEEvaluation) -> [Finding] {
        let name = evaluation.name
        let host = evaluation.policy.host
        var findings: [Finding] = []
        switch evaluation.status {
        case .valid:
            if !evaluation.staleCombinations.isEmpty {
                let list = evaluation.staleCombinations.map(\.description).joined(separator: ", ")
                var finding = Finding(.daneStaleRecord, message: "DANE matched, but the \(list) TLSA record\(evaluation.staleCombinations.count == 1 ? "" : "s") of \(name) match\(evaluation.staleCombinations.count == 1 ? "es" : "") nothing in the chain the server sent: senders that use only that combination fail")
                let one = evaluation.staleCombinations.count == 1
                finding.fix = "Remove the \(list) record\(one ? "" : "s") of \(name), or replace \(one ? "it" : "them") with the current key's or issuer's: \(suggestions(evaluation))"
                findings.append(finding)
            }
            if evaluation.noRollover {
                var finding = Finding(.daneNoRollover, message: "\(name) has TLSA records of one DANE-EE key only: the next key change breaks DANE unless TLSA is updated first")
                finding.fix = "Before changing the key of \(host), publish a second record for the next key (\(name). IN TLSA 3 1 1 <SHA-256 of the next public key>) beside the current one, or a 2 1 1 record of the issuing CA (RFC 7671 §8.1)"
                findings.append(finding)
            }
        case .mismatch:
            var finding = Finding(.daneMismatch, message: evaluation.reason + ": DANE senders defer mail")
            if !evaluation.suggestedRecords.isEmpty {
                finding.fix = "Publish a record that matches what the server sends now, \(suggestions(evaluation)), before removing the stale ones; or make the server send the certificate the records name (Postfix: smtpd_tls_chain_files with the intermediate; Exim: tls_certificate)"
            }
            findings.append(finding)
        case .unusable:
            var finding = Finding(.daneUnusable, message: evaluation.reason + ": DANE senders must use TLS but cannot authenticate the server")
            if let line = evaluation.suggestedRecords.first {
                finding.fix = "Replace the records of \(name) with usable ones, e.g. \(line); SMTP does not use PKIX-TA(0)/PKIX-EE(1), and digests must be SHA-256 (1) or SHA-512 (2) of the right length"
            }
            findings.append(finding)
        case .absent:
            var finding = Finding(.daneAbsent, message: "\(host)'s addresses are DNSSEC-signed, but \(name) has no TLSA records: DANE is not deployed")
            if let line = evaluation.suggestedRecords.first {
                finding.fix = "To protect mail to \(host) with DANE, publish \(line) (and a second record for the next key)"
            }
            findings.append(finding)
        case .notApplicable:
            findings.append(Finding(.daneNotSigned, message: "\(evaluation.reason): DANE is impossible for \(host)"))
        case .error:
            switch evaluation.policy.outcome {
            case .bogus(let reason):
                findings.append(Finding(.daneDNSSECBogus, message: "\(reason): DANE senders give up on this destination"))
            default:
                var finding = Finding(.daneLookupFailed, message: "\(evaluation.reason): DANE senders defer mail")
                finding.fix = "Make the name servers of \(name) answer TLSA queries (a lame delegation, or servers failing on the TLSA type); DANE senders defer mail until they do"
                findings.append(finding)
            }
        case .unverified:
            break
        }
        if evaluation.recordsIgnored > 0 {
            findings = findings.map { finding in
                var finding = finding
                finding.message += " (only the first \(evaluation.records.count) of \(evaluation.recordsTotal) TLSA records were evaluated)"
                return finding
            }
        }
        return findings
    }

    /// "3 1 1 line (DANE-EE) or 2 1 1 line (DANE-TA, its issuer)".
    static func suggestions(_ evaluation: DANEEvaluation) -> String {
        zip(evaluation.suggestedRecords, ["DANE-EE: the leaf's key", "DANE-TA: its issuer's key, which the server sends"]).map { "\($0) (\($1))" }.joined(separator: " or ")
    }

    /// STARTTLS missing, refused or failing where secure, usable TLSA records exist (`unverified`): critical, and the
    /// message says that DANE senders never fall back to plaintext or unauthenticated TLS.
    public static func unverifiedFindings(_ findings: [Finding], dane: DANEEvaluation) -> [Finding] {
        guard dane.status == .unverified else { return findings }
        let failures: Set<FindingID> = [.starttlsMissing, .starttlsRejected, .starttlsFailed]
        let reason = "\(dane.name) has usable TLSA records: DANE senders never fall back to plaintext, they defer mail to \(dane.policy.host)"
        return findings.map { failures.contains($0.id) ? $0.restated(as: .critical, because: reason) : $0 }
    }

    /// `dane.resolver_unusable`, on each endpoint, when `DNSResolver.dnssecSupport` said the resolver cannot be used.
    public static func resolverUnusable(reason: String) -> Finding {
        Finding(.daneResolverUnusable, message: "DANE was not evaluated: \(reason)")
    }

    /// The PKIX findings DANE makes irrelevant: reported as info where DANE is valid and no MTA-STS policy in
    /// enforce mode requires a trusted certificate anyway. The dates count only for a DANE-TA match.
    static let irrelevantUnderDANE: Set<FindingID> = [.certUntrusted, .certSelfSigned, .certChainIncomplete, .certHostnameMismatch, .certCNOnly]
    static let irrelevantUnderDANEEE: Set<FindingID> = [.certExpired, .certNotYetValid, .certExpiring]

    /// The contract's "How policy changes the certificate verdicts" for DANE: the certificate findings of an
    /// endpoint, with those DANE makes irrelevant turned into info, saying that DANE authenticates the server.
    public static func certificateFindings(_ findings: [Finding], dane: DANEEvaluation?, mtaSTSEnforced: Bool) -> [Finding] {
        guard let dane, dane.status == .valid, !mtaSTSEnforced else { return findings }
        let matchedEE = dane.matchedRecord.flatMap { dane.records[$0].record?.usage } == TLSAUsage.daneEE
        let kind = matchedEE ? "DANE-EE" : "DANE-TA"
        let reason = "not a problem for DANE senders: \(kind) authenticates the server through \(dane.name)"
        return findings.map { finding in
            let irrelevant = irrelevantUnderDANE.contains(finding.id) || (matchedEE && irrelevantUnderDANEEE.contains(finding.id))
            return irrelevant ? finding.restated(as: .info, because: reason) : finding
        }
    }
}
