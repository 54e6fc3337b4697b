import CMXCheckShims
import COpenSSL
import FoundationEssentials
import Glibc

/// What a certificate says, read with OpenSSL from its DER encoding.
public struct CertificateFacts: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    public var commonName: String?
    public var notBefore: Date
    public var notAfter: Date
    /// Every dNSName SAN, in the certificate's order (matching uses them all).
    public var dnsNames: [String]
    /// Every iPAddress SAN, as text.
    public var ipAddresses: [String]
    /// `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA`, or OpenSSL's name for anything else.
    public var keyType: PublicKeyType
    public var keyBits: Int
    /// OpenSSL's long name, e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`.
    public var signatureAlgorithm: String
    public var sha256: String
    public var selfSigned: Bool
    public var der: [UInt8]

    public init(
        subject: String, issuer: String, commonName: String?, notBefore: Date, notAfter: Date, dnsNames: [String],
        ipAddresses: [String], keyType: PublicKeyType, keyBits: Int, signatureAlgorithm: String, sha256: String,
        selfSigned: Bool, der: [UInt8] = []
    ) {
        self.subject = subject
        self.issuer = issuer
        self.commonName = commonName
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.keyType = keyType
        self.keyBits = keyBits
        self.signatureAlgorithm = signatureAlgorithm
        self.sha256 = sha256
        self.selfSigned = selfSigned
        self.der = der
    }

    /// The most names `names` shows.
    public static let displayedNamesLimit = 100

    /// The names for display: DNS SANs then IP SANs, at most `displayedNamesLimit` of them.
    public var names: [String] { Array((dnsNames + ipAddresses).prefix(Self.displayedNamesLimit)) }

    /// How many DNS and IP SANs the certificate has, however many `names` shows.
    public var namesTotal: Int { dnsNames.count + ipAddresses.count }
}

public enum CertificateParseError: Error, Equatable, CustomStringConvertible {
    case notDER
    case missingField(String)

    public var description: String {
        switch self {
        case .notDER: return "not a DER-encoded X.509 certificate"
        case .missingField(let field): return "certificate without a readable \(field)"
        }
    }
}

/// One X509 owned by Swift.
final class X509Certificate {
    let pointer: OpaquePointer

    init(der: [UInt8]) throws(CertificateParseError) {
        let parsed = der.withUnsafeBufferPointer { CMXCheckShims_X509_from_der($0.baseAddress, $0.count) }
        guard let parsed else {
            ERR_clear_error()
            throw .notDER
        }
        pointer = parsed
    }

    /// Shares a certificate OpenSSL already holds (a handshake's peer chain): no DER to decode again.
    init(retaining pointer: OpaquePointer) {
        X509_up_ref(pointer)
        self.pointer = pointer
    }

    deinit { X509_free(pointer) }
}

extension CertificateFacts {
    public init(der: [UInt8]) throws(CertificateParseError) {
        try self.init(certificate: try X509Certificate(der: der), der: der)
    }

    /// From a certificate already decoded; `der` is its encoding.
    init(certificate: X509Certificate, der: [UInt8]) throws(CertificateParseError) {
        let cert = certificate.pointer
        var buffer = [CChar](repeating: 0, count: 4096)
        func text(_ fill: (UnsafeMutablePointer<CChar>, Int32) -> Int32) -> String? {
            let length = buffer.withUnsafeMutableBufferPointer { fill($0.baseAddress!, Int32($0.count)) }
            guard length >= 0 else { return nil }
            return buffer.withUnsafeBufferPointer { raw in
                String(decoding: UnsafeRawBufferPointer(start: raw.baseAddress, count: Int(length)), as: UTF8.self)
            }
        }
        subject = text { CMXCheckShims_X509_NAME_rfc2253(X509_get_subject_name(cert), $0, $1) } ?? ""
        issuer = text { CMXCheckShims_X509_NAME_rfc2253(X509_get_issuer_name(cert), $0, $1) } ?? ""
        commonName = text { CMXCheckShims_X509_NAME_last_cn(X509_get_subject_name(cert), $0, $1) }

        var seconds: Int64 = 0
        guard CMXCheckShims_ASN1_TIME_to_unix(X509_get0_notBefore(cert), &seconds) == 1 else { throw .missingField("notBefore") }
        notBefore = Date(timeIntervalSince1970: TimeInterval(seconds))
        guard CMXCheckShims_ASN1_TIME_to_unix(X509_get0_notAfter(cert), &seconds) == 1 else { throw .missingField("notAfter") }
        notAfter = Date(timeIntervalSince1970: TimeInterval(seconds))

        // The extension is decoded once and every name kept: matching uses them all, only display is capped.
        var dns: [String] = []
        var ips: [String] = []
        let sans = CMXCheckShims_X509_subject_alt_names(cert)
        defer { CMXCheckShims_GENERAL_NAMES_free(sans) }
        for index in 0..<CMXCheckShims_GENERAL_NAMES_num(sans) {
            var kind: Int32 = -1
            guard let value = text({ CMXCheckShims_GENERAL_NAMES_text_at(sans, index, &kind, $0, $1) }) else { continue }
            if kind == 0 { dns.append(value) } else if kind == 1 { ips.append(IPAddressText.canonical(value) ?? value) }
        }
        dnsNames = dns
        ipAddresses = ips

        if let key = X509_get0_pubkey(cert) {
            keyBits = Int(EVP_PKEY_get_bits(key))
            switch EVP_PKEY_get_base_id(key) {
            case EVP_PKEY_RSA, EVP_PKEY_RSA_PSS: keyType = .rsa
            case EVP_PKEY_EC: keyType = .ec
            case EVP_PKEY_ED25519: keyType = .ed25519
            case EVP_PKEY_ED448: keyType = .ed448
            case EVP_PKEY_DSA: keyType = .dsa
            default: keyType = .other(EVP_PKEY_get0_type_name(key).map { String(cString: $0) } ?? "unknown")
            }
        } else {
            keyBits = 0
            keyType = .other("unknown")
        }
        let nid = X509_get_signature_nid(cert)
        signatureAlgorithm = OBJ_nid2ln(nid).map { String(cString: $0) } ?? "unknown"
        var digest = [UInt8](repeating: 0, count: 32)
        _ = der.withUnsafeBufferPointer { CMXCheckShims_sha256($0.baseAddress, $0.count, &digest) }
        sha256 = HexText.encode(digest)
        selfSigned = CMXCheckShims_X509_is_self_signed(cert) == 1
        ERR_clear_error()
        self.der = der
    }
}
