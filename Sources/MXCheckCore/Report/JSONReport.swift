import Foundation

/// The JSON Lines object for one endpoint, as docs/schema.json describes it.
public enum JSONReport {
    public static let schemaVersion = 1

    public static func value(for report: EndpointReport) -> JSONValue {
        let observation = report.observation
        let endpoint = observation.endpoint
        var object: [String: JSONValue] = [
            "schemaVersion": .int(schemaVersion),
            "target": .object([
                "host": .string(endpoint.host), "port": .int(Int(endpoint.port)),
                "address": .string(endpoint.address), "tls": .string(endpoint.tls.rawValue),
            ]),
            "status": .string(report.status.rawValue),
            "score": .int(report.score),
            "smtp": .object([
                "banner": JSONValue(observation.banner),
                "ehloCapabilities": JSONValue(observation.ehloCapabilities),
                "ehloCapabilitiesTLS": observation.ehloCapabilitiesTLS.map { JSONValue($0) } ?? .null,
                "starttlsOffered": JSONValue(observation.starttlsOffered),
                "injectionTest": injection(observation.injection),
            ]),
            "tls": observation.tls.map { tls in
                .object([
                    "version": .string(tls.version), "cipher": .string(tls.cipher), "group": JSONValue(tls.group),
                    "keyExchangeBits": JSONValue(tls.keyExchangeBits),
                ])
            } ?? .null,
            "certificate": certificate(report),
            "findings": findings(report.findings),
            "timings": .object(["totalMs": .double(observation.durationMilliseconds)]),
            "connections": .int(observation.totalConnections),
        ]
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
        if observation.incomplete { object["incomplete"] = .bool(true) }
        if let origin = report.origin {
            object["domain"] = .string(origin.domain)
            object["mx"] = .object(["host": .string(origin.mx.host), "preference": .int(Int(origin.mx.preference))])
        }
        return .object(object)
    }

    /// A domain with no endpoint: `target` null, its status and its dns.* findings.
    public static func value(for report: DomainReport) -> JSONValue {
        .object([
            "schemaVersion": .int(schemaVersion),
            "domain": .string(report.domain),
            "target": .null,
            "status": .string(report.status.rawValue),
            "score": .int(report.score),
            "findings": findings(report.findings),
            "connections": .int(0),
        ])
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
            "names": JSONValue(leaf.names), "keyType": .string(leaf.keyType), "keyBits": .int(leaf.keyBits),
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
