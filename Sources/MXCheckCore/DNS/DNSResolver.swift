import CMXCheckShims
import CUnbound
import FoundationEssentials
import Glibc

/// Anything that answers DNS questions: the libunbound resolver, or a fake in tests.
public protocol DNSLookup {
    /// One result per question, in the same order; each question is bounded by `deadline`.
    func answers(to questions: [DNSQuestion], deadline: Deadline) -> [Result<DNSAnswer, DNSError>]
}

extension DNSLookup {
    public func answer(to question: DNSQuestion, deadline: Deadline) -> Result<DNSAnswer, DNSError> {
        answers(to: [question], deadline: deadline).first ?? .failure(.timeout(question))
    }
}

/// Why a question got no answer, or a resolver could not be set up.
public enum DNSError: Error, Equatable, CustomStringConvertible {
    /// No answer before the deadline.
    case timeout(DNSQuestion)
    /// libunbound failed on this question (its error code and text).
    case library(DNSQuestion, code: Int32, reason: String)
    /// The context could not be created or configured.
    case configuration(String)
    /// A name that cannot be asked.
    case invalidName(String, reason: String)

    public var description: String {
        switch self {
        case .timeout(let question): return "no answer for \(question)"
        case .library(let question, _, let reason): return "\(question): \(reason)"
        case .configuration(let reason): return "DNS resolver: \(reason)"
        case .invalidName(let name, let reason): return "'\(name)' is not a domain name: \(reason)"
        }
    }
}

/// A DNS server to send every query to: `--resolver IP[:port]`.
public struct DNSServerAddress: Sendable, Equatable, CustomStringConvertible {
    public var address: String
    public var port: UInt16

    public init(address: String, port: UInt16 = 53) {
        self.address = address
        self.port = port
    }

    /// `192.0.2.1`, `192.0.2.1:5353`, `2001:db8::1`, `[2001:db8::1]:5353`, or libunbound's `IP@port`.
    public static func parse(_ text: String) throws(DNSError) -> DNSServerAddress {
        let bad = { (reason: String) -> DNSError in .configuration("--resolver \(text): \(reason); give IP[:port]") }
        var host = text
        var portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("unbalanced [") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw bad("expected :port after ]") }
                portText = String(rest.dropFirst())
            }
        } else if let at = text.lastIndex(of: "@") {
            host = String(text[..<at])
            portText = String(text[text.index(after: at)...])
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard let canonical = IPAddressText.canonical(host) else { throw bad("not an IP address") }
        var port: UInt16 = 53
        if let portText {
            guard let value = UInt16(portText), value > 0 else { throw bad("port must be 1-65535") }
            port = value
        }
        return DNSServerAddress(address: canonical, port: port)
    }

    /// The form libunbound's ub_ctx_set_fwd takes.
    public var unboundForm: String { "\(address)@\(port)" }

    public var description: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }
}

/// DNS through libunbound: one context, shared safely by any number of threads.
///
/// Each batch of questions is sent at once (`ub_resolve_async`) and waited for by polling the context's fd with
/// the deadline; what is not answered by then is cancelled. libunbound has no per-query time bound of its own.
public final class DNSResolver: DNSLookup, @unchecked Sendable {
    public struct Configuration: Sendable, Equatable {
        public enum Servers: Sendable, Equatable {
            /// The nameservers of a resolv.conf file.
            case resolvConf(path: String)
            /// Forward every query to these (`--resolver`).
            case forwarders([DNSServerAddress])
        }

        public var servers: Servers
        /// A DNSSEC root trust anchor file (e.g. /usr/share/dns/root.key); nil: no validation, `secure` stays false.
        public var trustAnchorFile: String?

        public init(servers: Servers = .resolvConf(path: "/etc/resolv.conf"), trustAnchorFile: String? = nil) {
            self.servers = servers
            self.trustAnchorFile = trustAnchorFile
        }

        /// `--resolver` when given, else /etc/resolv.conf.
        public static func commandLine(resolver: String?) throws(DNSError) -> Configuration {
            guard let resolver else { return Configuration() }
            return Configuration(servers: .forwarders([try DNSServerAddress.parse(resolver)]))
        }
    }

    public let configuration: Configuration
    /// Guards every use of `context`: libunbound's calls and the callbacks ub_process runs.
    private let lock = MutexLock()
    private let context: OpaquePointer

    public init(_ configuration: Configuration = Configuration()) throws(DNSError) {
        guard let context = CMXCheckShims_ub_ctx_create() else { throw .configuration("ub_ctx_create failed") }
        self.context = context
        self.configuration = configuration
        // A thread, not a forked process, does the background work: fork in a threaded process is unsafe.
        try check(CMXCheckShims_ub_ctx_async(context, 1), "ub_ctx_async")
        // Otherwise libunbound drops 127.0.0.1 and ::1 from the servers, and a local resolver never answers.
        try check(CMXCheckShims_ub_ctx_set_option(context, "do-not-query-localhost:", "no"), "do-not-query-localhost")
        switch configuration.servers {
        case .resolvConf(let path):
            try check(CMXCheckShims_ub_ctx_resolvconf(context, path), "reading \(path)")
        case .forwarders(let servers):
            guard !servers.isEmpty else { throw .configuration("no DNS server given") }
            for server in servers {
                try check(CMXCheckShims_ub_ctx_set_fwd(context, server.unboundForm), "forwarder \(server)")
            }
        }
        if let anchor = configuration.trustAnchorFile {
            // libunbound reads the file only at the first query; say now that it is missing.
            guard FileManager.default.isReadableFile(atPath: anchor) else { throw .configuration("trust anchor \(anchor): cannot read the file") }
            try check(CMXCheckShims_ub_ctx_add_ta_file(context, anchor), "trust anchor \(anchor)")
            // No RFC 8145 key-tag query (`_ta-XXXX.<zone>`) before the first answer: a checker reports no telemetry,
            // and the query would cost every DANE run one more round trip.
            try check(CMXCheckShims_ub_ctx_set_option(context, "trust-anchor-signaling:", "no"), "trust-anchor-signaling")
        }
    }

    deinit {
        CMXCheckShims_ub_ctx_delete(context)
    }

    private func check(_ status: Int32, _ what: String) throws(DNSError) {
        guard status == 0 else { throw .configuration("\(what): \(Self.reason(status))") }
    }

    static func reason(_ status: Int32) -> String {
        guard let text = CMXCheckShims_ub_strerror(status) else { return "error \(status)" }
        return String(cString: text)
    }

    /// Where one question's outcome lands; ub_process fills it in through the callback, under `lock`.
    private final class Pending {
        let question: DNSQuestion
        var outcome: Result<DNSAnswer, DNSError>?
        var asyncID: Int32 = 0

        init(_ question: DNSQuestion) {
            self.question = question
        }
    }

    /// The longest one poll sleeps: another thread may have processed our answer, which leaves the fd quiet.
    private static let pollSliceMilliseconds: Int32 = 20

    public func answers(to questions: [DNSQuestion], deadline: Deadline) -> [Result<DNSAnswer, DNSError>] {
        let pending = questions.map(Pending.init)
        let fd: Int32 = lock.withLock {
            for query in pending {
                start(query)
            }
            return CMXCheckShims_ub_fd(context)
        }
        while true {
            let (open, processed) = lock.withLock { () -> (Bool, Int32) in
                let processed = CMXCheckShims_ub_process(context)
                return (pending.contains { $0.outcome == nil }, processed)
            }
            if !open { break }
            // A broken result pipe would never become readable again: fail now rather than at the deadline.
            if processed != 0 {
                fail(pending, reason: "ub_process: \(Self.reason(processed))")
                break
            }
            if deadline.hasPassed {
                lock.withLock {
                    // One last look: an answer may have arrived with the deadline.
                    _ = CMXCheckShims_ub_process(context)
                    for query in pending where query.outcome == nil {
                        cancel(query)
                        query.outcome = .failure(.timeout(query.question))
                    }
                }
                break
            }
            var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let status = poll(&pollfd, 1, min(deadline.remainingMilliseconds, Self.pollSliceMilliseconds))
            if status < 0 && errno != EINTR { fail(pending, reason: "poll: \(errnoText(errno))") }
            if status > 0 && pollfd.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && pollfd.revents & Int16(POLLIN) == 0 {
                fail(pending, reason: "libunbound's result pipe closed")
            }
        }
        return pending.map { $0.outcome ?? .failure(.timeout($0.question)) }
    }

    /// Sends one question; called under `lock`.
    private func start(_ query: Pending) {
        let box = Unmanaged.passRetained(query)
        var asyncID: Int32 = 0
        let status = CMXCheckShims_ub_resolve_async(
            context, DNSName.absolute(query.question.name), Int32(query.question.type.rawValue), 1, box.toOpaque(),
            { data, error, result in
                defer { if let result { CMXCheckShims_ub_resolve_free(result) } }
                guard let data else { return }
                // The retain of start() is handed over to this callback, which libunbound calls once.
                let query = Unmanaged<Pending>.fromOpaque(data).takeRetainedValue()
                if error != 0 {
                    query.outcome = .failure(.library(query.question, code: error, reason: DNSResolver.reason(error)))
                } else if let result {
                    query.outcome = .success(DNSResolver.answer(query.question, result.pointee))
                } else {
                    query.outcome = .failure(.library(query.question, code: 0, reason: "no result"))
                }
            }, &asyncID)
        if status != 0 {
            box.release()
            query.outcome = .failure(.library(query.question, code: status, reason: Self.reason(status)))
        } else {
            query.asyncID = asyncID
        }
    }

    /// Withdraws an unanswered question; called under `lock`, so its callback cannot be running.
    private func cancel(_ query: Pending) {
        // Only a successful cancel guarantees the callback never runs; otherwise its retain is left alone.
        if CMXCheckShims_ub_cancel(context, query.asyncID) == 0 {
            Unmanaged.passUnretained(query).release()
        }
    }

    private func fail(_ pending: [Pending], reason: String) {
        lock.withLock {
            for query in pending where query.outcome == nil {
                cancel(query)
                query.outcome = .failure(.library(query.question, code: -1, reason: reason))
            }
        }
    }

    /// Copies what mxcheck needs out of libunbound's result before it is freed.
    static func answer(_ question: DNSQuestion, _ result: ub_result) -> DNSAnswer {
        var rdata: [[UInt8]] = []
        if result.havedata != 0, let data = result.data, let lengths = result.len {
            var index = 0
            while let record = data[index] {
                let length = Int(max(0, lengths[index]))
                rdata.append(Array(UnsafeRawBufferPointer(start: record, count: length)))
                index += 1
            }
        }
        var message: [UInt8] = []
        if let packet = result.answer_packet, result.answer_len > 0 {
            message = Array(UnsafeRawBufferPointer(start: packet, count: Int(result.answer_len)))
        }
        return DNSAnswer(
            question: question,
            rcode: DNSResponseCode(Int(result.rcode)),
            rdata: rdata,
            canonicalName: result.canonname.map { String(cString: $0) },
            secure: result.secure != 0,
            bogus: result.bogus != 0,
            whyBogus: result.why_bogus.map { String(cString: $0) },
            message: message)
    }
}

// MARK: - DNSSEC states

/// What DNSSEC validation said about one answer (RFC 4035 §4.3), as mxcheck's own validator found it.
public enum DNSSECState: String, Sendable, Equatable {
    /// Validated from a trust anchor down to this answer (data or a proof that there is none).
    case secure
    /// Provably unsigned (a delegation without DS above it), or no trust anchor covers the name.
    case insecure
    /// Validation failed: bad or missing signatures, signatures out of date, stripped records.
    case bogus
}

extension DNSAnswer {
    /// The DNSSEC state of this answer; nil when the server failed (SERVFAIL, REFUSED, ...): such an answer has
    /// no state. A bogus answer may come with rcode NOERROR and data, so `bogus` is read before the rcode.
    public var dnssec: DNSSECState? {
        if bogus { return .bogus }
        switch rcode {
        case .noError, .nxDomain: return secure ? .secure : .insecure
        default: return nil
        }
    }
}

extension Result where Success == DNSAnswer, Failure == DNSError {
    /// The answer's DNSSEC state; nil for a failed lookup (timeout, library error) and for a server failure.
    public var dnssec: DNSSECState? {
        guard case .success(let answer) = self else { return nil }
        return answer.dnssec
    }
}

// MARK: - Does the resolver carry DNSSEC?

/// Whether DNSSEC can be validated through the configured resolver: the trust anchor's own DNSKEY RRset must
/// validate. When it does not, every signed answer would look bogus, so DANE is not evaluated at all
/// (`dane.resolver_unusable`) rather than reported as broken everywhere.
public enum DNSSECSupport: Sendable, Equatable {
    /// The DNSKEY RRset of every trust anchor's zone validated.
    case usable(anchors: [String])
    /// Why not, in one sentence.
    case unusable(reason: String)

    public var isUsable: Bool {
        if case .usable = self { return true }
        return false
    }
}

/// Trust anchor files in zone-file format (DS or DNSKEY records), as `ub_ctx_add_ta_file` reads them.
public enum TrustAnchorFile {
    /// The largest trust anchor file read: root.key is under 1 KB.
    public static let maximumBytes = 1 << 20

    /// The owner names of the DS and DNSKEY records in the text, lower case, absolute, each once, in order.
    public static func owners(inText text: String) -> [String] {
        var owners: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            // A line starting with blank space continues the previous owner: anchors always name theirs.
            guard let first = content.first, !first.isWhitespace, first != "$" else { continue }
            let fields = content.split(whereSeparator: \.isWhitespace).map { $0.uppercased() }
            guard fields.count >= 3, fields.dropFirst().prefix(3).contains(where: { $0 == "DS" || $0 == "DNSKEY" }) else { continue }
            let owner = DNSName.absolute(String(content.split(whereSeparator: \.isWhitespace)[0]).lowercased())
            if !owners.contains(owner) { owners.append(owner) }
        }
        return owners
    }

    /// The owner names of the anchors in a file; throws when it cannot be read or holds none.
    public static func owners(ofFile path: String) throws(DNSError) -> [String] {
        guard let data = FilePrefix.read(path, maximum: maximumBytes + 1) else { throw .configuration("trust anchor \(path): cannot read the file") }
        guard data.count <= maximumBytes else { throw .configuration("trust anchor \(path): larger than \(maximumBytes) bytes") }
        let owners = Self.owners(inText: String(decoding: data, as: UTF8.self))
        guard !owners.isEmpty else { throw .configuration("trust anchor \(path): no DS or DNSKEY record in the file") }
        return owners
    }
}

extension DNSLookup {
    /// Asks for the DNSKEY RRset of each anchor's zone at once; usable only when every one is secure.
    /// `alongside`: questions asked in the same batch and not waited for separately (a caching lookup keeps their
    /// answers for the caller that needs them next, such as the run's first MX question).
    public func dnssecSupport(anchors: [String], deadline: Deadline, alongside: [DNSQuestion] = []) -> DNSSECSupport {
        guard !anchors.isEmpty else { return .unusable(reason: "no DNSSEC trust anchor is configured") }
        let questions = anchors.map { DNSQuestion($0, .dnskey) }
        let results = answers(to: questions + alongside, deadline: deadline)
        for (index, question) in questions.enumerated() {
            let result = index < results.count ? results[index] : .failure(.timeout(question))
            let zone = DNSName.absolute(question.name)
            switch result {
            case .failure(let error):
                return .unusable(reason: "the resolver gave no DNSKEY RRset for the trust anchor \(zone) (\(error))")
            case .success(let answer):
                switch answer.dnssec {
                case .secure? where !answer.rdata.isEmpty:
                    continue
                case .bogus?:
                    return .unusable(reason: "the DNSKEY RRset of the trust anchor \(zone) does not validate through this resolver (\(answer.whyBogus ?? "bogus")): it strips DNSSEC records, or the trust anchor is stale")
                case nil:
                    return .unusable(reason: "the resolver answered \(answer.rcode) for DNSKEY \(zone)")
                default:
                    return .unusable(reason: "the resolver returned no validated DNSKEY RRset for the trust anchor \(zone)")
                }
            }
        }
        return .usable(anchors: anchors.map(DNSName.absolute))
    }
}

extension DNSResolver {
    /// `dnssecSupport(anchors:deadline:)` for the anchors of this resolver's trust anchor file.
    public func dnssecSupport(deadline: Deadline) -> DNSSECSupport {
        guard let file = configuration.trustAnchorFile else { return .unusable(reason: "no DNSSEC trust anchor is configured") }
        let anchors: [String]
        do {
            anchors = try TrustAnchorFile.owners(ofFile: file)
        } catch {
            return .unusable(reason: error.description)
        }
        return dnssecSupport(anchors: anchors, deadline: deadline)
    }
}

extension DNSResolver.Configuration {
    /// Debian's dns-root-data: the root zone's trust anchor, `--trust-anchor`'s default.
    public static let defaultTrustAnchorFile = "/usr/share/dns/root.key"

    /// `--resolver` and `--trust-anchor` (DANE): a given anchor file that cannot be read, or holds no DS or DNSKEY
    /// record, is a usage error; the default one, when missing, leaves validation off (then
    /// `DNSResolver.dnssecSupport` says so and DANE reports `dane.resolver_unusable`).
    public static func commandLine(resolver: String?, trustAnchor: String?) throws(DNSError) -> DNSResolver.Configuration {
        var configuration = try commandLine(resolver: resolver)
        if let trustAnchor {
            _ = try TrustAnchorFile.owners(ofFile: trustAnchor)
            configuration.trustAnchorFile = trustAnchor
        } else if FileManager.default.isReadableFile(atPath: defaultTrustAnchorFile) {
            configuration.trustAnchorFile = defaultTrustAnchorFile
        }
        return configuration
    }
}
