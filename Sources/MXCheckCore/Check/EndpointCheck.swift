import FoundationEssentials
import Dispatch
import Glibc

extension Checker {
    /// The basic check, then the `--protocols` / `--ciphers` probes when a handshake succeeded (a server
    /// with no working TLS has nothing to enumerate). `gate` is shared by every check of one address.
    public func check(
        _ endpoint: Endpoint, now: Date, probe: ProbeSettings?, gate: ConnectionGate?,
        transcript: (@Sendable (String) -> Void)? = nil, stop: StopSignal? = nil
    ) -> Observation {
        var observation = observe(endpoint, now: now, transcript: transcript, gate: gate, stop: stop)
        if let probe, let tls = observation.tls, !(stop?.isRaised ?? false) {
            let started = DispatchTime.now().uptimeNanoseconds
            var prober = Prober(checker: self, endpoint: endpoint, settings: probe, gate: gate)
            prober.transcript = transcript
            observation.probe = prober.run(knownAccepted: tls.version)
            observation.durationMilliseconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        }
        return observation
    }
}
