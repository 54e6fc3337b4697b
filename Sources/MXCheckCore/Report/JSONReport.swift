import FoundationEssentials
import Glibc

/// mxcheck's version, as `--version` and the JSON's `mxcheckVersion` give it.
public enum MXCheckVersion {
    public static let current = "0.2.0"
}

/// The JSON Lines objects, as docs/schema.json describes them: every object carries every top-level key,
/// null where it does not apply.
public enum JSONReport {
    public static let schemaVersion = 2

    /// Every top-level key, null: what an object starts from.
    static func base(input: String, checkedAt: Date) -> [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        for key in topLevelKeys { object[key] = .null }
        object["schemaVersion"] = .int(schemaVersion)
        object["mxcheckVersion"] = .string(MXCheckVersion.current)
        object["input"] = .string(input)
        object["checkedAt"] = .string(JSONDates.format(checkedAt))
        object["findings"] = .array([])
        object["connections"] = .int(0)
        return object
    }

    /// The keys every object carries (docs/json.md lists them).
    public static let topLevelKeys = [
        "schemaVersion", "input", "checkedAt", "mxcheckVersion", "domain", "mx", "target", "status", "score", "smtp", "tls",
        "certificate", "protocols", "ciphers", "groups", "incomplete", "findings", "timings", "connections", "dane", "mtaSts",
        "tlsRpt",
    ]

    public static func value(for object: ReportObject) -> JSONValue {
        switch object {
        case .endpoint(let report): return value(for: report)
        case .unchecked(let report): return value(for: report)
        }
    }

    static func score(_ score: Int?) -> JSONValue { score.map { .int($0) } ?? .null }

    static func mx(_ host: MXHost, dnssec: DNSSECState? = nil) -> JSONValue {
        .object(["host": .string(host.host), "preference": .int(Int(host.preference)), "dnssec": dnssec?.json ?? .null])
    }

    public static func value(for report: EndpointReport) -> JSONValue {
        let observation = report.observation
        let endpoint = observation.endpoint
        var object = base(input: report.input, checkedAt: report.now)
        object["target"] = .object([
            "host": .string(endpoint.host), "port": .int(Int(endpoint.port)),
            "address": .string(endpoint.address), "tls": .string(endpoint.tls.rawValue),
        ])
        object["status"] = .string(report.status.rawValue)
        object["score"] = score(report.score)
        object["smtp"] = .object([
            "banner": JSONValue(observation.banner),
            "ehloCapabilities": JSONValue(observation.ehloCapabilities),
            "ehloCapabilitiesTLS": observation.ehloCapabilitiesTLS.map { JSONValue($0) } ?? .null,
            "starttlsOffered": JSONValue(observation.starttlsOffered),
            "requireTLS": JSONValue(observation.requireTLS),
            "injectionTest": injection(observation.injection),
        ])
        object["tls"] = observation.tls.map { tls in
            .object([
                "version": .string(tls.version.rawValue), "cipher": .string(tls.cipher), "group": JSONValue(tls.group?.name),
                "keyExchangeBits": JSONValue(tls.keyExchangeBits),
            ])
        } ?? .null
        object["certificate"] = certificate(report)
        object["mtaSts"] = MTASTSJSON.mtaSts(report.mailPolicy, mxHost: report.origin?.mx.host)
        object["tlsRpt"] = MTASTSJSON.tlsRpt(report.mailPolicy)
        object["findings"] = findings(report.findings)
        object["timings"] = .object(["totalMs": .double(observation.durationMilliseconds)])
        object["connections"] = .int(observation.totalConnections)
        object["incomplete"] = .bool(observation.incomplete)
        if let probe = observation.probe {
            object["protocols"] = .object(Dictionary(uniqueKeysWithValues: ProtocolVersion.allCases.map { version in
                (version.rawValue, JSONValue(probe.accepts(version)))
            }))
            if !probe.ciphers.isEmpty || !probe.groups.isEmpty {
                object["ciphers"] = .object(probe.ciphers.mapValues { list in
                    .object(["serverOrder": JSONValue(list.serverOrder), "suites": JSONValue(list.suites)])
                })
                object["groups"] = JSONValue(probe.groups)
            }
        }
        if let origin = report.origin {
            object["domain"] = .string(origin.domain)
            object["mx"] = mx(origin.mx, dnssec: report.policy?.mxDNSSEC)
        }
        object["dane"] = report.policy?.dane?.jsonObject() ?? .null
        return .object(object)
    }

    /// An object without a check: a domain or MX host without endpoint, an unresolved or invalid target, a
    /// target the deadline overtook.
    public static func value(for report: UncheckedReport) -> JSONValue {
        var object = base(input: report.input, checkedAt: report.checkedAt)
        object["domain"] = JSONValue(report.domain)
        object["mx"] = report.mx.map { mx($0) } ?? .null
        object["target"] = report.target.map { target in
            .object([
                "host": .string(target.host), "port": .int(Int(target.port)), "address": JSONValue(target.address),
                "tls": .string(target.tls.rawValue),
            ])
        } ?? .null
        object["status"] = .string(report.status.rawValue)
        object["score"] = score(report.score)
        object["findings"] = findings(report.findings)
        return .object(object)
    }

    static func findings(_ list: [Finding]) -> JSONValue {
        .array(list.map { finding in
            .object([
                "id": .string(finding.id.rawValue), "severity": .string(finding.severity.rawValue),
                "message": .string(finding.message), "fix": .string(finding.fix),
            ])
        })
    }

    /// The CVE-2011-0411 probe: null when not run.
    static func injection(_ result: InjectionProbeResult?) -> JSONValue {
        switch result {
        case nil: return .null
        case .clean: return .object(["result": .string("clean"), "detail": .null])
        case .vulnerable(let reply): return .object(["result": .string("vulnerable"), "detail": .string(reply)])
        case .inconclusive(let reason): return .object(["result": .string("inconclusive"), "detail": .string(reason)])
        }
    }

    static func certificate(_ report: EndpointReport) -> JSONValue {
        guard let leaf = report.observation.chain.first else { return .null }
        let verification = report.observation.verification
        return .object([
            "subject": .string(leaf.subject), "issuer": .string(leaf.issuer),
            "notBefore": .string(JSONDates.format(leaf.notBefore)), "notAfter": .string(JSONDates.format(leaf.notAfter)),
            "daysRemaining": .int(Rules.daysRemaining(leaf, now: report.now)),
            "names": JSONValue(leaf.names), "namesTotal": .int(leaf.namesTotal), "keyType": .string(leaf.keyType.name), "keyBits": .int(leaf.keyBits),
            "signatureAlgorithm": .string(leaf.signatureAlgorithm), "sha256": .string(leaf.sha256),
            "trusted": .bool(verification?.trusted ?? false),
            "verifyError": JSONValue(verification?.errors.first?.message),
            "hostnameMatch": JSONValue(report.hostnameMatch),
            "chain": .array(report.observation.chain.map { certificate in
                .object([
                    "subject": .string(certificate.subject), "issuer": .string(certificate.issuer),
                    "notAfter": .string(JSONDates.format(certificate.notAfter)), "sha256": .string(certificate.sha256),
                ])
            }),
        ])
    }
}

extension Observation {
    /// A probe run cut short (rate limit, time); the basic check is never partial.
    public var incomplete: Bool { probe?.incomplete ?? false }

    /// Every connection made for this endpoint: the basic check's and the probes'.
    public var totalConnections: Int { connections + (probe?.connections ?? 0) }
}
