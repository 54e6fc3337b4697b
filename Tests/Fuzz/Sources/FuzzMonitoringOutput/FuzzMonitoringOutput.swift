import CFuzzDriver
import MXCheckCore

/// JSON objects whose fields are whatever the input says (an --output or --resume file can hold anything):
/// the Nagios and Prometheus renderers never trap, and no text breaks their line structure.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMonitoringOutput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // Fields separated by NUL bytes, objects by 0x01 bytes; numbers come from a field's length and first byte.
    let objects = bytes.split(separator: 0x01, omittingEmptySubsequences: false).prefix(8).map { chunk -> JSONValue in
        var fields = chunk.split(separator: 0x00, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        while fields.count < 12 { fields.append("") }
        func number(_ text: String) -> JSONValue {
            guard let first = text.utf8.first else { return .null }
            return first % 3 == 0 ? .double(Double(text.utf8.count) * 1.5 - 20) : .int(Int(first) - 100)
        }
        func maybe(_ text: String) -> JSONValue { text.isEmpty ? .null : .string(text) }
        let statuses = ["ok", "warning", "critical", "unknown", fields[2]]
        return .object([
            "input": .string(fields[0]),
            "domain": maybe(fields[11]),
            "target": fields[1].hasPrefix("-") ? .null : .object(["host": .string(fields[1]), "address": maybe(fields[3]), "port": number(fields[4])]),
            "mx": .object(["host": maybe(fields[11])]),
            "status": .string(statuses[fields[2].utf8.count % statuses.count]),
            "score": number(fields[5]),
            "certificate": .object(["daysRemaining": number(fields[6]), "notAfter": .string(fields[7])]),
            "tls": fields[8].isEmpty ? .null : .object(["version": .string(fields[8]), "cipher": maybe(fields[9]), "group": .null]),
            "findings": .array(fields[10].split(separator: ",", omittingEmptySubsequences: false).prefix(4).map { item in
                .object(["id": .string(String(item)), "severity": .string(["info", "warning", "unknown", "critical", "?"][item.utf8.count % 5]),
                         "message": .string(String(item) + "|\n"), "fix": .string(fields[9])])
            }),
            "timings": .object(["totalMs": number(fields[6])]),
            "connections": number(fields[4]),
            "checkedAt": .string(fields[7]),
            "smtp": .object(["banner": maybe(fields[9])]),
        ])
    }
    for domainMode in [false, true] {
        let nagios = NagiosReport.render(objects: objects, warnDays: 14, critDays: 7, domainMode: domainMode)
        let lines = nagios.split(separator: "\n", omittingEmptySubsequences: false)
        precondition(lines.count == objects.count + 2 && lines.last == "", "one status line and one line per object")
        precondition(lines[0].filter { $0 == "|" }.count <= 1 && lines.dropFirst().allSatisfy { !$0.contains("|") }, "| only before perfdata")
        let prometheus = PrometheusReport.render(objects: objects, domainMode: domainMode)
        for line in prometheus.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            precondition(line.hasPrefix("# HELP mxcheck_") || line.hasPrefix("# TYPE mxcheck_") || line.hasPrefix("mxcheck_"), "a sample or comment line")
        }
    }
    return 0
}

/// The entry point SwiftPM links as main: libFuzzer's driver, running the function above.
@_cdecl("FuzzMonitoringOutput_main")
public func fuzzMonitoringOutputMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzMonitoringOutput(data, size)
    }
}
