import FoundationEssentials

/// The per-domain policy step of `--mx` mode: MTA-STS and TLS-RPT, evaluated once per domain.
public protocol MailPolicyEvaluating: Sendable {
    func evaluate(domain: String, stop: StopSignal) -> MailDomainPolicy
}

/// The live step: TXT lookups through the run's resolver, the policy fetched over mxcheck's own TLS socket,
/// the whole of it bounded by `timeout` (the run's `--timeout`).
public struct LiveMailPolicy: MailPolicyEvaluating {
    public let dns: DNSResolver
    public let lookup: MailDomainPolicyLookup
    public let timeout: Double

    public init(dns: DNSResolver, trustStore: TrustStore, context: TLSClientContext, timeout: Double) {
        self.dns = dns
        lookup = MailDomainPolicyLookup(fetcher: PolicyFetcher(trustStore: trustStore, context: context))
        self.timeout = timeout
    }

    public func evaluate(domain: String, stop: StopSignal) -> MailDomainPolicy {
        let result = lookup.evaluate(domain: domain, lookup: dns, deadline: Deadline(secondsFromNow: timeout, stop: stop))
        releaseOpenSSLThreadState()
        return result
    }
}

/// One domain's policy step, started beside its SMTP checks on a thread of its own; the endpoints wait for it.
/// The thread holds only the outcome box, never the task, so the task's deinit (which joins) never runs on it.
final class MailPolicyTask: Sendable {
    private final class Outcome: @unchecked Sendable {  // `policy` is guarded by `condition`
        let condition = ConditionLock()
        var policy: MailDomainPolicy?
    }

    private let outcome = Outcome()
    private let thread: JoinableThread

    init(domain: String, evaluator: any MailPolicyEvaluating, stop: StopSignal) {
        let outcome = outcome
        thread = JoinableThread(stackSize: 512 * 1024) {
            let policy = evaluator.evaluate(domain: domain, stop: stop)
            outcome.condition.withLock {
                outcome.policy = policy
                outcome.condition.broadcast()
            }
        }
    }

    /// The policy, once evaluated (every lookup and the fetch are bounded by the step's deadline).
    func wait() -> MailDomainPolicy {
        outcome.condition.lock()
        defer { outcome.condition.unlock() }
        while outcome.policy == nil { outcome.condition.wait() }
        return outcome.policy!
    }

    deinit { thread.join() }
}
