/// What the run engine learnt about a target that it could not check: facts, no verdicts (RunRules judges).
public enum UncheckedTargetFact: Sendable, Equatable {
    /// The text is not a target (`domainMode` false) or not a domain name; `reason` says why.
    case invalidInput(text: String, domainMode: Bool, reason: String)
    /// The host's addresses could not be had (including none in the `-4`/`-6` family).
    case hostUnresolved(ResolutionError)
    /// The domain's resolution failed as a whole (the resolver could not be used).
    case domainResolutionFailed(domain: String, error: DNSError)
    /// Resolution succeeded but left no address to check.
    case noAddress(text: String)
    /// The run's `--deadline` (in seconds; nil if unknown) passed before the target was done.
    case deadlinePassed(seconds: Double?)
}

/// The rules of the run engine's own findings (input.invalid, dns.host_unresolved, dns.servfail, run.deadline).
public enum RunRules {
    public static func finding(for fact: UncheckedTargetFact) -> Finding {
        switch fact {
        case .invalidInput(let text, let domainMode, let reason):
            return Finding(.inputInvalid, message: "'\(text)' is \(domainMode ? "not a domain name" : "not a target"): \(reason)")
        case .hostUnresolved(let error):
            return Finding(.dnsHostUnresolved, message: error.description)
        case .domainResolutionFailed(let domain, let error):
            return Finding(.dnsServfail, message: "resolving \(domain): \(error)")
        case .noAddress(let text):
            return Finding(.dnsHostUnresolved, message: "'\(text)' gave no address to check")
        case .deadlinePassed(let seconds):
            return Finding(.runDeadline, message: "the run's --deadline of \(seconds.map { DNSRules.seconds($0) } ?? "?") passed before this target was done")
        }
    }
}
