/// The `mtasts.*` and `tlsrpt.*` findings from a domain's `MailDomainPolicy` (see docs/mta-sts.md), and how an
/// enforced MTA-STS policy keeps the PKIX verdicts critical.
public enum MTASTSRules {
    /// The findings of one endpoint: the domain's MTA-STS and TLS-RPT verdicts, and whether its MX host is
    /// covered. `daneDeployed`: the MX host has secure TLSA records (then a missing TLS-RPT record is a warning).
    public static func findings(for policy: MailDomainPolicy, mxHost: String?, daneDeployed: Bool = false) -> [Finding] {
        mtaSTSFindings(policy.mtaSts, mxHost: mxHost) + tlsRPTFindings(policy.tlsRpt, mtaSTSDeployed: policy.mtaSts.record != .absent, daneDeployed: daneDeployed)
    }

    static func mtaSTSFindings(_ sts: MTASTSEvaluation, mxHost: String?) -> [Finding] {
        let domain = sts.domain
        let host = PolicyFetcher.policyHost(of: domain)
        let url = PolicyFetcher.url(of: domain)
        switch sts.record {
        case .absent:
            var finding = Finding(.mtastsAbsent, message: "\(domain) publishes no MTA-STS record (_mta-sts.\(domain) TXT): policy-aware senders do not require TLS to it")
            finding.fix = "To have policy-aware senders require TLS, publish _mta-sts.\(domain). IN TXT \"v=STSv1; id=\(exampleID)\" and serve a policy at \(url) (RFC 8461)"
            return [finding]
        case .lookupFailed(let reason):
            return [lookupFailed(.mtastsLookupFailed, record: "MTA-STS", name: "_mta-sts.\(domain)", domain: domain, reason: reason)]
        case .invalid(let error, let text):
            let shown = text.map { " ('\($0)')" } ?? ""
            var finding = Finding(.mtastsRecordInvalid, message: "the MTA-STS record of \(domain)\(shown) is not valid: \(error); senders ignore the policy")
            switch error {
            case .several:
                finding.fix = "Keep exactly one TXT record starting with v=STSv1 at _mta-sts.\(domain), e.g. \"v=STSv1; id=\(exampleID)\", and remove the others"
            default:
                finding.fix = "Publish _mta-sts.\(domain). IN TXT \"v=STSv1; id=\(exampleID)\" (v=STSv1 first; id of 1 to 32 letters and digits, changed whenever the policy changes)"
            }
            return [finding]
        case .found:
            break
        }
        guard let fetch = sts.fetch else { return [] }
        if let error = fetch.error {
            if case .certificate(let reason) = error {
                var finding = Finding(.mtastsPolicyCertInvalid, message: "the certificate of \(host) is not valid for that name: \(reason); senders cannot fetch the policy")
                finding.fix = "Serve \(host) with a certificate from a public CA whose subjectAltName includes DNS:\(host) (a partial wildcard such as mta*.\(domain), or a name in the CN only, does not count), sent with its intermediates"
                return [finding]
            }
            var finding = Finding(.mtastsPolicyFetchFailed, message: "the MTA-STS policy could not be fetched from \(url): \(error)")
            switch error {
            case .status(let code, let location) where code / 100 == 3:
                finding.fix = "Serve the policy itself with status 200 at \(url): senders never follow redirects" + (location.map { " (it points to \($0))" } ?? "")
            case .status(let code, _):
                finding.fix = "Serve the policy with status 200 at exactly \(url) (it answered \(code)); a bot wall or a missing file in the web root are the usual causes"
            case .http(.bodyTooLarge):
                finding.fix = "Serve only the policy text at \(url), at most 64 KiB (a policy is a few lines: version, mode, max_age, mx)"
            case .noAddress:
                finding.fix = "Publish A and/or AAAA records for \(host) pointing at the web server that serves the policy"
            default:
                finding.fix = "Make \(url) answer on port 443 of the addresses of \(host) promptly, with status 200, Content-Type: text/plain and the policy as the body"
            }
            return [finding]
        }
        var findings: [Finding] = []
        let enforce = sts.parsedPolicy?.mode == .enforce
        if (fetch.mediaType ?? "") != "text/plain", sts.policy != nil {
            let shown = fetch.contentType.map { "'\(TXTRecordText.display(Array($0.utf8), maximum: 80))'" } ?? "no Content-Type"
            var finding = Finding(.mtastsContentType, severity: enforce ? .critical : .warning,
                                  message: "the policy at \(url) is served as \(shown), not text/plain: some senders ignore such a policy")
            finding.fix = "Serve \(url) with Content-Type: text/plain (nginx: location = /.well-known/mta-sts.txt { default_type text/plain; }; Apache: <Location /.well-known/mta-sts.txt> ForceType text/plain </Location>)"
            findings.append(finding)
        }
        switch sts.policy {
        case .failure(let error)?:
            var finding = Finding(.mtastsPolicyInvalid, message: "the MTA-STS policy at \(url) is not valid: \(error); senders ignore it")
            finding.fix = policyFix(error, domain: domain, mxHost: mxHost)
            findings.append(finding)
            return findings
        case nil:
            return findings
        case .success(let policy)?:
            switch policy.mode {
            case .testing:
                var finding = Finding(.mtastsTesting, message: "the MTA-STS policy of \(domain) is in mode testing: TLS failures are reported, not enforced")
                finding.fix = "Once TLS-RPT reports show no failures, change the policy line 'mode: testing' to 'mode: enforce' and change the id= of _mta-sts.\(domain)"
                findings.append(finding)
            case .none:
                var finding = Finding(.mtastsModeNone, message: "the MTA-STS policy of \(domain) is in mode none: the domain has withdrawn its policy")
                finding.fix = "If the withdrawal is not intended, serve 'mode: enforce' (or 'mode: testing') with an 'mx: \(mxHost ?? "<MX host>")' line per MX host, and change the id= of _mta-sts.\(domain)"
                findings.append(finding)
            case .enforce:
                break
            }
            if policy.maxAge < MTASTSPolicy.shortMaxAge {
                var finding = Finding(.mtastsMaxAgeShort, message: "the MTA-STS policy's max_age is \(policy.maxAge) s, under a day: senders drop it soon after an outage of \(host)")
                finding.fix = "Change the policy line to 'max_age: 604800' (a week) or longer, up to 31557600, and change the id= of _mta-sts.\(domain)"
                findings.append(finding)
            }
            if let mxHost, policy.mode != .none, !policy.covers(mxHost: mxHost) {
                let patterns = policy.mx.prefix(5).joined(separator: ", ") + (policy.mx.count > 5 ? ", ..." : "")
                var finding = Finding(.mtastsMXNotCovered, severity: policy.mode == .enforce ? .critical : .warning,
                                      message: "the MX host \(mxHost) matches no mx pattern of the MTA-STS policy (\(patterns); * is exactly one label)"
                                        + (policy.mode == .enforce ? ": policy-aware senders will not deliver to it" : ": senders report failures to it"))
                finding.fix = "Add the line 'mx: \(DNSName.display(mxHost.lowercased()))' to the policy at \(url) and change the id= of _mta-sts.\(domain)"
                findings.append(finding)
            }
        }
        return findings
    }

    static func policyFix(_ error: MTASTSPolicyError, domain: String, mxHost: String?) -> String {
        let mx = mxHost.map { DNSName.display($0.lowercased()) } ?? "<MX host>"
        switch error {
        case .missing("version"), .badVersion: return "Make the first line of the policy 'version: STSv1'"
        case .missing("mode"), .badMode: return "Add the line 'mode: enforce' (or testing, or none) to the policy"
        case .missing("max_age"), .badMaxAge: return "Add the line 'max_age: 604800' to the policy (seconds, 0 to 31557600)"
        case .noMX: return "Add the line 'mx: \(mx)' to the policy, one per MX host of \(domain) ('*.\(domain)' covers one label)"
        case .badMX: return "Write each mx line as a host name ('mx: \(mx)') or '*.' and a domain ('mx: *.\(domain)')"
        default: return "Serve the policy as plain key: value lines ending in LF or CRLF: version: STSv1, mode: enforce, max_age: 604800, mx: \(mx)"
        }
    }

    static func tlsRPTFindings(_ rpt: TLSRPTEvaluation, mtaSTSDeployed: Bool, daneDeployed: Bool) -> [Finding] {
        let domain = rpt.domain
        let record = "_smtp._tls.\(domain). IN TXT \"v=TLSRPTv1; rua=mailto:tls-reports@\(domain)\""
        switch rpt.record {
        case .found:
            return []
        case .absent:
            let deployed = mtaSTSDeployed || daneDeployed
            var finding = Finding(.tlsrptAbsent, severity: deployed ? .warning : .info,
                                  message: "\(domain) publishes no TLS-RPT record (_smtp._tls.\(domain) TXT): nobody reports TLS failures to the domain"
                                    + (deployed ? ", though it deploys \(mtaSTSDeployed ? "MTA-STS" : "DANE")" : ""))
            finding.fix = "Publish \(record) (RFC 8460) to receive daily reports of TLS failures from senders"
            return [finding]
        case .invalid(let error, let text):
            let shown = text.map { " ('\($0)')" } ?? ""
            var finding = Finding(.tlsrptInvalid, message: "the TLS-RPT record of \(domain)\(shown) is not valid: \(error); senders send no reports")
            finding.fix = "Publish exactly one record, \(record) (v=TLSRPTv1 first; each rua URI mailto: or https:, several separated by commas)"
            return [finding]
        case .lookupFailed(let reason):
            return [lookupFailed(.tlsrptLookupFailed, record: "TLS-RPT", name: "_smtp._tls.\(domain)", domain: domain, reason: reason)]
        }
    }

    /// A TXT record of the domain's policy (`record`, at `name`) that could not be looked up.
    private static func lookupFailed(_ id: FindingID, record: String, name: String, domain: String, reason: String) -> Finding {
        var finding = Finding(id, message: "the \(record) record could not be looked up: \(reason)")
        finding.fix = "Make the name servers of \(domain) answer TXT queries for \(name) (check with dig TXT \(name))"
        return finding
    }

    static let exampleID = "20260101T000000"

    /// The PKIX findings (`cert.*`) of an endpoint under an MTA-STS policy in mode enforce: they stay critical,
    /// `cert.cn_only` included, and say that MTA-STS senders will not deliver. Other modes leave them as they are.
    public static let pkixFindingIDs: Set<FindingID> = [
        .certExpired, .certNotYetValid, .certSelfSigned, .certUntrusted, .certChainIncomplete,
        .certHostnameMismatch, .certCNOnly, .certWeakKey, .certWeakSignature,
    ]

    public static func certificateFindings(_ findings: [Finding], mtaSts: MTASTSEvaluation?) -> [Finding] {
        guard let mtaSts, mtaSts.enforces else { return findings }
        let reason = "the MTA-STS policy of \(mtaSts.domain) is in mode enforce: MTA-STS senders will not deliver to this server"
        return findings.map { pkixFindingIDs.contains($0.id) ? $0.restated(as: .critical, because: reason) : $0 }
    }
}
