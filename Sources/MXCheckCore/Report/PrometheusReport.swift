import FoundationEssentials
import Glibc

/// A run as Prometheus text exposition format (version 0.0.4), for node_exporter's textfile collector or a
/// Pushgateway: one gauge family per metric, HELP and TYPE once, its samples grouped under it.
/// Written by hand, not with swift-prometheus 2.4.1: that registry writes families and series in hash order (a
/// different file every run) and, measured in a scratch package, added about 5 s to a clean debug build, 12-17 s
/// to a release build and 0.4 MB to the stripped static binary, for the 40 lines of escaping and grouping below.
public enum PrometheusReport {
    /// The whole exposition, ending in a newline (empty when there is no object).
    /// - Parameters:
    ///   - objects: the run's schema-version-2 JSON objects.
    ///   - domainMode: `--mx`; every sample then carries a `domain` label too.
    public static func render(objects: [JSONValue], domainMode: Bool) -> String {
        let endpoints = objects.map(MonitoredEndpoint.init)
        var out = ""
        for family in families {
            var seen = Set<String>()
            var lines: [String] = []
            for endpoint in endpoints {
                let base = labels(of: endpoint, domainMode: domainMode)
                for sample in family.samples(endpoint) {
                    let labelText = "{" + (base + sample.labels).map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
                    // node_exporter rejects a file that repeats a series: the first object wins.
                    guard seen.insert(labelText).inserted else { continue }
                    lines.append("\(family.name)\(labelText) \(value(sample.value))")
                }
            }
            guard !lines.isEmpty else { continue }
            out += "# HELP \(family.name) \(escapeHelp(family.help))\n# TYPE \(family.name) gauge\n"
            out += lines.joined(separator: "\n") + "\n"
        }
        return out
    }

    struct Sample {
        var labels: [(String, String)] = []
        var value: Double
    }

    struct Family {
        var name: String
        var help: String
        /// The endpoint's samples of this family; none where the JSON value is null.
        var samples: @Sendable (MonitoredEndpoint) -> [Sample]
    }

    /// The contract's families, in the order they are written.
    static let families: [Family] = [
        Family(name: "mxcheck_up", help: "1 when the server greeted with a 220 reply, 0 when it could not be reached or did not greet.") {
            [Sample(value: $0.greeted ? 1 : 0)]
        },
        Family(name: "mxcheck_status", help: "Status of the endpoint, the exit-code value: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.") {
            [Sample(value: Double($0.status.exitCode))]
        },
        Family(name: "mxcheck_score", help: "Score from 0 (worst) to 100 (no deduction); absent when the check could not be made.") {
            $0.score.map { [Sample(value: $0)] } ?? []
        },
        Family(name: "mxcheck_certificate_expiry_timestamp_seconds", help: "notAfter of the server's certificate, in seconds since the Unix epoch.") {
            $0.notAfter.map { [Sample(value: $0)] } ?? []
        },
        Family(name: "mxcheck_certificate_days_remaining", help: "Whole days until the server's certificate expires (negative once expired).") {
            $0.daysRemaining.map { [Sample(value: $0)] } ?? []
        },
        Family(name: "mxcheck_check_duration_seconds", help: "How long the check of the endpoint took.") {
            $0.totalMilliseconds.map { [Sample(value: $0 / 1000)] } ?? []
        },
        Family(name: "mxcheck_connections", help: "TCP connections the check of the endpoint opened.") {
            $0.connections.map { [Sample(value: $0)] } ?? []
        },
        Family(name: "mxcheck_tls_info", help: "The TLS version, cipher suite and key-exchange group negotiated; always 1.") { endpoint in
            guard let tls = endpoint.tls else { return [] }
            return [Sample(labels: [("version", tls.version ?? ""), ("cipher", tls.cipher ?? ""), ("group", tls.group ?? "")], value: 1)]
        },
        Family(name: "mxcheck_finding", help: "A finding about the endpoint, 1 per finding id and severity.") { endpoint in
            endpoint.findings.map { Sample(labels: [("id", $0.id), ("severity", $0.severity)], value: 1) }
        },
        Family(name: "mxcheck_last_check_timestamp_seconds", help: "When the endpoint was checked, in seconds since the Unix epoch.") {
            $0.checkedAt.map { [Sample(value: $0)] } ?? []
        },
    ]

    /// host, address, port, with domain first in --mx mode; a part the object lacks is the empty string
    /// (which Prometheus reads as the label being absent).
    static func labels(of endpoint: MonitoredEndpoint, domainMode: Bool) -> [(String, String)] {
        var labels: [(String, String)] = []
        if domainMode { labels.append(("domain", endpoint.domain ?? "")) }
        labels.append(("host", endpoint.host))
        labels.append(("address", endpoint.address ?? ""))
        labels.append(("port", endpoint.port.map(String.init) ?? ""))
        return labels
    }

    /// Label values escape backslash, double quote and line feed; any other byte stands as it is.
    static func escapeLabelValue(_ raw: String) -> String {
        var out = ""
        for scalar in raw.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// HELP text escapes backslash and line feed.
    static func escapeHelp(_ raw: String) -> String {
        raw.unicodeScalars.reduce(into: "") { out, scalar in
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    /// Integers without a fraction; other values in the shortest form that reads back exactly.
    static func value(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }
}
