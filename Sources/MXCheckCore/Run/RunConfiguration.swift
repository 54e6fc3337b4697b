import CMXCheckShims
import FoundationEssentials
import Glibc

/// What a run checks and how: the one place every setting of a run lives. The checker, the rules and
/// the probes take their settings from here.
public struct RunConfiguration: Sendable {
    /// What an input line names.
    public enum TargetKind: Sendable {
        /// A host or address, with an optional port (`mxcheck smtp TARGET`).
        case host
        /// A mail domain whose MX hosts are checked (`--mx`).
        case domain
    }

    /// `--protocols` / `--ciphers`.
    public enum Probing: Sendable {
        case protocols
        case ciphers
    }

    public var kind: TargetKind = .host
    /// Port for targets that name none (`--port`), and every port in domain mode.
    public var defaultPort: UInt16 = 25
    public var tls: TLSMode = .auto
    /// `--servername`: SNI and the identity checked, for host targets.
    public var serverName: String?
    /// `--ehlo`; nil: the machine's name, else the local address literal.
    public var ehloName: String?
    public var family: AddressFamilyFilter = .any
    /// Bound on each endpoint's own work, each probe connection, and each shared lookup, in seconds.
    public var timeout: Double = 30
    /// Endpoints checked at once.
    public var concurrency: Int = 16
    /// Connections at once to one address, across the whole run.
    public var perHost: Int = 2
    /// Pause between two connection starts to one address.
    public var delayMilliseconds: Int = 0
    public var injectionTest = true
    public var probing: Probing?
    /// `--role`: how accepted-but-weak suites are judged; nil: by the port (and relay in domain mode).
    public var role: PortRole?
    public var warnDays = 14
    public var critDays = 7
    /// Bound on the whole run, in seconds; targets not done by then are answered with `run.deadline`.
    public var deadline: Double?
    /// Check only the targets of one shard (`--shard K/N`).
    public var shard: Shard?
    /// DNS lookups in flight at once (host names and domains), beside the checks.
    public var resolutionConcurrency = 64
    /// Targets read ahead of the checks: what keeps every slot busy when the input is sorted by address,
    /// and what bounds memory whatever the input's length.
    public var readAhead: Int?
    /// `--dane` (true) / `--no-dane` (false); nil: DANE is evaluated in domain mode only.
    public var dane: Bool?
    /// `--trust-anchor`: DNSSEC trust anchors (DS or DNSKEY records); nil: none given (the DNS resolver's default).
    public var trustAnchorFile: String?
    /// The run reads one input (one target on the command line): the calling thread checks that target's first
    /// endpoint itself once the input is read, rather than starting a thread for it and waiting. Should a
    /// second input come after all, the engine starts a thread as usual.
    public var singleInput = false

    public init() {}

    /// Whether DANE is evaluated for this run's endpoints.
    public var evaluatesDANE: Bool { dane ?? (kind == .domain) }

    /// Endpoints of one address checked at once: the basic check holds two connections when the injection
    /// probe runs beside it, and the probes use every connection the address allows.
    public var endpointsPerAddress: Int {
        if probing != nil { return 1 }
        let connections = injectionTest && perHost >= 2 ? 2 : 1
        return max(1, perHost / connections)
    }

    public var targetsReadAhead: Int {
        readAhead ?? min(50_000, max(1_024, 16 * concurrency))
    }

    public var checkSettings: CheckSettings {
        var settings = CheckSettings(ehloName: ehloName, timeout: timeout)
        settings.injectionTest = injectionTest
        settings.injectionProbeInParallel = perHost >= 2
        return settings
    }

    public var probeSettings: ProbeSettings? {
        probing.map { ProbeSettings(ciphers: $0 == .ciphers, timeout: timeout, perHost: perHost, delayMilliseconds: delayMilliseconds) }
    }

    public func ruleSettings(now: Date) -> RuleSettings {
        RuleSettings(now: now, warnDays: warnDays, critDays: critDays, role: role, domainMode: kind == .domain)
    }

    /// Bound on one round of DNS questions: libunbound gives up on a silent server by itself after about 17 s.
    public var lookupTimeout: Double { min(timeout, 10) }

    public var mxOptions: MXResolutionOptions {
        var options = MXResolutionOptions(port: defaultPort, tls: tls, family: family, queryTimeout: lookupTimeout)
        options.usesBogusAnswers = evaluatesDANE
        return options
    }
}

/// One shard of a run's targets: `--shard K/N` takes the inputs whose FNV-1a 64-bit hash, modulo N, plus 1, is K.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws(ShardError) {
        guard count >= 1, (1...count).contains(index) else { throw .outOfRange(index: index, count: count) }
        self.index = index
        self.count = count
    }

    public enum ShardError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case outOfRange(index: Int, count: Int)

        public var description: String {
            switch self {
            case .malformed(let text): return "--shard \(text): write K/N, e.g. --shard 2/8"
            case .outOfRange(let index, let count): return "--shard \(index)/\(count): K must be from 1 to N"
            }
        }
    }

    public static func parse(_ text: String) throws(ShardError) -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { throw .malformed(text) }
        return try Shard(index: index, count: count)
    }

    /// FNV-1a, 64 bits, over the input's UTF-8 bytes.
    public static func hash(_ input: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in input.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    public func contains(_ input: String) -> Bool {
        Int(Self.hash(input) % UInt64(count)) + 1 == index
    }

    public var description: String { "\(index)/\(count)" }
}

extension RunConfiguration {
    /// For a run of one input: every thread allocates from the main malloc arena. A thread's own arena would
    /// start empty and grow by a page per system call while OpenSSL builds a context or a session; a handful
    /// of threads that mostly wait on the network gain nothing from arenas of their own. Call before any
    /// other thread starts.
    public static func useOneMallocArena() {
        CMXCheckShims_malloc_use_one_arena()
    }
}
