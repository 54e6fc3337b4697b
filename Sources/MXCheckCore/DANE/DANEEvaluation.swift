import CMXCheckShims
import COpenSSL
import FoundationEssentials
import Glibc

/// `dane.status` (see docs/dane.md).
public enum DANEStatus: String, Sendable, Equatable {
    /// A secure, usable record matched the chain sent (DANE-TA: and the chain from it is valid for the names).
    case valid
    /// Secure usable records, none matched.
    case mismatch
    /// Secure usable records, but no handshake completed to match them against.
    case unverified
    /// A secure TLSA RRset without one usable record.
    case unusable
    /// Secure denial: no TLSA records.
    case absent
    /// The host's addresses are not signed: DANE does not apply.
    case notApplicable = "not_applicable"
    /// Bogus DNSSEC, SERVFAIL or timeout.
    case error
}

/// One TLSA record as evaluated: the contract's `dane.records[]`.
public struct DANERecordResult: Sendable, Equatable {
    /// nil for malformed rdata (fewer than three octets).
    public var record: TLSARecord?
    public var rdata: [UInt8]
    public var usability: TLSAUsability
    /// Digest agility (RFC 7671 §9) kept the record: usable, and full data or the strongest digest of its usage and selector.
    public var used: Bool
    /// The record matches a certificate of the chain: DANE-EE the leaf, DANE-TA a certificate sent above it (or the
    /// record OpenSSL matched, such as a full `2 0 0` certificate the server did not send).
    public var matched: Bool

    public var usable: Bool { usability.isUsable }
}

/// Everything the contract's `dane` JSON object and the `dane.*` findings need, for one endpoint.
public struct DANEEvaluation: Sendable, Equatable {
    /// `_25._tcp.mx1.example.com`.
    public var name: String
    /// `dane.dnssec` (see `DANEPolicy.decisionDNSSEC`).
    public var dnssec: DNSSECState?
    public var status: DANEStatus
    /// Every record read (at most `TLSARecordSet.defaultLimit`); `records` in JSON may show fewer.
    public var records: [DANERecordResult]
    /// The size of the TLSA RRset as published.
    public var recordsTotal: Int
    /// Records beyond the limit, not evaluated.
    public var recordsIgnored: Int
    /// Index in the chain as sent of the matched certificate, 0 the leaf; nil when the match is no certificate
    /// the server sent (a full `2 0 0` certificate from DNS), or no match.
    public var matchedDepth: Int?
    /// Index into `records` of the record OpenSSL matched.
    public var matchedRecord: Int?
    /// Why the status is what it is, one sentence (the OpenSSL verify error for a mismatch, the DNS failure for an error).
    public var reason: String
    /// Usable usage/selector/matching-type combinations none of whose records matches, beside a match.
    public var staleCombinations: [TLSACombination]
    /// One DANE-EE key published and no second key or DANE-TA record.
    public var noRollover: Bool
    /// TLSA lines that would match what the server sends now: `3 1 1` of the leaf's key, `2 1 1` of its issuer.
    public var suggestedRecords: [String]
    /// The names a DANE-TA chain was checked against.
    public var referenceIdentities: [String]
    /// The policy this evaluation rests on.
    public var policy: DANEPolicy

    /// Matches the policy's TLSA records against the chain the server sent (leaf first, DER), at `time`. A nil
    /// chain means no handshake completed.
    public init(policy: DANEPolicy, chainDER: [[UInt8]]?, at time: Date) {
        self.policy = policy
        name = policy.tlsaName
        dnssec = policy.decisionDNSSEC
        referenceIdentities = policy.referenceIdentities
        records = []
        recordsTotal = 0
        recordsIgnored = 0
        matchedDepth = nil
        matchedRecord = nil
        staleCombinations = []
        noRollover = false
        suggestedRecords = []
        let chain = (chainDER ?? []).isEmpty ? nil : chainDER
        if let chain { suggestedRecords = Self.suggestions(name: name, chain: chain) }
        switch policy.outcome {
        case .notApplicable(let reason):
            status = .notApplicable
            self.reason = reason
        case .absent:
            status = .absent
            reason = "\(name) has no TLSA records (DNSSEC proves it)"
        case .bogus(let reason):
            status = .error
            self.reason = reason
        case .lookupFailed(let reason):
            status = .error
            self.reason = reason
        case .records(let set):
            recordsTotal = set.total
            recordsIgnored = set.ignored
            status = .unusable
            reason = ""
            evaluate(set, chain: chain, time: time)
        }
    }

    private mutating func evaluate(_ set: TLSARecordSet, chain: [[UInt8]]?, time: Date) {
        let entries = set.entries
        let used = Self.agility(entries)
        let usable = entries.filter(\.usability.isUsable)
        guard !usable.isEmpty else {
            records = entries.enumerated().map { DANERecordResult(record: $1.record, rdata: $1.rdata, usability: $1.usability, used: false, matched: false) }
            let reasons = Set(entries.map(\.usability.description)).sorted().joined(separator: "; ")
            reason = "\(name) has \(set.total) TLSA record\(set.total == 1 ? "" : "s"), none usable by SMTP (\(reasons))"
            status = .unusable
            return
        }
        guard let chain else {
            records = entries.enumerated().map { index, entry in
                DANERecordResult(record: entry.record, rdata: entry.rdata, usability: entry.usability, used: used[index], matched: false)
            }
            status = .unverified
            reason = "\(name) has usable TLSA records, but no TLS handshake completed to match them against: DANE senders defer mail"
            return
        }
        let certificates = chain.map(DANECertificate.init)
        var matched = entries.map { entry -> Bool in
            guard entry.usability.isUsable, let record = entry.record else { return false }
            return Self.matches(record, certificates)
        }
        let verdict = DANEVerifier.shared.verify(chain: chain, records: entries.map(\.record), usable: entries.map(\.usability.isUsable),
                                                 names: policy.referenceIdentities, at: time)
        if let index = verdict.matchedRecord, index < matched.count { matched[index] = true }
        records = entries.enumerated().map { index, entry in
            DANERecordResult(record: entry.record, rdata: entry.rdata, usability: entry.usability, used: used[index], matched: matched[index])
        }
        matchedRecord = verdict.matchedRecord
        if verdict.verified {
            status = .valid
            if let der = verdict.matchedCertificate { matchedDepth = chain.firstIndex(of: der) }
            let record = verdict.matchedRecord.flatMap { entries[$0].record }
            let what = record.map { "the \($0.combination) record" } ?? "a TLSA record"
            let fromDNS = record?.selector == TLSASelector.publicKey ? "the public key published in DNS, which signed the chain sent" : "a certificate published in DNS that the server did not send"
            let depth = matchedDepth.map { $0 == 0 ? "the leaf" : "certificate \($0) of the chain" } ?? fromDNS
            reason = "\(what) of \(name) matches \(depth)"
            staleCombinations = Self.stale(entries, matched: matched)
            noRollover = Self.lacksRollover(entries, matched: matched)
        } else {
            status = .mismatch
            reason = Self.mismatchReason(name: name, verdict: verdict, entries: entries, matched: matched, chain: certificates, names: policy.referenceIdentities)
        }
    }

    /// RFC 7671 §9: per usage and selector, full-data records and only the strongest digest present are used.
    static func agility(_ entries: [TLSAEntry]) -> [Bool] {
        var strongest: [[UInt8]: Int] = [:]
        for entry in entries where entry.usability.isUsable {
            guard let record = entry.record, record.matchingType != TLSAMatchingType.full else { continue }
            let key = [record.usage, record.selector]
            strongest[key] = max(strongest[key] ?? 0, TLSAMatchingType.strength(record.matchingType))
        }
        return entries.map { entry in
            guard entry.usability.isUsable, let record = entry.record else { return false }
            if record.matchingType == TLSAMatchingType.full { return true }
            return TLSAMatchingType.strength(record.matchingType) == strongest[[record.usage, record.selector]]
        }
    }

    /// Whether the record's data is that of a certificate in the chain where its usage looks: DANE-EE the leaf,
    /// DANE-TA the certificates sent above it.
    static func matches(_ record: TLSARecord, _ chain: [DANECertificate]) -> Bool {
        let candidates = record.usage == TLSAUsage.daneEE ? Array(chain.prefix(1)) : Array(chain.dropFirst())
        return candidates.contains { $0.association(selector: record.selector, matchingType: record.matchingType) == record.data }
    }

    static func stale(_ entries: [TLSAEntry], matched: [Bool]) -> [TLSACombination] {
        var combinations: [TLSACombination: Bool] = [:]
        for (index, entry) in entries.enumerated() where entry.usability.isUsable {
            guard let record = entry.record else { continue }
            combinations[record.combination, default: false] = combinations[record.combination, default: false] || matched[index]
        }
        return combinations.filter { !$0.value }.keys.sorted()
    }

    /// One DANE-EE key and nothing else: every usable record is DANE-EE and matches the current leaf.
    static func lacksRollover(_ entries: [TLSAEntry], matched: [Bool]) -> Bool {
        let usable = entries.enumerated().filter { $0.element.usability.isUsable }
        guard !usable.isEmpty else { return false }
        return usable.allSatisfy { $0.element.record?.usage == TLSAUsage.daneEE && matched[$0.offset] }
    }

    static func mismatchReason(name: String, verdict: DANEVerdict, entries: [TLSAEntry], matched: [Bool], chain: [DANECertificate], names: [String]) -> String {
        let usable = entries.compactMap { $0.usability.isUsable ? $0.record : nil }
        let anyMatched = zip(entries, matched).contains { $0.0.usability.isUsable && $0.1 }
        let taOnly = usable.allSatisfy { $0.usage == TLSAUsage.daneTA }
        if verdict.error == Int(X509_V_ERR_DANE_NO_MATCH) || !anyMatched {
            if taOnly && chain.count == 1 {
                return "no TLSA record of \(name) matches: its DANE-TA records name an issuer, but the server sent only its leaf certificate"
            }
            if anyMatched {
                return "the matching TLSA records of \(name) are not used: digest agility (RFC 7671 §9) keeps only the strongest digest of each usage and selector, and that one matches nothing"
            }
            return "no TLSA record of \(name) matches the certificate chain the server sent (a stale record after a key or certificate change?)"
        }
        let what = verdict.errorText ?? "verification failed"
        if verdict.error == Int(X509_V_ERR_HOSTNAME_MISMATCH) {
            return "a DANE-TA record of \(name) matches the chain, but the leaf certificate is not valid for \(names.joined(separator: " or ")) (\(what))"
        }
        return "a DANE-TA record of \(name) matches the chain, but the chain from it is not valid: \(what) (certificate \(verdict.errorDepth ?? 0))"
    }

    /// `_25._tcp.host. IN TLSA 3 1 1 <leaf key>` and `2 1 1 <issuer key>` (when the issuer was sent).
    static func suggestions(name: String, chain: [[UInt8]]) -> [String] {
        let certificates = chain.map(DANECertificate.init)
        var lines: [String] = []
        if let leaf = certificates.first, let digest = leaf.association(selector: TLSASelector.publicKey, matchingType: TLSAMatchingType.sha256) {
            lines.append("\(name). IN TLSA 3 1 1 \(HexText.encode(digest))")
        }
        if certificates.count > 1, let digest = certificates[1].association(selector: TLSASelector.publicKey, matchingType: TLSAMatchingType.sha256) {
            lines.append("\(name). IN TLSA 2 1 1 \(HexText.encode(digest))")
        }
        return lines
    }
}

/// A certificate as DANE selects from it: the whole DER (selector 0) or its SubjectPublicKeyInfo (selector 1).
struct DANECertificate {
    let der: [UInt8]
    /// nil when the DER does not parse.
    let spki: [UInt8]?

    init(der: [UInt8]) {
        self.der = der
        spki = (try? X509Certificate(der: der)).flatMap { certificate -> [UInt8]? in
            var out: UnsafeMutablePointer<UInt8>?
            let length = withExtendedLifetime(certificate) { CMXCheckShims_X509_spki_der(certificate.pointer, &out) }
            guard length > 0, let out else { return nil }
            defer { CMXCheckShims_free(out) }
            return Array(UnsafeBufferPointer(start: out, count: Int(length)))
        }
    }

    /// The association data a record of this selector and matching type would hold for this certificate.
    func association(selector: UInt8, matchingType: UInt8) -> [UInt8]? {
        guard let selected = selector == TLSASelector.certificate ? der : selector == TLSASelector.publicKey ? spki : nil else { return nil }
        switch matchingType {
        case TLSAMatchingType.full: return selected
        case TLSAMatchingType.sha256: return Digest.sha256(selected)
        case TLSAMatchingType.sha512: return Digest.sha512(selected)
        default: return nil
        }
    }
}

enum Digest {
    static func sha256(_ bytes: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = bytes.withUnsafeBufferPointer { input in out.withUnsafeMutableBufferPointer { CMXCheckShims_sha256(input.baseAddress, input.count, $0.baseAddress) } }
        return ok == 1 ? out : nil
    }

    static func sha512(_ bytes: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 64)
        let ok = bytes.withUnsafeBufferPointer { input in out.withUnsafeMutableBufferPointer { CMXCheckShims_sha512(input.baseAddress, input.count, $0.baseAddress) } }
        return ok == 1 ? out : nil
    }
}

/// What OpenSSL's DANE verification said.
struct DANEVerdict: Sendable, Equatable {
    var verified: Bool
    var error: Int?
    var errorDepth: Int?
    var errorText: String?
    /// Index into the records given.
    var matchedRecord: Int?
    /// The DER of the matched certificate (nil for a bare public key).
    var matchedCertificate: [UInt8]?
}

/// OpenSSL's own DANE code (SSL_dane_enable, SSL_dane_tlsa_add, DANE_FLAG_NO_DANE_EE_NAMECHECKS,
/// SSL_get0_dane_authority) run on a chain after the handshake, on an SSL object that never connects.
final class DANEVerifier: @unchecked Sendable {
    // Both pointers are only read after init: SSL_new and X509_STORE_CTX_init on shared objects are thread-safe.
    private let context: OpaquePointer?
    private let store: OpaquePointer?

    static let shared = DANEVerifier()

    private init() {
        context = CMXCheckShims_dane_context()
        // DANE-TA and DANE-EE need no trust anchors: an empty store.
        store = X509_STORE_new()
        ERR_clear_error()
    }

    deinit {
        if let context { SSL_CTX_free(context) }
        if let store { X509_STORE_free(store) }
    }

    /// Records that are nil or not usable are not handed to OpenSSL; indices refer to the arrays given.
    func verify(chain: [[UInt8]], records: [TLSARecord?], usable: [Bool], names: [String], at time: Date) -> DANEVerdict {
        let failed = DANEVerdict(verified: false, error: nil, errorDepth: nil, errorText: "DANE verification could not be set up", matchedRecord: nil, matchedCertificate: nil)
        guard let context, let store, let leafDER = chain.first, let leaf = try? X509Certificate(der: leafDER),
              let stack = CMXCheckShims_sk_X509_new_null(), !names.isEmpty
        else { return failed }
        defer { CMXCheckShims_sk_X509_pop_free(stack) }
        for der in chain.dropFirst() {
            guard let certificate = try? X509Certificate(der: der) else { continue }
            X509_up_ref(certificate.pointer)
            _ = CMXCheckShims_sk_X509_push(stack, certificate.pointer)
        }
        let chosen = records.indices.filter { usable[$0] && records[$0] != nil }
        let datas = chosen.map { records[$0]!.data }
        // Keep every buffer alive and in place for the C call.
        let dataPointers = datas.map { data -> UnsafeMutablePointer<UInt8> in
            let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, data.count))
            pointer.initialize(from: data, count: data.count)
            return pointer
        }
        defer { dataPointers.forEach { $0.deallocate() } }
        var tlsa = chosen.enumerated().map { position, index in
            let record = records[index]!
            return CMXCheckShims_tlsa_record(usage: record.usage, selector: record.selector, matching_type: record.matchingType,
                                             data: UnsafePointer(dataPointers[position]), length: datas[position].count)
        }
        let cNames = names.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        var namePointers = cNames.map { UnsafePointer<CChar>($0) }
        var result = CMXCheckShims_dane_result()
        // The leaf's X509 is freed with its owner: keep that alive until OpenSSL is done with it.
        let status = withExtendedLifetime(leaf) {
            tlsa.withUnsafeMutableBufferPointer { recordBuffer in
                namePointers.withUnsafeMutableBufferPointer { nameBuffer in
                    CMXCheckShims_dane_verify(context, store, leaf.pointer, stack, recordBuffer.baseAddress, Int32(recordBuffer.count),
                                              nameBuffer.baseAddress, Int32(nameBuffer.count), Int64(time.timeIntervalSince1970), &result)
                }
            }
        }
        guard status == 0 else { return failed }
        var matchedCertificate: [UInt8]?
        if let cert = result.matched_cert {
            matchedCertificate = CertificateDER.encode(cert)
            X509_free(cert)
        }
        let matchedRecord = result.matched_record >= 0 && Int(result.matched_record) < chosen.count ? chosen[Int(result.matched_record)] : nil
        let error = result.verified == 1 ? nil : Int(result.error)
        return DANEVerdict(
            verified: result.verified == 1, error: error, errorDepth: result.verified == 1 ? nil : Int(result.error_depth),
            errorText: error.map { String(cString: X509_verify_cert_error_string($0)) },
            matchedRecord: matchedRecord, matchedCertificate: matchedCertificate)
    }
}
