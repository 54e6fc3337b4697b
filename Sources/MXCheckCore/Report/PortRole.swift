/// What a port is for, which decides how bad a weak suite the server merely accepts is: a relay (an MX
/// host, port 25) does opportunistic TLS with whoever connects, and its peers fall back to plaintext
/// anyway; a submission port (587, 465) carries users' passwords.
public enum PortRole: String, Sendable, CaseIterable {
    case relay
    case submission

    /// The role a port has when `--role` does not say: submission for 587 and 465, relay for every other
    /// port and for every endpoint of `--mx` mode (MX hosts receive mail from other servers).
    public static func `default`(forPort port: UInt16, domainMode: Bool) -> PortRole {
        if domainMode { return .relay }
        return port == 587 || port == 465 ? .submission : .relay
    }
}

/// The role the rules judged an endpoint by, and the words that say why, for the findings' messages.
public struct AssumedRole: Sendable, Equatable {
    public var role: PortRole
    /// "port 25: judged as a relay (opportunistic TLS)", "--role submission: passwords travel here".
    public var reason: String

    public init(role: PortRole, reason: String) {
        self.role = role
        self.reason = reason
    }

    /// `explicit` is the `--role` given, nil for the port's default.
    public init(explicit: PortRole?, port: UInt16, domainMode: Bool) {
        if let explicit {
            switch explicit {
            case .relay: self.init(role: .relay, reason: "--role relay: judged as a relay (opportunistic TLS)")
            case .submission: self.init(role: .submission, reason: "--role submission: passwords travel here")
            }
            return
        }
        let role = PortRole.default(forPort: port, domainMode: domainMode)
        switch (role, domainMode) {
        case (.relay, true): self.init(role: role, reason: "MX host port \(port): judged as a relay (opportunistic TLS)")
        case (.relay, false): self.init(role: role, reason: "port \(port): judged as a relay (opportunistic TLS)")
        case (.submission, _): self.init(role: role, reason: "port \(port): judged as a submission port (passwords travel here)")
        }
    }
}
