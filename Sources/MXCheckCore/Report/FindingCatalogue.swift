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
    case headersPlaintextHop = "headers.plaintext_hop"
    case headersLegacyTLSHop = "headers.legacy_tls_hop"
    case headersUnparsedHop = "headers.unparsed_hop"
    case headersNoReceived = "headers.no_received"
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
                fix: "Postfix: smtpd_tls_protocols = >=TLSv1.2 and smtpd_tls_mandatory_protocols = >=TLSv1.2; Exim: openssl_options = +no_tlsv1 +no_tlsv1_1",
                deduction: [.warning: 15])
        case .tlsObsoleteProtocol:
            return CatalogueEntry(
                severity: .critical, summary: "SSLv2 or SSLv3 accepted",
                fix: "Postfix: smtpd_tls_protocols = >=TLSv1.2 and smtpd_tls_mandatory_protocols = >=TLSv1.2; Exim: openssl_options = +no_sslv2 +no_sslv3 +no_tlsv1 +no_tlsv1_1",
                deduction: [.critical: 40])
        case .tlsWeakCipher:
            return CatalogueEntry(
                severity: .warning, summary: "weak cipher suite",
                fix: "Postfix: smtpd_tls_ciphers = medium, smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5, kRSA; Exim: tls_require_ciphers = ECDHE:DHE:!aNULL:!eNULL:!3DES:!RC4:!kRSA",
                deduction: [.warning: 15, .critical: 40])
        case .tlsWeakDH:
            return CatalogueEntry(
                severity: .warning, summary: "finite-field DH group below 2048 bits",
                fix: "Postfix: smtpd_tls_dh1024_param_file = a 2048-bit (or ffdhe2048) file, or leave it unset on Postfix 3.7+; Exim: tls_dhparam = ffdhe2048",
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
        case .headersPlaintextHop:
            return CatalogueEntry(
                severity: .warning, summary: "a hop between two different hosts went without TLS",
                fix: "Make the sending host of that hop use TLS: Postfix: smtp_tls_security_level = may (or dane/encrypt) on the sender and smtpd_tls_security_level = may on the receiver; Exim: hosts_try_tls = * on the smtp transport and tls_advertise_hosts = * on the receiver",
                deduction: [.warning: 15])
        case .headersLegacyTLSHop:
            return CatalogueEntry(
                severity: .warning, summary: "a hop used SSL 3.0, TLS 1.0 or TLS 1.1",
                fix: "Upgrade the two hosts of that hop to TLS 1.2 or 1.3: Postfix: smtp_tls_protocols and smtpd_tls_protocols = >=TLSv1.2; Exim: openssl_options = +no_sslv3 +no_tlsv1 +no_tlsv1_1 (GnuTLS: tls_require_ciphers = NORMAL:-VERS-TLS1.0:-VERS-TLS1.1)",
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
        }
    }
}
