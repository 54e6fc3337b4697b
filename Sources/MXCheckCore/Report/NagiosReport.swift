import FoundationEssentials
import Glibc

/// The monitoring-plugin output of a run (Nagios, Icinga, Naemon, Checkmk's classic checks): a status line
/// `SMTP TLS <STATUS> - <summary> | <perfdata>`, then one long-output line per JSON object (endpoint, or
/// target answered without one), as the Monitoring Plugins development guidelines describe.
/// The exit code is the caller's: this renders text only.
public enum NagiosReport {
    /// The whole output, ending in a newline.
    /// - Parameters:
    ///   - objects: the run's schema-version-2 JSON objects, in the order they are to be listed.
    ///   - warnDays, critDays: the certificate expiry thresholds (`--warn-days`, `--crit-days`), written as the
    ///     `days` perfdata's warn and crit ranges (`14:` alerts below 14).
    ///   - domainMode: `--mx`; perfdata labels then start with the domain.
    public static func render(objects: [JSONValue], warnDays: Int, critDays: Int, domainMode: Bool) -> String {
        let endpoints = objects.map(MonitoredEndpoint.init)
        // No object at all means nothing could be checked.
        let worst = endpoints.map(\.status).max() ?? .unknown
        let summary: String
        switch endpoints.count {
        case 0: summary = "no target checked"
        case 1: summary = "\(name(of: endpoints[0], domainMode: domainMode)): \(headline(of: endpoints[0]))"
        default: summary = "\(endpoints.count) endpoints: " + counts(endpoints.map(\.status))
        }
        var statusLine = "SMTP TLS \(worst.word) - \(text(summary))"
        let perfdata = performanceData(endpoints, warnDays: warnDays, critDays: critDays, domainMode: domainMode)
        if !perfdata.isEmpty { statusLine += " | " + perfdata.joined(separator: " ") }
        let longOutput = endpoints.map { endpoint in
            text("\(endpoint.status.word) \(name(of: endpoint, domainMode: domainMode)) - \(detail(of: endpoint))")
        }
        return ([statusLine] + longOutput).joined(separator: "\n") + "\n"
    }

    /// `2 OK, 1 CRITICAL`: statuses in exit-code order, those that occur only.
    static func counts(_ statuses: [MonitoredEndpoint.Status]) -> String {
        let order: [MonitoredEndpoint.Status] = [.ok, .warning, .critical, .unknown]
        return order.compactMap { status in
            let count = statuses.filter { $0 == status }.count
            return count > 0 ? "\(count) \(status.word)" : nil
        }.joined(separator: ", ")
    }

    /// How a person names the endpoint: `mx.example.com[192.0.2.1]:25`, `[2001:db8::1]:25`, with the domain after
    /// it in --mx mode; the input itself for a target that has no endpoint.
    static func name(of endpoint: MonitoredEndpoint, domainMode: Bool) -> String {
        var name = endpoint.host
        if let address = endpoint.address {
            let literal = address.contains(":") ? "[\(address)]" : address
            name = endpoint.host.isEmpty || endpoint.host == address ? literal : "\(endpoint.host)[\(address)]"
        }
        if let port = endpoint.port {
            name += ":\(port)"
        }
        if domainMode, let domain = endpoint.domain, domain != endpoint.host {
            name += " (\(domain))"
        }
        return name
    }

    /// The first line's words for a single endpoint: its worst problem, or what it negotiated when it has none.
    static func headline(of endpoint: MonitoredEndpoint) -> String {
        if let worst = endpoint.worstFinding, worst.rank > 0 { return worst.message }
        return negotiated(endpoint)
    }

    /// A long-output line's words: the worst problem with its id and fix, or what the endpoint negotiated.
    static func detail(of endpoint: MonitoredEndpoint) -> String {
        guard let worst = endpoint.worstFinding, worst.rank > 0 else { return negotiated(endpoint) }
        var detail = "\(worst.message) [\(worst.id)]"
        if !worst.fix.isEmpty { detail += "; fix: \(worst.fix)" }
        return detail
    }

    /// What an endpoint without problems negotiated; for one with no handshake to describe (a domain with a null
    /// MX), its informational finding.
    static func negotiated(_ endpoint: MonitoredEndpoint) -> String {
        if endpoint.tls == nil, let note = endpoint.worstFinding { return note.message }
        var parts: [String] = []
        if let tls = endpoint.tls {
            parts.append([tls.version, tls.cipher, tls.group].compactMap { $0 }.joined(separator: " "))
        }
        if let days = endpoint.daysRemaining {
            parts.append("certificate expires in \(number(days)) days")
        }
        if let score = endpoint.score {
            parts.append("score \(number(score))")
        }
        return parts.isEmpty ? "no finding" : parts.joined(separator: ", ")
    }

    /// Four items per endpoint: days, time, score, connections. An endpoint seen twice (the same labels) is
    /// measured once, so no label repeats.
    static func performanceData(_ endpoints: [MonitoredEndpoint], warnDays: Int, critDays: Int, domainMode: Bool) -> [String] {
        var seen = Set<String>()
        var items: [String] = []
        for endpoint in endpoints {
            var parts: [String] = []
            if domainMode, let domain = endpoint.domain { parts.append(domain) }
            parts.append(endpoint.host)
            if let address = endpoint.address { parts.append(address) }
            if let port = endpoint.port { parts.append(String(port)) }
            let base = label(parts.joined(separator: "_"))
            guard seen.insert(base).inserted else { continue }
            let seconds = endpoint.totalMilliseconds.map { String(fixed: $0 / 1000, decimals: 3) + "s" }
            items.append("'\(base)_days'=\(endpoint.daysRemaining.map(number) ?? "U");\(warnDays):;\(critDays):")
            items.append("'\(base)_time'=\(seconds ?? "U")")
            items.append("'\(base)_score'=\(endpoint.score.map(number) ?? "U");;;0;100")
            items.append("'\(base)_connections'=\(endpoint.connections.map(number) ?? "U")")
        }
        return items
    }

    /// A perfdata label's text: the guidelines allow any printable character but `=` and `'` (the older ones
    /// doubled `'`; newer receivers reject it), so both become `_`; quoting covers spaces.
    static func label(_ raw: String) -> String {
        String(String.UnicodeScalarView(text(raw).unicodeScalars.map { $0 == "'" || $0 == "=" ? "_" : $0 }))
    }

    /// Text safe for plugin output: `|` (which starts perfdata) becomes `/`, and line breaks and other control
    /// characters become spaces, so no server-supplied text can add a line or perfdata.
    static func text(_ raw: String) -> String {
        String(String.UnicodeScalarView(raw.unicodeScalars.map { scalar -> Unicode.Scalar in
            if scalar == "|" { return "/" }
            switch scalar.value {
            case 0..<0x20, 0x7F...0x9F, 0x2028, 0x2029: return " "
            default: return scalar
            }
        }))
    }

    /// A perfdata value in the guidelines' class `[-0-9.]`: integers as such, never scientific notation.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(fixed: value, decimals: 3)
    }
}
