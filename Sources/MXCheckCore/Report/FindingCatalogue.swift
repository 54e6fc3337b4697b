/// Every finding id mxcheck can report (docs/findings.md lists them with their severity and fix).
public enum FindingID: String, Sendable, CaseIterable {
    case smtpConnectFailed = "smtp.connect_failed"
    case smtpTimeout = "smtp.timeout"
    case smtpRateLimited = "smtp.rate_limited"
    case smtpRefused = "smtp.refused"
    case smtpEhloRejected = "smtp.ehlo_rejected"
    case smtpProtocolError = "smtp.protocol_error"
    case starttlsMissing = "starttls.missing"
    case starttlsRejected = "starttls.rejected"
    case starttlsFailed = "starttls.failed"
    case starttlsPlaintextAfter220 = "starttls.plaintext_after_220"
    case starttlsCommandInjection = "starttls.command_injection"
    case certExpired = "cert.expired"
    case certNotYetValid = "cert.not_yet_valid"
    case certExpiring = "cert.expiring"
    case certSelfSigned = "cert.self_signed"
    case certUntrusted = "cert.untrusted"
    case certChainIncomplete = "cert.chain_incomplete"
    case certHostnameMismatch = "cert.hostname_mismatch"
    case certCNOnly = "cert.cn_only"
    case certWeakKey = "cert.weak_key"
    case certWeakSignature = "cert.weak_signature"
    case tlsLegacyProtocol = "tls.legacy_protocol"
    case tlsObsoleteProtocol = "tls.obsolete_protocol"
    case tlsWeakCipher = "tls.weak_cipher"
    case tlsWeakDH = "tls.weak_dh"
    case dnsNullMX = "dns.null_mx"
    case dnsImplicitMX = "dns.implicit_mx"
    case dnsNXDomain = "dns.nxdomain"
    case dnsMXNoAddress = "dns.mx_no_address"
    case dnsMXCNAME = "dns.mx_cname"
    case dnsMXIPLiteral = "dns.mx_ip_literal"
    case dnsSkipped = "dns.skipped"
    case dnsTimeout = "dns.timeout"
    case dnsServfail = "dns.servfail"
    case dnsHostUnresolved = "dns.host_unresolved"
    case inputInvalid = "input.invalid"
    case runDeadline = "run.deadline"
    case runLocalError = "run.local_error"
    case daneNotSigned = "dane.not_signed"
    case daneResolverUnusable = "dane.resolver_unusable"
    case daneAbsent = "dane.absent"
    case daneMismatch = "dane.mismatch"
    case daneUnusable = "dane.unusable"
    case daneDNSSECBogus = "dane.dnssec_bogus"
    case daneLookupFailed = "dane.lookup_failed"
    case daneStaleRecord = "dane.stale_record"
    case daneNoRollover = "dane.no_rollover"
    case headersPlaintextHop = "headers.plaintext_hop"
    case headersLegacyTLSHop = "headers.legacy_tls_hop"
    case headersUnparsedHop = "headers.unparsed_hop"
    case headersNoReceived = "headers.no_received"
    case mtastsAbsent = "mtasts.absent"
    case mtastsRecordInvalid = "mtasts.record_invalid"
    case mtastsPolicyFetchFailed = "mtasts.policy_fetch_failed"
    case mtastsPolicyCertInvalid = "mtasts.policy_cert_invalid"
    case mtastsPolicyInvalid = "mtasts.policy_invalid"
    case mtastsTesting = "mtasts.testing"
    case mtastsModeNone = "mtasts.mode_none"
    case mtastsMXNotCovered = "mtasts.mx_not_covered"
    case mtastsMaxAgeShort = "mtasts.max_age_short"
    case mtastsContentType = "mtasts.content_type"
    case mtastsLookupFailed = "mtasts.lookup_failed"
    case tlsrptAbsent = "tlsrpt.absent"
    case tlsrptInvalid = "tlsrpt.invalid"
    case tlsrptLookupFailed = "tlsrpt.lookup_failed"
}

/// The one table of findings: default severity, the concrete fix, and the score deduction per severity.
public struct CatalogueEntry: Sendable {
    public var severity: Severity
    public var summary: String
    public var fix: String
    /// Points taken off the score of 100 when the finding is reported at a severity.
    public var deduction: [Severity: Int]
}

public enum FindingCatalogue {
    public static func entry(for id: FindingID) -> CatalogueEntry {
        switch id {
        case .smtpConnectFailed:
            return CatalogueEntry(
                severity: .critical, summary: "TCP connection refused or unreachable",
                fix: "Make the SMTP service listen on this address and port and let the firewall pass it: Postfix: inet_interfaces and master.cf; Exim: local_interfaces / daemon_smtp_ports",
                deduction: [.critical: 100])
        case .smtpTimeout:
            return CatalogueEntry(
                severity: .critical, summary: "a phase did not complete within the time bound",
                fix: "Check that the server answers promptly (tarpitting, overload or a firewall dropping packets); raise --timeout if the server is slow by design",
                deduction: [.critical: 100])
        case .smtpRateLimited:
            return CatalogueEntry(
                severity: .unknown, summary: "the server refused to talk now (421)",
                fix: "Retry later, or from an address the server does not rate-limit: Postfix: smtpd_client_connection_rate_limit, postscreen; Exim: smtp_accept_max_per_host",
                deduction: [.unknown: 100])
        case .smtpRefused:
            return CatalogueEntry(
                severity: .unknown, summary: "the server refused the session (554 greeting)",
                fix: "Check from an address the server accepts: Postfix: smtpd_client_restrictions, postscreen_access_list; Exim: acl_smtp_connect",
                deduction: [.unknown: 100])
        case .smtpEhloRejected:
            return CatalogueEntry(
                severity: .critical, summary: "EHLO refused",
                fix: "Accept EHLO from clients (HELO alone cannot offer STARTTLS): Postfix: smtpd_helo_restrictions, smtpd_helo_required; Exim: acl_smtp_helo",
                deduction: [.critical: 100])
        case .smtpProtocolError:
            return CatalogueEntry(
                severity: .critical, summary: "malformed, oversized or unexpected replies",
                fix: "Make the server send RFC 5321 replies (three-digit codes, lines under 512 bytes); check for a proxy or a non-SMTP service on this port",
                deduction: [.critical: 100])
        case .starttlsMissing:
            return CatalogueEntry(
                severity: .critical, summary: "STARTTLS not advertised",
                fix: "Offer STARTTLS with a certificate: Postfix: smtpd_tls_security_level = may and smtpd_tls_chain_files; Exim: tls_advertise_hosts = * with tls_certificate and tls_privatekey",
                deduction: [.critical: 100])
        case .starttlsRejected:
            return CatalogueEntry(
                severity: .critical, summary: "STARTTLS answered with a non-220 reply",
                fix: "Fix the server's TLS setup (usually an unreadable key or certificate, see its log): Postfix: smtpd_tls_chain_files; Exim: tls_certificate and tls_privatekey",
                deduction: [.critical: 100])
        case .starttlsFailed:
            return CatalogueEntry(
                severity: .critical, summary: "the TLS handshake failed",
                fix: "Fix the server's TLS setup so a handshake with a current client succeeds (see the server's log): Postfix: smtpd_tls_chain_files, smtpd_tls_protocols; Exim: tls_certificate, tls_require_ciphers",
                deduction: [.critical: 100])
        case .starttlsPlaintextAfter220:
            return CatalogueEntry(
                severity: .critical, summary: "plaintext sent after the 220 to STARTTLS (response injection)",
                fix: "Upgrade the SMTP server or the proxy in front of it: nothing may follow the 220 to STARTTLS before the handshake",
                deduction: [.critical: 60])
        case .starttlsCommandInjection:
            return CatalogueEntry(
                severity: .critical, summary: "plaintext commands pipelined after STARTTLS answered inside TLS (CVE-2011-0411)",
                fix: "Upgrade the SMTP server: it must discard input buffered before the TLS handshake (Postfix fixed this in 2.8.0/2.7.3)",
                deduction: [.critical: 60])
        case .certExpired:
            return CatalogueEntry(
                severity: .critical, summary: "the certificate has expired",
                fix: "Install a renewed certificate and reload: Postfix: smtpd_tls_chain_files, then postfix reload; Exim: tls_certificate",
                deduction: [.critical: 60])
        case .certNotYetValid:
            return CatalogueEntry(
                severity: .critical, summary: "the certificate is not valid yet",
                fix: "Check the server's clock, or install a certificate whose notBefore has passed: Postfix: smtpd_tls_chain_files; Exim: tls_certificate",
                deduction: [.critical: 60])
        case .certExpiring:
            return CatalogueEntry(
                severity: .warning, summary: "the certificate expires soon",
                fix: "Renew the certificate now and check that renewal is automated: Postfix: smtpd_tls_chain_files; Exim: tls_certificate",
                deduction: [.warning: 10, .critical: 30])
        case .certSelfSigned:
            return CatalogueEntry(
                severity: .critical, summary: "the certificate is self-signed",
                fix: "Use a certificate from a public CA (e.g. ACME) or publish DANE TLSA records for it: Postfix: smtpd_tls_chain_files; Exim: tls_certificate",
                deduction: [.critical: 50])
        case .certUntrusted:
            return CatalogueEntry(
                severity: .critical, summary: "the chain does not lead to a trusted root",
                fix: "Use a certificate from a publicly trusted CA and serve its full chain: Postfix: smtpd_tls_chain_files; Exim: tls_certificate",
                deduction: [.critical: 50])
        case .certChainIncomplete:
            return CatalogueEntry(
                severity: .critical, summary: "an intermediate certificate is missing",
                fix: "Serve the intermediates after the leaf (the CA's fullchain.pem): Postfix: smtpd_tls_chain_files = key.pem, fullchain.pem; Exim: tls_certificate = fullchain.pem",
                deduction: [.critical: 40])
        case .certHostnameMismatch:
            return CatalogueEntry(
                severity: .critical, summary: "no certificate name matches the host",
                fix: "Get a certificate whose subjectAltName lists the MX host name: Postfix: smtpd_tls_chain_files; Exim: tls_certificate (per-SNI with tls_certificate expansions)",
                deduction: [.critical: 40])
        case .certCNOnly:
            return CatalogueEntry(
                severity: .warning, summary: "the name matched only the subject CN",
                fix: "Reissue the certificate with the host name in subjectAltName (current clients ignore the CN): Postfix: smtpd_tls_chain_files; Exim: tls_certificate",
                deduction: [.warning: 10])
        case .certWeakKey:
            return CatalogueEntry(
                severity: .critical, summary: "the key is too small",
                fix: "Reissue with RSA 2048+ or ECDSA P-256+: Postfix: smtpd_tls_chain_files; Exim: tls_certificate and tls_privatekey",
                deduction: [.critical: 40])
        case .certWeakSignature:
            return CatalogueEntry(
                severity: .critical, summary: "SHA-1 or MD5 signature in the chain",
                fix: "Reissue the certificate (and use intermediates) signed with SHA-256 or better: Postfix: smtpd_tls_chain_files; Exim: tls_certificate",
                deduction: [.critical: 30])
        case .tlsLegacyProtocol:
            return CatalogueEntry(
                severity: .warning, summary: "TLSv1.0 or TLSv1.1 negotiated or accepted",
                fix: FixText.protocols,
                deduction: [.warning: 15])
        case .tlsObsoleteProtocol:
            return CatalogueEntry(
                severity: .critical, summary: "SSLv2 or SSLv3 accepted",
                fix: FixText.protocols,
                deduction: [.critical: 40])
        case .tlsWeakCipher:
            return CatalogueEntry(
                severity: .warning, summary: "weak cipher suite",
                fix: FixText.ciphers,
                deduction: [.warning: 15, .critical: 40])
        case .tlsWeakDH:
            return CatalogueEntry(
                severity: .warning, summary: "finite-field DH group below 2048 bits",
                fix: FixText.dhGroup,
                deduction: [.warning: 15])
        case .dnsNullMX:
            return CatalogueEntry(
                severity: .info, summary: "the domain publishes a null MX (RFC 7505): it accepts no mail",
                fix: "Nothing to do if the domain should receive no mail; to receive mail, replace the zone's \"MX 0 .\" record with MX records naming your mail servers",
                deduction: [.info: 0])
        case .dnsImplicitMX:
            return CatalogueEntry(
                severity: .info, summary: "no MX: the domain's own A/AAAA serve as its MX (RFC 5321 §5.1)",
                fix: "Publish an MX record in the zone (e.g. \"@ MX 10 mx.example.com.\"), or \"MX 0 .\" (RFC 7505) if the domain receives no mail",
                deduction: [.info: 0])
        case .dnsNXDomain:
            return CatalogueEntry(
                severity: .critical, summary: "the domain (or an MX host) does not exist",
                fix: "Check the spelling; create the name in its zone, or correct the MX record that names it",
                deduction: [.critical: 100])
        case .dnsMXNoAddress:
            return CatalogueEntry(
                severity: .critical, summary: "an MX host has neither A nor AAAA",
                fix: "Add A and/or AAAA records for the MX host in its zone, or remove the MX record that names it",
                deduction: [.critical: 100])
        case .dnsMXCNAME:
            return CatalogueEntry(
                severity: .warning, summary: "an MX target is a CNAME (RFC 5321 §5.1 forbids it)",
                fix: "Point the MX record at the CNAME's target (the name that has the A/AAAA records), not at the alias",
                deduction: [.warning: 10])
        case .dnsMXIPLiteral:
            return CatalogueEntry(
                severity: .warning, summary: "an MX target is an IP address, not a host name",
                fix: "Give the server a host name with A/AAAA records and name that in the MX record (e.g. \"MX 10 mx.example.com.\", not \"MX 10 192.0.2.1.\")",
                deduction: [.warning: 10])
        case .dnsSkipped:
            return CatalogueEntry(
                severity: .info, summary: "MX hosts or addresses beyond the limits were not checked",
                fix: "Nothing required; fewer MX records (at most 20) and addresses per MX host (at most 10) let every one be checked",
                deduction: [.info: 0])
        case .dnsTimeout:
            return CatalogueEntry(
                severity: .unknown, summary: "the resolver did not answer",
                fix: "Check that the resolver (--resolver or /etc/resolv.conf) is reachable and that the domain's name servers answer (e.g. dig +trace DOMAIN MX)",
                deduction: [.unknown: 100])
        case .dnsServfail:
            return CatalogueEntry(
                severity: .unknown, summary: "the resolver failed (SERVFAIL or another error)",
                fix: "Fix the domain's delegation or DNSSEC (e.g. check it with dig +cd DOMAIN MX and a DNSSEC analyzer), or use a working resolver with --resolver",
                deduction: [.unknown: 100])
        case .dnsHostUnresolved:
            return CatalogueEntry(
                severity: .unknown, summary: "a host target has no address: no such name, no A/AAAA, or the lookup failed",
                fix: "Check the host name's spelling and its A/AAAA records (e.g. dig HOST A and dig HOST AAAA), or give the server's IP address as the target",
                deduction: [.unknown: 100])
        case .inputInvalid:
            return CatalogueEntry(
                severity: .unknown, summary: "an input target that cannot be parsed",
                fix: "Write the target as host, host:port, 192.0.2.1:25 or [2001:db8::1]:25 (with --mx: a domain name), one a line",
                deduction: [.unknown: 100])
        case .runDeadline:
            return CatalogueEntry(
                severity: .unknown, summary: "the run's --deadline passed before this target was done",
                fix: "Give the run more time (--deadline), check fewer targets per run (--shard K/N), or raise --concurrency",
                deduction: [.unknown: 100])
        case .runLocalError:
            return CatalogueEntry(
                severity: .unknown, summary: "the check failed on this machine (file descriptors, memory), not at the server",
                fix: "Lower --concurrency, or raise this machine's open-file limit (ulimit -n; LimitNOFILE= in a systemd unit)",
                deduction: [.unknown: 100])
        case .daneNotSigned:
            return CatalogueEntry(
                severity: .info, summary: "the MX host's addresses are not DNSSEC-signed: DANE is impossible",
                fix: "To protect mail with DANE, sign the MX host's zone with DNSSEC (and publish its DS in the parent zone), then publish TLSA records at _25._tcp.<MX host>",
                deduction: [.info: 0])
        case .daneResolverUnusable:
            // The resolver's fault, not the server's: nothing is deducted (and an unknown status has no score).
            return CatalogueEntry(
                severity: .unknown, summary: "the resolver does not return DNSSEC records, so DANE could not be evaluated",
                fix: "Give --resolver a resolver that passes DNSSEC records through (DNSKEY, DS, RRSIG; e.g. a local unbound), or --trust-anchor the anchors of the zones checked; mxcheck validates by itself",
                deduction: [.unknown: 0])
        case .daneAbsent:
            return CatalogueEntry(
                severity: .info, summary: "signed, but the MX host publishes no TLSA records",
                fix: "To protect mail with DANE, publish _25._tcp.<MX host>. IN TLSA 3 1 1 <SHA-256 of the server's public key>, and a second record for the next key",
                deduction: [.info: 0])
        case .daneMismatch:
            return CatalogueEntry(
                severity: .critical, summary: "secure TLSA records, none matches the chain the server sent: DANE senders defer mail",
                fix: "Publish a TLSA record that matches the certificate the server sends now (3 1 1 of its public key), or make the server send the certificate the records name (DANE-TA: Postfix smtpd_tls_chain_files / Exim tls_certificate must include the intermediate); publish the new record before a key change",
                deduction: [.critical: 60])
        case .daneUnusable:
            return CatalogueEntry(
                severity: .warning, summary: "secure TLSA RRset without a usable record: senders must use TLS but cannot authenticate",
                fix: "Replace the records with DANE-EE(3) or DANE-TA(2) ones, selector 0 or 1, matching type 1 (SHA-256) or 2 (SHA-512) with a digest of the right length, e.g. 3 1 1 <SHA-256 of the server's public key>; SMTP does not use PKIX-TA(0)/PKIX-EE(1)",
                deduction: [.warning: 20])
        case .daneDNSSECBogus:
            return CatalogueEntry(
                severity: .critical, summary: "DNSSEC validation failed for the MX RRset, the host's addresses or the TLSA RRset",
                fix: "Fix the zone's DNSSEC: re-sign it (signatures expired or broken), or correct the DS records in the parent zone; check it with a DNSSEC analyzer (e.g. DNSViz, or delv/dig +dnssec)",
                deduction: [.critical: 60])
        case .daneLookupFailed:
            return CatalogueEntry(
                severity: .critical, summary: "the TLSA lookup failed (SERVFAIL, timeout) under a signed zone: DANE senders defer mail",
                fix: "Make the name servers of _25._tcp.<MX host> answer TLSA queries (a lame delegation, or servers that fail on unknown types); DANE senders defer mail until they do",
                deduction: [.critical: 60])
        case .daneStaleRecord:
            return CatalogueEntry(
                severity: .warning, summary: "DANE matched, but a whole usable TLSA combination matches nothing in the chain",
                fix: "Remove the TLSA records that match nothing the server sends, or replace them with records of the current key or issuer: senders that use only that combination fail",
                deduction: [.warning: 10])
        case .daneNoRollover:
            return CatalogueEntry(
                severity: .info, summary: "one DANE-EE key and no second key or DANE-TA record",
                fix: "Before the next key change, publish a second TLSA record for the next key (3 1 1 of its public key), or a 2 1 1 record of the issuing CA (RFC 7671 §8.1)",
                deduction: [.info: 0])
        case .headersPlaintextHop:
            return CatalogueEntry(
                severity: .warning, summary: "a hop between two different hosts went without TLS",
                fix: "Make the sending host of that hop use TLS: Postfix: smtp_tls_security_level = may (or dane/encrypt) on the sender and smtpd_tls_security_level = may on the receiver; Exim: tls_advertise_hosts = * on the receiver (an Exim sender tries STARTTLS by default)",
                deduction: [.warning: 15])
        case .headersLegacyTLSHop:
            return CatalogueEntry(
                severity: .warning, summary: "a hop used SSL 3.0, TLS 1.0 or TLS 1.1",
                fix: "Upgrade the two hosts of that hop to TLS 1.2 or 1.3: Postfix: smtp_tls_protocols and smtpd_tls_protocols = >=TLSv1.2; Exim with GnuTLS (Debian, Ubuntu): tls_require_ciphers = \(FixText.eximGnuTLSPriority); Exim with OpenSSL: openssl_options = +no_sslv3 +no_tlsv1 +no_tlsv1_1",
                deduction: [.warning: 10])
        case .headersUnparsedHop:
            return CatalogueEntry(
                severity: .info, summary: "a Received field mxcheck could not read",
                fix: "Nothing required; if an MTA you run wrote it, make it write RFC 5321 trace fields (from, by, with, id, for; a date after the last semicolon)",
                deduction: [.info: 0])
        case .headersNoReceived:
            return CatalogueEntry(
                severity: .unknown, summary: "the input holds no Received field",
                fix: "Give mxcheck the whole delivered message (an .eml file, an mbox entry or its header block as delivered, e.g. \"Show original\"), not a draft or a body",
                deduction: [.unknown: 100])
        case .mtastsAbsent:
            return CatalogueEntry(
                severity: .info, summary: "no _mta-sts TXT record",
                fix: "To have policy-aware senders (Gmail, Microsoft) require TLS, publish _mta-sts.<domain>. IN TXT \"v=STSv1; id=<YYYYMMDDhhmmss>\" and serve a policy at https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461)",
                deduction: [.info: 0])
        case .mtastsRecordInvalid:
            return CatalogueEntry(
                severity: .critical, summary: "the _mta-sts TXT record is malformed, or there are several",
                fix: "Publish exactly one record starting with v=STSv1 at _mta-sts.<domain>: \"v=STSv1; id=<1 to 32 letters and digits>\" (remove the others)",
                deduction: [.critical: 30])
        case .mtastsPolicyFetchFailed:
            return CatalogueEntry(
                severity: .critical, summary: "the MTA-STS policy could not be fetched",
                fix: "Serve the policy with status 200 and no redirect at https://mta-sts.<domain>/.well-known/mta-sts.txt (at most 64 KiB), reachable on port 443 of the addresses of mta-sts.<domain>",
                deduction: [.critical: 30])
        case .mtastsPolicyCertInvalid:
            return CatalogueEntry(
                severity: .critical, summary: "the certificate of mta-sts.<domain> is not valid for that name",
                fix: "Serve mta-sts.<domain> with a certificate from a public CA whose subjectAltName includes DNS:mta-sts.<domain> (a partial wildcard like mta*.<domain> or a CN alone does not count), with its intermediates",
                deduction: [.critical: 30])
        case .mtastsPolicyInvalid:
            return CatalogueEntry(
                severity: .critical, summary: "the MTA-STS policy text is malformed",
                fix: "Serve a policy of key: value lines: version: STSv1, mode: enforce|testing|none, max_age: <seconds, 86400 to 31557600>, and one mx: line per MX host (or *.<domain>)",
                deduction: [.critical: 30])
        case .mtastsTesting:
            return CatalogueEntry(
                severity: .warning, summary: "MTA-STS in mode testing: failures are reported, not enforced",
                fix: "Once TLS-RPT reports show no failures, change the policy line to mode: enforce and update the id= of the _mta-sts TXT record",
                deduction: [.warning: 5])
        case .mtastsModeNone:
            return CatalogueEntry(
                severity: .warning, summary: "MTA-STS mode none: the domain has withdrawn its policy",
                fix: "If the withdrawal is not intended, serve mode: testing or mode: enforce with an mx: line per MX host, and update the id= of the _mta-sts TXT record",
                deduction: [.warning: 5])
        case .mtastsMXNotCovered:
            return CatalogueEntry(
                severity: .critical, summary: "this MX host matches no mx pattern of the MTA-STS policy",
                fix: "Add mx: <this MX host> to the policy (a * covers exactly one left-most label) and update the id= of the _mta-sts TXT record",
                deduction: [.critical: 60, .warning: 10])
        case .mtastsMaxAgeShort:
            return CatalogueEntry(
                severity: .warning, summary: "max_age under one day",
                fix: "Raise max_age to at least 604800 (a week; RFC 8461 suggests weeks) so that senders keep the policy through an outage of the policy host",
                deduction: [.warning: 5])
        case .mtastsContentType:
            return CatalogueEntry(
                severity: .warning, summary: "the policy is not served as text/plain",
                fix: "Serve /.well-known/mta-sts.txt with Content-Type: text/plain (e.g. nginx: location = /.well-known/mta-sts.txt { default_type text/plain; }, Apache: ForceType text/plain)",
                deduction: [.warning: 5, .critical: 30])
        case .mtastsLookupFailed:
            return CatalogueEntry(
                severity: .unknown, summary: "the _mta-sts TXT lookup got no answer",
                fix: "Make the domain's name servers answer TXT queries for _mta-sts.<domain> (check with dig TXT _mta-sts.<domain>)",
                deduction: [.unknown: 0])
        case .tlsrptAbsent:
            return CatalogueEntry(
                severity: .info, summary: "no _smtp._tls TXT record: nobody reports TLS failures to the domain",
                fix: "Publish _smtp._tls.<domain>. IN TXT \"v=TLSRPTv1; rua=mailto:tls-reports@<domain>\" (RFC 8460) to receive reports of TLS failures",
                deduction: [.info: 0, .warning: 5])
        case .tlsrptInvalid:
            return CatalogueEntry(
                severity: .warning, summary: "the _smtp._tls record is malformed, or there are several",
                fix: "Publish exactly one record: \"v=TLSRPTv1; rua=mailto:tls-reports@<domain>\" (v= first, each rua URI mailto: or https:, several separated by commas)",
                deduction: [.warning: 5])
        case .tlsrptLookupFailed:
            return CatalogueEntry(
                severity: .unknown, summary: "the _smtp._tls TXT lookup got no answer",
                fix: "Make the domain's name servers answer TXT queries for _smtp._tls.<domain> (check with dig TXT _smtp._tls.<domain>)",
                deduction: [.unknown: 0])
        }
    }
}

/// The fix texts of the protocol and cipher findings. Each names settings the real servers accept, and the
/// end-to-end suite applies each one to a real server and sees its finding go (Tests/EndToEndTests/FixTextTests.swift).
/// Exim's settings depend on its TLS library: Debian's and Ubuntu's Exim is built with GnuTLS, where
/// `openssl_options` is a configuration error and an OpenSSL cipher string makes gnutls_priority_init fail and
/// the daemon refuse to start, so both forms are given, each labelled. In the GnuTLS build one option,
/// tls_require_ciphers, sets versions and suites together, so the protocol and cipher fixes give the same value.
enum FixText {
    static let eximGnuTLSPriority = "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-RSA"

    static let protocols = "Postfix: smtpd_tls_protocols = >=TLSv1.2 and smtpd_tls_mandatory_protocols = >=TLSv1.2"
        + " (before Postfix 3.6: !SSLv2, !SSLv3, !TLSv1, !TLSv1.1)"
        + "; Exim with GnuTLS (Debian, Ubuntu): tls_require_ciphers = \(eximGnuTLSPriority)"
        + "; Exim with OpenSSL: openssl_options = +no_sslv2 +no_sslv3 +no_tlsv1 +no_tlsv1_1"

    static let ciphers = "Postfix: smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5, kRSA"
        + " (on a relay eNULL, EXPORT, DES, 3DES, RC4 suffice)"
        + "; Exim with GnuTLS (Debian, Ubuntu): tls_require_ciphers = \(eximGnuTLSPriority)"
        + "; Exim with OpenSSL: tls_require_ciphers = ECDHE:DHE:!aNULL:!eNULL:!3DES:!RC4:!DES:!kRSA"

    static let dhGroup = "Postfix: smtpd_tls_dh1024_param_file = /etc/postfix/dh2048.pem"
        + " (a 2048-bit group, made by: openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out /etc/postfix/dh2048.pem,"
        + " since when the parameter is empty Postfix 3.7+ with OpenSSL 3 uses 1024 bits for 128-bit anonymous suites)"
        + "; Exim (GnuTLS or OpenSSL): tls_dhparam = ffdhe2048"
}
