/// The suites a server accepts in one protocol version.
public struct CipherList: Sendable, Equatable {
    /// Whether the server picks by its own order; nil when it could not be told (fewer than two suites, SSLv2).
    public var serverOrder: Bool?
    /// IANA names; in the server's order when it enforces one, else in the order mxcheck offered them.
    public var suites: [String]

    public init(serverOrder: Bool?, suites: [String]) {
        self.serverOrder = serverOrder
        self.suites = suites
    }
}

/// What `--protocols` / `--ciphers` found about one endpoint.
public struct ProbeResult: Sendable, Equatable {
    /// Every version by its contract name (SSLv2 ... TLSv1.3): accepted, refused, or nil when not known
    /// (not probed, or the probe could not tell).
    public var protocols: [String: Bool?]
    /// Accepted versions only, by contract name (`--ciphers`).
    public var ciphers: [String: CipherList]
    /// Accepted key-exchange groups, spelled as `tls.group` (`KeyExchangeGroup.name`): IANA names (x25519,
    /// secp256r1, ffdhe2048, X25519MLKEM768...) and `dh<bits>` for a DHE group outside RFC 7919; in the order found.
    public var groups: [String]
    /// The smallest finite-field DHE prime a ServerKeyExchange showed (TLS 1.2 and earlier), in bits.
    public var dhBits: Int?
    /// A suite that used that prime.
    public var dhSuite: String?
    /// The run was cut short (rate limit, failures, time): missing entries mean "unknown", never "refused".
    public var incomplete: Bool
    /// Why, one line each.
    public var incompleteReasons: [String]
    /// Every connection the probes opened (attempts included), not counting the basic check.
    public var connections: Int
    /// The server kept answering 421 (or closing at the greeting) after the back-off.
    public var rateLimited: Bool
    public var durationMilliseconds: Double

    public init(
        protocols: [String: Bool?] = Dictionary(uniqueKeysWithValues: ProtocolVersion.allCases.map { ($0.rawValue, nil) }),
        ciphers: [String: CipherList] = [:], groups: [String] = [], dhBits: Int? = nil, dhSuite: String? = nil, incomplete: Bool = false,
        incompleteReasons: [String] = [], connections: Int = 0, rateLimited: Bool = false, durationMilliseconds: Double = 0
    ) {
        self.protocols = protocols
        self.ciphers = ciphers
        self.groups = groups
        self.dhBits = dhBits
        self.dhSuite = dhSuite
        self.incomplete = incomplete
        self.incompleteReasons = incompleteReasons
        self.connections = connections
        self.rateLimited = rateLimited
        self.durationMilliseconds = durationMilliseconds
    }

    /// Accepted, refused, or nil when unknown.
    public func accepts(_ version: ProtocolVersion) -> Bool? { protocols[version.rawValue] ?? nil }

    /// Accepted (version, suite) pairs.
    public var acceptedPairs: Int { ciphers.values.reduce(0) { $0 + $1.suites.count } }

    /// The most connections issue 3 allows `--ciphers` (the basic check included):
    /// accepted pairs + accepted groups + 2 per version + 10.
    public var connectionBudget: Int { acceptedPairs + groups.count + 2 * ProtocolVersion.allCases.count + 10 }
}
